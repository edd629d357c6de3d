"""The before-send callback client (MSG-8): one policy for the server and for in-process targets.

The reference server awaits the callback inside its event loop (``ask``); the in-process
target (``simtim.protocol.service``, used by the in-process driver) blocks (``ask_blocking``).
Both build the request with ``prepare``, read the reply with the same sans-I/O reader
(``read_reply``, fed whatever bytes have arrived) and judge it with ``verdict_of``; only the
socket calls differ, so the two paths cannot drift:

- ``http://`` and ``https://`` URLs (https verified against the system trust store, which
  ``SSL_CERT_FILE`` extends, as a real app backend's certificate would be); anything else is
  refused without a connection.
- The whole exchange (connect, TLS handshake, send, every read) has one deadline
  (``CALLBACK_TIMEOUT_SECONDS``, 2 s): a backend that trickles its reply times out too.
- The reply may use ``Content-Length``, chunked transfer encoding, or close-delimited bodies;
  at most ``CALLBACK_REPLY_MAX_BYTES`` of body and ``CALLBACK_REPLY_HEAD_MAX_BYTES`` of head
  are read.
- Only a 200 with a JSON body is a verdict; timeout, refusal, another status, an oversize,
  truncated, malformed or non-JSON reply all mean ``None``: the send proceeds (MSG-8).
"""

from __future__ import annotations

import asyncio
import socket
import ssl
import time
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

import orjson

from simtim.limits import CALLBACK_REPLY_HEAD_MAX_BYTES, CALLBACK_REPLY_MAX_BYTES, CALLBACK_TIMEOUT_SECONDS

READ_SIZE = 64 * 1024  # bytes asked of the socket per read (not a limit: the caps above are)
HEX_DIGITS = b"0123456789abcdefABCDEF"


@dataclass(frozen=True)
class CallbackRequest:
    https: bool
    host: str
    port: int
    path: str
    body: bytes

    def wire(self) -> bytes:
        """The whole request as sent: one POST, then the connection closes."""
        head = (
            f"POST {self.path} HTTP/1.1\r\nHost: {self.host}:{self.port}\r\n"
            f"Content-Type: application/json\r\nContent-Length: {len(self.body)}\r\n"
            "Connection: close\r\n\r\n"
        )
        return head.encode() + self.body


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


# --- reading the reply (sans I/O: both paths feed it) ------------------------------------------
@dataclass(frozen=True)
class RawReply:
    status: int  # 0 when the status line is not HTTP
    body: bytes | None  # None: no usable body (not a 200, over the cap, truncated, malformed framing)


def read_reply(data: bytes, eof: bool) -> RawReply | None:
    """The reply in ``data`` (everything received so far), or None while more bytes are needed.

    Called again after every read; once it returns a RawReply the caller stops reading.  It
    never needs more than the caps: an oversize head or body is decided before it arrives whole.
    """
    head_end = data.find(b"\r\n\r\n")
    if head_end < 0 or head_end > CALLBACK_REPLY_HEAD_MAX_BYTES:
        if eof or len(data) > CALLBACK_REPLY_HEAD_MAX_BYTES:
            return RawReply(0, None)
        return None
    status, headers = _parse_head(data[:head_end])
    if status != 200:
        return RawReply(status, None)  # no verdict whatever follows: stop reading
    rest = data[head_end + 4 :]
    if "chunked" in headers.get("transfer-encoding", "").lower():
        return _dechunk(status, rest, eof)
    if "content-length" in headers:
        value = headers["content-length"]
        if not value.isdigit() or int(value) > CALLBACK_REPLY_MAX_BYTES:
            return RawReply(status, None)
        length = int(value)
        if len(rest) >= length:
            return RawReply(status, rest[:length])
        return RawReply(status, None) if eof else None
    if len(rest) > CALLBACK_REPLY_MAX_BYTES:  # close-delimited: the body ends at EOF
        return RawReply(status, None)
    return RawReply(status, rest) if eof else None


def _parse_head(raw: bytes) -> tuple[int, dict[str, str]]:
    lines = raw.decode("latin-1").split("\r\n")
    parts = lines[0].split()
    http = len(parts) >= 2 and parts[0].startswith("HTTP/1.") and parts[1].isdigit()
    headers: dict[str, str] = {}
    for line in lines[1:]:
        name, sep, value = line.partition(":")
        if sep:
            headers[name.strip().lower()] = value.strip()
    return (int(parts[1]) if http else 0), headers


def _dechunk(status: int, rest: bytes, eof: bool) -> RawReply | None:
    body = bytearray()
    at = 0
    while True:
        line_end = rest.find(b"\r\n", at)
        if line_end < 0:
            too_long = len(rest) - at > CALLBACK_REPLY_HEAD_MAX_BYTES  # a size line, not a body
            return RawReply(status, None) if eof or too_long else None
        size_text = rest[at:line_end].split(b";", 1)[0].strip()
        if not size_text or size_text.strip(HEX_DIGITS):
            return RawReply(status, None)
        size = int(size_text, 16)
        if len(body) + size > CALLBACK_REPLY_MAX_BYTES:
            return RawReply(status, None)
        if size == 0:
            return RawReply(status, bytes(body))  # trailers, if any, are not read
        start = line_end + 2
        if len(rest) < start + size + 2:
            return RawReply(status, None) if eof else None
        if rest[start + size : start + size + 2] != b"\r\n":
            return RawReply(status, None)
        body += rest[start : start + size]
        at = start + size + 2


def verdict_of(reply: RawReply) -> Any:
    """The backend's reply as the model takes it, or None (proceed)."""
    if reply.status != 200 or reply.body is None or len(reply.body) > CALLBACK_REPLY_MAX_BYTES:
        return None
    try:
        return orjson.loads(reply.body)
    except orjson.JSONDecodeError:
        return None


def _tls() -> ssl.SSLContext:
    return ssl.create_default_context()


# --- blocking (in-process targets) -------------------------------------------------------------
def ask_blocking(url: str, payload: dict[str, Any], timeout: float = CALLBACK_TIMEOUT_SECONDS) -> Any:
    """MSG-8 without an event loop; every socket operation gets only what is left of the deadline."""
    request = prepare(url, payload)
    if request is None:
        return None
    deadline = time.monotonic() + timeout

    def left() -> float:
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            raise TimeoutError
        return remaining

    try:
        sock = socket.create_connection((request.host, request.port), timeout=left())
    except Exception:
        return None
    try:
        if request.https:
            sock.settimeout(left())
            sock = _tls().wrap_socket(sock, server_hostname=request.host)
        sock.settimeout(left())
        sock.sendall(request.wire())
        data = bytearray()
        while True:
            sock.settimeout(left())
            piece = sock.recv(READ_SIZE)
            data += piece
            reply = read_reply(bytes(data), eof=not piece)
            if reply is not None:
                return verdict_of(reply)
    except Exception:
        return None
    finally:
        sock.close()


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
        writer.write(request.wire())
        await writer.drain()
        data = bytearray()
        while True:
            piece = await reader.read(READ_SIZE)
            data += piece
            reply = read_reply(bytes(data), eof=not piece)
            if reply is not None:
                return verdict_of(reply)
    finally:
        writer.close()
