"""uvicorn's sans-I/O WebSocket protocol with one change: text frames leave in one write per loop turn.

Measured (benchmarks/group_push_bench.py, py-spy, docs/performance.md): a group send to 500
event sockets spent ~60% of the server's CPU inside ``transport.write``, one system call per
frame, and a Public group sends two frames per member per message (``onMessageReceived`` and
``onConversationListUpdated``).  Here a ``websocket.send`` of text only frames the payload and
appends it to the connection's pending bytes; the first one in a loop turn schedules a flush, so
every frame a writer sends before it next waits goes out in one ``transport.write``.  Each frame
stays its own WebSocket message (the protocol's one event per frame is unchanged, EVT-1).  The
scope's ``simtim.push_text`` extension lets the app hand a frame over synchronously while the
socket keeps up (no writer task woken per member of a group send); when it does not, the app
queues and its writer awaits ``send`` as before, so the per-instance bound (EVT-1) still applies.

Server-to-client frames are unmasked, so without a negotiated extension the frame is a 2-10 byte
header and the UTF-8 payload, built here; with permessage-deflate the frames come from the
websockets state machine as before (still batched).  Order is kept: a close the app sends,
a close the peer sends and a server shutdown all flush the pending frames first.  What was
pending when the connection closes before the end of the turn goes back to the app
(``PushChannel.unsent``), as a ``send`` that failed always did.
"""

from __future__ import annotations

import struct
from collections.abc import Callable
from typing import Any, cast

from uvicorn.protocols.utils import ClientDisconnected
from uvicorn.protocols.websockets.websockets_sansio_impl import WebSocketsSansIOProtocol
from websockets.frames import Frame
from websockets.http11 import Request
from websockets.protocol import State

#: the scope extension holding the ``PushChannel`` (ASGI lets a server offer extensions in the scope)
PUSH_EXTENSION = "simtim.push_text"
_TEXT_FIN = 0x81  # FIN + opcode 1 (text), RSV bits clear, unmasked (server to client)
_short_header = struct.Struct("!BB").pack
_medium_header = struct.Struct("!BBH").pack
_long_header = struct.Struct("!BBQ").pack


def text_frame(payload: bytes) -> bytes:
    """One complete, unmasked WebSocket text frame (RFC 6455 5.2)."""
    size = len(payload)
    if size < 126:
        return _short_header(_TEXT_FIN, size) + payload
    if size < 65536:
        return _medium_header(_TEXT_FIN, 126, size) + payload
    return _long_header(_TEXT_FIN, 127, size) + payload


class PushChannel:
    """What the protocol offers the app under ``PUSH_EXTENSION``: ``push_text`` to send a frame
    without a coroutine, and ``unsent``, which the app sets to take back frames it was told were
    sent but that never left (the connection closed before the end of the loop turn)."""

    __slots__ = ("push_text", "unsent")

    def __init__(self, push_text: Callable[[str], bool]) -> None:
        self.push_text = push_text
        self.unsent: Callable[[list[str]], None] | None = None


class BatchedWebSocketProtocol(WebSocketsSansIOProtocol):
    """``WebSocketsSansIOProtocol`` whose text sends share one write per loop turn."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._pending: list[bytes] = []
        self._texts: list[str] = []  # the same frames as text, handed back if they cannot leave
        self._blocked = 0  # sends waiting for the transport to drain
        self._channel = PushChannel(self.push_text)

    def handle_connect(self, event: Request) -> None:
        super().handle_connect(event)
        if not self.close_sent:  # accepted: the app may push without a send coroutine
            extensions = cast("dict[str, Any]", self.scope["extensions"])  # typed for dict values only
            extensions[PUSH_EXTENSION] = self._channel

    async def send(self, message: Any) -> None:
        text = message.get("text") if message["type"] == "websocket.send" else None
        if (
            text is None
            or not self.handshake_complete
            or self.initial_response is not None
            or self.close_sent
        ):
            self._flush()  # whatever comes next (a close, bytes) goes after the frames before it
            await super().send(message)
            return
        if not self.writable.is_set():
            self._blocked += 1
            try:
                await self.writable.wait()  # the transport's buffer is full: wait, as uvicorn does
            finally:
                self._blocked -= 1
        if not self._append(text):
            raise ClientDisconnected()  # the caller keeps the frame for the next socket

    def push_text(self, text: str) -> bool:
        """Send a text frame now, without a coroutine: False (nothing sent) when the socket is not
        open, its transport's buffer is full or a send waits for it (the caller queues the frame and
        lets its writer ``send`` it, in order)."""
        return not self._blocked and self.writable.is_set() and self._append(text)

    def _append(self, text: str) -> bool:
        conn = self.conn
        if self.disconnected or conn.state is not State.OPEN or self.transport.is_closing():
            return False
        pending = self._pending
        if not pending:
            self.loop.call_soon(self._flush)
        if conn.extensions:
            conn.send_text(text.encode())
            pending += conn.data_to_send()
        else:
            pending.append(text_frame(text.encode()))
        self._texts.append(text)
        return True

    def _flush(self) -> None:
        """Write what this turn's sends framed; if the connection closed in the meantime (the
        peer's FIN was read after a send in the same turn), nothing was written: the frames go back
        to the app, which keeps them for the next socket exactly as a failed ``send`` would (NET-1)."""
        pending = self._pending
        if pending:
            texts = self._texts
            self._pending, self._texts = [], []
            if not self.transport.is_closing():
                self.transport.write(b"".join(pending))
            elif self._channel.unsent is not None:
                self._channel.unsent(texts)

    def handle_close(self, event: Frame) -> None:
        self._flush()  # the frames sent before the peer's close, then the close reply
        super().handle_close(event)

    def shutdown(self) -> None:
        self._flush()
        super().shutdown()
