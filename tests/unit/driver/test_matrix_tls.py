"""``matrix+https://`` with a certificate nobody trusts: one line naming the URL, never a traceback."""

from __future__ import annotations

import contextlib
import socket
import ssl
import subprocess
import threading
from pathlib import Path

from simtim.driver.matrix import MatrixDriver
from simtim.errors import Code
from tests.conftest import require_tool


def test_an_untrusted_certificate_is_a_clear_transport_failure(tmp_path: Path) -> None:
    openssl = require_tool("openssl")
    key, cert = tmp_path / "key.pem", tmp_path / "cert.pem"
    subprocess.run(
        [
            openssl,
            "req",
            "-x509",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-days",
            "1",
            "-subj",
            "/CN=127.0.0.1",
            "-keyout",
            str(key),
            "-out",
            str(cert),
        ],
        check=True,
        capture_output=True,
    )
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert, key)
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen()
    port = server.getsockname()[1]

    def serve_one() -> None:
        conn, _ = server.accept()
        with contextlib.suppress(ssl.SSLError, OSError), context.wrap_socket(conn, server_side=True):
            pass

    thread = threading.Thread(target=serve_one, daemon=True)
    thread.start()
    try:
        reply = MatrixDriver(f"matrix+https://127.0.0.1:{port}", registration_secret="s").admin(
            "snapshot", {}
        )
    finally:
        thread.join(5)
        server.close()
    assert reply.code == Code.HTTP_REQUEST_FAILED and "\n" not in reply.message
    assert "TLS certificate not trusted" in reply.message and f"https://127.0.0.1:{port}" in reply.message
