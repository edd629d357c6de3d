"""History pages render the messages read most recently from a small, bounded set of views.

A page of 15 messages spent ~80% of its time building the 15 message views (a 17-key dict, the
ID string spelled from three ints, the text decoded: ~0.8 µs each), and history is read far more
often than it is written: both sides of a C2C conversation and every member of a group read the
same newest messages.  A stored message never changes after it is stored except for ``revoked``
(REV-2), so a rendered view stays right: a hit copies it (~0.09 µs) and sets the two fields that
depend on the reader, ``flow`` and ``conversationID``.

Memory is bounded, not per stored message (``d-compact-storage`` keeps stored messages at ~390
bytes and declines a view per message): two generations of at most ``PAGE_VIEWS_KEPT`` views
(~0.8 kB each: ~3.3 MB at most), one set per process, whatever the number of worlds in it (a
Locust process runs a model per user); the older generation is dropped whole when the newer one
fills.  A view is kept from its message's second read on (``RecentViews``).  A hit returns a copy,
as a fresh rendering would be; the payload object inside is shared, as a stored non-text payload
always was (callers never mutate payloads).
"""

from __future__ import annotations

from typing import Any

from simtim.limits import PAGE_VIEWS_KEPT
from simtim.model.entities import Message

#: a message read once lately: the next read keeps its view
_SEEN = None
#: a message not read lately
_ABSENT: Any = object()


class RecentViews:
    """Views of messages paged at least twice lately, as their first keeper rendered them.

    A view is kept on its message's second read, not its first: a reader scrolling far back reads
    each old page once, and keeping those views cost more than it saved (the rendering's copy, the
    insert, and freeing thousands of views when a generation is dropped: cold pages ran at 0.45 of
    their uncached rate when every rendering was kept, ``model_bench.py --only page_scattered``).
    A first read only notes the message (``_SEEN``) in the same generations."""

    __slots__ = ("capacity", "current", "older")

    def __init__(self, capacity: int = PAGE_VIEWS_KEPT) -> None:
        self.capacity = capacity
        self.current: dict[Message, dict[str, Any] | None] = {}
        self.older: dict[Message, dict[str, Any] | None] = {}

    def view(self, message: Message, viewer: str, conversation_id: str) -> dict[str, Any]:
        """``message.view(viewer, conversation_id)`` (PAGE-1, MSG-4), from a kept rendering when
        the message has not been revoked since (REV-2)."""
        kept = self.current.get(message, _ABSENT)
        if kept is _ABSENT:
            kept = self.older.get(message, _ABSENT)
        if kept.__class__ is dict and kept["isRevoked"] is message.revoked:
            data: dict[str, Any] = kept.copy()
            data["flow"] = "out" if viewer == message.sender else "in"
            data["conversationID"] = conversation_id
            return data
        data = message.view(viewer, conversation_id)
        current = self.current
        if len(current) >= self.capacity:
            self.older, current = current, {}
            self.current = current
        current[message] = _SEEN if kept is _ABSENT else data.copy()
        return data

    def __len__(self) -> int:
        """Views kept (the messages read once are references only)."""
        return sum(1 for generation in (self.current, self.older) for kept in generation.values() if kept)


#: the process's one set (see the module docstring: per process, not per world)
RECENT_VIEWS = RecentViews()

__all__ = ["RECENT_VIEWS", "RecentViews"]
