"""REST-4 (sendmsg, batchsendmsg, importmsg) and REST-5 (roaming history, admin recall, read, unread)."""

from __future__ import annotations

from typing import Any

import pytest

from simtim.errors import Code
from tests.unit.protocol.rest_support import RestWorld, text

TIMESTAMP_INVALID = Code.REST_MSG_TIMESTAMP_INVALID


@pytest.fixture
def rw() -> RestWorld:
    world = RestWorld()
    world.ok("multiaccount_import", {"Accounts": ["alice", "bob", "carol"]})
    return world


def send(rw: RestWorld, to: str = "bob", body: str = "hi", **extra: Any) -> dict[str, Any]:
    return rw.rest(
        "sendmsg", {"To_Account": to, "MsgRandom": extra.pop("random", 7), "MsgBody": text(body), **extra}
    )


def test_rest_4_sendmsg_as_an_account_delivers_counts_unread_and_syncs_the_sender(rw: RestWorld) -> None:
    bob, alice = rw.login("bob"), rw.login("alice")
    rw.taken()
    reply = send(rw, From_Account="alice", MsgSeq=93)
    assert reply["ActionStatus"] == "OK", reply
    seq, random, time = reply["MsgKey"].split("_")
    assert (int(seq), int(random), int(time)) == (93, 7, reply["MsgTime"])
    events = rw.taken()
    assert rw.names_for(bob, events) == [
        "onMessageReceived",
        "onConversationListUpdated",
    ]
    assert "onMessageReceived" in rw.names_for(alice, events)  # SyncOtherMachine defaults to 1
    received = next(
        e.data for e in events if e.name == "onMessageReceived" and rw.service.tokens[bob] == e.instance
    )
    assert received[0]["from"] == "alice" and received[0]["payload"] == {"text": "hi"}
    assert rw.ok("get_c2c_unread_msg_num", {"To_Account": "bob"})["AllC2CUnreadMsgNum"] == 1


def test_rest_4_sendmsg_sync_other_machine_2_leaves_the_sender_alone(rw: RestWorld) -> None:
    alice = rw.login("alice")
    rw.taken()
    assert send(rw, From_Account="alice", SyncOtherMachine=2)["ActionStatus"] == "OK"
    assert rw.names_for(alice, rw.taken()) == []


def test_rest_4_sendmsg_from_the_admin_needs_no_from_account_and_gets_a_server_seq(rw: RestWorld) -> None:
    bob = rw.login("bob")
    rw.taken()
    reply = send(rw)
    assert reply["ActionStatus"] == "OK" and int(reply["MsgKey"].split("_")[0]) > 0
    received = [
        e.data for e in rw.taken() if e.name == "onMessageReceived" and e.instance == rw.service.tokens[bob]
    ]
    assert received[0][0]["from"] == "administrator"


@pytest.mark.parametrize(
    ("change", "code"),
    [
        ({"From_Account": "ghost"}, 90008),
        ({"To_Account": "ghost"}, 90012),
        ({"MsgRandom": "seven"}, 90005),
        ({"MsgBody": []}, 90002),
        ({"MsgBody": "hi"}, 90002),
        ({"MsgBody": [{"MsgType": "TIMNoSuchElem", "MsgContent": {}}]}, 90002),
        ({"MsgBody": [{"MsgType": "TIMCustomElem", "MsgContent": {"Data": "a"}}] * 2}, 90002),
        ({"MsgBody": text("x" * 13_000)}, 93000),
        ({"MsgLifeTime": 604_801}, 90026),
    ],
)
def test_rest_4_sendmsg_refusals(rw: RestWorld, change: dict[str, Any], code: int) -> None:
    before = rw.digest()
    body = {"To_Account": "bob", "MsgRandom": 1, "MsgBody": text("hi"), **change}
    assert rw.code("sendmsg", body) == code
    assert rw.digest() == before


def test_rest_4_sendmsg_dedup_120_s(rw: RestWorld) -> None:
    first = send(rw, From_Account="alice", MsgSeq=5)
    again = send(rw, From_Account="alice", MsgSeq=5)
    assert again["MsgKey"] == first["MsgKey"]
    assert len(rw.ok("admin_getroammsg", roam("alice", "bob"))["MsgList"]) == 1
    rw.service.admin("advanceClock", {"seconds": 121})
    send(rw, From_Account="alice", MsgSeq=5)
    assert len(rw.ok("admin_getroammsg", roam("alice", "bob", now=rw.now()))["MsgList"]) == 2


def test_rest_4_batchsendmsg_unknown_recipients_and_the_500_cap(rw: RestWorld) -> None:
    alice, bob = rw.login("alice"), rw.login("bob")
    rw.taken()
    reply = rw.ok(
        "batchsendmsg",
        {
            "From_Account": "alice",
            "To_Account": ["bob", "carol", "ghost"],
            "MsgRandom": 3,
            "MsgBody": text("news"),
        },
    )
    assert reply["ErrorList"] == [{"To_Account": "ghost", "ErrorCode": 70107}]
    events = rw.taken()
    assert "onMessageReceived" in rw.names_for(bob, events)
    assert "onMessageReceived" not in rw.names_for(alice, events)  # no sync to the sender
    too_many = {"To_Account": [f"u{i}" for i in range(501)], "MsgRandom": 3, "MsgBody": text("x")}
    assert rw.code("batchsendmsg", too_many) == 90011


def test_rest_4_importmsg_history_is_stored_without_unread_or_push(rw: RestWorld) -> None:
    bob = rw.login("bob")
    rw.taken()
    stamp = rw.now() - 3600
    body = {
        "SyncFromOldSystem": 2,
        "From_Account": "alice",
        "To_Account": "bob",
        "MsgSeq": 1,
        "MsgRandom": 9,
        "MsgTimeStamp": stamp,
        "MsgBody": text("old"),
    }
    rw.ok("importmsg", body)
    rw.ok("importmsg", body)  # dedup on MsgSeq + MsgRandom + MsgTimeStamp
    assert "onMessageReceived" not in rw.names_for(bob, rw.taken())
    assert rw.ok("get_c2c_unread_msg_num", {"To_Account": "bob"})["AllC2CUnreadMsgNum"] == 0
    page = rw.ok("admin_getroammsg", roam("bob", "alice"))["MsgList"]
    assert [(m["MsgTimeStamp"], m["MsgBody"][0]["MsgContent"]["Text"]) for m in page] == [(stamp, "old")]
    realtime = {**body, "SyncFromOldSystem": 5, "MsgSeq": 2, "MsgTimeStamp": rw.now()}
    rw.ok("importmsg", realtime)
    assert "onMessageReceived" in rw.names_for(bob, rw.taken())
    assert rw.ok("get_c2c_unread_msg_num", {"To_Account": "bob"})["AllC2CUnreadMsgNum"] == 1
    assert rw.code("importmsg", {**body, "MsgTimeStamp": rw.now() + 60}) == TIMESTAMP_INVALID


def roam(operator: str, peer: str, count: int = 100, now: int | None = None, **extra: Any) -> dict[str, Any]:
    return {
        "Operator_Account": operator,
        "Peer_Account": peer,
        "MaxCnt": count,
        "MinTime": 0,
        "MaxTime": now if now is not None else 2_000_000_000,
        **extra,
    }


def test_rest_5_admin_getroammsg_pages_both_directions_with_last_msg_key(rw: RestWorld) -> None:
    for i in range(5):
        send(
            rw,
            From_Account="alice" if i % 2 else "bob",
            To_Account="bob" if i % 2 else "alice",
            random=i,
            body=f"m{i}",
        )
        rw.service.admin("advanceClock", {"seconds": 1})
    first = rw.ok("admin_getroammsg", roam("alice", "bob", count=3))
    assert (first["Complete"], first["MsgCnt"]) == (0, 3)
    rest = rw.ok("admin_getroammsg", roam("alice", "bob", count=3, LastMsgKey=first["LastMsgKey"]))
    assert (rest["Complete"], rest["MsgCnt"]) == (1, 2)
    texts = [m["MsgBody"][0]["MsgContent"]["Text"] for m in first["MsgList"] + rest["MsgList"]]
    assert sorted(texts) == [f"m{i}" for i in range(5)] and len(set(texts)) == 5
    assert {m["From_Account"] for m in first["MsgList"] + rest["MsgList"]} == {"alice", "bob"}


def test_rest_5_admin_getroammsg_takes_the_old_field_names_and_clamps_max_cnt(rw: RestWorld) -> None:
    send(rw, From_Account="alice")
    old = {
        "From_Account": "alice",
        "To_Account": "bob",
        "MaxCnt": 1000,
        "MinTime": 0,
        "MaxTime": 2_000_000_000,
    }
    assert rw.ok("admin_getroammsg", old)["MsgCnt"] == 1


def test_rest_5_admin_msgwithdraw_has_no_window_and_tells_sdk_users(rw: RestWorld) -> None:
    bob = rw.login("bob")
    key = send(rw, From_Account="alice")["MsgKey"]
    rw.service.admin("advanceClock", {"seconds": 86_400})  # far past the SDK's 120 s revoke window
    rw.taken()
    body = {"From_Account": "alice", "To_Account": "bob", "MsgKey": key}
    rw.ok("admin_msgwithdraw", body)
    assert "onMessageRevoked" in rw.names_for(bob, rw.taken())
    assert rw.code("admin_msgwithdraw", body) == 20023
    assert rw.code("admin_msgwithdraw", {**body, "MsgKey": "1_2_3"}) == 20022
    assert rw.code("admin_msgwithdraw", {**body, "MsgKey": "not-a-key"}) == 90054
    flags = [
        m["MsgFlagBits"] for m in rw.ok("admin_getroammsg", roam("alice", "bob", now=rw.now()))["MsgList"]
    ]
    assert flags == [8]


def test_rest_5_admin_set_msg_read_and_unread_per_peer(rw: RestWorld) -> None:
    send(rw, From_Account="alice")
    send(rw, From_Account="carol", random=8)
    per_peer = {"To_Account": "bob", "Peer_Account": ["alice", "carol", "ghost"]}
    reply = rw.ok("get_c2c_unread_msg_num", per_peer)
    assert reply["AllC2CUnreadMsgNum"] == 2
    assert reply["C2CUnreadMsgNumList"] == [
        {"Peer_Account": "alice", "C2CUnreadMsgNum": 1},
        {"Peer_Account": "carol", "C2CUnreadMsgNum": 1},
    ]
    assert reply["ErrorList"] == [{"Peer_Account": "ghost", "ErrorCode": 70107}]
    bob = rw.login("bob")
    rw.taken()
    rw.ok("admin_set_msg_read", {"Report_Account": "bob", "Peer_Account": "alice"})
    updated = [e.data for e in rw.taken() if e.instance == rw.service.tokens[bob]]
    assert [(c["conversationID"], c["unreadCount"]) for c in updated[0]] == [("C2Calice", 0)]
    assert rw.ok("get_c2c_unread_msg_num", {"To_Account": "bob"})["AllC2CUnreadMsgNum"] == 1
    eleven = {"To_Account": "bob", "Peer_Account": [f"p{i}" for i in range(11)]}
    assert rw.code("get_c2c_unread_msg_num", eleven) != 0
