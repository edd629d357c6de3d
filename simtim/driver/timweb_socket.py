"""One Web SDK connection: requests matched to replies by ``servcmd`` + ``seq``, pushes handed on.

The official SDK keeps one WebSocket per instance and matches a reply to its request by the echoed
``head.servcmd`` and ``head.seq``; any other frame with a head is a push.  This class does the same
over the ``Transport`` of the simtim/1 driver (``open_events``), so the blocking transport gives it a
reader thread and the load harness's gevent transport a reader greenlet that yields every few frames.
Transport failures become ``DriverError`` here and ``Reply(6010)`` at the driver's edge.
"""

from __future__ import annotations

import contextlib
import itertools
import secrets
import threading
from collections.abc import Callable, Mapping
from typing import Any

import orjson

from simtim.driver.base import DriverError
from simtim.driver.http import Transport
from simtim.protocol.web.codec import NO_CHECKSUM, checksum, encode

#: constants every head of the web SDK family carries (TIM-WEB-WIRE §2.4, §3.2)
WEB_SDK_APPID = 537048168
WEB_SDK_VERSION = "1.7.3"
#: what this client says it is (``sdkversion`` in the URL): a harness, not the official SDK
CLIENT_VERSION = "simtim-timweb-1"
_seqs = itertools.count(secrets.randbelow(2**24) + 1)


class WireReply:
    """One pending request: the reader fills it, the caller waits for it."""

    __slots__ = ("body", "done")

    def __init__(self) -> None:
        self.done = threading.Event()
        self.body: dict[str, Any] | None = None


class WebSocketSession:
    """The socket of one SDK instance. ``request`` blocks until the reply (or ``timeout``)."""

    def __init__(
        self,
        transport: Transport,
        *,
        sdkappid: int,
        platform: int,
        timeout: float,
        on_push: Callable[[str, dict[str, Any]], None],
        on_close: Callable[[], None],
        binary: bool = True,
    ) -> None:
        self.sdkappid = sdkappid
        self.platform = platform
        self.timeout = timeout
        self.binary = binary
        self.a2 = ""
        self.tinyid = ""
        self.instid = 0
        self.identifier = ""
        self.usersig = ""
        self.closed = False
        self._on_push = on_push
        self._on_close = on_close
        self._pending: dict[tuple[str, int], WireReply] = {}
        self._lock = threading.Lock()
        path = "/binfo" if binary else "/info"
        query = (
            f"sdkappid={sdkappid}&instanceid={secrets.token_hex(16)}&random={secrets.randbelow(10**9)}"
            f"&platform={platform}&host=unknown&version=-1&sdkversion={CLIENT_VERSION}"
        )
        self._ws = transport.open_events(f"{path}?{query}", self._on_frame, self._closed)

    # --- frames -----------------------------------------------------------------------------
    def _on_frame(self, frame: str) -> None:
        try:
            value = orjson.loads(frame)
        except orjson.JSONDecodeError:
            return  # not a frame of this protocol: nothing to match it to
        head = value.get("head") if isinstance(value, dict) else None
        if not isinstance(head, dict):
            return
        body = value.get("body")
        body = body if isinstance(body, dict) else {}
        servcmd = str(head.get("servcmd", ""))
        seq = head.get("seq")
        with self._lock:
            waiting = self._pending.pop((servcmd, seq), None) if isinstance(seq, int) else None
        if waiting is not None:
            waiting.body = body
            waiting.done.set()
            return
        self._on_push(servcmd, body)

    def _closed(self) -> None:
        self.closed = True
        with self._lock:
            pending = list(self._pending.values())
            self._pending.clear()
        for waiting in pending:
            waiting.done.set()  # body None: the connection went away
        self._on_close()

    def head(self, servcmd: str, seq: int, body: Mapping[str, Any]) -> dict[str, Any]:
        """A request head as the SDK writes it: identifier + usersig before login, a2 + tinyid after."""
        head: dict[str, Any] = {
            "ver": "v4",
            "platform": self.platform,
            "websdkappid": WEB_SDK_APPID,
            "websdkversion": WEB_SDK_VERSION,
            "status_instid": self.instid,
            "sdkappid": self.sdkappid,
            "contenttype": "json",
            "reqtime": 0,
        }
        if self.a2:
            head["a2"] = self.a2
            head["tinyid"] = self.tinyid
        else:
            head["identifier"] = self.identifier
            head["usersig"] = self.usersig
        command = servcmd.rpartition(".")[2]
        head["cs"] = 0 if command in NO_CHECKSUM else checksum(dict(body))  # 3.x integrity field
        head["servcmd"] = servcmd
        head["seq"] = seq
        return head

    def request(self, servcmd: str, body: Mapping[str, Any]) -> dict[str, Any]:
        """Send one command and wait for its reply body; DriverError when none comes."""
        if self.closed:
            raise DriverError("the Web SDK connection is closed")
        seq = next(_seqs)
        waiting = WireReply()
        with self._lock:
            self._pending[(servcmd, seq)] = waiting
        frame = encode(self.head(servcmd, seq, body), dict(body))
        try:
            if self.binary:
                self._ws.send_binary(frame)
            else:
                self._ws.send(frame.decode("utf-8"))
        except Exception as exc:
            with self._lock:
                self._pending.pop((servcmd, seq), None)
            raise DriverError(f"websocket send: {type(exc).__name__}: {exc}") from exc
        if not waiting.done.wait(self.timeout):
            with self._lock:
                self._pending.pop((servcmd, seq), None)
            raise DriverError(f"no reply to {servcmd} within {self.timeout:g} s")
        if waiting.body is None:
            raise DriverError(f"the connection closed before {servcmd} was answered")
        return waiting.body

    def close(self) -> None:
        if not self.closed:
            with contextlib.suppress(Exception):
                self._ws.close()
