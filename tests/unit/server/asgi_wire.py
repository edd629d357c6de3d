"""A ``Wire`` that calls the ASGI app in this process: the fuzz suites' requests without sockets.

The app is the one ``simtim serve`` runs (``SimtimApp``); only uvicorn and TCP are left out, which
the socket suite (tests/integration/test_server_fuzz.py) covers. One event loop for the wire's
life, one ``run_until_complete`` per request.
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from typing import Any
from urllib.parse import unquote

from simtim.server.app import SimtimApp
from tests.integration.server_process import ADMIN_KEY, CLOCK_START
from tests.integration.wire import Answer, Wire


class AsgiWire(Wire):
    def __init__(self, seed: int = 0) -> None:
        super().__init__("http://in-process:1", admin_key=ADMIN_KEY)
        self.app = SimtimApp(fake_clock=True, clock_start=CLOCK_START, admin_key=ADMIN_KEY, seed=seed)
        self.loop = asyncio.new_event_loop()

    def close(self) -> None:
        self.loop.close()

    def request(
        self, verb: str, path: str, body: bytes | None = None, headers: Mapping[str, str] | None = None
    ) -> Answer:
        """One request through the ASGI app; a 5xx (or an app that raises) fails the test."""
        raw_path, _, query = path.partition("?")
        scope = {
            "type": "http",
            "asgi": {"version": "3.0"},
            "http_version": "1.1",
            "method": verb,
            "scheme": "http",
            "path": unquote(raw_path),
            "raw_path": raw_path.encode("latin-1", "replace"),
            "query_string": query.encode("latin-1", "replace"),
            "headers": [
                (k.lower().encode("latin-1"), v.encode("latin-1")) for k, v in (headers or {}).items()
            ],
            "client": ("127.0.0.1", 1),
            "server": ("127.0.0.1", 1),
        }
        chunks = [{"type": "http.request", "body": body or b"", "more_body": False}]
        sent: list[dict[str, Any]] = []

        async def receive() -> dict[str, Any]:
            return chunks.pop(0) if chunks else {"type": "http.disconnect"}

        async def send(message: dict[str, Any]) -> None:
            sent.append(message)

        self.loop.run_until_complete(self.app(scope, receive, send))
        start = next(m for m in sent if m["type"] == "http.response.start")
        raw = b"".join(m.get("body", b"") for m in sent if m["type"] == "http.response.body")
        answer = Answer(
            int(start["status"]), {k.decode().lower(): v.decode() for k, v in start.get("headers", [])}, raw
        )
        self.sent += 1
        assert answer.status < 500, (verb, path, answer.status, raw[:300])
        return answer

    def websocket(self, query: bytes, frames: list[dict[str, Any]]) -> list[dict[str, Any]]:
        """Open ``/v1/events?QUERY``, send ``frames`` (websocket.receive messages), hang up; returns
        every message the app sent."""
        scope = {
            "type": "websocket",
            "asgi": {"version": "3.0"},
            "path": "/v1/events",
            "raw_path": b"/v1/events",
            "query_string": query,
            "headers": [],
            "client": ("127.0.0.1", 1),
            "server": ("127.0.0.1", 1),
            "subprotocols": [],
        }
        inbox: list[dict[str, Any]] = [
            {"type": "websocket.connect"},
            *frames,
            {"type": "websocket.disconnect", "code": 1006},
        ]
        sent: list[dict[str, Any]] = []

        async def receive() -> dict[str, Any]:
            await asyncio.sleep(0)  # let the app's writer run between frames
            return inbox.pop(0) if inbox else {"type": "websocket.disconnect", "code": 1006}

        async def send(message: dict[str, Any]) -> None:
            sent.append(message)

        self.loop.run_until_complete(self.app(scope, receive, send))
        self.sent += 1
        return sent
