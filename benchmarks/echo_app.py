#!/usr/bin/env python3
"""A bare JSON echo ASGI app on ``simtim serve``'s own stack: the ceiling for server_bench.py.

    python benchmarks/echo_app.py [--host 127.0.0.1] [--port 0]

It reads the request body, parses it with orjson and answers HTTP 200 with the
simtim/1 envelope ``{"code": 0, "message": "", "data": {"echo": true, "message": <body.message>}}``
(a body that is not JSON gets ``{"code": 60003, ...}``), on any path and method.  It
does no routing, no token lookup and no model work: what it costs is what
uvicorn + httptools + uvloop + orjson cost, so ``simtim / echo`` says how much of
the budget simtim's own code takes.

To run on exactly the same uvicorn options as the server (loop, http, ws,
lifespan, logging, headers, timeouts), it does not copy them: it calls
``simtim.server.serve.serve`` with ``SimtimApp`` swapped for ``EchoApp`` and simtim's HTTP protocol
(its shortcut for simtim/1 calls, simtim/server/fast_http.py) swapped back for uvicorn's own
``HttpToolsProtocol``: the baseline is a plain ASGI app on the plain stack.  The
first stdout line is therefore the same ``simtim serve listening on
http://HOST:PORT``; server_bench.py checks the ``"echo": true`` in a reply, so a
change in serve.py that defeated the swap would be caught, not measured as echo.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import orjson
from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))  # this checkout's serve.py, not some installed copy

Receive = Callable[[], Awaitable[dict[str, Any]]]
Send = Callable[[dict[str, Any]], Awaitable[None]]

_NOT_JSON = orjson.dumps({"code": 60003, "message": "body is not JSON"})


class EchoApp:
    """Raw ASGI: read the body, orjson-parse it, answer the envelope.  Lifespan is accepted."""

    def __init__(self, **_ignored: Any) -> None:  # takes SimtimApp's keyword arguments
        pass

    async def __call__(self, scope: dict[str, Any], receive: Receive, send: Send) -> None:
        kind = scope["type"]
        if kind == "http":
            chunks: list[bytes] = []
            while True:
                message = await receive()
                if message["type"] == "http.disconnect":
                    return
                chunks.append(message.get("body", b""))
                if not message.get("more_body", False):
                    break
            try:
                body = orjson.loads(b"".join(chunks))
            except orjson.JSONDecodeError:
                out = _NOT_JSON
            else:
                echoed = body.get("message") if isinstance(body, dict) else None
                out = orjson.dumps({"code": 0, "message": "", "data": {"echo": True, "message": echoed}})
            await send(
                {
                    "type": "http.response.start",
                    "status": 200,
                    "headers": [
                        (b"content-type", b"application/json"),
                        (b"content-length", str(len(out)).encode()),
                    ],
                }
            )
            await send({"type": "http.response.body", "body": out})
        elif kind == "lifespan":
            while True:
                message = await receive()
                if message["type"] == "lifespan.startup":
                    await send({"type": "lifespan.startup.complete"})
                elif message["type"] == "lifespan.shutdown":
                    await send({"type": "lifespan.shutdown.complete"})
                    return
        # websocket: not served; returning without accepting makes uvicorn refuse the handshake


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=0, help="0 = any free port (default)")
    args = parser.parse_args(argv)

    import simtim.server.serve as serve_module

    serve_module.SimtimApp = EchoApp  # type: ignore[misc,assignment]  # same options, other app
    # uvicorn's own httptools protocol, not simtim's subclass: the baseline is a plain ASGI app
    serve_module.SimtimHttpProtocol = HttpToolsProtocol  # type: ignore[misc]
    return serve_module.serve(args.host, args.port)


if __name__ == "__main__":
    sys.exit(main())
