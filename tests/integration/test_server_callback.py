"""The before-send callback (SPEC MSG-8) through a real server and a real HTTP backend.

A tiny ``http.server`` on 127.0.0.1:0 plays the app backend; ``setCallback`` points the app at it.
Reject (1 -> 20006 / 10016), app codes (120001-130000 C2C, 10100-10200 group), a MsgBody replacement,
a 2 s timeout that proceeds, and garbage that proceeds.  Refusals before the callback never call it.
"""

from __future__ import annotations

import contextlib
import http.server
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import orjson
import pytest

from simtim.model.core import DEV_SDKAPPID
from tests.integration.server_process import ServerProcess
from tests.integration.wire import Wire, frames_until, next_frame, open_events, text

Reply = tuple[int, bytes]


@dataclass
class Backend:
    """What the fake app backend answers, and every callback body it received."""

    url: str
    answer: Callable[[dict[str, Any]], Reply] = lambda body: (200, b'{"ActionStatus":"OK","ErrorCode":0}')
    received: list[dict[str, Any]] = field(default_factory=list)

    def answer_json(self, value: object) -> None:
        self.answer = lambda body: (200, orjson.dumps(value))


@pytest.fixture(scope="module")
def backend_server() -> Iterator[Backend]:
    backend = Backend(url="")

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            raw = self.rfile.read(int(self.headers.get("Content-Length", "0")))
            backend.received.append(orjson.loads(raw))
            status, payload = backend.answer(backend.received[-1])
            with contextlib.suppress(OSError):  # the server may have given up already (timeout)
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

        def log_message(self, format: str, *args: Any) -> None:
            pass

    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    httpd.daemon_threads = True
    backend.url = f"http://127.0.0.1:{httpd.server_address[1]}/callback?x=1"
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield backend
    httpd.shutdown()
    httpd.server_close()


@pytest.fixture
def backend(backend_server: Backend) -> Backend:
    backend_server.answer = Backend.answer
    backend_server.received.clear()
    return backend_server


@pytest.fixture
def wire(server: ServerProcess, backend: Backend) -> Iterator[Wire]:
    w = Wire(server.url)
    w.admin("reset", {})
    w.admin("setCallback", {"SDKAppID": DEV_SDKAPPID, "url": backend.url})
    yield w
    w.admin("setCallback", {"SDKAppID": DEV_SDKAPPID, "url": None})
    w.close()


def history(wire: Wire, token: str, conversation_id: str) -> list[dict[str, Any]]:
    messages: list[dict[str, Any]] = wire.ok("getMessageList", {"conversationID": conversation_id}, token)[
        "messageList"
    ]
    return messages


def test_callback_body_and_proceed(wire: Wire, backend: Backend) -> None:
    alice, bob = wire.login("alice"), wire.login("bob")
    sent = wire.ok("sendMessage", text("bob", "hello", cloudCustomData="ccd", random=7), alice)["message"]
    assert sent["payload"] == {"text": "hello"}
    [body] = backend.received
    assert body["CallbackCommand"] == "C2C.CallbackBeforeSendMsg"
    assert body["From_Account"] == "alice" and body["To_Account"] == "bob" and body["MsgRandom"] == 7
    assert body["MsgBody"] == [{"MsgType": "TIMTextElem", "MsgContent": {"text": "hello"}}]
    assert body["CloudCustomData"] == "ccd"
    assert [m["ID"] for m in history(wire, bob, "C2Calice")] == [sent["ID"]]


def test_reject_is_20006_for_c2c_and_stores_nothing(wire: Wire, backend: Backend) -> None:
    alice, bob = wire.login("alice"), wire.login("bob")
    backend.answer_json({"ActionStatus": "OK", "ErrorCode": 1, "ErrorInfo": "no"})
    wire.refused("sendMessage", text("bob", "rejected"), alice, 20006)
    assert len(backend.received) == 1
    assert history(wire, bob, "C2Calice") == []


def test_app_codes_pass_through(wire: Wire, backend: Backend) -> None:
    alice, bob = wire.login("alice"), wire.login("bob")
    gid = wire.ok("createGroup", {"name": "g", "type": "Public", "memberList": [{"userID": "bob"}]}, alice)[
        "group"
    ]["groupID"]
    backend.received.clear()
    for code, to, kind, expected in (
        (120005, "bob", "C2C", 120005),
        (130000, "bob", "C2C", 130000),
        (1, gid, "GROUP", 10016),
        (10150, gid, "GROUP", 10150),
        (10150, "bob", "C2C", 0),
        (120005, gid, "GROUP", 0),
    ):  # out of range: proceed
        backend.answer_json({"ActionStatus": "FAIL", "ErrorCode": code, "ErrorInfo": "custom"})
        if expected:
            envelope = wire.refused("sendMessage", text(to, f"code {code}", kind), alice, expected)
            if expected == code:
                assert envelope["message"] == "custom"
        else:
            wire.ok("sendMessage", text(to, f"code {code}", kind), alice)
    group_body = next(b for b in backend.received if b["CallbackCommand"] == "Group.CallbackBeforeSendMsg")
    assert (
        group_body["GroupId"] == gid
        and group_body["Type"] == "Public"
        and group_body["From_Account"] == "alice"
    )
    assert [m["payload"]["text"] for m in history(wire, bob, "C2Calice")] == ["code 10150"]


def test_a_msgbody_replacement_is_what_the_peer_receives(wire: Wire, backend: Backend) -> None:
    alice, bob = wire.login("alice"), wire.login("bob")
    ws = open_events(wire.url, bob)
    try:
        assert next_frame(ws).event == "sdkStateReady"  # type: ignore[union-attr]
        backend.answer_json(
            {
                "ActionStatus": "OK",
                "ErrorCode": 0,
                "MsgBody": [{"MsgType": "TIMTextElem", "MsgContent": {"text": "[censored]"}}],
            }
        )
        sent = wire.ok("sendMessage", text("bob", "something rude"), alice)["message"]
        assert sent["payload"] == {"text": "[censored]"}
        pushed = frames_until(ws, lambda f: f.event == "onMessageReceived")[-1]
        assert pushed.data[0]["ID"] == sent["ID"] and pushed.data[0]["payload"] == {"text": "[censored]"}
    finally:
        ws.close()
    assert [m["payload"] for m in history(wire, bob, "C2Calice")] == [{"text": "[censored]"}]
    # a replacement that is not a valid body is ignored: the original proceeds
    backend.answer_json({"ErrorCode": 0, "MsgBody": [{"MsgType": "TIMNopeElem", "MsgContent": {}}]})
    assert wire.ok("sendMessage", text("bob", "kept"), alice)["message"]["payload"] == {"text": "kept"}


def test_a_slow_callback_times_out_after_2_s_and_the_send_proceeds(
    server: ServerProcess, wire: Wire, backend: Backend
) -> None:
    alice, bob = wire.login("alice"), wire.login("bob")

    def slow(body: dict[str, Any]) -> Reply:
        time.sleep(3)
        return 200, b'{"ErrorCode":1}'  # too late: a reject that must not count

    backend.answer = slow
    outcome: dict[str, Any] = {}

    def send() -> None:
        started = time.monotonic()
        sender = Wire(server.url)
        outcome["envelope"] = sender.call("sendMessage", text("bob", "slow backend"), alice)
        outcome["elapsed"] = time.monotonic() - started
        sender.close()

    thread = threading.Thread(target=send)
    thread.start()
    time.sleep(0.3)
    started = time.monotonic()
    assert wire.ok("getMyProfile", {}, bob)["profile"]["userID"] == "bob"  # the server is not blocked
    assert time.monotonic() - started < 1.0
    thread.join(10)
    assert outcome["envelope"]["code"] == 0, outcome
    assert 1.9 <= outcome["elapsed"] <= 3.0, outcome["elapsed"]
    assert [m["payload"] for m in history(wire, bob, "C2Calice")] == [{"text": "slow backend"}]


@pytest.mark.parametrize(
    "reply",
    [
        (200, b"not json"),
        (200, b""),
        (200, b"[1, 2]"),
        (200, b'{"ErrorCode": "1"}'),
        (200, b'{"ErrorCode": true}'),
        (200, b'{"ActionStatus": "OK"}'),
        (500, b'{"ErrorCode": 1}'),
        (404, b""),
        (302, b""),
    ],
    ids=["text", "empty", "array", "string-code", "bool-code", "no-code", "http500", "http404", "http302"],
)
def test_a_garbage_answer_means_proceed(wire: Wire, backend: Backend, reply: Reply) -> None:
    alice, bob = wire.login("alice"), wire.login("bob")
    backend.answer = lambda body: reply
    sent = wire.ok("sendMessage", text("bob", "through"), alice)["message"]
    assert len(backend.received) == 1
    assert [m["ID"] for m in history(wire, bob, "C2Calice")] == [sent["ID"]]


def test_an_unreachable_backend_means_proceed(wire: Wire, backend: Backend) -> None:
    alice, bob = wire.login("alice"), wire.login("bob")
    wire.admin("setCallback", {"SDKAppID": DEV_SDKAPPID, "url": "http://127.0.0.1:9/nothing-listens"})
    started = time.monotonic()
    wire.ok("sendMessage", text("bob", "anyway"), alice)
    assert time.monotonic() - started < 2.5
    assert len(history(wire, bob, "C2Calice")) == 1


def test_refusals_before_the_callback_never_call_it(wire: Wire, backend: Backend) -> None:
    """MSG-8: a muted sender is refused before the callback; so are bad elements and unknown targets."""
    alice, bob = wire.login("alice"), wire.login("bob")
    gid = wire.ok("createGroup", {"name": "g", "type": "Public", "memberList": [{"userID": "bob"}]}, alice)[
        "group"
    ]["groupID"]
    wire.ok("setGroupMemberMuteTime", {"groupID": gid, "userID": "bob", "muteTime": 600}, alice)
    backend.received.clear()
    wire.refused("sendMessage", text(gid, "muted", "GROUP"), bob, 10017)
    wire.refused("sendMessage", text("bob", ""), alice, 6016)
    wire.refused("sendMessage", text("nobody"), alice, 20003)
    wire.refused("sendMessage", text("@TGS#nope", conversation_type="GROUP"), alice, 10010)
    assert backend.received == []
    # and without a callback URL nothing is asked at all
    wire.admin("setCallback", {"SDKAppID": DEV_SDKAPPID, "url": None})
    wire.ok("sendMessage", text("bob", "direct"), alice)
    assert backend.received == []
