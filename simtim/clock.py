"""Injected clocks (DESIGN rule 1).

The model never reads the wall clock: it asks a ``Clock`` for integer seconds
(CLOCK-1), so tests step time with ``FakeClock.advance`` and a server can keep
one clock per app.
"""

from __future__ import annotations

import time
from typing import Protocol


class Clock(Protocol):
    def now(self) -> int:
        """Server time in integer seconds since the epoch."""
        ...


def wall_second() -> int:
    """The wall clock's integer second, as the same ``int`` object for the whole second.

    Every stored message keeps its time (and usually its clientTime, the same second): a fresh
    ``int`` each call is 32 bytes more per message, and on these VMs each new byte a server keeps
    costs time (docs/performance.md).  Returning one object per second shares it instead."""
    global _last_second
    second = int(time.time())
    if second == _last_second:
        return _last_second
    _last_second = second
    return second


_last_second = 0


class SystemClock:
    """Wall-clock seconds; the only place simtim reads real time for the model."""

    #: ``wall_second`` itself, not a method calling it: a send reads the clock three times
    now = staticmethod(wall_second)


class OffsetClock:
    """Wall-clock seconds shifted by a measured offset: a shadow model that follows another
    server's real clock (the conformance harness measures the skew at start)."""

    def __init__(self, offset: float = 0.0) -> None:
        self.offset = offset

    def now(self) -> int:
        return int(time.time() + self.offset)


class PinnedClock:
    """Wall-clock seconds that hold still while one journaled operation runs.

    A server with ``--data`` pins the time an operation was journaled with, so the operation reads
    one time throughout and a replay reads exactly the same one (docs/durability.md).  Unpinned it
    is the system clock, so reads between journaled operations see the real time.
    """

    __slots__ = ("pinned",)

    def __init__(self) -> None:
        self.pinned: int | None = None

    def now(self) -> int:
        pinned = self.pinned
        return wall_second() if pinned is None else pinned


class FakeClock:
    """A clock that only moves when told to, so time rules are exact in tests."""

    def __init__(self, start: int = 1_600_000_000) -> None:
        self._now = int(start)

    def now(self) -> int:
        return self._now

    def advance(self, seconds: int) -> int:
        if seconds < 0:
            raise ValueError("a clock never goes back")
        self._now += int(seconds)
        return self._now

    def set(self, when: int) -> None:
        if when < self._now:
            raise ValueError("a clock never goes back")
        self._now = int(when)
