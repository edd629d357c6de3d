"""Per-instance event delivery: ordered, exactly once, queued while no socket is open.

DESIGN "Events": a bounded queue per instance (the app's ``event_queue_max``); memory per
connection never grows past it. On overflow the queue is dropped, after which the client
resyncs from history (NET-1). While no socket is open, the next connection is told with an
``error {6010, "event queue overflow"}`` frame; a connected client that cannot keep up (its
socket stopped draining) gets that ``error`` frame next and then close 4008 (EVT-1).
"""

from __future__ import annotations

import asyncio
from collections import deque
from typing import Any

from simtim.errors import Code
from simtim.model.events import ERROR, KICKED_OUT, SDK_STATE_NOT_READY
from simtim.protocol.envelope import event_frame

CLOSE_KICKED = 4001
CLOSE_REPLACED = 4000
CLOSE_UNKNOWN_TOKEN = 4401
CLOSE_OVERFLOW = 4008  # EVT-1: the client could not keep up; the queue was dropped
OVERFLOW_ERROR = {"code": int(Code.HTTP_REQUEST_FAILED), "message": "event queue overflow"}


_OVERFLOW_FRAME = event_frame(ERROR, OVERFLOW_ERROR)


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

    def hold(self, name: str, item: str | tuple[str, Any]) -> None:
        """Queue an event while no socket is open (its frame, or ``(name, data)`` to encode if it is
        ever sent): no writer waits, so none is woken."""
        frames = self.frames
        if len(frames) >= self.limit:
            frames.clear()  # overflow: drop the queue, the client resyncs (NET-1)
            self.overflowed = True
        frames.append(item)
        if name == SDK_STATE_NOT_READY and self.last_event == KICKED_OUT:
            frames.append(Close(CLOSE_KICKED))
        self.last_event = name

    def reopened(self) -> None:
        """A new socket: an overflow the old one never got to tell is told the offline way (the
        ``error`` frame after ``sdkStateReady``), never by closing the new socket."""
        frames = self.frames
        if frames and frames[0] == _OVERFLOW_FRAME:
            frames.popleft()
        if frames and isinstance(frames[0], Close) and frames[0].code == CLOSE_OVERFLOW:
            frames.popleft()
            self.overflowed = True

    def unsent(self, texts: list[str], greeting: list[str]) -> None:
        """Frames a socket accepted but never wrote (it closed within the loop turn): back to the
        front of the queue, in order, for the next socket (NET-1); the socket's own start frames
        (``greeting``, compared by identity) are not queued, the next socket sends its own."""
        kept = [text for text in texts if not any(text is own for own in greeting)]
        self.frames.extendleft(reversed(kept))
        self.wake()

    def put(self, name: str, frame: str | tuple[str, Any]) -> None:
        """Queue a frame for the live socket and wake its writer, or hand it straight to the socket
        when nothing is queued before it and the socket takes it now (``Connection.push``: a group
        send then wakes no writer per member).  ``sdkStateNotReady`` always queues: after a kick a
        close follows it."""
        if not self.frames and name != SDK_STATE_NOT_READY:
            connection = self.connection
            if connection is not None and connection.push(frame):
                self.last_event = name
                return
        if len(self.frames) >= self.limit:
            # EVT-1: a live socket that cannot keep up: drop the queue, say so, then close; what
            # comes after waits for the next connection (the client resyncs from history, NET-1)
            self.frames.clear()
            self.frames.append(_OVERFLOW_FRAME)
            self.frames.append(Close(CLOSE_OVERFLOW))
        self.frames.append(frame)
        if name == SDK_STATE_NOT_READY and self.last_event == KICKED_OUT:
            self.frames.append(Close(CLOSE_KICKED))  # kickedOut, sdkStateNotReady, then close 4001
        self.last_event = name
        self.wake()
