"""The ``POST /v1/<method>`` shortcut of ``SimtimHttpProtocol``: same answers as the ASGI path,
in order, with HTTP's connection rules kept, over a real socket on 127.0.0.1."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from typing import Any

import orjson
import pytest
import uvicorn

from simtim.limits import FAST_BODY_MAX_BYTES
from simtim.model.core import DEV_SDKAPPID, DEV_SECRET_KEY
from simtim.server.app import SimtimApp
from simtim.server.fast_http import SimtimHttpProtocol
from simtim.usersig import gen_usersig

CLOCK_START = 1_600_000_000
ADMIN_KEY = "k"


class Running:
    def __init__(self, app: SimtimApp, keep_alive_seconds: int = 5) -> None:
        self.app = app
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.port = self.sock.getsockname()[1]
        config = uvicorn.Config(
            app,
            http=SimtimHttpProtocol,
            loop="asyncio",
            lifespan="off",
            log_level="warning",
            proxy_headers=False,
            timeout_keep_alive=keep_alive_seconds,
        )
        self.server = uvicorn.Server(config)
        self.asgi_tasks = 0
        self.thread = threading.Thread(target=self.server.run, kwargs={"sockets": [self.sock]}, daemon=True)

    def __enter__(self) -> Running:
        self.thread.start()
        deadline = time.monotonic() + 10
        while not self.server.started:
            assert time.monotonic() < deadline, "server did not start"
            time.sleep(0.01)
        return self

    def __exit__(self, *_: object) -> None:
        self.server.should_exit = True
        self.thread.join(10)
        self.sock.close()

    def exchange(self, raw: bytes, replies: int) -> list[tuple[bytes, dict[str, bytes], bytes]]:
        """Send ``raw`` in one write and read ``replies`` responses: (status line, headers, body)."""
        with socket.create_connection(("127.0.0.1", self.port), timeout=10) as conn:
            conn.sendall(raw)
            return read_responses(conn, replies)


def read_responses(conn: socket.socket, count: int) -> list[tuple[bytes, dict[str, bytes], bytes]]:
    buffer = b""
    out: list[tuple[bytes, dict[str, bytes], bytes]] = []
    while len(out) < count:
        while b"\r\n\r\n" not in buffer:
            chunk = conn.recv(65536)
            assert chunk, f"connection closed after {len(out)} of {count} responses"
            buffer += chunk
        head, _, buffer = buffer.partition(b"\r\n\r\n")
        status, *lines = head.split(b"\r\n")
        headers = {k.lower(): v.strip() for k, _, v in (line.partition(b":") for line in lines)}
        size = int(headers[b"content-length"])
        while len(buffer) < size:
            chunk = conn.recv(65536)
            assert chunk, "connection closed inside a body"
            buffer += chunk
        out.append((status, headers, buffer[:size]))
        buffer = buffer[size:]
    return out


def post(path: str, body: Any, token: str | None = None, extra: bytes = b"") -> bytes:
    raw = orjson.dumps(body)
    auth = f"authorization: Bearer {token}\r\n".encode() if token else b""
    return (
        f"POST {path} HTTP/1.1\r\nhost: x\r\ncontent-type: application/json\r\n".encode()
        + auth
        + extra
        + f"content-length: {len(raw)}\r\n\r\n".encode()
        + raw
    )


@pytest.fixture
def running() -> Iterator[Running]:
    app = SimtimApp(fake_clock=True, clock_start=CLOCK_START, admin_key=ADMIN_KEY, seed=1)
    with Running(app) as server:
        yield server


def login(server: Running, user: str = "alice") -> str:
    """Log ``user`` in (bob first, so that alice has someone to write to)."""
    if user == "alice":
        login(server, "bob")
    sig = gen_usersig(DEV_SDKAPPID, DEV_SECRET_KEY, user, 86400, now=CLOCK_START)
    request = post("/v1/login", {"SDKAppID": DEV_SDKAPPID, "userID": user, "userSig": sig})
    ((status, _, body),) = server.exchange(request, 1)
    assert status == b"HTTP/1.1 200 OK"
    token: str = orjson.loads(body)["data"]["token"]
    return token


def count_asgi_tasks(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    started: list[str] = []
    original = SimtimHttpProtocol._start_asgi_task

    def spy(self: SimtimHttpProtocol, cycle: Any, app: Any) -> None:
        started.append(cycle.scope["path"])
        original(self, cycle, app)

    monkeypatch.setattr(SimtimHttpProtocol, "_start_asgi_task", spy)
    return started


def send_body(text: str) -> dict[str, Any]:
    return {
        "message": {
            "to": "bob",
            "conversationType": "C2C",
            "type": "TIMTextElem",
            "payload": {"text": text},
        }
    }


def send_snapshot_send(server: Running, token: str, first: str, second: str) -> list[dict[str, Any]]:
    """Two sendMessage calls with an admin ``snapshot`` between them, pipelined in one write: the
    three replies, parsed."""
    replies = server.exchange(
        post("/v1/sendMessage", send_body(first), token)
        + post("/admin/v1/snapshot", {}, extra=f"x-admin-key: {ADMIN_KEY}\r\n".encode())
        + post("/v1/sendMessage", send_body(second), token),
        3,
    )
    return [orjson.loads(body) for _, _, body in replies]


def test_v1_calls_are_answered_without_an_asgi_task_and_admin_calls_with_one(
    running: Running, monkeypatch: pytest.MonkeyPatch
) -> None:
    token = login(running, "alice")
    started = count_asgi_tasks(monkeypatch)
    first, snapshot, second = send_snapshot_send(running, token, "one", "two")
    assert first["code"] == 0 and first["data"]["message"]["payload"]["text"] == "one"
    assert snapshot["code"] == 0 and snapshot["data"]["counts"]["messages"] == 1  # answered in order
    assert second["code"] == 0 and second["data"]["message"]["payload"]["text"] == "two"
    # the request pipelined behind a running ASGI task waits its turn in uvicorn's queue
    assert started == ["/admin/v1/snapshot", "/v1/sendMessage"]
    (_, _, alone) = running.exchange(post("/v1/sendMessage", send_body("three"), token), 1)[0]
    assert orjson.loads(alone)["code"] == 0
    assert started == ["/admin/v1/snapshot", "/v1/sendMessage"]  # no task for a call on its own


def test_the_shortcut_answers_what_the_asgi_path_answers(running: Running) -> None:
    token = login(running, "alice")
    calls = [
        ("getMyProfile", b"{}"),
        ("getMyProfile", b"not json"),
        ("noSuchMethod", b"{}"),
        ("getConversationList", b"[]"),
    ]
    for method, raw in calls:
        request = (
            f"POST /v1/{method} HTTP/1.1\r\nhost: x\r\nauthorization: Bearer {token}\r\n"
            f"content-length: {len(raw)}\r\n\r\n"
        ).encode() + raw
        ((status, headers, body),) = running.exchange(request, 1)
        via_asgi = running.app.answer_v1(method, [(b"authorization", f"Bearer {token}".encode())], raw)
        assert (status, headers[b"content-type"], body) == (b"HTTP/1.1 200 OK", b"application/json", via_asgi)


def test_connection_close_is_honoured(running: Running) -> None:
    token = login(running, "alice")
    with socket.create_connection(("127.0.0.1", running.port), timeout=10) as conn:
        conn.sendall(post("/v1/getMyProfile", {}, token, extra=b"connection: close\r\n"))
        ((_, headers, body),) = read_responses(conn, 1)
        assert orjson.loads(body)["data"]["profile"]["userID"] == "alice"
        assert headers[b"connection"] == b"close"
        assert conn.recv(1) == b""  # the server closed it


def test_keep_alive_closes_idle_connections_only() -> None:
    """One timer per connection (not one per request): a connection in use for longer than the
    keep-alive timeout stays open, and one left idle is closed by the server."""
    app = SimtimApp(fake_clock=True, clock_start=CLOCK_START, admin_key=ADMIN_KEY, seed=1)
    with Running(app, keep_alive_seconds=1) as server:
        token = login(server, "alice")
        with socket.create_connection(("127.0.0.1", server.port), timeout=10) as conn:
            for _ in range(12):  # ~1.2 s of requests 0.1 s apart: never idle for the whole second
                conn.sendall(post("/v1/getMyProfile", {}, token))
                ((_, _, body),) = read_responses(conn, 1)
                assert orjson.loads(body)["code"] == 0
                time.sleep(0.1)
            assert conn.recv(1) == b""  # then idle: the server closes it (recv waits up to 10 s)


def test_bodies_the_shortcut_does_not_take_still_get_their_answer(
    running: Running, monkeypatch: pytest.MonkeyPatch
) -> None:
    token = login(running, "alice")
    started = count_asgi_tasks(monkeypatch)
    raw = orjson.dumps(send_body("chunked"))
    chunked = (
        (
            f"POST /v1/sendMessage HTTP/1.1\r\nhost: x\r\nauthorization: Bearer {token}\r\n"
            f"transfer-encoding: chunked\r\n\r\n{len(raw):x}\r\n"
        ).encode()
        + raw
        + b"\r\n0\r\n\r\n"
    )
    big = send_body("x" * (FAST_BODY_MAX_BYTES + 1))
    replies = running.exchange(chunked + post("/v1/sendMessage", big, token), 2)
    small, large = (orjson.loads(body) for _, _, body in replies)
    assert small["code"] == 0 and small["data"]["message"]["payload"]["text"] == "chunked"
    assert large["code"] != 0  # the model's size limit, not a transport failure
    assert started == ["/v1/sendMessage", "/v1/sendMessage"]


def test_a_failing_call_is_a_500_and_the_connection_closes(
    running: Running, monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken(*_: object) -> bytes:
        raise RuntimeError("boom")

    monkeypatch.setattr(running.app, "answer_v1", broken)
    monkeypatch.setattr(running.app, "answers_v1_now", lambda method: True)
    with socket.create_connection(("127.0.0.1", running.port), timeout=10) as conn:
        conn.sendall(post("/v1/getMyProfile", {}))
        ((status, _, body),) = read_responses(conn, 1)
        assert status.startswith(b"HTTP/1.1 500") and body == b"Internal Server Error"
        assert conn.recv(1) == b""


def test_replies_of_one_turn_keep_their_order_across_connections_and_after_a_failure(
    running: Running, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Replies leave together at the end of the loop turn (``_ReplyBatch``): still each on its own
    connection, in request order, and a failing call's 500 and close come after the replies the
    connection was owed before it."""
    token = login(running, "alice")
    answer = running.app.answer_v1

    def failing_on_get_my_profile(method: str, *args: Any, **kwargs: Any) -> bytes | None:
        if method == "getMyProfile":
            raise RuntimeError("boom")
        return answer(method, *args, **kwargs)

    monkeypatch.setattr(running.app, "answer_v1", failing_on_get_my_profile)
    first = socket.create_connection(("127.0.0.1", running.port), timeout=10)
    second = socket.create_connection(("127.0.0.1", running.port), timeout=10)
    with first, second:
        first.sendall(b"".join(post("/v1/sendMessage", send_body(f"a{i}"), token) for i in range(3)))
        second.sendall(
            post("/v1/sendMessage", send_body("b0"), token)
            + post("/v1/getMyProfile", {}, token)
            + post("/v1/sendMessage", send_body("never answered"), token)
        )
        texts = [
            orjson.loads(body)["data"]["message"]["payload"]["text"]
            for _, _, body in read_responses(first, 3)
        ]
        assert texts == ["a0", "a1", "a2"]
        (_, _, sent), (status, _, failed) = read_responses(second, 2)
        assert orjson.loads(sent)["data"]["message"]["payload"]["text"] == "b0"
        assert status.startswith(b"HTTP/1.1 500") and failed == b"Internal Server Error"
        assert second.recv(1) == b""  # closed after the 500, nothing after it
        first.sendall(post("/v1/sendMessage", send_body("a3"), token))  # the other connection lives on
        ((_, _, later),) = read_responses(first, 1)
        assert orjson.loads(later)["data"]["message"]["payload"]["text"] == "a3"


def test_rest_v4_calls_take_the_shortcut_and_answer_as_the_rest_face(
    running: Running, monkeypatch: pytest.MonkeyPatch
) -> None:
    """REST-1: the shortcut answers ``POST /v4/…?query`` with the REST face's own envelope; a path
    with percent-escapes still goes through ASGI (its path is decoded there)."""
    started = count_asgi_tasks(monkeypatch)
    sig = gen_usersig(DEV_SDKAPPID, DEV_SECRET_KEY, "administrator", 86400, now=CLOCK_START)
    query = f"sdkappid={DEV_SDKAPPID}&identifier=administrator&usersig={sig}&random=1&contenttype=json"
    for path, body in (
        ("/v4/im_open_login_svc/account_import", {"UserID": "carol"}),
        ("/v4/im_open_login_svc/account_check", {"CheckItem": [{"UserID": "carol"}]}),
        ("/v4/no_such/command", {}),
    ):
        raw = orjson.dumps(body)
        request = (
            f"POST {path}?{query} HTTP/1.1\r\nhost: x\r\ncontent-length: {len(raw)}\r\n\r\n"
        ).encode() + raw
        ((status, _, answer),) = running.exchange(request, 1)
        assert status == b"HTTP/1.1 200 OK" and "ErrorCode" in orjson.loads(answer)
    again = running.app.answer_rest(
        "/v4/im_open_login_svc/account_check",
        query.encode(),
        orjson.dumps({"CheckItem": [{"UserID": "carol"}]}),
    )
    assert again is not None  # an in-memory server answers at once
    checked = orjson.loads(again)
    assert checked["ResultItem"][0]["AccountStatus"] == "Imported"  # the first call ran on the model
    assert started == []
    raw = b"{}"
    escaped = (
        f"POST /v4/openim%2Fsendmsg?{query} HTTP/1.1\r\nhost: x\r\ncontent-length: 2\r\n\r\n".encode() + raw
    )
    ((status, _, _),) = running.exchange(escaped, 1)
    assert status == b"HTTP/1.1 200 OK" and started == ["/v4/openim/sendmsg"]
