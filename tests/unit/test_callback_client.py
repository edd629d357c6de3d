"""The before-send callback client (MSG-8): one policy, asked the same way blocking and async.

Each case runs against a tiny scripted HTTP(S) server on loopback; both entry points must
return the same verdict for it (that is the point of having one client).
"""

from __future__ import annotations

import asyncio
import shutil
import socket
import ssl
import subprocess
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from simtim.callback_client import ask, ask_blocking, prepare, verdict_of
from simtim.limits import CALLBACK_REPLY_MAX_BYTES

Reply = Callable[[socket.socket], None]


class ScriptedServer:
    """Accepts connections on 127.0.0.1 and answers each with ``reply`` (raw bytes on the socket)."""

    def __init__(self, reply: Reply, tls: ssl.SSLContext | None = None) -> None:
        self.reply = reply
        self.tls = tls
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.port = self.listener.getsockname()[1]
        self.requests: list[bytes] = []
        threading.Thread(target=self._serve, daemon=True).start()

    def _serve(self) -> None:
        while True:
            try:
                conn, _ = self.listener.accept()
            except OSError:
                return
            try:
                if self.tls is not None:
                    conn = self.tls.wrap_socket(conn, server_side=True)
                data = b""
                while b"\r\n\r\n" not in data:
                    data += conn.recv(65536)
                head, _, body = data.partition(b"\r\n\r\n")
                length = int(
                    next(
                        line.split(b":")[1]
                        for line in head.split(b"\r\n")
                        if line.lower().startswith(b"content-length")
                    )
                )
                while len(body) < length:
                    body += conn.recv(65536)
                self.requests.append(body)
                self.reply(conn)
            except (OSError, ssl.SSLError):
                pass
            finally:
                conn.close()

    def url(self, scheme: str = "http") -> str:
        return f"{scheme}://127.0.0.1:{self.port}/cb?x=1"

    def close(self) -> None:
        self.listener.close()


def respond(status: str, body: bytes, *, chunked: bool = False, length: bool = True) -> Reply:
    def send(conn: socket.socket) -> None:
        head = f"HTTP/1.1 {status}\r\nContent-Type: application/json\r\nConnection: close\r\n"
        if chunked:
            pieces = [body[i : i + 5] for i in range(0, len(body), 5)]
            payload = b"".join(b"%x\r\n%s\r\n" % (len(p), p) for p in pieces) + b"0\r\n\r\n"
            conn.sendall((head + "Transfer-Encoding: chunked\r\n\r\n").encode() + payload)
        elif length:
            conn.sendall((head + f"Content-Length: {len(body)}\r\n\r\n").encode() + body)
        else:
            conn.sendall((head + "\r\n").encode() + body)

    return send


def both(url: str, timeout: float = 2.0) -> tuple[object, object]:
    payload = {"CallbackCommand": "C2C.CallbackBeforeSendMsg"}
    return ask_blocking(url, payload, timeout), asyncio.run(ask(url, payload, timeout))


MakeServer = Callable[..., "ScriptedServer"]


@pytest.fixture
def server_with() -> Iterator[Callable[..., ScriptedServer]]:
    made: list[ScriptedServer] = []

    def make(reply: Reply, tls: ssl.SSLContext | None = None) -> ScriptedServer:
        made.append(ScriptedServer(reply, tls))
        return made[-1]

    yield make
    for server in made:
        server.close()


VERDICT = b'{"ActionStatus": "OK", "ErrorCode": 1, "ErrorInfo": ""}'


@pytest.mark.parametrize(
    "reply",
    [
        respond("200 OK", VERDICT),
        respond("200 OK", VERDICT, chunked=True),
        respond("200 OK", VERDICT, length=False),
    ],
    ids=["content-length", "chunked", "close-delimited"],
)
def test_msg_8_a_json_reply_is_the_verdict_however_it_is_framed(
    server_with: MakeServer, reply: Reply
) -> None:
    server = server_with(reply)
    assert both(server.url()) == ({"ActionStatus": "OK", "ErrorCode": 1, "ErrorInfo": ""},) * 2
    assert b"CallbackBeforeSendMsg" in server.requests[0]


@pytest.mark.parametrize(
    "reply",
    [
        respond("500 Oops", VERDICT),
        respond("200 OK", b"not json"),
        respond("200 OK", b"{" * 10, chunked=True),
    ],
    ids=["not-200", "garbage", "chunked-garbage"],
)
def test_msg_8_anything_but_a_json_200_means_proceed(server_with: MakeServer, reply: Reply) -> None:
    assert both(server_with(reply).url()) == (None, None)


def test_msg_8_an_oversize_reply_means_proceed(server_with: MakeServer) -> None:
    huge = b'{"a": "' + b"x" * CALLBACK_REPLY_MAX_BYTES + b'"}'
    assert both(server_with(respond("200 OK", huge)).url()) == (None, None)
    assert both(server_with(respond("200 OK", huge, chunked=True)).url()) == (None, None)


def test_msg_8_a_slow_backend_times_out_and_means_proceed(server_with: MakeServer) -> None:
    def slow(conn: socket.socket) -> None:
        time.sleep(1.0)
        respond("200 OK", VERDICT)(conn)

    started = time.monotonic()
    assert both(server_with(slow).url(), timeout=0.3) == (None, None)
    assert time.monotonic() - started < 1.9  # each side gave up at its deadline, not after the reply


def test_msg_8_refused_and_unusable_urls_mean_proceed() -> None:
    closed = socket.create_server(("127.0.0.1", 0))
    port = closed.getsockname()[1]
    closed.close()
    assert both(f"http://127.0.0.1:{port}/") == (None, None)
    assert prepare("ftp://example/x", {}) is None and prepare("http:///nohost", {}) is None
    assert both("file:///etc/passwd") == (None, None)
    assert verdict_of(200, b'{"ErrorCode": 0}') == {"ErrorCode": 0}


@pytest.fixture(scope="module")
def certificate(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    if shutil.which("openssl") is None:
        pytest.skip("openssl is needed to make a self-signed certificate")
    folder = tmp_path_factory.mktemp("tls")
    cert, key = folder / "cert.pem", folder / "key.pem"
    subprocess.run(
        [
            "openssl",
            "req",
            "-x509",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-days",
            "1",
            "-subj",
            "/CN=127.0.0.1",
            "-addext",
            "subjectAltName=IP:127.0.0.1",
            "-keyout",
            str(key),
            "-out",
            str(cert),
        ],
        check=True,
        capture_output=True,
    )
    return cert, key


def test_msg_8_https_callbacks_are_verified_against_the_trust_store(
    server_with,
    certificate: tuple[Path, Path],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    cert, key = certificate
    tls = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    tls.load_cert_chain(cert, key)
    server = server_with(respond("200 OK", VERDICT, chunked=True), tls)
    assert both(server.url("https")) == (None, None)  # self-signed and untrusted: proceed
    monkeypatch.setenv("SSL_CERT_FILE", str(cert))  # the operator trusts the backend's certificate
    assert both(server.url("https")) == ({"ActionStatus": "OK", "ErrorCode": 1, "ErrorInfo": ""},) * 2
