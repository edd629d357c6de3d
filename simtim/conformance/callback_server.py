"""A scripted before-send callback endpoint for MSG-8 scenarios (loopback only).

Scenarios set its behaviour with ``callback:`` steps: a JSON reply (e.g.
``{ErrorCode: 1}``), ``timeout`` (answers after 2.5 s), ``garbage`` (not
JSON) or ``error`` (HTTP 500).  Model and target both post to it, so both
see the same verdict.
"""

from __future__ import annotations

import contextlib
import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

MODES = ("timeout", "garbage", "error")


class _QuietServer(ThreadingHTTPServer):
    def handle_error(self, request: Any, client_address: Any) -> None:
        pass  # the "timeout" behaviour's caller has given up: a broken pipe is the point


class CallbackServer:
    def __init__(self) -> None:
        self.behaviour: Any = {"ErrorCode": 0}
        self.requests: list[dict[str, Any]] = []
        server = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length", "0"))
                with contextlib.suppress(ValueError):
                    server.requests.append(json.loads(self.rfile.read(length) or b"{}"))
                behaviour = server.behaviour
                if behaviour == "timeout":
                    time.sleep(2.5)
                    body = b'{"ErrorCode": 1}'
                elif behaviour == "garbage":
                    body = b"<html>not json"
                elif behaviour == "error":
                    self.send_response(500)
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                    return
                else:
                    body = json.dumps(behaviour).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self._server = _QuietServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self._server.server_address[1]}/callback"
        self._thread = threading.Thread(
            target=self._server.serve_forever, name="simtim-callback", daemon=True
        )
        self._thread.start()

    def close(self) -> None:
        self._server.shutdown()
        self._server.server_close()
