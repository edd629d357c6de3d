"""Injected source of IDs and randomness (DESIGN rule 1).

A seeded ``IdSource`` makes a whole model run reproducible: the same seed and
the same operations give the same message IDs, randoms and group IDs.
"""

from __future__ import annotations

import random


class IdSource:
    """Deterministic IDs from a seed; one per world."""

    __slots__ = ("_counter", "_rng")

    def __init__(self, seed: int = 0) -> None:
        self._rng = random.Random(seed)
        self._counter = 0

    def random32(self) -> int:
        """A uint32 like TIM's message ``random``."""
        return self._rng.getrandbits(32)

    def message_id(self, sender: str, when: int) -> str:
        """TIM-like message IDs: unique per world, stable under a seed."""
        self._counter += 1
        return f"{sender}-{when}-{self._counter}-{self._rng.getrandbits(24)}"

    def group_id(self) -> str:
        """Default group IDs start with ``@TGS#`` (GRP-1)."""
        self._counter += 1
        return f"@TGS#{self._counter:x}{self._rng.getrandbits(32):08X}"
