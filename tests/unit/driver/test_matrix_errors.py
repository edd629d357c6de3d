"""The Matrix driver's answers to a homeserver that refuses, rate-limits or talks nonsense
(a scripted transport: no homeserver needed)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import orjson
import pytest

from simtim.driver.base import Call, DriverError
from simtim.driver.matrix import GAPS, MatrixDriver, matrix_base_url
from simtim.driver.matrix_client import MatrixError, MatrixHttp, password_of
from simtim.errors import Code

Answer = tuple[int, Any]


class ScriptedTransport:
    """Answers by (method, path prefix); records what was asked."""

    def __init__(self, answers: dict[tuple[str, str], Answer | Exception]) -> None:
        self.answers = answers
        self.asked: list[tuple[str, str]] = []

    def request(
        self, method: str, path: str, body: bytes | None, headers: dict[str, str]
    ) -> tuple[int, bytes]:
        self.asked.append((method, path))
        for (m, prefix), answer in self.answers.items():
            if m == method and path.startswith(prefix):
                if isinstance(answer, Exception):
                    raise answer
                status, value = answer
                return status, value if isinstance(value, bytes) else orjson.dumps(value)
        return 404, orjson.dumps({"errcode": "M_UNRECOGNIZED", "error": "Unrecognized request"})

    def post(self, path: str, body: bytes, headers: dict[str, str]) -> tuple[int, bytes]:
        return self.request("POST", path, body, headers)

    def open_events(self, path: str, on_frame: Callable[[str], None], on_close: Callable[[], None]) -> Any:
        raise AssertionError("Matrix has no event socket")

    def close(self) -> None:
        pass


def driver_with(
    answers: dict[tuple[str, str], Answer | Exception], secret: str | None = "s3cret"
) -> MatrixDriver:
    transport = ScriptedTransport(answers)
    return MatrixDriver(
        "matrix+http://127.0.0.1:9", registration_secret=secret, transport=lambda url, t: transport
    )


NONCE: dict[tuple[str, str], Answer | Exception] = {
    ("GET", "/_synapse/admin/v1/register"): (200, {"nonce": "n"})
}


def test_target_urls() -> None:
    assert matrix_base_url("matrix+http://127.0.0.1:8008/") == "http://127.0.0.1:8008"
    assert matrix_base_url("matrix+https://hs.example.org") == "https://hs.example.org"
    with pytest.raises(ValueError, match="matrix"):
        matrix_base_url("http://127.0.0.1:8008")


def test_a_wrong_registration_secret_is_said_plainly() -> None:
    refused = (403, {"errcode": "M_UNKNOWN", "error": "HMAC incorrect"})  # what Synapse answers
    reply = driver_with({**NONCE, ("POST", "/_synapse/admin/v1/register"): refused}).admin("snapshot", {})
    assert reply.code == Code.HTTP_REQUEST_FAILED
    assert "wrong registration secret" in reply.message and "http://127.0.0.1:9" in reply.message


def test_no_registration_secret_names_the_flag_and_the_variable(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("SIMTIM_MATRIX_REGISTRATION_SECRET", raising=False)
    reply = driver_with(NONCE, secret=None).call(Call("login", {"userID": "alice", "userSig": "x"}))
    assert reply.code == Code.HTTP_REQUEST_FAILED
    assert (
        "--matrix-registration-secret" in reply.message
        and "SIMTIM_MATRIX_REGISTRATION_SECRET" in reply.message
    )


def test_rate_limits_and_unknown_errcodes_are_transport_failures_naming_url_and_errcode() -> None:
    limited = (429, {"errcode": "M_LIMIT_EXCEEDED", "error": "Too Many Requests", "retry_after_ms": 1234})
    reply = driver_with({("POST", "/_matrix/client/v3/login"): limited}).call(Call("login", {"userID": "a"}))
    assert reply.code == Code.HTTP_REQUEST_FAILED
    assert "M_LIMIT_EXCEEDED" in reply.message and "retry_after_ms=1234" in reply.message
    odd = (400, {"errcode": "M_WEIRD_NEW_THING", "error": "?"})
    reply = driver_with({("POST", "/_matrix/client/v3/login"): odd}).call(Call("login", {"userID": "a"}))
    assert reply.code == Code.HTTP_REQUEST_FAILED
    assert "M_WEIRD_NEW_THING" in reply.message and "/_matrix/client/v3/login" in reply.message


def test_a_server_that_is_down_or_not_matrix_is_one_line() -> None:
    down = DriverError("ConnectionRefusedError: [Errno 111] Connection refused")
    reply = driver_with({("GET", "/_synapse"): down}).admin("snapshot", {})
    assert reply.code == Code.HTTP_REQUEST_FAILED and "\n" not in reply.message
    assert "connection refused" in reply.message and "http://127.0.0.1:9" in reply.message
    html = driver_with({("GET", "/_synapse"): (502, b"<html>bad gateway</html>")}).admin("snapshot", {})
    assert html.code == Code.HTTP_REQUEST_FAILED and "not a Matrix JSON answer" in html.message


def test_matrix_http_reads_errors_and_arrays() -> None:
    transport = ScriptedTransport({("GET", "/state"): (200, [{"type": "m.room.create"}])})
    http = MatrixHttp("http://hs", transport)
    assert http.request("GET", "/state") == {"events": [{"type": "m.room.create"}]}
    with pytest.raises(MatrixError) as caught:
        http.request("GET", "/other")
    assert caught.value.errcode == "M_UNRECOGNIZED" and caught.value.url == "http://hs/other"


def test_calls_without_a_login_and_gaps_answer_like_tim_and_unsupported() -> None:
    driver = driver_with({})
    created = driver.call(Call("create", {}))
    session = created.data["session"]
    assert driver.call(Call("sendMessage", {"message": {}}, session)).code == Code.NOT_LOGGED_IN
    assert driver.call(Call("getMessageList", {}, session)).code == Code.CONVERSATION_INVALID
    assert driver.call(Call("logout", {}, session)).ok  # INST-1: not logged in resolves {}
    assert driver.call(Call("destroy", {}, session)).ok
    assert driver.call(Call("login", {"userID": "a"}, session)).code == Code.SDK_NOT_INITIALIZED
    assert "dismissGroup" in GAPS and "onConversationListUpdated" in GAPS
    assert driver.admin("advanceClock", {"seconds": 1}).unsupported
    assert driver.call(Call("sendMessage", {}, "no-such-session")).code == Code.NOT_LOGGED_IN


def test_passwords_derive_from_the_secret_and_the_account() -> None:
    assert password_of("s", "alice") == password_of("s", "alice")
    assert password_of("s", "alice") != password_of("s", "bob")
    assert password_of("s", "alice") != password_of("t", "alice")
