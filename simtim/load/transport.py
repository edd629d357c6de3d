"""A gevent-friendly simtim/1 transport: geventhttpclient for calls, websocket-client in greenlets.

One Locust process holds thousands of event sockets this way; each reader
yields to the hub every few frames (``gevent.sleep(0)``), because a busy reader
loop otherwise starves every other greenlet of the process.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable
from typing import Any

import gevent
from geventhttpclient import HTTPClient

from simtim.driver import events_socket
from simtim.driver.base import DriverError
from simtim.driver.http import endpoint

YIELD_EVERY = 8


class GeventTransport:
    def __init__(self, base_url: str, timeout: float = 5.0) -> None:
        self.host, self.port = endpoint(base_url)
        self.timeout = timeout
        self._client: HTTPClient | None = None
        #: open event sockets and their readers; a pair whose reader has ended (the socket was cut
        #: or closed) is dropped at the next open, else every reconnect of a flapping user would
        #: keep its dead socket for the rest of the run (issue 15's soak: ~7 MB/min of Locust RSS)
        self._events: list[tuple[Any, gevent.Greenlet]] = []

    def _http(self) -> HTTPClient:
        if self._client is None:
            self._client = HTTPClient(
                self.host,
                self.port,
                concurrency=1,
                connection_timeout=self.timeout,
                network_timeout=self.timeout,
            )
        return self._client

    def post(self, path: str, body: bytes, headers: dict[str, str]) -> tuple[int, bytes]:
        return self.request("POST", path, body, {"Content-Type": "application/json", **headers})

    def request(
        self, method: str, path: str, body: bytes | None, headers: dict[str, str]
    ) -> tuple[int, bytes]:
        """Any method (the Matrix driver needs GET and PUT too); failures are DriverErrors."""
        try:
            response = self._http().request(method, path, body=body, headers=headers)
            try:
                return int(response.status_code), bytes(response.read())
            finally:
                response.release()
        except Exception as exc:  # every transport failure becomes 6010 in the driver
            if self._client is not None:
                with contextlib.suppress(Exception):
                    self._client.close()
            self._client = None
            raise DriverError(f"{type(exc).__name__}: {exc}") from exc

    def open_events(self, path: str, on_frame: Callable[[str], None], on_close: Callable[[], None]) -> Any:
        self._events = [(ws, reader) for ws, reader in self._events if not reader.dead]
        ws = events_socket.connect(self.host, self.port, path, self.timeout)

        def yield_now_and_then(count: int) -> None:
            if count % YIELD_EVERY == 0:
                gevent.sleep(0)  # a busy reader must not starve the other greenlets

        reader = gevent.spawn(events_socket.read_frames, ws, on_frame, on_close, yield_now_and_then)
        self._events.append((ws, reader))
        return ws

    def open_event_sockets(self) -> int:
        """How many event sockets this transport still holds (their readers not ended)."""
        return sum(1 for _, reader in self._events if not reader.dead)

    def close(self) -> None:
        if self._client is not None:
            with contextlib.suppress(Exception):
                self._client.close()
            self._client = None
        for ws, _ in self._events:
            with contextlib.suppress(Exception):
                ws.close()
        gevent.killall([reader for _, reader in self._events], block=False)
        self._events.clear()
