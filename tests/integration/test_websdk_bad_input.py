"""Bad input on the Web SDK face (``/binfo``, ``/info``) of a real ``simtim serve``: every bad frame gets
a TIM error code (60003, 70001 ...) or a documented close code (1009 for a frame over 1 MiB); the
server stays up and other connections are unaffected (docs/websdk.md, "Bad input")."""

from __future__ import annotations

import contextlib
import time
from collections.abc import Iterator
from typing import Any

import orjson
import pytest
import websocket

from simtim.model.core import DEV_SDKAPPID, DEV_SECRET_KEY
from simtim.usersig import gen_usersig
from tests.integration.server_process import ADMIN_KEY, ServerProcess
from tests.integration.wire import Wire


@pytest.fixture(scope="module")
def server() -> Iterator[ServerProcess]:
    proc = ServerProcess(fake_clock=False)
    yield proc
    proc.stop()


class Socket:
    """One raw Web SDK socket: frames of the path's type unless told otherwise."""

    def __init__(self, server: ServerProcess, path: str = "/binfo") -> None:
        self.binary = path == "/binfo"
        self.ws = websocket.create_connection(
            server.url.replace("http://", "ws://") + path + "?sdkappid=1", timeout=10
        )
        self.seq = 0

    def send_raw(self, raw: bytes | str, *, binary: bool | None = None) -> None:
        if binary if binary is not None else self.binary:
            self.ws.send_binary(raw if isinstance(raw, bytes) else raw.encode())
        else:
            self.ws.send(raw if isinstance(raw, str) else raw.decode())

    def receive(self) -> dict[str, Any]:
        opcode, data = self.ws.recv_data()
        assert opcode == (websocket.ABNF.OPCODE_BINARY if self.binary else websocket.ABNF.OPCODE_TEXT)
        value = orjson.loads(data)
        assert isinstance(value, dict)
        return value

    def request(self, servcmd: str, body: Any, **head: Any) -> dict[str, Any]:
        self.seq += 1
        self.send_raw(orjson.dumps({"head": {"servcmd": servcmd, "seq": self.seq, **head}, "body": body}))
        while True:
            frame = self.receive()
            if frame["head"].get("seq") == self.seq and frame["head"].get("servcmd") == servcmd:
                return frame

    def login(self, user_id: str) -> dict[str, Any]:
        sig = gen_usersig(DEV_SDKAPPID, DEV_SECRET_KEY, user_id, 86400, now=int(time.time()))
        reply = self.request(
            "im_open_status.wslogin",
            {"State": "Online"},
            sdkappid=DEV_SDKAPPID,
            identifier=user_id,
            usersig=sig,
        )
        body = reply["body"]
        assert body["ErrorCode"] == 0, body
        return {"a2": body["A2Key"], "tinyid": body["TinyId"]}

    def close(self) -> None:
        with contextlib.suppress(OSError, websocket.WebSocketException):
            self.ws.close()


@pytest.fixture
def sockets(server: ServerProcess) -> Iterator[list[Socket]]:
    Wire(server.url).admin("reset", {})
    opened: list[Socket] = []
    yield opened
    for s in opened:
        s.close()


def open_socket(server: ServerProcess, sockets: list[Socket], path: str = "/binfo") -> Socket:
    s = Socket(server, path)
    sockets.append(s)
    return s


def still_serves(server: ServerProcess, sockets: list[Socket]) -> None:
    """Another connection logs in and talks, and the HTTP face answers: nothing else was hurt."""
    other = open_socket(server, sockets, "/info")
    head = other.login("witness")
    assert other.request("heartbeat.alive", {}, **head)["body"]["ErrorCode"] == 0
    assert Wire(server.url).request("GET", "/healthz", b"", {}).status == 200


@pytest.mark.parametrize("path", ["/binfo", "/info"])
@pytest.mark.parametrize(
    ("raw", "why"),
    [
        (b"not json at all", "not JSON"),
        (b"[1, 2, 3]", "no head"),
        (b'{"head": 5, "body": {}}', "no head"),
        (b'{"head": {"seq": 1}, "body": {}}', "servcmd"),
        (b'{"head": {"servcmd": "nodot", "seq": 1}, "body": {}}', "servcmd"),
        (b'{"head": {"servcmd": "openim.sendmsg", "seq": 1}, "body": [1]}', "body must be a JSON object"),
    ],
)
def test_websdk_an_unreadable_frame_gets_60003_and_the_socket_stays_open(
    server: ServerProcess, sockets: list[Socket], path: str, raw: bytes, why: str
) -> None:
    s = open_socket(server, sockets, path)
    s.send_raw(raw)
    reply = s.receive()
    assert reply["body"]["ErrorCode"] == 60003 and why in reply["body"]["ErrorInfo"]
    assert reply["body"]["ActionStatus"] == "FAIL"
    head = s.login("alice")  # the same socket still works
    assert s.request("heartbeat.alive", {}, **head)["body"]["ErrorCode"] == 0


def test_websdk_a_frame_of_the_wrong_type_gets_60003_in_the_paths_type(
    server: ServerProcess, sockets: list[Socket]
) -> None:
    s = open_socket(server, sockets, "/info")
    s.send_raw(b'{"head": {"servcmd": "heartbeat.alive", "seq": 9}, "body": {}}', binary=True)
    reply = s.receive()  # a text frame, as /info's client expects
    assert reply["head"]["seq"] == 9 and reply["body"]["ErrorCode"] == 60003
    assert "binary frame on /info" in reply["body"]["ErrorInfo"]
    b = open_socket(server, sockets, "/binfo")
    b.send_raw('{"head": {"servcmd": "heartbeat.alive", "seq": 3}, "body": {}}', binary=False)
    assert b.receive()["body"]["ErrorCode"] == 60003


def test_websdk_an_unknown_or_foreign_a2_gets_70001(server: ServerProcess, sockets: list[Socket]) -> None:
    s = open_socket(server, sockets)
    head = s.login("alice")
    assert s.request("openim.getmsg", {}, a2="forged")["body"]["ErrorCode"] == 70001
    assert s.request("openim.getmsg", {}, a2=head["a2"], tinyid="1")["body"]["ErrorCode"] == 70001
    assert s.request("openim.getmsg", {})["body"]["ErrorCode"] == 70001  # no a2 at all
    assert s.request("openim.getmsg", {"Cookie": ""}, **head)["body"]["ErrorCode"] == 0


def test_websdk_a_body_of_the_wrong_shape_gets_the_commands_code_and_changes_nothing(
    server: ServerProcess, sockets: list[Socket]
) -> None:
    s = open_socket(server, sockets)
    head = s.login("alice")
    before = Wire(server.url).admin("snapshot", {})["counts"]["messages"]
    for body in (
        {},
        {"To_Account": 5},
        {"To_Account": "alice", "MsgBody": "hi"},
        {"To_Account": "alice", "MsgBody": []},
    ):
        reply = s.request("openim.sendmsg", body, **head)["body"]
        assert reply["ErrorCode"] == 6017 and reply["ActionStatus"] == "FAIL", (body, reply)
    assert (
        s.request("group_open_http_svc.create_group", {"Type": "Nope", "Name": "x"}, **head)["body"][
            "ErrorCode"
        ]
        == 10004
    )
    assert (
        s.request("openim.getroammsg", {"Peer_Account": "alice", "MaxCnt": "many"}, **head)["body"][
            "ErrorCode"
        ]
        == 6017
    )
    assert Wire(server.url).admin("snapshot", {})["counts"]["messages"] == before


def test_websdk_an_oversize_frame_closes_that_socket_with_1009_only(
    server: ServerProcess, sockets: list[Socket]
) -> None:
    bystander = open_socket(server, sockets)
    bystander_head = bystander.login("bob")
    s = open_socket(server, sockets)
    s.send_raw(
        b'{"head": {"servcmd": "openim.sendmsg", "seq": 1}, "body": {"x": "' + b"a" * (1024 * 1024) + b'"}}'
    )
    frame = s.ws.recv_frame()  # the raw frame: no automatic close reply to a socket already gone
    assert frame.opcode == websocket.ABNF.OPCODE_CLOSE
    assert int.from_bytes(frame.data[:2], "big") == 1009  # "message too big", uvicorn's ws_max_size
    assert bystander.request("heartbeat.alive", {}, **bystander_head)["body"]["ErrorCode"] == 0
    still_serves(server, sockets)


def test_websdk_unknown_commands_are_answered_ok_and_counted_once_each(
    server: ServerProcess, sockets: list[Socket]
) -> None:
    s = open_socket(server, sockets)
    head = s.login("alice")
    for _ in range(3):
        reply = s.request("imagined_svc.do_things", {"Alpha": 1}, **head)["body"]
        assert (reply["ErrorCode"], reply["ActionStatus"]) == (0, "OK")
    web = Wire(server.url, admin_key=ADMIN_KEY).admin("snapshot", {})["web"]
    assert web["unknownCommands"]["imagined_svc.do_things"] == 3
    assert server.log().count("unknown command imagined_svc.do_things") == 1  # logged once, with keys
    assert "['Alpha']" in server.log()
