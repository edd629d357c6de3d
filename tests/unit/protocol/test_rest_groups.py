"""REST-6 (the group), REST-7 (members) and REST-8 (group messages) through the REST face."""

from __future__ import annotations

from typing import Any

import pytest

from tests.unit.protocol.rest_support import RestWorld, text

USERS = ["alice", "bob", "carol", "dave"]


@pytest.fixture
def rw() -> RestWorld:
    world = RestWorld()
    world.ok("multiaccount_import", {"Accounts": USERS})
    return world


def create(rw: RestWorld, kind: str = "Public", members: list[str] | None = None, **extra: Any) -> str:
    body: dict[str, Any] = {"Type": kind, "Name": f"{kind} room", **extra}
    if members:
        body["MemberList"] = [{"Member_Account": u} for u in members]
    return str(rw.ok("create_group", body)["GroupId"])


def info(rw: RestWorld, group_id: str) -> dict[str, Any]:
    return dict(rw.ok("get_group_info", {"GroupIdList": [group_id]})["GroupInfo"][0])


# --- REST-6 ---------------------------------------------------------------------------------------
def test_rest_6_create_group_with_owner_members_and_custom_id(rw: RestWorld) -> None:
    bob = rw.login("bob")
    rw.taken()
    group_id = create(rw, "Public", ["bob", "carol"], Owner_Account="alice", GroupId="club-1")
    assert group_id == "club-1"
    shown = info(rw, group_id)
    assert (shown["Type"], shown["Owner_Account"], shown["MemberNum"]) == ("Public", "alice", 3)
    assert shown["ApplyJoinOption"] == "NeedPermission" and shown["ErrorCode"] == 0
    assert "onGroupListUpdated" in rw.names_for(bob, rw.taken())
    assert rw.code("create_group", {"Type": "Public", "Name": "again", "GroupId": "club-1"}) == 10021


def test_rest_6_create_group_without_owner_has_no_members(rw: RestWorld) -> None:
    shown = info(rw, create(rw, "Private"))
    assert (shown["Owner_Account"], shown["MemberNum"]) == ("", 0)


@pytest.mark.parametrize(
    ("body", "code"),
    [
        ({"Type": "Community", "Name": "c"}, 10007),
        ({"Type": "Club", "Name": "c"}, 10004),
        ({"Type": "AVChatRoom", "Name": "live", "MemberList": [{"Member_Account": "bob"}]}, 10007),
        ({"Type": "Public", "Name": "c", "GroupId": "@TGS#mine"}, 10015),
        ({"Type": "Public", "Name": "c", "GroupId": "x" * 49}, 10015),
        ({"Type": "Public", "Name": "n" * 100}, 10004),
    ],
)
def test_rest_6_create_group_refusals_change_nothing(rw: RestWorld, body: dict[str, Any], code: int) -> None:
    before = rw.digest()
    assert rw.code("create_group", body) == code
    assert rw.digest() == before


def test_rest_6_get_group_info_unknown_group_is_an_item_error(rw: RestWorld) -> None:
    group_id = create(rw)
    reply = rw.ok("get_group_info", {"GroupIdList": [group_id, "nope"]})
    assert [(g["GroupId"], g["ErrorCode"]) for g in reply["GroupInfo"]] == [(group_id, 0), ("nope", 10010)]


def test_rest_6_modify_group_base_info_and_mute_all(rw: RestWorld) -> None:
    group_id = create(rw, "Public", ["bob"], Owner_Account="alice")
    bob = rw.login("bob")
    rw.taken()
    rw.ok("modify_group_base_info", {"GroupId": group_id, "Name": "renamed", "MuteAllMember": "On"})
    shown = info(rw, group_id)
    assert (shown["Name"], shown["MuteAllMember"]) == ("renamed", "On")
    assert "onMessageReceived" in rw.names_for(bob, rw.taken())  # the group tip (TIP-1)
    sent = rw.sdk(bob, "sendMessage", {"message": sdk_text(group_id, "hi")})
    assert sent["code"] == 10017  # REST-6: MuteAllMember On stops plain members
    as_owner = {"GroupId": group_id, "From_Account": "alice", "Random": 1, "MsgBody": text("owners speak")}
    assert rw.code("send_group_msg", as_owner) == 0
    assert rw.code("modify_group_base_info", {"GroupId": group_id, "Name": "n" * 100}) == 10004
    assert rw.code("modify_group_base_info", {"GroupId": "nope", "Name": "x"}) == 10010


def sdk_text(group_id: str, body: str) -> dict[str, Any]:
    return {"to": group_id, "conversationType": "GROUP", "type": "TIMTextElem", "payload": {"text": body}}


def test_rest_6_destroy_group_any_type_tells_members(rw: RestWorld) -> None:
    group_id = create(rw, "Private", ["bob"], Owner_Account="alice")
    bob = rw.login("bob")
    rw.taken()
    rw.ok("destroy_group", {"GroupId": group_id})
    notices = [
        e.data
        for e in rw.taken()
        if e.name == "receiveGroupSystemNotice" and e.instance == rw.service.tokens[bob]
    ]
    assert [n["type"] for n in notices] == [5]
    assert rw.code("destroy_group", {"GroupId": group_id}) == 10010


def test_rest_6_get_appid_group_list_pages_and_filters(rw: RestWorld) -> None:
    ids = [create(rw, "Public") for _ in range(3)] + [create(rw, "ChatRoom")]
    first = rw.ok("get_appid_group_list", {"Limit": 2})
    assert first["TotalCount"] == 4 and len(first["GroupIdList"]) == 2 and first["Next"] != 0
    rest = rw.ok("get_appid_group_list", {"Limit": 10, "Next": first["Next"]})
    assert rest["Next"] == 0
    listed = [g["GroupId"] for g in first["GroupIdList"] + rest["GroupIdList"]]
    assert sorted(listed) == sorted(ids)
    rooms = rw.ok("get_appid_group_list", {"GroupType": "ChatRoom"})["GroupIdList"]
    assert [g["GroupId"] for g in rooms] == [ids[3]]
    assert rw.code("get_appid_group_list", {"Limit": 10_001}) != 0


def test_rest_6_get_joined_group_list(rw: RestWorld) -> None:
    mine = create(rw, "Public", ["bob"], Owner_Account="alice")
    create(rw, "Public", ["carol"], Owner_Account="dave")
    reply = rw.ok("get_joined_group_list", {"Member_Account": "bob"})
    assert reply["TotalCount"] == 1 and reply["GroupIdList"][0]["GroupId"] == mine


# --- REST-7 ---------------------------------------------------------------------------------------
def test_rest_7_add_group_member_results_and_tips(rw: RestWorld) -> None:
    group_id = create(rw, "Public", ["bob"], Owner_Account="alice")
    bob = rw.login("bob")
    rw.taken()
    reply = rw.ok(
        "add_group_member",
        {"GroupId": group_id, "MemberList": [{"Member_Account": u} for u in ("bob", "carol", "ghost")]},
    )
    assert [(m["Member_Account"], m["Result"]) for m in reply["MemberList"]] == [
        ("bob", 2),
        ("carol", 1),
        ("ghost", 0),
    ]
    assert "onMessageReceived" in rw.names_for(bob, rw.taken())  # the join tip
    rw.ok("add_group_member", {"GroupId": group_id, "Silence": 1, "MemberList": [{"Member_Account": "dave"}]})
    assert "onMessageReceived" not in rw.names_for(bob, rw.taken())


def test_rest_7_add_group_member_caps(rw: RestWorld) -> None:
    group_id = create(rw, "Public", Owner_Account="alice")
    too_many = {"GroupId": group_id, "MemberList": [{"Member_Account": f"u{i}"} for i in range(301)]}
    assert rw.code("add_group_member", too_many) == 10005
    live = create(rw, "AVChatRoom")
    assert rw.code("add_group_member", {"GroupId": live, "MemberList": [{"Member_Account": "bob"}]}) == 10007
    small = create(rw, "Public", Owner_Account="alice", MaxMemberCount=2)
    full = rw.ok(
        "add_group_member",
        {"GroupId": small, "MemberList": [{"Member_Account": u} for u in ("bob", "carol")]},
    )
    assert [m["Result"] for m in full["MemberList"]] == [1, 0]


def test_rest_7_delete_group_member(rw: RestWorld) -> None:
    group_id = create(rw, "Public", ["bob", "carol"], Owner_Account="alice")
    bob, carol = rw.login("bob"), rw.login("carol")
    rw.taken()
    rw.ok("delete_group_member", {"GroupId": group_id, "Silence": 1, "MemberToDel_Account": ["bob", "ghost"]})
    events = rw.taken()
    assert [
        n["type"]
        for n in (
            e.data
            for e in events
            if e.name == "receiveGroupSystemNotice" and e.instance == rw.service.tokens[bob]
        )
    ] == [4]  # kicked out
    assert rw.names_for(carol, events) == []  # Silence: only the removed member hears of it
    assert info(rw, group_id)["MemberNum"] == 2
    too_many = {"GroupId": group_id, "MemberToDel_Account": [f"u{i}" for i in range(101)]}
    assert rw.code("delete_group_member", too_many) == 10005
    live = create(rw, "AVChatRoom")
    assert rw.code("delete_group_member", {"GroupId": live, "MemberToDel_Account": ["bob"]}) == 10004


def test_rest_7_modify_group_member_info(rw: RestWorld) -> None:
    group_id = create(rw, "Public", ["bob"], Owner_Account="alice")
    change = {
        "GroupId": group_id,
        "Member_Account": "bob",
        "Role": "Admin",
        "NameCard": "B",
        "MsgFlag": "AcceptNotNotify",
    }
    rw.ok("modify_group_member_info", change)
    member = rw.ok("get_group_member_info", {"GroupId": group_id})["MemberList"][1]
    assert (member["Role"], member["NameCard"], member["MsgFlag"]) == ("Admin", "B", "AcceptNotNotify")
    assert rw.code("modify_group_member_info", {**change, "NameCard": "n" * 51}) == 10004
    live = create(rw, "AVChatRoom")
    assert (
        rw.code("modify_group_member_info", {"GroupId": live, "Member_Account": "bob", "NameCard": "x"})
        == 10007
    )


def test_rest_7_get_group_member_info_pages(rw: RestWorld) -> None:
    group_id = create(rw, "Public", ["bob", "carol", "dave"], Owner_Account="alice")
    first = rw.ok("get_group_member_info", {"GroupId": group_id, "Limit": 2})
    second = rw.ok("get_group_member_info", {"GroupId": group_id, "Limit": 2, "Offset": 2})
    names = [m["Member_Account"] for m in first["MemberList"] + second["MemberList"]]
    assert first["MemberNum"] == 4 and sorted(names) == sorted(USERS)
    assert rw.code("get_group_member_info", {"GroupId": create(rw, "AVChatRoom")}) == 10007


def test_rest_7_forbid_send_msg_mutes_unmutes_and_lists(rw: RestWorld) -> None:
    group_id = create(rw, "Public", ["bob"], Owner_Account="alice")
    bob = rw.login("bob")
    rw.ok("forbid_send_msg", {"GroupId": group_id, "Members_Account": ["bob"], "MuteTime": 60})
    muted = rw.ok("get_group_muted_account", {"GroupId": group_id})["MutedAccountList"]
    assert muted == [{"Member_Account": "bob", "MutedUntil": rw.now() + 60}]
    assert rw.sdk(bob, "sendMessage", {"message": sdk_text(group_id, "x")})["code"] == 10017  # MUTE-2
    rw.ok("forbid_send_msg", {"GroupId": group_id, "Members_Account": ["bob"], "MuteTime": 0})
    assert rw.ok("get_group_muted_account", {"GroupId": group_id})["MutedAccountList"] == []
    assert rw.sdk(bob, "sendMessage", {"message": sdk_text(group_id, "x")})["code"] == 0
    rw.ok("forbid_send_msg", {"GroupId": group_id, "Members_Account": ["bob"], "MuteTime": 4294967295})
    assert (
        rw.ok("get_group_muted_account", {"GroupId": group_id})["MutedAccountList"][0]["MutedUntil"]
        == 4294967295
    )
    private = create(rw, "Private", ["bob"], Owner_Account="alice")
    assert (
        rw.code("forbid_send_msg", {"GroupId": private, "Members_Account": ["bob"], "MuteTime": 60}) == 10007
    )
    too_many = {"GroupId": group_id, "Members_Account": [f"u{i}" for i in range(501)], "MuteTime": 60}
    assert rw.code("forbid_send_msg", too_many) != 0


def test_rest_7_change_group_owner(rw: RestWorld) -> None:
    group_id = create(rw, "Public", ["bob"], Owner_Account="alice")
    rw.ok("change_group_owner", {"GroupId": group_id, "NewOwner_Account": "bob"})
    assert info(rw, group_id)["Owner_Account"] == "bob"
    assert rw.code("change_group_owner", {"GroupId": group_id, "NewOwner_Account": "carol"}) == 10007
    live = create(rw, "AVChatRoom")
    assert rw.code("change_group_owner", {"GroupId": live, "NewOwner_Account": "bob"}) == 10007


# --- REST-8 ---------------------------------------------------------------------------------------
def test_rest_8_send_group_msg_delivers_and_counts_unread(rw: RestWorld) -> None:
    group_id = create(rw, "Public", ["bob"], Owner_Account="alice")
    bob = rw.login("bob")
    rw.taken()
    reply = rw.ok(
        "send_group_msg",
        {"GroupId": group_id, "From_Account": "alice", "Random": 5, "MsgBody": text("hello")},
    )
    assert reply["MsgSeq"] > 0
    events = rw.taken()
    assert rw.names_for(bob, events) == ["onMessageReceived", "onConversationListUpdated"]
    conversation = rw.sdk(bob, "getConversationList")["data"]["conversationList"][0]
    assert (conversation["conversationID"], conversation["unreadCount"]) == (f"GROUP{group_id}", 1)
    again = rw.ok(
        "send_group_msg",
        {"GroupId": group_id, "From_Account": "alice", "Random": 5, "MsgBody": text("hello")},
    )
    assert again["MsgSeq"] == reply["MsgSeq"]  # dedup 5 min on content + Random


@pytest.mark.parametrize(
    ("body", "code"),
    [
        ({"From_Account": "carol"}, 10007),
        ({"From_Account": "ghost"}, 10019),
        ({"Random": "x"}, 10004),
        ({"MsgBody": []}, 10004),
        ({"MsgBody": text("x" * 13_000)}, 80002),
        ({"GroupId": "nope"}, 10010),
    ],
)
def test_rest_8_send_group_msg_refusals(rw: RestWorld, body: dict[str, Any], code: int) -> None:
    group_id = create(rw, "Public", ["bob"], Owner_Account="alice")
    before = rw.digest()
    assert rw.code("send_group_msg", {"GroupId": group_id, "Random": 1, "MsgBody": text("x"), **body}) == code
    assert rw.digest() == before


def test_rest_8_send_group_msg_muted_sender_and_frequency_drop(rw: RestWorld) -> None:
    group_id = create(rw, "Public", ["bob"], Owner_Account="alice")
    rw.ok("forbid_send_msg", {"GroupId": group_id, "Members_Account": ["bob"], "MuteTime": 60})
    assert (
        rw.code(
            "send_group_msg", {"GroupId": group_id, "From_Account": "bob", "Random": 1, "MsgBody": text("x")}
        )
        == 10017
    )
    replies = [
        rw.ok("send_group_msg", {"GroupId": group_id, "Random": i, "MsgBody": text(f"m{i}")})
        for i in range(41)
    ]
    assert [r.get("MsgDropReason") for r in replies].count("MsgFreqCtrl") == 1
    assert replies[-1]["MsgDropReason"] == "MsgFreqCtrl"


def test_rest_8_system_notification_goes_online_only_and_is_not_stored(rw: RestWorld) -> None:
    group_id = create(rw, "Public", ["bob", "carol"], Owner_Account="alice")
    bob, carol = rw.login("bob"), rw.login("carol")
    rw.taken()
    rw.ok(
        "send_group_system_notification",
        {"GroupId": group_id, "ToMembers_Account": ["bob"], "Content": "maintenance"},
    )
    events = rw.taken()
    notices = [
        e.data
        for e in events
        if e.name == "receiveGroupSystemNotice" and e.instance == rw.service.tokens[bob]
    ]
    assert [n["type"] for n in notices] == [255]
    assert rw.names_for(carol, events) == []
    history = rw.ok("group_msg_get_simple", {"GroupId": group_id, "ReqMsgNumber": 20})["RspMsgList"]
    assert "maintenance" not in str(history)  # never stored
    many = {"GroupId": group_id, "ToMembers_Account": [f"u{i}" for i in range(51)], "Content": "x"}
    assert rw.code("send_group_system_notification", many) != 0


def test_rest_8_group_msg_recall_without_window(rw: RestWorld) -> None:
    group_id = create(rw, "Public", ["bob"], Owner_Account="alice")
    seq = rw.ok(
        "send_group_msg", {"GroupId": group_id, "From_Account": "alice", "Random": 1, "MsgBody": text("x")}
    )["MsgSeq"]
    bob = rw.login("bob")
    rw.service.admin("advanceClock", {"seconds": 86_400})
    rw.taken()
    reply = rw.ok("group_msg_recall", {"GroupId": group_id, "MsgSeqList": [{"MsgSeq": seq}, {"MsgSeq": 999}]})
    assert reply["RecallRetList"] == [{"MsgSeq": seq, "RetCode": 0}, {"MsgSeq": 999, "RetCode": 10030}]
    assert "onMessageRevoked" in rw.names_for(bob, rw.taken())
    eleven = {"GroupId": group_id, "MsgSeqList": [{"MsgSeq": i} for i in range(11)]}
    assert rw.code("group_msg_recall", eleven) != 0
    live = create(rw, "AVChatRoom")
    assert rw.code("group_msg_recall", {"GroupId": live, "MsgSeqList": [{"MsgSeq": 1}]}) == 10033


def test_rest_8_import_group_msg(rw: RestWorld) -> None:
    group_id = create(rw, "Public", ["bob"], Owner_Account="alice")
    bob = rw.login("bob")
    rw.service.admin("advanceClock", {"seconds": 1000})  # imports fall between creation and now
    rw.taken()
    now = rw.now()
    items = [
        {"From_Account": "alice", "SendTime": now - 100 + i, "Random": i, "MsgBody": text(f"old{i}")}
        for i in range(3)
    ]
    items.append({"From_Account": "alice", "SendTime": now + 100, "Random": 9, "MsgBody": text("future")})
    reply = rw.ok("import_group_msg", {"GroupId": group_id, "MsgList": items})
    assert [r["Result"] for r in reply["ImportMsgResult"]] == [0, 0, 0, 10004]
    assert rw.names_for(bob, rw.taken()) == []  # no pushes, no unread
    history = rw.ok("group_msg_get_simple", {"GroupId": group_id, "ReqMsgNumber": 20})["RspMsgList"]
    bodies = [m["MsgBody"][0]["MsgContent"]["Text"] for m in history if m["IsSystemMsg"] == 0]
    assert bodies == ["old2", "old1", "old0"]  # newest first
    assert rw.code("import_group_msg", {"GroupId": group_id, "MsgList": items * 2}) != 0  # at most 7
    live = create(rw, "AVChatRoom")
    assert rw.code("import_group_msg", {"GroupId": live, "MsgList": items[:1]}) == 10007


def test_rest_8_group_msg_get_simple_pages_and_recalled(rw: RestWorld) -> None:
    group_id = create(rw, "Public", Owner_Account="alice")
    seqs = [
        rw.ok("send_group_msg", {"GroupId": group_id, "Random": i, "MsgBody": text(f"m{i}")})["MsgSeq"]
        for i in range(25)
    ]
    rw.ok("group_msg_recall", {"GroupId": group_id, "MsgSeqList": [{"MsgSeq": seqs[-1]}]})
    page = rw.ok("group_msg_get_simple", {"GroupId": group_id, "ReqMsgNumber": 50})
    assert len(page["RspMsgList"]) == 20 and page["RspMsgList"][0]["MsgSeq"] == seqs[-2]
    with_recalled = rw.ok(
        "group_msg_get_simple", {"GroupId": group_id, "ReqMsgNumber": 1, "WithRecalledMsg": 1}
    )
    assert with_recalled["RspMsgList"][0]["MsgSeq"] == seqs[-1]
    below = rw.ok("group_msg_get_simple", {"GroupId": group_id, "ReqMsgNumber": 3, "ReqMsgSeq": seqs[2]})
    assert [m["MsgSeq"] for m in below["RspMsgList"]] == [seqs[2], seqs[1], seqs[0]]
    assert rw.code("group_msg_get_simple", {"GroupId": create(rw, "AVChatRoom"), "ReqMsgNumber": 1}) == 10007


def test_rest_8_get_online_member_num(rw: RestWorld) -> None:
    group_id = create(rw, "Public", ["bob", "carol"], Owner_Account="alice")
    rw.login("bob")
    rw.login("bob", "android")
    assert rw.ok("get_online_member_num", {"GroupId": group_id})["OnlineMemberNum"] == 1
