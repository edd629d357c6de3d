"""REST-9: one world. What SDK users do is visible to REST reads at once, and what the backend does
through REST reaches SDK users as the same events a peer's action would cause."""

from __future__ import annotations

from typing import Any

from tests.unit.protocol.rest_support import RestWorld, text


def sdk_text(to: str, body: str, kind: str = "C2C") -> dict[str, Any]:
    return {"message": {"to": to, "conversationType": kind, "type": "TIMTextElem", "payload": {"text": body}}}


def test_rest_9_an_sdk_c2c_send_is_in_admin_getroammsg_at_once() -> None:
    rw = RestWorld()
    alice = rw.login("alice")
    rw.login("bob")
    sent = rw.sdk(alice, "sendMessage", sdk_text("bob", "from the app"))["data"]["message"]
    page = rw.ok(
        "admin_getroammsg",
        {"Operator_Account": "bob", "Peer_Account": "alice", "MaxCnt": 10, "MinTime": 0, "MaxTime": rw.now()},
    )["MsgList"]
    assert [(m["From_Account"], m["MsgRandom"], m["MsgBody"]) for m in page] == [
        ("alice", sent["random"], text("from the app"))
    ]
    revoked = rw.sdk(alice, "revokeMessage", {"message": sent})
    assert revoked["code"] == 0
    page = rw.ok(
        "admin_getroammsg",
        {"Operator_Account": "alice", "Peer_Account": "bob", "MaxCnt": 10, "MinTime": 0, "MaxTime": rw.now()},
    )["MsgList"]
    assert [m["MsgFlagBits"] for m in page] == [8]


def test_rest_9_an_sdk_group_send_and_join_are_in_rest_reads_at_once() -> None:
    rw = RestWorld()
    alice = rw.login("alice")
    bob = rw.login("bob")
    created = rw.sdk(alice, "createGroup", {"type": "Public", "name": "team", "joinOption": "FreeAccess"})
    group_id = created["data"]["group"]["groupID"]
    assert rw.sdk(bob, "joinGroup", {"groupID": group_id})["code"] == 0
    sent = rw.sdk(bob, "sendMessage", sdk_text(group_id, "hello team", "GROUP"))["data"]["message"]
    history = rw.ok("group_msg_get_simple", {"GroupId": group_id, "ReqMsgNumber": 20})["RspMsgList"]
    assert history[0]["MsgSeq"] == sent["sequence"] and history[0]["MsgBody"] == text("hello team")
    members = rw.ok("get_group_member_info", {"GroupId": group_id})["MemberList"]
    assert [(m["Member_Account"], m["Role"]) for m in members] == [("alice", "Owner"), ("bob", "Member")]
    assert rw.ok("get_online_member_num", {"GroupId": group_id})["OnlineMemberNum"] == 2


def test_rest_9_rest_sends_look_like_peer_sends_to_sdk_users() -> None:
    rw = RestWorld()
    rw.ok("multiaccount_import", {"Accounts": ["alice", "bob"]})
    bob = rw.login("bob")
    rw.taken()
    rw.ok(
        "sendmsg",
        {"From_Account": "alice", "To_Account": "bob", "MsgRandom": 11, "MsgBody": text("via REST")},
    )
    via_rest = next(e.data[0] for e in rw.taken() if e.name == "onMessageReceived")
    alice = rw.login("alice")
    rw.sdk(alice, "sendMessage", sdk_text("bob", "via SDK"))
    via_sdk = next(
        e.data[0]
        for e in rw.taken()
        if e.name == "onMessageReceived" and e.instance == rw.service.tokens[bob]
    )
    shape = {k for k in via_sdk if k not in ("ID", "clientSequence")}
    assert shape <= set(via_rest)
    for key in ("from", "to", "conversationID", "conversationType", "type", "flow", "status"):
        assert via_rest[key] == via_sdk[key], key
    listed = rw.sdk(bob, "getMessageList", {"conversationID": "C2Calice"})["data"]["messageList"]
    assert [m["payload"]["text"] for m in listed] == ["via REST", "via SDK"]


def test_rest_9_rest_calls_emit_nothing_to_the_caller() -> None:
    rw = RestWorld()
    admin = rw.login("administrator")
    rw.ok("account_import", {"UserID": "bob"})
    rw.taken()
    rw.ok("sendmsg", {"To_Account": "bob", "MsgRandom": 1, "MsgBody": text("x"), "SyncOtherMachine": 2})
    assert rw.names_for(admin, rw.taken()) == []
