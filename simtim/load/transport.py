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
        self._sockets: list[Any] = []
        self._readers: list[gevent.Greenlet] = []

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
        ws = events_socket.connect(self.host, self.port, path, self.timeout)
        self._sockets.append(ws)

        def yield_now_and_then(count: int) -> None:
            if count % YIELD_EVERY == 0:
                gevent.sleep(0)  # a busy reader must not starve the other greenlets

        self._readers.append(
            gevent.spawn(events_socket.read_frames, ws, on_frame, on_close, yield_now_and_then)
        )
        return ws

    def close(self) -> None:
        if self._client is not None:
            with contextlib.suppress(Exception):
                self._client.close()
            self._client = None
        for ws in self._sockets:
            with contextlib.suppress(Exception):
                ws.close()
        gevent.killall(self._readers, block=False)
        self._sockets.clear()
        self._readers.clear()
