"""MSG-6's dedup table: what a resend within the window finds, kept only as long as a window.

A server that kept every key for as long as it keeps the message held one more index entry per
stored message (~240 bytes: a tuple with a fresh conversation-ID string and two ints) for a
question that can only be asked for 120 s (C2C) or 300 s (group).  Here a key is the sender's
and the ``to`` strings the message already holds plus one int, and keys live in two generations
of ``DEDUP_GENERATION_SECONDS`` each (the longer window): a lookup checks both, and the older
generation is dropped whole when a new one starts, so the table holds the last one to two
windows of sends whatever the history's length, with no per-entry expiry bookkeeping.
"""

from __future__ import annotations

from typing import Generic, TypeVar

from simtim.limits import DEDUP_WINDOW_C2C_SECONDS, DEDUP_WINDOW_GROUP_SECONDS

#: the stored message a key names (``simtim.model.entities.Message``; generic, so this module
#: needs nothing from entities, which holds a table per app)
Stored = TypeVar("Stored")

#: MSG-6's key: sender, the conversation's ``to`` and one int (``dedup_key``)
DedupKey = tuple[str, str, int]

#: a generation's length: a key put at time t is found at least until t + this (the longer window)
DEDUP_GENERATION_SECONDS = max(DEDUP_WINDOW_C2C_SECONDS, DEDUP_WINDOW_GROUP_SECONDS)


def dedup_key(sender: str, to: str, conversation_type: str, random: int, client_time: int) -> DedupKey:
    """MSG-6's key: the sender, the conversation as the sender names it (its type, C2C or not, and
    ``to``) and (random, clientTime), packed in one int.  ``random`` is a uint32 at every entry,
    so the packing is one to one for any clientTime."""
    return sender, to, (client_time << 33) | (random << 1) | (conversation_type != "C2C")


class DedupTable(Generic[Stored]):
    """Keys of the sends of the last one to two generations, each mapped to its stored message."""

    __slots__ = ("current", "older", "since")

    def __init__(self) -> None:
        self.current: dict[DedupKey, Stored] = {}
        self.older: dict[DedupKey, Stored] = {}
        self.since: int | None = None  # when ``current`` started (the first put)

    def get(self, key: DedupKey) -> Stored | None:
        """The message put under ``key``, if its generation is still kept (the caller checks the
        window against the message's time: a generation outlives it)."""
        found = self.current.get(key)
        if found is None and self.older:
            found = self.older.get(key)
        return found

    def put(self, key: DedupKey, message: Stored, now: int) -> None:
        since = self.since
        if since is None:
            self.since = now
        elif now - since >= DEDUP_GENERATION_SECONDS:
            # every key in ``current`` was put before since + a generation; once two have passed,
            # none can be asked for any more
            self.older = self.current if now - since < 2 * DEDUP_GENERATION_SECONDS else {}
            self.current = {}
            self.since = now
        self.current[key] = message

    def discard(self, key: DedupKey, message: Stored) -> None:
        """Forget ``key`` if it still names ``message`` (an evicted message, PAGE-2)."""
        for generation in (self.current, self.older):
            if generation.get(key) is message:
                del generation[key]

    def __len__(self) -> int:
        return len(self.current) + len(self.older)


__all__ = ["DEDUP_GENERATION_SECONDS", "DedupKey", "DedupTable", "dedup_key"]
