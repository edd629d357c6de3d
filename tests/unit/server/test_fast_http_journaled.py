"""The protocol shortcut on a journaled server (``--data``): writes take it without an ASGI task, and
each reply leaves only after its entry is committed; pipelined requests keep their order."""

from __future__ import annotations

import asyncio
import socket
import time
from collections.abc import Iterator
from pathlib import Path

import orjson
import pytest

from simtim.durable.recovery import open_durable
from simtim.errors import Code
from simtim.model.core import DEV_SDKAPPID, DEV_SECRET_KEY
from simtim.server.app import SimtimApp
from simtim.server.journaling import JournaledFront
from simtim.usersig import gen_usersig
from tests.unit.server.test_fast_http import (
    ADMIN_KEY,
    Running,
    count_asgi_tasks,
    post,
    read_responses,
    send_body,
    send_snapshot_send,
)


@pytest.fixture
def journaled(tmp_path: Path) -> Iterator[tuple[Running, JournaledFront]]:
    recovered = open_durable(tmp_path, fake_clock=False, clock_start=None, seed=1)
    front = JournaledFront(recovered, tmp_path)
    app = SimtimApp(admin_key=ADMIN_KEY, durable=front)
    with Running(app) as server:
        yield server, front
    front.close()


def login(server: Running, user: str = "alice") -> str:
    """Log ``user`` in on the real clock (bob first, so that alice has someone to write to)."""
    if user == "alice":
        login(server, "bob")
    sig = gen_usersig(DEV_SDKAPPID, DEV_SECRET_KEY, user, 86400, now=int(time.time()))
    request = post("/v1/login", {"SDKAppID": DEV_SDKAPPID, "userID": user, "userSig": sig})
    ((_, _, body),) = server.exchange(request, 1)
    token: str = orjson.loads(body)["data"]["token"]
    return token


def rest_path(command: str) -> str:
    sig = gen_usersig(DEV_SDKAPPID, DEV_SECRET_KEY, "administrator", 86400, now=int(time.time()))
    return f"/v4/{command}?sdkappid={DEV_SDKAPPID}&identifier=administrator&usersig={sig}&random=1"


def test_journaled_writes_take_the_shortcut_and_are_in_the_journal_when_answered(
    journaled: tuple[Running, JournaledFront], monkeypatch: pytest.MonkeyPatch
) -> None:
    server, front = journaled
    token = login(server, "alice")
    before = front.journal.last_seq
    started = count_asgi_tasks(monkeypatch)
    answered_at: list[int] = []
    original = front.enqueue

    def spy(entry: object, live: object, sink: object) -> None:
        original(entry, live, sink)  # type: ignore[arg-type]
        answered_at.append(front.journal.last_seq)  # the journal before this entry's commit

    monkeypatch.setattr(front, "enqueue", spy)
    requests = [
        post("/v1/sendMessage", send_body("one"), token),
        post(rest_path("im_open_login_svc/account_import"), {"UserID": "dave"}),
        post("/v1/getMyProfile", {}, token),  # a read: answered at once, never journaled
        post("/v1/sendMessage", send_body("two"), token),
    ]
    one, imported, profile, two = (orjson.loads(server.exchange(raw, 1)[0][2]) for raw in requests)
    assert one["code"] == 0 and one["data"]["message"]["payload"]["text"] == "one"
    assert imported["ErrorCode"] == 0
    assert profile["code"] == 0
    assert two["code"] == 0 and two["data"]["message"]["payload"]["text"] == "two"
    assert started == []  # no ASGI task for any of them
    assert front.journal.last_seq == before + 3  # the three writes, each committed
    assert answered_at == [before, before + 1, before + 2]  # each queued before its commit


def test_a_write_whose_commit_fails_is_refused_with_70500_and_not_applied(
    journaled: tuple[Running, JournaledFront],
) -> None:
    """A reply written before the commit (or regardless of it) would say OK here."""
    server, front = journaled
    token = login(server, "alice")
    messages = len(front.service.world.apps[DEV_SDKAPPID].messages)
    pages = front.journal.conn.execute("PRAGMA page_count").fetchone()[0]
    front.journal.conn.execute(f"PRAGMA max_page_count={pages}")  # the disk is full
    replies = server.exchange(
        post("/v1/sendMessage", send_body("x" * 6000), token)
        + post(
            rest_path("openim/sendmsg"),
            {
                "From_Account": "alice",
                "To_Account": "bob",
                "MsgRandom": 7,
                "MsgBody": [{"MsgType": "TIMTextElem", "MsgContent": {"Text": "y" * 6000}}],
            },
        ),
        2,
    )
    v1, rest = (orjson.loads(body) for _, _, body in replies)
    assert v1["code"] == Code.STORAGE_FAILED
    assert rest["ErrorCode"] == Code.STORAGE_FAILED
    assert len(front.service.world.apps[DEV_SDKAPPID].messages) == messages
    front.journal.conn.execute("PRAGMA max_page_count=1073741823")
    ((_, _, again),) = server.exchange(post("/v1/sendMessage", send_body("again"), token), 1)
    assert orjson.loads(again)["code"] == 0


def test_a_pipelined_asgi_request_waits_for_the_journaled_reply_before_it(
    journaled: tuple[Running, JournaledFront], monkeypatch: pytest.MonkeyPatch
) -> None:
    server, front = journaled
    token = login(server, "alice")
    started = count_asgi_tasks(monkeypatch)
    flush = front._flush

    def slow_commit() -> None:  # a commit that takes a while: the ASGI task must not overtake it
        asyncio.get_running_loop().call_later(0.2, flush)

    monkeypatch.setattr(front, "_flush", slow_commit)
    first, snapshot, second = send_snapshot_send(server, token, "first", "second")
    assert first["code"] == 0 and first["data"]["message"]["payload"]["text"] == "first"
    assert snapshot["code"] == 0 and snapshot["data"]["counts"]["messages"] == 1  # after "first" only
    assert second["code"] == 0 and second["data"]["message"]["payload"]["text"] == "second"
    assert started == ["/admin/v1/snapshot", "/v1/sendMessage"]  # queued in uvicorn's pipeline


def test_a_model_failure_after_the_commit_is_a_500_and_the_connection_closes(
    journaled: tuple[Running, JournaledFront], monkeypatch: pytest.MonkeyPatch
) -> None:
    server, _front = journaled
    token = login(server, "alice")

    def broken(*_: object) -> object:
        raise RuntimeError("a model bug")

    monkeypatch.setattr("simtim.server.journaling.apply", broken)
    with socket.create_connection(("127.0.0.1", server.port), timeout=10) as conn:
        conn.sendall(post("/v1/sendMessage", send_body("boom"), token))
        ((status, _, body),) = read_responses(conn, 1)
        assert status.startswith(b"HTTP/1.1 500") and body == b"Internal Server Error"
        assert conn.recv(1) == b""  # closed
