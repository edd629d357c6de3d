"""The timweb driver against a tiny scripted Web SDK server: frames, heads, replies, pushes, kicks.

The fake answers like the wire document's captures (TIM-WEB-WIRE §3.3): it checks what the client
sends (binary frames, identifier+usersig on login, a2+tinyid afterwards, the 3.x checksum) and
records every request, so each test asserts both what the driver sent and what it made of the answer.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from typing import Any

import orjson
import pytest
from websockets.sync.server import Server, ServerConnection, serve

from simtim.driver.base import Call
from simtim.driver.targets import open_target, target_of
from simtim.driver.timweb import TimWebDriver
from simtim.errors import Code
from simtim.protocol.web.codec import checksum


def ok(**fields: Any) -> dict[str, Any]:
    return {"ActionStatus": "OK", "ErrorCode": 0, "ErrorInfo": "", **fields}


class FakeFace:
    """Answers a handful of commands; pushes C2C messages to the peer's socket."""

    def __init__(self) -> None:
        self.requests: list[tuple[dict[str, Any], dict[str, Any], bool]] = []  # head, body, binary
        self.sockets: dict[str, ServerConnection] = {}
        self.stored: list[dict[str, Any]] = []
        self.lock = threading.Lock()
        #: MSG-8: the app backend replaces every text with this one (None: it changes nothing)
        self.rewrite: str | None = None

    def handler(self, ws: ServerConnection) -> None:
        user = ""
        for raw in ws:
            frame = orjson.loads(raw)
            head, body = frame["head"], frame["body"]
            with self.lock:
                self.requests.append((head, body, isinstance(raw, bytes)))
            command = head["servcmd"]
            answer: dict[str, Any]
            if command == "im_open_status.wslogin":
                user = head["identifier"]
                if head["usersig"] != "good":
                    answer = {"ActionStatus": "FAIL", "ErrorCode": 70001, "ErrorInfo": "sig expired"}
                else:
                    self.sockets[user] = ws
                    answer = ok(A2Key=f"a2-{user}", TinyId=f"1441152{len(user)}", InstId=7, HelloInterval=120)
            elif command == "openim.sendmsg":
                item = {
                    "From_Account": user,
                    "To_Account": body["To_Account"],
                    "MsgSeq": len(self.stored) + 1,
                    "MsgRandom": body["MsgRandom"],
                    "MsgTimeStamp": 1796339260,
                    "MsgKey": f"{len(self.stored) + 1}_{body['MsgRandom']}_1796339260",
                    "MsgBody": body["MsgBody"],
                    "CloudCustomData": body.get("CloudCustomData", ""),
                }
                if self.rewrite is not None:
                    item["MsgBody"] = [{"MsgType": "TIMTextElem", "MsgContent": {"Text": self.rewrite}}]
                self.stored.append(item)
                answer = ok(MsgTime=1796339260, MsgKey=item["MsgKey"], MsgSeq=item["MsgSeq"])
                peer = self.sockets.get(body["To_Account"])
                if peer is not None:
                    push = {"EventArray": [{"Event": 1, "C2cMsgArray": [item]}]}
                    peer.send(
                        orjson.dumps({"head": {"servcmd": "im_open_push.msg_push", "seq": 0}, "body": push})
                    )
            elif command == "openim.getroammsg":
                page = self.stored[-body["MaxCnt"] :]  # oldest first, as the face writes it
                answer = ok(Complete=1, MsgCnt=len(page), MsgList=page)
            elif command == "openim.kickme":  # a scripted server-side kick
                answer = ok()
            else:
                answer = ok()
            ws.send(orjson.dumps({"head": head, "body": answer}))
            if command == "openim.sendmsg" and self.rewrite is not None:  # after the reply, as the face does
                flagged = {**self.stored[-1], "MsgModifiedFlag": 1}
                push = {"EventArray": [{"Event": 1, "C2cMsgArray": [flagged]}]}
                ws.send(orjson.dumps({"head": {"servcmd": "im_open_push.msg_push", "seq": 0}, "body": push}))
            if command == "openim.kickme":
                kick = {"C2cNotifyMsgArray": [{"KickoutMsgNotify": {"KickType": 1, "NewInstInfo": {}}}]}
                ws.send(
                    orjson.dumps(
                        {"head": {"servcmd": "im_open_status.stat_forceoffline", "seq": 0}, "body": kick}
                    )
                )

    def commands(self) -> list[str]:
        return [head["servcmd"] for head, _, _ in self.requests]


@pytest.fixture
def face() -> Iterator[tuple[FakeFace, int]]:
    fake = FakeFace()
    server: Server = serve(fake.handler, "127.0.0.1", 0)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield fake, server.socket.getsockname()[1]
    finally:
        server.shutdown()
        thread.join(5)


def login(driver: TimWebDriver, user: str, sig: str = "good") -> str:
    reply = driver.call(Call("login", {"SDKAppID": 1400000000, "userID": user, "userSig": sig}))
    assert reply.ok, reply
    return str(reply.data["session"])


def test_the_target_row_parses_timweb_ws() -> None:
    kind, url = target_of("timweb+ws://127.0.0.1:9/")
    assert kind.scheme == "timweb+ws" and url.transport == "ws" and url.port == 9


def test_inst_2_login_sends_identifier_and_usersig_then_a2_in_every_head(face: tuple[FakeFace, int]) -> None:
    fake, port = face
    driver = open_target(f"timweb+ws://127.0.0.1:{port}").driver
    try:
        session = login(driver, "alice")
        assert driver.events(session).wait_for(lambda e: e.name == "sdkStateReady", 1) is not None
        driver.call(Call("getMessageList", {"conversationID": "C2Cbob"}, session))
        login_head, login_body, binary = fake.requests[0]
        (roam_head, roam_body, _) = next(r for r in fake.requests if r[0]["servcmd"] == "openim.getroammsg")
        assert binary  # /binfo: binary frames
        assert login_head["identifier"] == "alice" and login_head["usersig"] == "good"
        assert login_body["State"] == "Online"
        assert roam_head["a2"] == "a2-alice" and roam_head["tinyid"] == "14411525"
        assert "usersig" not in roam_head
        assert roam_head["cs"] == checksum(roam_body)  # the 3.x checksum of the body
        assert roam_body["Peer_Account"] == "bob"
    finally:
        driver.close()


def test_a_login_error_code_passes_through(face: tuple[FakeFace, int]) -> None:
    _, port = face
    driver = open_target(f"timweb+ws://127.0.0.1:{port}").driver
    try:
        reply = driver.call(Call("login", {"SDKAppID": 1400000000, "userID": "mallory", "userSig": "bad"}))
        assert reply.code == 70001
    finally:
        driver.close()


def test_msg_4_send_resolves_a_message_and_the_peer_gets_it_pushed(face: tuple[FakeFace, int]) -> None:
    _, port = face
    driver = open_target(f"timweb+ws://127.0.0.1:{port}").driver
    try:
        alice, bob = login(driver, "alice"), login(driver, "bob")
        text = {"to": "bob", "conversationType": "C2C", "type": "TIMTextElem", "payload": {"text": "hi"}}
        sent = driver.call(Call("sendMessage", {"message": text}, alice))
        assert sent.ok, sent
        message = sent.data["message"]
        assert message["from"] == "alice" and message["flow"] == "out" and message["time"] == 1796339260
        assert message["conversationID"] == "C2Cbob" and message["payload"] == {"text": "hi"}
        pushed = driver.events(bob).wait_for(lambda e: e.name == "onMessageReceived", 2)
        assert pushed is not None
        (received,) = pushed.data
        assert received["ID"] == message["ID"]  # one message, one ID on both sides
        assert received["flow"] == "in" and received["conversationID"] == "C2Calice"
        history = driver.call(Call("getMessageList", {"conversationID": "C2Calice"}, bob))
        assert [m["ID"] for m in history.data["messageList"]] == [message["ID"]]
        assert history.data["isCompleted"] is True
    finally:
        driver.close()


def test_msg_8_send_resolves_the_body_the_server_says_it_stored(face: tuple[FakeFace, int]) -> None:
    fake, port = face
    driver = open_target(f"timweb+ws://127.0.0.1:{port}").driver
    try:
        alice, bob = login(driver, "alice"), login(driver, "bob")
        text = {"to": "bob", "conversationType": "C2C", "type": "TIMTextElem", "payload": {"text": "rude"}}
        plain = driver.call(Call("sendMessage", {"message": text}, alice))
        assert plain.data["message"]["payload"] == {"text": "rude"}  # nothing replaced it
        fake.rewrite = "***"
        sent = driver.call(Call("sendMessage", {"message": text}, alice))
        assert sent.ok and sent.data["message"]["payload"] == {"text": "***"}
        assert sent.data["message"]["ID"] != plain.data["message"]["ID"]
        # a barrier after each send, so the push behind the reply is read before the send resolves
        assert fake.commands()[-4:] == [
            "openim.sendmsg",
            "heartbeat.alive",
            "openim.sendmsg",
            "heartbeat.alive",
        ]
        assert driver.events(alice).wait_for(lambda e: e.name == "onMessageReceived", 0.3) is None
        assert driver.events(bob).wait_for(lambda e: e.name == "onMessageReceived", 2) is not None
    finally:
        driver.close()


def test_inst_1_calls_before_login_and_after_destroy_are_refused_without_a_request(
    face: tuple[FakeFace, int],
) -> None:
    fake, port = face
    driver = open_target(f"timweb+ws://127.0.0.1:{port}").driver
    try:
        session = str(driver.call(Call("create", {"SDKAppID": 1400000000})).data["session"])
        assert driver.call(Call("getMyProfile", {}, session)).code == Code.NOT_LOGGED_IN
        assert (
            driver.call(Call("getMessageList", {"conversationID": "C2Cx"}, session)).code
            == Code.CONVERSATION_INVALID
        )
        assert driver.call(Call("destroy", {}, session)).ok
        assert (
            driver.call(Call("login", {"userID": "a", "userSig": "good"}, session)).code
            == Code.SDK_NOT_INITIALIZED
        )
        assert fake.requests == []
    finally:
        driver.close()


def test_inst_3_a_force_offline_push_is_kicked_out_then_not_ready(face: tuple[FakeFace, int]) -> None:
    _, port = face
    driver = open_target(f"timweb+ws://127.0.0.1:{port}").driver
    assert isinstance(driver, TimWebDriver)
    try:
        session = login(driver, "alice")
        instance = driver._instances[session]
        assert driver.request(instance, "openim.kickme", {}).ok
        kicked = driver.events(session).wait_for(lambda e: e.name == "kickedOut", 2)
        assert kicked is not None and kicked.data == {"type": "multipleAccount"}
        assert driver.events(session).wait_for(lambda e: e.name == "sdkStateNotReady", 2) is not None
        assert driver.call(Call("getMyProfile", {}, session)).code == Code.KICKED_BY_OTHER
    finally:
        driver.close()


def test_methods_without_a_command_are_gaps_not_emulated() -> None:
    gaps = TimWebDriver.gaps
    assert "onConversationListUpdated" in gaps
    assert "sendMessage" not in gaps and "login" not in gaps


def test_an_unreachable_face_is_a_transport_failure() -> None:
    driver = open_target(
        "timweb+ws://127.0.0.1:9",
    ).driver
    try:
        reply = driver.call(Call("login", {"SDKAppID": 1400000000, "userID": "a", "userSig": "good"}))
        assert reply.code == Code.HTTP_REQUEST_FAILED
    finally:
        driver.close()


def test_frames_text_speaks_info_with_text_frames(face: tuple[FakeFace, int]) -> None:
    fake, port = face
    driver = open_target(f"timweb+ws://127.0.0.1:{port}/?frames=text").driver
    try:
        login(driver, "alice")
        assert fake.requests and not any(binary for _, _, binary in fake.requests)
    finally:
        driver.close()
