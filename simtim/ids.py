"""Injected source of IDs and randomness (DESIGN rule 1).

A seeded ``IdSource`` makes a whole model run reproducible: the same seed and
the same operations give the same message IDs, randoms and group IDs.
"""

from __future__ import annotations

import random

#: the random part of a message ID (the low bits of a message key)
KEY_RANDOM_BITS = 24
KEY_RANDOM_MASK = (1 << KEY_RANDOM_BITS) - 1


def message_id_of(sender: str, when: int, key: int) -> str:
    """A message's ID string from its sender, its time and its key (``IdSource.message_key``)."""
    return f"{sender}-{when}-{key >> KEY_RANDOM_BITS}-{key & KEY_RANDOM_MASK}"


def _is_small_number(text: str) -> bool:
    return 0 < len(text) <= 20 and text.isdecimal()


def message_key_of(message_id: str) -> int | None:
    """The key a message ID spells, or None when it is not shaped like one (the caller still
    compares the whole ID: the key alone does not name the sender or the time)."""
    parts = message_id.rsplit("-", 2)
    if len(parts) != 3 or not _is_small_number(parts[1]) or not _is_small_number(parts[2]):
        return None
    randomness = int(parts[2])
    if randomness > KEY_RANDOM_MASK:
        return None
    return int(parts[1]) << KEY_RANDOM_BITS | randomness


class IdSource:
    """Deterministic IDs from a seed; one per world."""

    __slots__ = ("_counter", "_rng")

    def __init__(self, seed: int = 0) -> None:
        self._rng = random.Random(seed)
        self._counter = 0

    def random32(self) -> int:
        """A uint32 like TIM's message ``random``."""
        return self._rng.getrandbits(32)

    def message_key(self) -> int:
        """What a message ID adds to its sender and time, as one int: the world's counter and 24
        random bits.  The model keeps this int instead of the ID string (issue 15's memory budget)
        and spells the ID with ``message_id_of`` when it is shown; the draws are the ones the
        ID string was made of before (counter, then 24 random bits), so a journal written before
        replays to the same IDs."""
        self._counter += 1
        return self._counter << KEY_RANDOM_BITS | self._rng.getrandbits(KEY_RANDOM_BITS)

    def group_id(self) -> str:
        """Default group IDs start with ``@TGS#`` (GRP-1)."""
        self._counter += 1
        return f"@TGS#{self._counter:x}{self._rng.getrandbits(32):08X}"
