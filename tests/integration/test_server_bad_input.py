"""Bad input on the wire (DESIGN "Envelope and order"): body size (60003) -> body is a JSON object
(60003) -> method exists (60009) -> token (6014/6004/6208/6206/6013) -> SPEC ORDER-1 (60016, then
6017 or the rule's own code).  Never a 5xx; every refused call leaves the state digest unchanged.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest

from simtim.model.core import DEV_SDKAPPID
from tests.integration.server_process import ServerProcess
from tests.integration.wire import Frame, Wire, frames_until, next_frame, open_events, text

MiB = 1024 * 1024
OTHER_APP, OTHER_KEY = 1400000555, "bad-input-secret"


@dataclass
class World:
    wire: Wire
    alice: str
    bob: str
    gid: str
    message: dict[str, Any]


@pytest.fixture
def world(server: ServerProcess) -> Iterator[World]:
    w = Wire(server.url)
    w.admin("reset", {})
    alice, bob = w.login("alice"), w.login("bob")
    gid = w.ok(
        "createGroup",
        {"name": "g", "type": "Public", "groupID": "bad-input-group", "memberList": [{"userID": "bob"}]},
        alice,
    )["group"]["groupID"]
    message = w.ok("sendMessage", text("bob", "hello"), alice)["message"]
    yield World(w, alice, bob, gid, message)
    w.close()


# --- the body: JSON, and a JSON object ----------------------------------------------------------------

MALFORMED = [
    b"",
    b" ",
    b"{",
    b"}",
    b"{]",
    b"nul",
    b"{'a': 1}",
    b'{"a":1}x',
    b'{"a":1}{}',
    b"\xff\xfe{}",
    b"\xef\xbb\xbf{}",
    b'{"a":NaN}',
    b'{"a":Infinity}',
    b'{"a":1,}',
    b"\x00",
    b'{"a":"\xff"}',
    b'{"a":"\\ud800"}',
    b'{"a":1e400}',
    b"[" * 2000 + b"]" * 2000,
    b'{"a":' * 101 + b"1" + b"}" * 101,
]
NOT_OBJECTS = [b"[]", b"[{}]", b'"text"', b"42", b"-1.5", b"null", b"true", b"false"]


@pytest.mark.parametrize("raw", MALFORMED, ids=[f"malformed{i}" for i in range(len(MALFORMED))])
def test_malformed_json_is_60003(world: World, raw: bytes) -> None:
    for method, token in (
        ("sendMessage", world.alice),
        ("getMyProfile", world.alice),
        ("login", None),
        ("create", None),
    ):
        world.wire.refused(method, raw, token, 60003)


@pytest.mark.parametrize("raw", NOT_OBJECTS)
def test_json_that_is_not_an_object_is_60003(world: World, raw: bytes) -> None:
    for method, token in (
        ("sendMessage", world.alice),
        ("getConversationList", world.alice),
        ("logout", world.alice),
        ("login", None),
        ("create", None),
    ):
        world.wire.refused(method, raw, token, 60003)


def test_nesting_up_to_the_limit_is_stored_answered_and_pushed(world: World) -> None:
    """A payload 94 levels deep (the body 97, the limit 100) is stored, answered and pushed without a
    5xx although replies and event frames wrap it deeper; one level past the limit is 60003."""
    deep: Any = []
    for _ in range(93):
        deep = [deep]
    body = text("bob", "deep")
    body["message"]["payload"]["x"] = deep
    ws = open_events(world.wire.url, world.bob)
    try:
        assert next_frame(ws) == Frame("sdkStateReady", {})
        sent = world.wire.ok("sendMessage", body, world.alice)["message"]
        pushed = frames_until(ws, lambda f: f.event == "onMessageReceived" and f.data[0]["ID"] == sent["ID"])
    finally:
        ws.close()
    assert pushed[-1].data[0]["payload"]["x"] == deep
    [stored] = world.wire.ok("getMessageList", {"conversationID": "C2Calice"}, world.bob)["messageList"][-1:]
    assert stored["payload"] == {"text": "deep", "x": deep}
    for _ in range(4):
        deep = [deep]
    body["message"]["payload"]["x"] = deep
    world.wire.refused("sendMessage", body, world.alice, 60003)


def test_unknown_body_fields_are_ignored(world: World) -> None:
    data = world.wire.ok("getMyProfile", {"junk": [1, {"x": None}], "token": "nope"}, world.alice)
    assert data["profile"]["userID"] == "alice"


# --- the method --------------------------------------------------------------------------------------

UNKNOWN = [
    "noSuchMethod",
    "SendMessage",
    "sendmessage",
    "send_message",
    "sendMessage/",
    "__init__",
    "handle",
    "_create",
    "tokens",
    "admin",
    "openapi.json",
    "events",
    "v1",
    "",
    "%00",
    "get%20MyProfile",
    "m%C3%A9thode",
]


@pytest.mark.parametrize("method", UNKNOWN)
def test_unknown_method_is_60009_whatever_the_token(world: World, method: str) -> None:
    for token in (world.alice, "never-issued", None):
        world.wire.refused(method, {}, token, 60009)


def test_paths_outside_v1_and_other_verbs_answer_an_envelope(world: World) -> None:
    w = world.wire
    for verb in ("GET", "PUT", "DELETE", "PATCH", "OPTIONS"):
        for path in ("/v1/sendMessage", "/v1/getMyProfile", "/v1/noSuchMethod", "/v1/"):
            answer = w.request(
                verb,
                path,
                b'{"message": {}}' if verb != "GET" else None,
                {"Authorization": f"Bearer {world.alice}"},
            )
            # DESIGN answers HTTP 200 for every simtim/1 call; a non-POST is not one, 405 is also fine
            assert answer.status in (200, 405), (verb, path, answer.status)
            assert answer.envelope["code"] != 0
    head = w.request("HEAD", "/v1/sendMessage")
    assert head.status < 500
    for path in ("/", "/v2/sendMessage", "/v1", "/admin", "/v1sendMessage"):
        answer = w.request("POST", path, b"{}")
        assert answer.status == 404 and answer.envelope["code"] != 0
    doc = w.request("GET", "/v1/openapi.json")
    assert doc.status == 200 and "/v1/sendMessage" in doc.raw.decode()


# --- the token ---------------------------------------------------------------------------------------


def test_missing_or_bad_token_is_6014(world: World) -> None:
    w = world.wire
    for headers in (
        {},
        {"Authorization": ""},
        {"Authorization": "Bearer"},
        {"Authorization": "Bearer "},
        {"Authorization": f"Basic {world.alice}"},
        {"Authorization": world.alice},
        {"Authorization": f"Bearer {world.alice}x"},
        {"Authorization": f"Bearer {world.alice[:-1]}"},
        {"Authorization": "Bearer " + "A" * 32},
        {"Authorization": "Bearer " + "x" * 10000},
        {"X-Token": world.alice},
    ):
        before = w.digest()
        for method in ("getMyProfile", "sendMessage", "logout", "destroy", "createGroup"):
            answer = w.post(f"/v1/{method}", text("bob"), headers=headers)
            assert answer.status == 200 and answer.envelope["code"] == 6014, (headers, method, answer.raw)
        assert w.digest() == before


def test_token_states_come_before_argument_checks(world: World) -> None:
    w = world.wire
    bad_args = {"conversationID": 5, "groupID": [], "message": "x", "count": -1}
    logged_out = w.login("carol")
    w.ok("logout", {}, logged_out)
    w.refused("getMyProfile", bad_args, logged_out, 6014)
    w.refused("sendMessage", bad_args, logged_out, 6014)
    w.refused("getMessageList", bad_args, logged_out, 6004)  # CONV-1: conversation APIs before login
    created = w.ok("create", {"SDKAppID": DEV_SDKAPPID})["token"]
    w.refused("createGroup", bad_args, created, 6014)
    w.refused("getConversationList", bad_args, created, 6004)
    destroyed = w.login("dave")
    w.ok("destroy", {}, destroyed)
    w.refused("getMyProfile", bad_args, destroyed, 6013)
    w.refused("login", {"userID": "dave", "userSig": w.sig("dave")}, destroyed, 6013)
    kicked = w.login("erin")
    w.login("erin")  # webInstances 1: the first instance is kicked (INST-3)
    w.refused("sendMessage", bad_args, kicked, 6208)
    w.refused("getMessageList", bad_args, kicked, 6208)


def test_disabled_app_comes_before_argument_checks(world: World) -> None:
    w = world.wire
    w.admin("configureApp", {"SDKAppID": OTHER_APP, "secretKey": OTHER_KEY, "disabled": False})
    token = w.login("frank", sdkappid=OTHER_APP, key=OTHER_KEY)
    w.admin("configureApp", {"SDKAppID": OTHER_APP, "disabled": True})
    try:
        w.refused("sendMessage", {"message": "x"}, token, 60016)
        w.refused("getMessageList", {"count": 0}, token, 60016)
        w.refused(
            "login",
            {
                "SDKAppID": OTHER_APP,
                "userID": "gina",
                "userSig": w.sig("gina", sdkappid=OTHER_APP, key=OTHER_KEY),
            },
            None,
            60016,
        )
        w.refused("noSuchMethod", {}, token, 60009)
    finally:
        w.admin("configureApp", {"SDKAppID": OTHER_APP, "disabled": False})
    assert w.ok("getMyProfile", {}, token)["profile"]["userID"] == "frank"


# --- wrong or missing fields ----------------------------------------------------------------------------


def _field_cases(gid: str) -> list[tuple[str, dict[str, Any], int]]:
    msg = {"to": "bob", "conversationType": "C2C", "type": "TIMTextElem", "payload": {"text": "x"}}
    return [
        ("sendMessage", {}, 6017),
        ("sendMessage", {"message": "x"}, 6017),
        ("sendMessage", {"message": {}}, 6017),
        ("sendMessage", {"message": {**msg, "to": 5}}, 6017),
        ("sendMessage", {"message": {**msg, "conversationType": "X"}}, 6017),
        ("sendMessage", {"message": {**msg, "priority": "Urgent"}}, 6017),
        ("sendMessage", {"message": {**msg, "random": -1}}, 6017),
        ("sendMessage", {"message": {**msg, "random": 2**32}}, 6017),
        ("sendMessage", {"message": {**msg, "cloudCustomData": 5}}, 6017),
        ("sendMessage", {"message": {**msg, "payload": {"text": ""}}}, 6016),  # MSG-2
        ("sendMessage", {"message": {**msg, "type": "TIMNopeElem"}}, 6016),
        ("sendMessage", {"message": {**msg, "payload": {"text": "x" * 13000}}}, 80002),
        ("sendMessage", {"message": {**msg, "to": "nobody"}}, 20003),  # MSG-3
        ("sendMessage", {"message": {**msg, "to": "@TGS#nope", "conversationType": "GROUP"}}, 10010),
        ("resendMessage", {}, 6017),
        ("resendMessage", {"message": 5}, 6017),
        ("revokeMessage", {}, 6017),
        ("revokeMessage", {"message": {"ID": 5}}, 6017),
        ("revokeMessage", {"message": {"ID": "nope"}}, 20022),  # REV-3
        ("deleteMessage", {}, 6017),
        ("deleteMessage", {"messageList": []}, 6017),
        ("deleteMessage", {"messageList": "x"}, 6017),
        ("deleteMessage", {"messageList": [{"ID": "nope"}]}, 6017),
        ("getMessageList", {}, 6017),
        ("getMessageList", {"conversationID": 5}, 6017),
        ("getMessageList", {"conversationID": "C2Cbob", "count": 0}, 6017),  # PAGE-1
        ("getMessageList", {"conversationID": "C2Cbob", "count": "5"}, 6017),
        ("getMessageList", {"conversationID": "C2Cbob", "count": 1.5}, 6017),
        ("getMessageList", {"conversationID": "C2Cbob", "count": True}, 6017),
        ("getMessageList", {"conversationID": "C2Cbob", "nextReqMessageID": "nope"}, 6017),
        ("getMessageList", {"conversationID": "C2Cnobody"}, 6004),  # CONV-1
        ("getConversationProfile", {}, 6017),
        ("setMessageRead", {"conversationID": None}, 6017),
        ("deleteConversation", {"conversationID": []}, 6017),
        ("createGroup", {}, 6017),
        ("createGroup", {"name": ""}, 10004),  # GRP-1
        ("createGroup", {"name": "x" * 31}, 10004),  # GRP-2
        ("createGroup", {"name": "g", "memberList": "x"}, 6017),
        ("createGroup", {"name": "g", "memberList": [{"userID": "nobody"}]}, 10019),
        ("createGroup", {"name": "g", "groupID": gid}, 10021),
        ("createGroup", {"name": "g", "groupID": "@TGS#mine"}, 10004),
        ("joinGroup", {}, 6017),
        ("joinGroup", {"groupID": 5}, 6017),
        ("joinGroup", {"groupID": "@TGS#nope"}, 10010),
        ("getGroupProfile", {}, 6017),
        ("getGroupMemberList", {"groupID": gid, "count": 0}, 6017),  # MBR-3
        ("getGroupMemberList", {"groupID": gid, "offset": -1}, 6017),
        ("setGroupMemberMuteTime", {"groupID": gid, "userID": "bob", "muteTime": -1}, 6017),  # MUTE-1
        ("setGroupMemberMuteTime", {"groupID": gid, "userID": "bob", "muteTime": "10"}, 6017),
        ("setGroupMemberMuteTime", {"groupID": gid, "userID": "bob"}, 6017),
        ("addGroupMember", {"groupID": gid, "userIDList": []}, 6017),  # MBR-1
        ("addGroupMember", {"groupID": gid}, 6017),
        ("deleteGroupMember", {"groupID": gid, "userIDList": "bob"}, 6017),
        ("handleGroupApplication", {}, 6017),  # GRP-8
        ("handleGroupApplication", {"handleAction": "Maybe", "message": {"ID": "x"}}, 6017),
        ("setMessageRemindType", {"groupID": gid, "messageRemindType": "Loud"}, 6017),
        ("setGroupMemberRole", {"groupID": gid, "userID": "bob", "role": "King"}, 10004),  # ROLE-1
        ("changeGroupOwner", {"groupID": gid}, 6017),
        ("changeGroupOwner", {"groupID": gid, "newOwnerID": "alice"}, 10004),  # GRP-6: self
        ("updateMyProfile", {"nick": 5}, 6017),
        ("updateMyProfile", {"nick": "x" * 501}, 6017),
        ("updateGroupProfile", {"groupID": gid, "name": "x" * 31}, 10004),
        ("setGroupMemberNameCard", {"groupID": gid, "nameCard": 5}, 6017),
        ("setGroupMemberCustomField", {"groupID": gid, "memberCustomField": "x"}, 6017),
        ("getGroupMemberProfile", {"groupID": gid, "userIDList": "x"}, 6017),
        ("searchGroupByID", {}, 6017),
        ("dismissGroup", {"groupID": 5}, 6017),
        ("quitGroup", {}, 6017),
        ("login", {"userID": "alice", "userSig": ""}, 0),  # repeat login on an online instance: INST-2
    ]


def test_wrong_or_missing_fields_answer_6017_or_the_rule_code(world: World) -> None:
    for method, body, code in _field_cases(world.gid):
        if code == 0:
            assert world.wire.ok(method, body, world.alice) == {"repeatLogin": True}
            continue
        world.wire.refused(method, body, world.alice, code)


def test_login_and_create_fields(world: World) -> None:
    w = world.wire
    created = w.ok("create", {"SDKAppID": DEV_SDKAPPID})["token"]
    for body, code in (
        ({}, 70002),
        ({"userID": "alice"}, 70002),
        ({"userID": "", "userSig": "x"}, 70402),
        ({"userID": "a" * 33, "userSig": "x"}, 70402),
        ({"userID": 5, "userSig": "x"}, 70402),
        ({"userID": "zed", "userSig": "garbage"}, 70003),
    ):
        w.refused("login", body, created, code)
        w.refused("login", {**body, "SDKAppID": DEV_SDKAPPID}, None, code)
    for body in (
        {},
        {"SDKAppID": "1400000000"},
        {"SDKAppID": True},
        {"SDKAppID": 0},
        {"SDKAppID": -5},
        {"SDKAppID": DEV_SDKAPPID, "platform": "tv"},
        {"SDKAppID": DEV_SDKAPPID, "platform": 5},
        {"SDKAppID": DEV_SDKAPPID, "platform": {"os": "web"}},
        {"SDKAppID": DEV_SDKAPPID, "platform": []},
    ):
        w.refused("create", body, None, 6017)
        w.refused("login", {**body, "userID": "zed", "userSig": w.sig("zed")}, None, 6017)
    w.refused("login", {"SDKAppID": 42, "userID": "zed", "userSig": w.sig("zed")}, None, 70020)  # AUTH-2


# --- size and order ----------------------------------------------------------------------------------


def _big_object() -> bytes:
    return b'{"pad":"' + b"a" * MiB + b'"}'


def test_oversize_body_is_60003_with_connection_close(world: World) -> None:
    w = world.wire
    before = w.digest()
    for method, token in (("sendMessage", world.alice), ("getMyProfile", world.alice), ("login", None)):
        answer = w.post(f"/v1/{method}", _big_object(), token)
        assert answer.status == 200 and answer.envelope["code"] == 60003
        assert answer.headers.get("connection", "").lower() == "close"
    assert w.digest() == before


def test_check_order(world: World) -> None:
    w, alice = world.wire, world.alice
    big_array = b"[" + b'"a",' * (MiB // 4) + b'"a"]'
    # size first: oversize beats everything after it
    for method, token in (("noSuchMethod", alice), ("noSuchMethod", "never-issued"), ("getMyProfile", None)):
        assert w.post(f"/v1/{method}", _big_object(), token).envelope["code"] == 60003
        assert w.post(f"/v1/{method}", big_array, token).envelope["code"] == 60003
    # then "a JSON object": before the method and the token
    for raw in (b"[]", b"{", b'"x"'):
        for method, token in (
            ("noSuchMethod", None),
            ("noSuchMethod", "never-issued"),
            ("sendMessage", None),
        ):
            w.refused(method, raw, token, 60003)
    # then the method: before the token
    w.refused("noSuchMethod", {}, "never-issued", 60009)
    w.refused("noSuchMethod", {"message": 5}, None, 60009)
    # then the token: before argument checks (ORDER-1)
    w.refused("sendMessage", {"message": 5}, "never-issued", 6014)
    w.refused("getMessageList", {"count": -1}, None, 6014)
    # then arguments, shape before existence
    w.refused(
        "sendMessage",
        {
            "message": {
                "to": "nobody",
                "conversationType": "C2C",
                "type": "TIMTextElem",
                "payload": {"text": ""},
            }
        },
        alice,
        6016,
    )
