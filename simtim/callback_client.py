"""The before-send callback client (MSG-8): one policy for the server and for in-process targets.

The reference server awaits the callback inside its event loop (``ask``); the in-process
target (``simtim.protocol.service``, used by the in-process driver) blocks (``ask_blocking``).
Both build the request and judge the reply with the same functions, so they cannot drift:

- ``http://`` and ``https://`` URLs (https verified against the system trust store, which
  ``SSL_CERT_FILE`` extends, as a real app backend's certificate would be); anything else is
  refused without a connection.
- The whole exchange has one deadline (``CALLBACK_TIMEOUT_SECONDS``, 2 s).
- The reply may use ``Content-Length``, chunked transfer encoding, or close-delimited bodies;
  at most ``CALLBACK_REPLY_MAX_BYTES`` are read.
- Only a 200 with a JSON body is a verdict; timeout, refusal, another status, an oversize or
  non-JSON body all mean ``None``: the send proceeds (MSG-8).
"""

from __future__ import annotations

import asyncio
import http.client
import ssl
import time
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

import orjson

from simtim.limits import CALLBACK_REPLY_MAX_BYTES, CALLBACK_TIMEOUT_SECONDS


@dataclass(frozen=True)
class CallbackRequest:
    https: bool
    host: str
    port: int
    path: str
    body: bytes

    def head(self) -> bytes:
        return (
            f"POST {self.path} HTTP/1.1\r\nHost: {self.host}:{self.port}\r\n"
            f"Content-Type: application/json\r\nContent-Length: {len(self.body)}\r\n"
            "Connection: close\r\n\r\n"
        ).encode()


def prepare(url: str, payload: dict[str, Any]) -> CallbackRequest | None:
    """The request to send, or None for a URL the client will not call (MSG-8: proceed)."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        return None
    https = parts.scheme == "https"
    try:
        port = parts.port or (443 if https else 80)
    except ValueError:
        return None
    path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    return CallbackRequest(https, parts.hostname, port, path, orjson.dumps(payload))


def verdict_of(status: int, body: bytes) -> Any:
    """The backend's reply as the model takes it, or None (proceed)."""
    if status != 200 or len(body) > CALLBACK_REPLY_MAX_BYTES:
        return None
    try:
        return orjson.loads(body)
    except orjson.JSONDecodeError:
        return None


def _tls() -> ssl.SSLContext:
    return ssl.create_default_context()


# --- blocking (in-process targets) -------------------------------------------------------------
def ask_blocking(url: str, payload: dict[str, Any], timeout: float = CALLBACK_TIMEOUT_SECONDS) -> Any:
    """MSG-8 without an event loop: http.client reads chunked and length-delimited replies."""
    request = prepare(url, payload)
    if request is None:
        return None
    deadline = time.monotonic() + timeout
    conn: http.client.HTTPConnection
    if request.https:
        conn = http.client.HTTPSConnection(request.host, request.port, timeout=timeout, context=_tls())
    else:
        conn = http.client.HTTPConnection(request.host, request.port, timeout=timeout)
    try:
        conn.request("POST", request.path, body=request.body, headers={"Content-Type": "application/json"})
        response = conn.getresponse()
        body = response.read(CALLBACK_REPLY_MAX_BYTES + 1)
        if time.monotonic() > deadline:
            return None  # a slow trickle past the deadline is a timeout too
        return verdict_of(response.status, body)
    except Exception:
        return None
    finally:
        conn.close()


# --- asyncio (the reference server) ------------------------------------------------------------
async def ask(url: str, payload: dict[str, Any], timeout: float = CALLBACK_TIMEOUT_SECONDS) -> Any:
    """The backend's reply, or None on timeout, error or a reply that is no verdict (proceed)."""
    request = prepare(url, payload)
    if request is None:
        return None
    try:
        return await asyncio.wait_for(_exchange(request), timeout)
    except Exception:
        return None


async def _exchange(request: CallbackRequest) -> Any:
    reader, writer = await asyncio.open_connection(
        request.host, request.port, ssl=_tls() if request.https else None
    )
    try:
        writer.write(request.head() + request.body)
        await writer.drain()
        status, headers = await _read_head(reader)
        body = await _read_body(reader, headers)
    finally:
        writer.close()
    return verdict_of(status, body) if body is not None else None


async def _read_head(reader: asyncio.StreamReader) -> tuple[int, dict[str, str]]:
    raw = await reader.readuntil(b"\r\n\r\n")
    lines = raw.decode("latin-1").split("\r\n")
    parts = lines[0].split()
    status = int(parts[1]) if len(parts) >= 2 and parts[1].isdigit() else 0
    headers: dict[str, str] = {}
    for line in lines[1:]:
        name, sep, value = line.partition(":")
        if sep:
            headers[name.strip().lower()] = value.strip()
    return status, headers


async def _read_body(reader: asyncio.StreamReader, headers: dict[str, str]) -> bytes | None:
    """The reply body, or None when it is larger than the cap (no verdict)."""
    cap = CALLBACK_REPLY_MAX_BYTES
    if "chunked" in headers.get("transfer-encoding", "").lower():
        body = bytearray()
        while True:
            size_line = await reader.readuntil(b"\r\n")
            size = int(size_line.split(b";", 1)[0].strip() or b"0", 16)
            if size == 0:
                return bytes(body)
            if len(body) + size > cap:
                return None
            body += await reader.readexactly(size)
            await reader.readexactly(2)  # the CRLF after each chunk
    if "content-length" in headers:
        length = int(headers["content-length"])
        return None if length > cap else await reader.readexactly(length)
    rest = bytearray()
    while len(rest) <= cap:  # close-delimited: read to EOF, but never more than the cap
        piece = await reader.read(cap + 1 - len(rest))
        if not piece:
            return bytes(rest)
        rest += piece
    return None
