"""HttpDriver: any simtim/1 endpoint over HTTP + WebSocket.

Plain blocking I/O (``http.client`` with keep-alive, one websocket-client
reader thread per session), so ``simtim conform`` and pytest need no gevent;
the load layer passes its own gevent-friendly ``Transport``.  Every transport
failure (refused, timeout, non-JSON, wrong envelope) becomes
``Reply(code=6010)``, never an exception to the caller.
"""

from __future__ import annotations

import contextlib
import http.client
import socket
import threading
from collections.abc import Callable, Mapping
from typing import Any, Protocol

import orjson

from simtim.driver import events_socket
from simtim.driver.base import Call, DriverError, EventStream, Reply
from simtim.driver.url import BadURL, parse_url
from simtim.errors import Code
from simtim.model.events import NET_STATE_CHANGE, SDK_STATE_READY

FrameHandler = Callable[[str], None]


class Transport(Protocol):
    def post(self, path: str, body: bytes, headers: dict[str, str]) -> tuple[int, bytes]: ...

    def request(
        self, method: str, path: str, body: bytes | None, headers: dict[str, str]
    ) -> tuple[int, bytes]: ...

    def open_events(self, path: str, on_frame: FrameHandler, on_close: Callable[[], None]) -> Any: ...

    def close(self) -> None: ...


def endpoint(base_url: str) -> tuple[str, int]:
    """(host, port) of an ``http://HOST[:PORT]`` base URL; anything else is a ValueError
    (simtim/1 is plain HTTP and ``ws://``: this driver has no TLS)."""
    url = parse_url(base_url)
    if url.scheme != "http":
        raise BadURL(f"not an http:// URL: {base_url!r}")
    return url.host, url.port


class BlockingTransport:
    """http.client keep-alive connection plus websocket-client reader threads."""

    def __init__(self, base_url: str, timeout: float = 5.0) -> None:
        self.host, self.port = endpoint(base_url)
        self.timeout = timeout
        self._conn: http.client.HTTPConnection | None = None
        self._lock = threading.Lock()
        self._sockets: list[tuple[Any, threading.Thread]] = []  # pairs whose reader ended are dropped

    def post(self, path: str, body: bytes, headers: dict[str, str]) -> tuple[int, bytes]:
        return self.request("POST", path, body, {"Content-Type": "application/json", **headers})

    def _connect(self) -> http.client.HTTPConnection:
        return http.client.HTTPConnection(self.host, self.port, timeout=self.timeout)

    def request(
        self, method: str, path: str, body: bytes | None, headers: dict[str, str]
    ) -> tuple[int, bytes]:
        """Any method on the kept-alive connection (the Matrix driver needs GET and PUT too)."""
        with self._lock:
            for attempt in (1, 2):  # one retry when a kept-alive connection went stale
                conn = self._conn or self._connect()
                self._conn = conn
                try:
                    conn.request(method, path, body=body, headers=headers)
                    response = conn.getresponse()
                    data = response.read()
                    if response.getheader("connection", "").lower() == "close":
                        conn.close()
                        self._conn = None
                    return response.status, data
                except (http.client.RemoteDisconnected, ConnectionResetError, BrokenPipeError) as exc:
                    conn.close()
                    self._conn = None
                    if attempt == 2:
                        raise DriverError(f"connection lost: {exc}") from exc
                except (OSError, http.client.HTTPException) as exc:
                    conn.close()
                    self._conn = None
                    raise DriverError(f"{type(exc).__name__}: {exc}") from exc
        raise DriverError("unreachable")

    def open_events(self, path: str, on_frame: FrameHandler, on_close: Callable[[], None]) -> Any:
        self._sockets = [(ws, reader) for ws, reader in self._sockets if reader.is_alive()]
        ws = events_socket.connect(self.host, self.port, path, self.timeout)
        reader = threading.Thread(
            target=events_socket.read_frames,
            args=(ws, on_frame, on_close),
            name=f"simtim-events{path[-6:]}",
            daemon=True,
        )
        self._sockets.append((ws, reader))
        reader.start()
        return ws

    def close(self) -> None:
        with self._lock:
            if self._conn is not None:
                self._conn.close()
                self._conn = None
        for ws, _ in self._sockets:
            with contextlib.suppress(Exception):
                ws.close()
        self._sockets.clear()


def parse_envelope(status: int, raw: bytes) -> Reply:
    """A simtim/1 envelope, or 6010 when the endpoint answered something else."""
    try:
        value = orjson.loads(raw)
    except orjson.JSONDecodeError:
        return Reply.transport_failure(f"HTTP {status}: body is not JSON")
    if (
        not isinstance(value, dict)
        or not isinstance(value.get("code"), int)
        or isinstance(value.get("code"), bool)
        or not isinstance(value.get("message", ""), str)
    ):
        return Reply.transport_failure(f"HTTP {status}: not a simtim/1 envelope")
    data = value.get("data")
    if data is not None and not isinstance(data, dict):
        return Reply.transport_failure(f"HTTP {status}: data is not an object")
    if status >= 500:
        return Reply.transport_failure(f"HTTP {status}")
    return Reply(value["code"], value.get("message", ""), data or {})


class HttpDriver:
    def __init__(
        self,
        base_url: str,
        *,
        admin_key: str | None = None,
        timeout: float = 5.0,
        transport: Transport | None = None,
        events: bool = True,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self.admin_key = admin_key
        self.transport: Transport = transport or BlockingTransport(self.base_url, timeout)
        self.want_events = events
        self._streams: dict[str, EventStream] = {}
        self._live: dict[str, Any] = {}  # session -> its open event socket (None while opening)
        self._lock = threading.Lock()

    def _post(self, path: str, body: Mapping[str, Any], headers: dict[str, str]) -> Reply:
        try:
            payload = orjson.dumps(dict(body))
        except TypeError as exc:
            return Reply(int(Code.INVALID_PARAMETERS), f"arguments are not JSON: {exc}")
        try:
            status, raw = self.transport.post(path, payload, headers)
        except DriverError as exc:
            return Reply.transport_failure(str(exc))
        except Exception as exc:  # a transport must never crash the caller
            return Reply.transport_failure(f"{type(exc).__name__}: {exc}")
        return parse_envelope(status, raw)

    def call(self, call: Call) -> Reply:
        headers = {"Authorization": f"Bearer {call.session}"} if call.session else {}
        reply = self._post(f"/v1/{call.method}", call.args, headers)
        session = call.session
        if reply.ok and "token" in reply.data:
            data = dict(reply.data)
            session = data.pop("token")
            data["session"] = session
            reply = Reply(reply.code, reply.message, data)
        if reply.ok and call.method == "login" and session and self.want_events:
            self._ensure_events(session)
        return reply

    def _ensure_events(self, session: str, reconnecting: bool = False) -> None:
        with self._lock:
            if session in self._live:
                return
            self._live[session] = None
        stream = self.events(session)
        first = [reconnecting]

        def on_frame(frame: str) -> None:
            try:
                value = orjson.loads(frame)
                name = str(value["event"])
                if first[0]:
                    first[0] = False
                    if name == SDK_STATE_READY:  # a re-opened connection is up: the SDK says so (NET-1)
                        stream.put(NET_STATE_CHANGE, {"state": "connected"})
                        return
                stream.put(name, value.get("data"))
            except Exception:
                stream.put(
                    "error", {"code": int(Code.HTTP_REQUEST_FAILED), "message": "event frame is not simtim/1"}
                )

        opened: list[Any] = []

        def on_close() -> None:
            with self._lock:  # a cut socket's reader may end after its successor opened
                if session in self._live and (not opened or self._live[session] is opened[0]):
                    del self._live[session]

        try:
            ws = self.transport.open_events(f"/v1/events?token={session}", on_frame, on_close)
        except DriverError as exc:
            on_close()
            stream.put("error", {"code": int(Code.HTTP_REQUEST_FAILED), "message": str(exc)})
            return
        opened.append(ws)
        with self._lock:
            if session in self._live:
                self._live[session] = ws

    def cut(self, session: str) -> None:
        """Drop the session's event socket abruptly: shut the TCP socket, no close frame (NET-1)."""
        with self._lock:
            ws = self._live.pop(session, None)
        if ws is not None:
            sock = getattr(ws, "sock", None)
            with contextlib.suppress(Exception):
                if sock is not None:
                    sock.shutdown(socket.SHUT_RDWR)
            with contextlib.suppress(Exception):
                ws.shutdown()  # websocket-client: close the socket without the closing handshake

    def reconnect(self, session: str) -> None:
        """Open a new event socket for the session; its ``sdkStateReady`` becomes ``netStateChange``."""
        self._ensure_events(session, reconnecting=True)

    def events(self, session: str) -> EventStream:
        with self._lock:
            stream = self._streams.get(session)
            if stream is None:
                stream = self._streams[session] = EventStream(session)
            return stream

    def admin(self, op: str, body: Mapping[str, Any]) -> Reply:
        headers = {"X-Admin-Key": self.admin_key} if self.admin_key else {}
        return self._post(f"/admin/v1/{op}", body, headers)

    def close(self) -> None:
        self.transport.close()
        for stream in self._streams.values():
            stream.close()
