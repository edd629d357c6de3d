"""The Web SDK face's sockets (``/binfo``, ``/info``): frames in, the face's replies and pushes out.

Each socket has one outlet, a queue drained by one writer task, so a reply always leaves before the
pushes it caused and pushes from other sockets' requests interleave in model order.  Frames over
uvicorn's ``ws_max_size`` (1 MiB) close the socket with 1009; every other bad frame gets a 60003
reply and the socket stays open (docs/websdk.md, "Bad input").
"""

from __future__ import annotations

import asyncio
import contextlib
import secrets
from collections import deque
from collections.abc import Awaitable, Callable
from typing import Any

from simtim.callback_client import ask as ask_before_send
from simtim.durable.entries import web_frame
from simtim.protocol.web.codec import PATHS
from simtim.protocol.web.face import JOURNALED_LOGIN, NO_VERDICT, NOT_JOURNALED, WebFace
from simtim.protocol.web.session import new_a2
from simtim.server.journaling import JournaledFront

Receive = Callable[[], Awaitable[dict[str, Any]]]
Send = Callable[[dict[str, Any]], Awaitable[None]]


class SocketOutlet:
    """A socket's queue of frames (``Outlet`` of ``simtim.protocol.web.session``).  ``socket_id``
    names it in the journal of a durable server (unique across runs: 64 random bits)."""

    __slots__ = ("close_code", "frames", "socket_id", "wake")

    def __init__(self) -> None:
        self.frames: deque[bytes] = deque()
        self.wake = asyncio.Event()
        self.close_code: int | None = None
        self.socket_id = secrets.token_hex(8)

    def push(self, frame: bytes) -> None:
        self.frames.append(frame)
        self.wake.set()

    def close(self, code: int) -> None:
        self.close_code = code
        self.wake.set()


def is_web_path(path: str) -> bool:
    return path in PATHS


async def serve_socket(
    face: WebFace, scope: dict[str, Any], receive: Receive, send: Send, durable: JournaledFront | None = None
) -> None:
    """One socket's frames in order.  With ``durable`` (``simtim serve --data``) every frame that may
    change state is journaled and committed before it runs, and so is the socket's close: a restart
    replays the same sessions (docs/durability.md)."""
    binary = PATHS[scope["path"]]
    message = await receive()
    if message["type"] != "websocket.connect":
        return
    await send({"type": "websocket.accept"})
    outlet = SocketOutlet()
    writer = asyncio.create_task(_write(outlet, send, binary))
    try:
        while True:
            message = await receive()
            if message["type"] == "websocket.disconnect":
                break
            raw: bytes | str | None = message.get("bytes")
            is_binary = raw is not None
            if raw is None:
                raw = message.get("text") or ""
            journal = NOT_JOURNALED
            if durable is not None:
                journal = face.journal_kind(raw, binary=is_binary, expect_binary=binary)
            pending = face.pending_callback(raw, binary=is_binary, expect_binary=binary)
            verdict: Any = NO_VERDICT
            if pending is not None:  # MSG-8: the app backend first (2 s, a failure = proceed)
                verdict = await ask_before_send(*pending)
            if durable is None or journal == NOT_JOURNALED:
                face.handle(outlet, raw, binary=is_binary, expect_binary=binary, verdict=verdict)
                continue
            asked = verdict is not NO_VERDICT
            a2 = new_a2() if journal == JOURNALED_LOGIN else None
            frame = web_frame(outlet.socket_id, raw, is_binary, binary)
            entry = ["web", durable.now(), *frame, verdict if asked else None, asked, a2]
            await durable.submit(entry, outlet)
    finally:
        if durable is None:
            face.disconnected(outlet)
        else:
            with contextlib.suppress(Exception):  # shutting down: the next start closes it
                await durable.submit(["webclose", durable.now(), outlet.socket_id], outlet)
        writer.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await writer


async def _write(outlet: SocketOutlet, send: Send, binary: bool) -> None:
    while True:
        while outlet.frames:
            frame = outlet.frames.popleft()
            if binary:
                await send({"type": "websocket.send", "bytes": frame})
            else:
                await send({"type": "websocket.send", "text": frame.decode()})
        if outlet.close_code is not None:
            with contextlib.suppress(Exception):
                await send({"type": "websocket.close", "code": outlet.close_code})
            return
        outlet.wake.clear()
        await outlet.wake.wait()
