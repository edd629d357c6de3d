"""Group messages: MSG-3, MSG-7, MSG-8, MSG-9, MUTE-2, REV-1..REV-3, PAGE-2, UNREAD-1 and GRP-9
delivery (simtim.model.group_messages)."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

import pytest

from tests.unit.model.group_support import (
    APP,
    SYSTEM,
    TIP,
    conversation,
    create,
    drain,
    gtext,
    history,
    ids,
    of,
    public,
    received,
    refused_fn,
    send,
    tips,
)


def avchatroom(u: SimpleNamespace) -> str:
    gid = create(u.o, "AVChatRoom")
    for tim in (u.o, u.m):
        tim.call("joinGroup", {"groupID": gid, "type": "AVChatRoom"})
    drain(u.o, u.a, u.m, u.x)
    return gid


class Recorder:
    """A before-send callback that records its calls and answers a fixed reply."""

    def __init__(self, reply: Any = None, fail: bool = False) -> None:
        self.reply = reply
        self.fail = fail
        self.bodies: list[dict[str, Any]] = []

    def __call__(self, body: dict[str, Any]) -> Any:
        self.bodies.append(body)
        if self.fail:
            raise RuntimeError("backend down")
        return self.reply


def texts(tim: Any) -> list[dict[str, Any]]:
    return [m for m in received(tim) if m["type"] != TIP]


# --- MSG-3 ---------------------------------------------------------------------------------
def test_msg_3_group_checks_in_order_before_the_callback(service: Any, u: SimpleNamespace) -> None:
    callback = Recorder({"ErrorCode": 0})
    service.world.set_before_send(APP, callback)
    gid = public(u)
    refused_fn(10010, u.m.send_message, gtext("@TGS#none"))
    refused_fn(10007, u.x.send_message, gtext(gid))
    u.o.call("setGroupMemberMuteTime", {"groupID": gid, "userID": "member", "muteTime": 60})
    refused_fn(10017, u.m.send_message, gtext(gid))
    assert callback.bodies == []
    u.m.call("quitGroup", {"groupID": gid})  # muted and no longer a member: membership comes first
    refused_fn(10007, u.m.send_message, gtext(gid))
    assert callback.bodies == []
    send(u.a, gid)
    assert [b["From_Account"] for b in callback.bodies] == ["admin"]


def test_msg_3_avchatroom_sender_must_have_joined(u: SimpleNamespace) -> None:
    gid = create(u.o, "AVChatRoom")
    refused_fn(10007, u.x.send_message, gtext(gid))
    refused_fn(10007, u.o.send_message, gtext(gid))  # the owner joins before sending (GRP-1)
    u.x.call("joinGroup", {"groupID": gid, "type": "AVChatRoom"})
    assert send(u.x, gid)["from"] == "outsider"


def test_msg_3_delivery_to_members_and_the_senders_other_instances(u: SimpleNamespace, login: Any) -> None:
    gid = public(u)
    owner_phone = login("owner", platform="android")
    message = send(u.o, gid, "hello")
    assert texts(u.o) == []  # not the sending instance (MSG-5)
    for tim in (owner_phone, u.a, u.m):
        [got] = texts(tim)
        assert got["ID"] == message["ID"] and got["payload"] == {"text": "hello"}
        assert of(tim, "onConversationListUpdated")[-1][0]["lastMessage"]["ID"] == message["ID"]
    assert texts(owner_phone)[0]["flow"] == "out" and texts(u.m)[0]["flow"] == "in"
    assert received(u.x) == []
    assert message["sequence"] == 1 and message["conversationID"] == "GROUP" + gid


# --- MUTE-2 --------------------------------------------------------------------------------
def test_mute_2_muted_until_expiry(service: Any, u: SimpleNamespace) -> None:
    gid = public(u)
    u.a.call("setGroupMemberMuteTime", {"groupID": gid, "userID": "member", "muteTime": 60})
    refused_fn(10017, u.m.send_message, gtext(gid))
    service.advance(59)
    refused_fn(10017, u.m.send_message, gtext(gid))
    service.advance(1)  # muteUntil == now: no longer muted
    assert send(u.m, gid)["from"] == "member"


def test_mute_2_persists_across_quit_and_rejoin(service: Any, u: SimpleNamespace) -> None:
    gid = public(u)
    u.o.call("setGroupMemberMuteTime", {"groupID": gid, "userID": "member", "muteTime": 100})
    u.m.call("quitGroup", {"groupID": gid})
    service.advance(30)
    u.m.call("joinGroup", {"groupID": gid})
    refused_fn(10017, u.m.send_message, gtext(gid))
    muted = u.o.call("getGroupMemberProfile", {"groupID": gid, "userIDList": ["member"]})["memberList"][0]
    assert muted["muteUntil"] == 1_600_000_100
    service.advance(70)
    send(u.m, gid)


def test_mute_2_unmute_lifts_it(u: SimpleNamespace) -> None:
    gid = public(u)
    u.o.call("setGroupMemberMuteTime", {"groupID": gid, "userID": "member", "muteTime": 100})
    u.o.call("setGroupMemberMuteTime", {"groupID": gid, "userID": "member", "muteTime": 0})
    send(u.m, gid)


def test_mute_2_refused_before_the_callback(service: Any, u: SimpleNamespace) -> None:
    callback = Recorder({"ErrorCode": 1})
    service.world.set_before_send(APP, callback)
    gid = public(u)
    u.o.call("setGroupMemberMuteTime", {"groupID": gid, "userID": "member", "muteTime": 100})
    refused_fn(10017, u.m.send_message, gtext(gid))
    assert callback.bodies == []


# --- MSG-7 ---------------------------------------------------------------------------------
def test_msg_7_forty_per_second_then_normal_is_10023(service: Any, u: SimpleNamespace) -> None:
    gid = public(u)
    sent = [send(u.o, gid, f"m{i}") for i in range(40)]
    assert [m["sequence"] for m in sent] == list(range(1, 41))
    drain(u.m)
    refused_fn(10023, u.o.send_message, gtext(gid, "41st"))
    assert len(history(u.m, "GROUP" + gid)) == 40 and received(u.m) == []
    high = send(u.o, gid, "high", priority="High")
    assert high["sequence"] == 41 and ids(history(u.m, "GROUP" + gid))[-1] == high["ID"]
    for priority in ("Low", "Lowest"):
        dropped = send(u.o, gid, priority, priority=priority)
        assert dropped["status"] == "success" and dropped["priority"] == priority
        assert not dropped.get("sequence")  # no sequence
    assert ids(texts(u.m)) == [high["ID"]]  # Low/Lowest not delivered
    assert len(history(u.m, "GROUP" + gid)) == 41  # and not stored
    service.advance(1)  # the next second starts a fresh count
    assert send(u.o, gid, "next second")["sequence"] == 42


def test_msg_7_low_below_the_limit_is_stored(u: SimpleNamespace) -> None:
    gid = public(u)
    low = send(u.o, gid, "low", priority="Lowest")
    assert low["sequence"] == 1 and ids(history(u.m, "GROUP" + gid)) == [low["ID"]]


def test_msg_7_limit_is_per_group_and_configurable(service: Any, u: SimpleNamespace) -> None:
    service.world.configure_app(APP, group_message_rate_per_second=2)
    first, second = public(u), public(u)
    send(u.o, first)
    send(u.m, first)
    refused_fn(10023, u.a.send_message, gtext(first))
    send(u.o, second)  # another group has its own count


def test_msg_7_tips_are_not_counted(service: Any, u: SimpleNamespace) -> None:
    service.world.configure_app(APP, group_message_rate_per_second=2)
    gid = public(u)
    send(u.o, gid)
    for i in range(5):
        u.o.call("setGroupMemberNameCard", {"groupID": gid, "nameCard": f"n{i}"})  # tip 7 each
    send(u.o, gid)
    refused_fn(10023, u.o.send_message, gtext(gid))


# --- MSG-8 ---------------------------------------------------------------------------------
def test_msg_8_error_code_1_is_10016(service: Any, u: SimpleNamespace) -> None:
    callback = Recorder({"ErrorCode": 1})
    service.world.set_before_send(APP, callback)
    gid = public(u)
    refused_fn(10016, u.m.send_message, gtext(gid))
    assert history(u.o, "GROUP" + gid) == [] and received(u.o) == []
    [body] = callback.bodies
    assert body["CallbackCommand"] == "Group.CallbackBeforeSendMsg"
    assert body["GroupId"] == gid and body["From_Account"] == "member" and body["Type"] == "Public"
    assert body["MsgBody"] == [{"MsgType": "TIMTextElem", "MsgContent": {"text": "hi"}}]


@pytest.mark.parametrize("code", [10100, 10150, 10200])
def test_msg_8_app_codes_pass_through(service: Any, u: SimpleNamespace, code: int) -> None:
    service.world.set_before_send(APP, Recorder({"ErrorCode": code, "ErrorInfo": "nope"}))
    gid = public(u)
    error = refused_fn(code, u.m.send_message, gtext(gid))
    assert error.message == "nope"
    assert history(u.o, "GROUP" + gid) == []


def test_msg_8_msg_body_replacement(service: Any, u: SimpleNamespace) -> None:
    service.world.set_before_send(
        APP,
        Recorder({"ErrorCode": 0, "MsgBody": [{"MsgType": "TIMTextElem", "MsgContent": {"text": "***"}}]}),
    )
    gid = public(u)
    message = send(u.m, gid, "bad word")
    assert message["payload"] == {"text": "***"}
    assert texts(u.o)[0]["payload"] == {"text": "***"}
    assert history(u.o, "GROUP" + gid)[0]["payload"] == {"text": "***"}


@pytest.mark.parametrize(
    "callback", [Recorder(None), Recorder(fail=True), Recorder({"Error": "x"}), Recorder({"ErrorCode": 0})]
)
def test_msg_8_none_error_or_malformed_proceeds(service: Any, u: SimpleNamespace, callback: Recorder) -> None:
    service.world.set_before_send(APP, callback)
    gid = public(u)
    message = send(u.m, gid, "plain")
    assert message["payload"] == {"text": "plain"} and len(callback.bodies) == 1
    assert ids(history(u.o, "GROUP" + gid)) == [message["ID"]]


# --- REV-1 / REV-3 / REV-2 (group side) -----------------------------------------------------
def test_rev_1_group_window_120_s(service: Any, u: SimpleNamespace) -> None:
    gid = public(u)
    first = send(u.m, gid)
    second = send(u.m, gid)
    service.advance(120)
    assert u.m.revoke_message(first)["message"]["isRevoked"] is True
    service.advance(1)
    refused_fn(10031, u.m.revoke_message, second)
    assert history(u.o, "GROUP" + gid)[-1]["isRevoked"] is False


def test_rev_1_group_window_is_configurable(service: Any, u: SimpleNamespace) -> None:
    service.world.configure_app(APP, revoke_window_seconds=10)
    gid = public(u)
    message = send(u.m, gid)
    service.advance(11)
    refused_fn(10031, u.m.revoke_message, message)


def test_rev_3_group_check_order(service: Any, u: SimpleNamespace) -> None:
    gid = public(u)
    mine = send(u.m, gid)
    u.o.call("updateGroupProfile", {"groupID": gid, "name": "renamed"})
    [tip] = tips(u.m)
    refused_fn(10030, u.m.revoke_message, {**mine, "ID": "no-such-id", "conversationType": "GROUP"})
    refused_fn(10007, u.o.revoke_message, mine)  # not the sender
    service.advance(200)
    refused_fn(10032, u.m.revoke_message, tip)  # tip before window
    refused_fn(10007, u.o.revoke_message, mine)  # not the sender before window
    refused_fn(10031, u.m.revoke_message, mine)
    recent = send(u.m, gid)
    u.m.revoke_message(recent)
    refused_fn(10030, u.m.revoke_message, recent)  # already revoked
    refused_fn(10030, u.o.revoke_message, recent)  # already revoked before not-the-sender
    av = avchatroom(u)
    live = send(u.m, av)
    refused_fn(10033, u.m.revoke_message, live)


def test_rev_3_system_notice_is_10032(u: SimpleNamespace) -> None:
    u.x.call("joinGroup", {"groupID": create(u.o, "Public", joinOption="NeedPermission")})
    notice = history(u.o, SYSTEM)[-1]
    assert notice["type"] == "TIMGroupSystemNoticeElem"
    refused_fn(10032, u.o.revoke_message, notice)


def test_rev_2_group_revoke_events(u: SimpleNamespace, login: Any) -> None:
    gid = public(u)
    member_phone = login("member", platform="ios")
    u.a.call("setMessageRemindType", {"groupID": gid, "messageRemindType": "Discard"})
    message = send(u.m, gid)
    assert conversation(u.o, "GROUP" + gid)["unreadCount"] == 1
    drain(u.o, u.a, u.m, member_phone, u.x)
    u.m.revoke_message(message)
    assert of(u.m, "onMessageRevoked") == []  # not the calling instance
    for tim in (member_phone, u.o):
        [[revoked]] = of(tim, "onMessageRevoked")
        assert revoked["ID"] == message["ID"] and revoked["isRevoked"] is True
    assert of(u.a, "onMessageRevoked") == [] and of(u.x, "onMessageRevoked") == []  # Discard, outsider
    assert conversation(u.o, "GROUP" + gid)["unreadCount"] == 0
    assert history(u.o, "GROUP" + gid)[-1]["isRevoked"] is True


# --- PAGE-2 --------------------------------------------------------------------------------
def test_page_2_avchatroom_has_no_history(u: SimpleNamespace) -> None:
    gid = avchatroom(u)
    send(u.o, gid)
    u.x.call("joinGroup", {"groupID": gid, "type": "AVChatRoom"})
    for tim in (u.o, u.m):
        assert tim.get_message_list({"conversationID": "GROUP" + gid}) == {
            "messageList": [],
            "nextReqMessageID": "",
            "isCompleted": True,
        }
    assert [m["type"] for m in received(u.m)] == ["TIMTextElem", TIP]  # still delivered live


@pytest.mark.parametrize(("group_type", "sees_earlier"), [("Public", False), ("ChatRoom", True)])
def test_page_2_history_before_join_per_type(u: SimpleNamespace, group_type: str, sees_earlier: bool) -> None:
    gid = public(u, group_type)
    before = [send(u.o, gid, f"before {i}") for i in range(3)]
    u.x.call("joinGroup", {"groupID": gid})
    after = send(u.o, gid, "after")
    seen = [m for m in history(u.x, "GROUP" + gid) if m["type"] != TIP]
    assert ids(seen) == ids([*before, after] if sees_earlier else [after])
    assert ids(m for m in history(u.m, "GROUP" + gid) if m["type"] != TIP) == ids([*before, after])


def test_page_2_private_member_added_later_sees_from_the_join_tip(u: SimpleNamespace) -> None:
    gid = create(u.o, "Private", memberList=[{"userID": "member"}])
    send(u.o, gid, "before")
    u.m.call("addGroupMember", {"groupID": gid, "userIDList": ["outsider"]})
    after = send(u.o, gid, "after")
    seen = history(u.x, "GROUP" + gid)
    assert [m["type"] for m in seen] == [TIP, "TIMTextElem"]
    assert seen[0]["payload"]["userIDList"] == ["outsider"] and seen[1]["ID"] == after["ID"]


def test_page_2_history_before_join_is_configurable(service: Any, u: SimpleNamespace) -> None:
    service.world.configure_app(
        APP, history_before_join={"Private": False, "Public": True, "ChatRoom": False, "AVChatRoom": False}
    )
    gid = public(u)
    early = send(u.o, gid)
    u.x.call("joinGroup", {"groupID": gid})
    assert early["ID"] in ids(history(u.x, "GROUP" + gid))


def test_page_2_rejoin_starts_visibility_again(u: SimpleNamespace) -> None:
    gid = public(u)
    early = send(u.o, gid)
    u.m.call("quitGroup", {"groupID": gid})
    u.m.call("joinGroup", {"groupID": gid})
    assert early["ID"] not in ids(history(u.m, "GROUP" + gid))


def test_page_2_retention(service: Any, u: SimpleNamespace, login: Any) -> None:
    gid = public(u)
    old = send(u.o, gid)
    service.advance(7 * 86400)
    reader = login("member", platform="android")  # a fresh UserSig: the first one expired
    assert ids(history(reader, "GROUP" + gid)) == [old["ID"]]
    service.advance(1)
    assert history(reader, "GROUP" + gid) == []


def test_page_2_group_paging_follows_the_cursor(u: SimpleNamespace) -> None:
    gid = public(u)
    sent = [send(u.o, gid, str(i)) for i in range(32)]
    assert ids(history(u.m, "GROUP" + gid, count=15)) == ids(sent)
    first = u.m.get_message_list({"conversationID": "GROUP" + gid})
    assert ids(first["messageList"]) == ids(sent[-15:]) and first["nextReqMessageID"] == sent[-15]["ID"]


# --- UNREAD-1 ------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("group_type", "counted"), [("Private", True), ("Public", True), ("ChatRoom", False)]
)
def test_unread_1_per_group_type(u: SimpleNamespace, group_type: str, counted: bool) -> None:
    gid = create(u.o, group_type, memberList=[{"userID": "member"}])
    send(u.o, gid)
    send(u.o, gid)
    assert conversation(u.m, "GROUP" + gid)["unreadCount"] == (2 if counted else 0)
    assert conversation(u.o, "GROUP" + gid)["unreadCount"] == 0  # never for own messages


def test_unread_1_avchatroom_is_always_0(u: SimpleNamespace) -> None:
    gid = avchatroom(u)
    send(u.o, gid)
    assert conversation(u.m, "GROUP" + gid)["unreadCount"] == 0


def test_unread_1_tips_never_count(u: SimpleNamespace) -> None:
    gid = public(u)
    u.o.call("updateGroupProfile", {"groupID": gid, "name": "x"})
    u.x.call("joinGroup", {"groupID": gid})
    assert conversation(u.m, "GROUP" + gid)["unreadCount"] == 0


def test_unread_1_discard_not_counted_accept_not_notify_counted(u: SimpleNamespace, login: Any) -> None:
    gid = public(u)
    u.m.call("setMessageRemindType", {"groupID": gid, "messageRemindType": "Discard"})
    u.a.call("setMessageRemindType", {"groupID": gid, "messageRemindType": "AcceptNotNotify"})
    send(u.o, gid)
    assert conversation(u.m, "GROUP" + gid)["unreadCount"] == 0
    assert conversation(u.a, "GROUP" + gid)["unreadCount"] == 1
    second = login("admin", platform="android")
    assert conversation(second, "GROUP" + gid)["unreadCount"] == 1  # same count on every instance
    u.a.set_message_read({"conversationID": "GROUP" + gid})
    assert conversation(second, "GROUP" + gid)["unreadCount"] == 0


def test_grp_9_discard_keeps_history_but_suppresses_delivery(u: SimpleNamespace, login: Any) -> None:
    gid = public(u)
    phone = login("member", platform="ios")
    u.m.call("setMessageRemindType", {"groupID": gid, "messageRemindType": "Discard"})
    drain(u.m, phone)
    message = send(u.o, gid)
    assert received(u.m) == [] and received(phone) == []
    assert ids(history(phone, "GROUP" + gid)) == [message["ID"]]


# --- MSG-9 ---------------------------------------------------------------------------------
def test_msg_9_group_delete_is_per_account(u: SimpleNamespace) -> None:
    gid = public(u)
    keep, gone = send(u.o, gid, "keep"), send(u.o, gid, "gone")
    assert ids(u.m.delete_message([gone])["messageList"]) == [gone["ID"]]
    assert ids(history(u.m, "GROUP" + gid)) == [keep["ID"]]
    assert ids(history(u.a, "GROUP" + gid)) == [keep["ID"], gone["ID"]]


def test_msg_9_tip_is_10034_and_nothing_is_deleted(u: SimpleNamespace) -> None:
    gid = public(u)
    message = send(u.o, gid)
    u.o.call("updateGroupProfile", {"groupID": gid, "name": "x"})
    [tip] = tips(u.m)
    refused_fn(10034, u.m.delete_message, [message, tip])
    assert ids(history(u.m, "GROUP" + gid)) == [message["ID"], tip["ID"]]


def test_msg_9_system_notice_is_10034(u: SimpleNamespace) -> None:
    public(u)
    notice = history(u.m, SYSTEM)[-1]
    refused_fn(10034, u.m.delete_message, [notice])
    assert history(u.m, SYSTEM)[-1]["ID"] == notice["ID"]


def test_msg_9_avchatroom_is_10035(u: SimpleNamespace) -> None:
    gid = avchatroom(u)
    live = send(u.o, gid)
    refused_fn(10035, u.m.delete_message, [live])
    refused_fn(10035, u.o.delete_message, [live])
