"""The before-send callback client (MSG-8): one policy, asked the same way blocking and async.

Each case runs against a tiny scripted HTTP(S) server on loopback; both entry points must
return the same verdict for it (that is the point of having one client).
"""

from __future__ import annotations

import asyncio
import importlib.util
import shutil
import socket
import ssl
import subprocess
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from simtim.callback_client import RawReply, ask, ask_blocking, prepare, read_reply, verdict_of
from simtim.limits import CALLBACK_REPLY_HEAD_MAX_BYTES, CALLBACK_REPLY_MAX_BYTES

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
    assert verdict_of(RawReply(200, b'{"ErrorCode": 0}')) == {"ErrorCode": 0}


def test_msg_8_a_backend_that_trickles_its_reply_times_out_too(server_with: MakeServer) -> None:
    """The deadline covers the whole exchange, not each read: one byte at a time never resets it."""

    def trickle(conn: socket.socket) -> None:
        wire = b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\n\r\n%s" % (len(VERDICT), VERDICT)
        for byte in wire[:40]:
            conn.sendall(bytes([byte]))
            time.sleep(0.1)

    blocking, in_loop = server_with(trickle), server_with(trickle)  # one each: a server answers in turn
    for ask_one in (
        lambda: ask_blocking(blocking.url(), {}, 0.3),
        lambda: asyncio.run(ask(in_loop.url(), {}, 0.3)),
    ):
        started = time.monotonic()
        assert ask_one() is None
        assert time.monotonic() - started < 2.5  # the trickle lasts 4 s; a per-read timeout would wait it out


WIRE = b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n6;x=y\r\n world\r\n0\r\n\r\n"


def test_the_reader_needs_the_whole_reply_and_nothing_after_it() -> None:
    head_done = WIRE.index(b"\r\n\r\n") + 4
    body_done = WIRE.rindex(b"0\r\n") + 3  # the last chunk: trailers are not waited for
    for cut in range(body_done):
        assert read_reply(WIRE[:cut], eof=False) is None, cut
        assert read_reply(WIRE[:cut], eof=True) == RawReply(200 if cut >= head_done else 0, None), cut
    for cut in range(body_done, len(WIRE) + 1):
        assert read_reply(WIRE[:cut], eof=False) == RawReply(200, b"hello world"), cut
    framed = b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello"
    assert read_reply(framed[:-1], eof=False) is None and read_reply(framed, eof=False) == RawReply(
        200, b"hello"
    )
    assert read_reply(b"HTTP/1.1 200 OK\r\n\r\nhel", eof=False) is None  # close-delimited: until EOF
    assert read_reply(b"HTTP/1.1 200 OK\r\n\r\nhel", eof=True) == RawReply(200, b"hel")


@pytest.mark.parametrize(
    "wire",
    [
        b"SMTP 220 hello\r\n\r\n{}",  # not HTTP
        b"HTTP/1.1 200 OK\r\nContent-Length: -3\r\n\r\n{}",
        b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\n\r\n" % (CALLBACK_REPLY_MAX_BYTES + 1),
        b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n{}\r\n0\r\n\r\n",
        b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n-2\r\n{}\r\n0\r\n\r\n",
        b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2\r\n{}XX0\r\n\r\n",  # no CRLF after data
        b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n%x\r\n" % (CALLBACK_REPLY_MAX_BYTES + 1),
        b"HTTP/1.1 200 OK\r\nX: " + b"y" * CALLBACK_REPLY_HEAD_MAX_BYTES,  # a head that never ends
    ],
    ids=[
        "not-http",
        "negative-length",
        "oversize-length",
        "bad-chunk-size",
        "negative-chunk-size",
        "bad-chunk-end",
        "oversize-chunk",
        "endless-head",
    ],
)
def test_msg_8_malformed_replies_are_decided_without_reading_on(wire: bytes) -> None:
    reply = read_reply(wire, eof=False)
    assert reply is not None and verdict_of(reply) is None


def _openssl_certificate(cert: Path, key: Path) -> None:
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


def _cryptography_certificate(cert: Path, key: Path) -> None:
    import datetime
    import ipaddress

    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    private = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    now = datetime.datetime.now(datetime.UTC)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(private.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(
            x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]), False
        )
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), True)
        .sign(private, hashes.SHA256())
    )
    cert.write_bytes(certificate.public_bytes(serialization.Encoding.PEM))
    key.write_bytes(
        private.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
    )


@pytest.fixture(scope="module", params=["openssl", "cryptography"])
def certificate(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> tuple[Path, Path]:
    """A self-signed certificate for 127.0.0.1, made by the openssl CLI or the cryptography package
    (each variant is skipped only when its maker is absent; the https test runs if either exists)."""
    if request.param == "openssl" and shutil.which("openssl") is None:
        pytest.skip("the openssl command is not installed")
    if request.param == "cryptography" and importlib.util.find_spec("cryptography") is None:
        pytest.skip("the cryptography package is not installed")
    folder = tmp_path_factory.mktemp(f"tls-{request.param}")
    cert, key = folder / "cert.pem", folder / "key.pem"
    make = _openssl_certificate if request.param == "openssl" else _cryptography_certificate
    make(cert, key)
    return cert, key


def test_msg_8_https_callbacks_are_verified_against_the_trust_store(
    server_with: MakeServer,
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
    assert both(server.url("https").replace("127.0.0.1", "localhost")) == (None, None)  # name mismatch
