"""Per-instance event delivery: ordered, exactly once, queued while no socket is open.

DESIGN "Events": a bounded queue per instance (the app's ``event_queue_max``);
on overflow the queue is dropped and the next connection is told with an
``error {6010, "event queue overflow"}`` frame, after which the client resyncs
from history (NET-1).
"""

from __future__ import annotations

import asyncio
from collections import deque
from typing import Any

from simtim.model.events import KICKED_OUT, SDK_STATE_NOT_READY

CLOSE_KICKED = 4001
CLOSE_REPLACED = 4000
CLOSE_UNKNOWN_TOKEN = 4401


class Close:
    """A queued instruction to close the socket after the frames before it."""

    __slots__ = ("code",)

    def __init__(self, code: int) -> None:
        self.code = code


class Mailbox:
    __slots__ = ("connection", "frames", "last_event", "limit", "overflowed", "waiter")

    def __init__(self, limit: int) -> None:
        self.frames: deque[str | tuple[str, Any] | Close] = deque()
        self.connection: Any = None  # the live socket's Connection, if any
        # The writer's future while it waits for frames.  A bare future, not an asyncio.Event: a group
        # send wakes one writer per member, and Event's waiter list and loop checks cost per wake.
        self.waiter: asyncio.Future[None] | None = None
        self.overflowed = False
        self.limit = limit
        self.last_event = ""

    def wake(self) -> None:
        """Resume the waiting writer, if any (new frames, or its connection was replaced)."""
        waiter = self.waiter
        if waiter is not None:
            self.waiter = None
            if not waiter.done():
                waiter.set_result(None)

    async def wait(self) -> None:
        """Until the next ``put`` or ``wake``: what the writer does when the queue is empty."""
        waiter = self.waiter = asyncio.get_running_loop().create_future()
        try:
            await waiter
        finally:
            if self.waiter is waiter:
                self.waiter = None

    def hold(self, name: str, item: tuple[str, Any]) -> None:
        """Queue an event while no socket is open: no writer waits, so none is woken."""
        frames = self.frames
        if len(frames) >= self.limit:
            frames.clear()  # overflow: drop the queue, the client resyncs (NET-1)
            self.overflowed = True
        frames.append(item)
        if name == SDK_STATE_NOT_READY and self.last_event == KICKED_OUT:
            frames.append(Close(CLOSE_KICKED))
        self.last_event = name

    def put(self, name: str, frame: str | tuple[str, Any]) -> None:
        if len(self.frames) >= self.limit:
            self.frames.clear()  # overflow: drop the queue, the client resyncs (NET-1)
            self.overflowed = True
        self.frames.append(frame)
        if name == SDK_STATE_NOT_READY and self.last_event == KICKED_OUT:
            self.frames.append(Close(CLOSE_KICKED))  # kickedOut, sdkStateNotReady, then close 4001
        self.last_event = name
        self.wake()
