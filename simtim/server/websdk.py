"""The Web SDK face's sockets (``/binfo``, ``/info``): frames in, the face's replies and pushes out.

Each socket has one outlet, a queue drained by one writer task, so a reply always leaves before the
pushes it caused and pushes from other sockets' requests interleave in model order.  Frames over
uvicorn's ``ws_max_size`` (1 MiB) close the socket with 1009; every other bad frame gets a 60003
reply and the socket stays open (docs/websdk.md, "Bad input").
"""

from __future__ import annotations

import asyncio
import contextlib
from collections import deque
from collections.abc import Awaitable, Callable
from typing import Any

from simtim.callback_client import ask as ask_before_send
from simtim.protocol.web.codec import PATHS
from simtim.protocol.web.face import WebFace

Receive = Callable[[], Awaitable[dict[str, Any]]]
Send = Callable[[dict[str, Any]], Awaitable[None]]


class SocketOutlet:
    """A socket's queue of frames (``Outlet`` of ``simtim.protocol.web.session``)."""

    __slots__ = ("close_code", "frames", "wake")

    def __init__(self) -> None:
        self.frames: deque[bytes] = deque()
        self.wake = asyncio.Event()
        self.close_code: int | None = None

    def push(self, frame: bytes) -> None:
        self.frames.append(frame)
        self.wake.set()

    def close(self, code: int) -> None:
        self.close_code = code
        self.wake.set()


async def refuse_socket(receive: Receive, send: Send) -> None:
    """Refuse a Web SDK handshake (a close before accept: HTTP 403). ``simtim serve --data`` does
    this because the face's commands are not journaled yet: better refused than acknowledged and
    lost by a restart (docs/durability.md)."""
    message = await receive()
    if message["type"] == "websocket.connect":
        await send({"type": "websocket.close", "code": 1008})


def is_web_path(path: str) -> bool:
    return path in PATHS


async def serve_socket(face: WebFace, scope: dict[str, Any], receive: Receive, send: Send) -> None:
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
            pending = face.pending_callback(raw, binary=is_binary, expect_binary=binary)
            if pending is None:
                face.handle(outlet, raw, binary=is_binary, expect_binary=binary)
            else:  # MSG-8: the app backend first (2 s, a failure = proceed), then the model decides
                verdict = await ask_before_send(*pending)
                face.handle(outlet, raw, binary=is_binary, expect_binary=binary, verdict=verdict)
    finally:
        face.disconnected(outlet)
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
