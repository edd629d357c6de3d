"""The real before-send callback (MSG-8): POST JSON, 2 s limit, any failure means proceed."""

from __future__ import annotations

import asyncio
from typing import Any
from urllib.parse import urlsplit

import orjson

from simtim.limits import CALLBACK_TIMEOUT_SECONDS


async def _post(url: str, payload: dict[str, Any]) -> Any:
    parts = urlsplit(url)
    if parts.scheme != "http" or not parts.hostname:
        return None  # https callbacks are not supported by the reference server [decision]
    port = parts.port or 80
    path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    body = orjson.dumps(payload)
    reader, writer = await asyncio.open_connection(parts.hostname, port)
    try:
        writer.write(
            f"POST {path} HTTP/1.1\r\nHost: {parts.hostname}:{port}\r\nContent-Type: application/json\r\n"
            f"Content-Length: {len(body)}\r\nConnection: close\r\n\r\n".encode()
            + body
        )
        await writer.drain()
        raw = await reader.read(-1)
    finally:
        writer.close()
    head, _, content = raw.partition(b"\r\n\r\n")
    status_line = head.split(b"\r\n", 1)[0].split()
    if len(status_line) < 2 or status_line[1] != b"200":
        return None
    if b"transfer-encoding: chunked" in head.lower():
        return None  # keep the client small: callbacks answer with a plain body
    return orjson.loads(content)


async def ask_before_send(
    url: str, payload: dict[str, Any], timeout: float = CALLBACK_TIMEOUT_SECONDS
) -> Any:
    """The backend's reply, or None on timeout, error or non-JSON (MSG-8: then proceed)."""
    try:
        return await asyncio.wait_for(_post(url, payload), timeout)
    except Exception:
        return None
