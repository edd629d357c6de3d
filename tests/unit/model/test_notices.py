"""Tips, system notices and group-list updates: TIP-1, SYS-1, GLIST-1 (simtim.model.notices).

Every account here has two online instances (web + a native platform) so each test can tell
"every instance of the account" from "the other instances" and from "the acting instance".
"""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

import pytest

from simtim.sdk import TIM
from tests.unit.model.group_support import (
    APP,
    NOTICE,
    SYSTEM,
    TIP,
    conversation,
    create,
    drain,
    history,
    ids,
    notices,
    of,
    send,
    tips,
)


@pytest.fixture
def w(login: Any) -> SimpleNamespace:
    return SimpleNamespace(
        o1=login("owner"),
        o2=login("owner", platform="android"),
        a1=login("admin"),
        m1=login("member"),
        m2=login("member", platform="ios"),
        x1=login("outsider"),
        x2=login("outsider", platform="android"),
    )


def everyone(w: SimpleNamespace) -> list[TIM]:
    return list(vars(w).values())


def but(w: SimpleNamespace, *excluded: TIM) -> list[TIM]:
    return [tim for tim in everyone(w) if all(tim is not e for e in excluded)]


def setup_public(w: SimpleNamespace, group_type: str = "Public", **opts: Any) -> str:
    gid = create(
        w.o1, group_type, memberList=[{"userID": "admin", "role": "Admin"}, {"userID": "member"}], **opts
    )
    drain(*everyone(w))
    return gid


def conversation_updates(tim: TIM, conversation_id: str) -> list[dict[str, Any]]:
    return [
        c
        for batch in of(tim, "onConversationListUpdated")
        for c in batch
        if c["conversationID"] == conversation_id
    ]


def expect_tip(
    w: SimpleNamespace, gid: str, op_type: int, recipients: list[TIM], stored: bool = True, **payload: Any
) -> dict[str, Any]:
    """TIP-1: exactly the recipients got exactly one such tip (and a conversation update)."""
    found: list[dict[str, Any]] = []
    for tim in everyone(w):
        mine = [t for t in tips(tim) if t["to"] == gid and t["payload"]["operationType"] == op_type]
        if any(tim is r for r in recipients):
            assert len(mine) == 1, f"instance {tim.instance_id}: {mine}"
            for key, value in payload.items():
                assert mine[0]["payload"][key] == value, key
            if stored:
                updates = conversation_updates(tim, "GROUP" + gid)
                assert updates and updates[-1]["lastMessage"]["ID"] == mine[0]["ID"]
                assert updates[-1]["unreadCount"] == 0  # never unread
            found.extend(mine)
        else:
            assert mine == [], f"instance {tim.instance_id} should not get tip {op_type}"
    assert len({t["ID"] for t in found}) == 1
    tip = found[0]
    assert tip["type"] == TIP and tip["from"] == "@TIM#SYSTEM"
    in_history = tip["ID"] in ids(history(recipients[0], "GROUP" + gid))
    assert in_history == stored  # stored as a group message (AVChatRoom: never)
    return tip


def expect_notice(
    w: SimpleNamespace, op_type: int, recipients: list[TIM], acting: TIM | None = None, **payload: Any
) -> dict[str, Any]:
    """SYS-1: onMessageReceived then receiveGroupSystemNotice on exactly the recipients; the
    acting instance gets neither but its account stores the notice."""
    found: list[dict[str, Any]] = []
    for tim in everyone(w):
        pushed = [n for n in notices(tim) if n["payload"]["operationType"] == op_type]
        if any(tim is r for r in recipients):
            assert len(pushed) == 1, f"instance {tim.instance_id}: {pushed}"
            notice = pushed[0]
            for key, value in payload.items():
                assert notice["payload"][key] == value, key
            order = [
                (name, data)
                for name, data in tim.events
                if name in ("onMessageReceived", "receiveGroupSystemNotice")
                and (data[0] if name == "onMessageReceived" else data["message"])["ID"] == notice["ID"]
            ]
            assert [name for name, _ in order] == ["onMessageReceived", "receiveGroupSystemNotice"]
            assert order[1][1]["type"] == op_type
            assert conversation_updates(tim, SYSTEM)[-1]["lastMessage"]["ID"] == notice["ID"]
            assert notice["ID"] in ids(history(tim, SYSTEM))  # stored in @TIM#SYSTEM
            assert notice["conversationID"] == SYSTEM and notice["type"] == NOTICE
            found.append(notice)
        else:
            assert pushed == [], f"instance {tim.instance_id} should not get notice {op_type}"
            assert [d for d in of(tim, "receiveGroupSystemNotice") if d["type"] == op_type] == []
    assert len({n["ID"] for n in found}) <= len(recipients)
    if acting is not None:
        stored = [m for m in history(acting, SYSTEM) if m["payload"]["operationType"] == op_type]
        assert stored, "the acting account stores the notice"
        assert conversation_updates(acting, SYSTEM), "CONV-4: the acting instance's list changed"
    return found[0] if found else {}


# --- TIP-1 ---------------------------------------------------------------------------------
def test_tip_1_join_goes_to_every_member_instance_including_the_joiner(w: SimpleNamespace) -> None:
    gid = setup_public(w)
    w.x1.call("joinGroup", {"groupID": gid})
    tip = expect_tip(w, gid, 1, everyone(w), operatorID="outsider", userIDList=["outsider"])
    assert ids(history(w.m1, "GROUP" + gid)) == [tip["ID"]]
    assert tip["sequence"] == 1
    assert conversation(w.m1, "GROUP" + gid)["unreadCount"] == 0


def test_tip_1_add_member_reaches_the_operators_calling_instance(w: SimpleNamespace) -> None:
    gid = create(w.o1, "Private", memberList=[{"userID": "member"}])
    drain(*everyone(w))
    w.o1.call("addGroupMember", {"groupID": gid, "userIDList": ["outsider"]})
    expect_tip(w, gid, 1, but(w, w.a1), operatorID="owner", userIDList=["outsider"])


def test_tip_1_quit_tip_2_goes_to_the_remaining_members(w: SimpleNamespace) -> None:
    gid = setup_public(w)
    w.m1.call("quitGroup", {"groupID": gid})
    expect_tip(w, gid, 2, [w.o1, w.o2, w.a1], operatorID="member", userIDList=["member"])


def test_tip_1_kick_tip_3_goes_to_the_remaining_members(w: SimpleNamespace) -> None:
    gid = setup_public(w)
    w.a1.call("deleteGroupMember", {"groupID": gid, "userIDList": ["member"]})
    expect_tip(w, gid, 3, [w.o1, w.o2, w.a1], operatorID="admin", userIDList=["member"])


def test_tip_1_admin_tips_4_and_5(w: SimpleNamespace) -> None:
    gid = setup_public(w)
    members = [w.o1, w.o2, w.a1, w.m1, w.m2]
    w.o1.call("setGroupMemberRole", {"groupID": gid, "userID": "member", "role": "Admin"})
    expect_tip(w, gid, 4, members, operatorID="owner", userIDList=["member"])
    drain(*everyone(w))
    w.o1.call("setGroupMemberRole", {"groupID": gid, "userID": "member", "role": "Member"})
    expect_tip(w, gid, 5, members, operatorID="owner", userIDList=["member"])


def test_tip_1_profile_tip_6_and_owner_change(w: SimpleNamespace) -> None:
    gid = setup_public(w)
    members = [w.o1, w.o2, w.a1, w.m1, w.m2]
    w.a1.call("updateGroupProfile", {"groupID": gid, "notification": "read me"})
    expect_tip(w, gid, 6, members, operatorID="admin", newGroupProfile={"notification": "read me"})
    drain(*everyone(w))
    w.o1.call("changeGroupOwner", {"groupID": gid, "newOwnerID": "admin"})
    expect_tip(w, gid, 6, members, operatorID="owner", newGroupProfile={"ownerID": "admin"})


def test_tip_1_no_change_no_tip_6(w: SimpleNamespace) -> None:
    gid = setup_public(w, introduction="same")
    w.o1.call("updateGroupProfile", {"groupID": gid, "introduction": "same"})
    assert all(tips(tim) == [] for tim in everyone(w))


def test_tip_1_member_tip_7_for_mute_and_name_card(w: SimpleNamespace) -> None:
    gid = setup_public(w)
    members = [w.o1, w.o2, w.a1, w.m1, w.m2]
    w.a1.call("setGroupMemberMuteTime", {"groupID": gid, "userID": "member", "muteTime": 30})
    expect_tip(
        w,
        gid,
        7,
        members,
        operatorID="admin",
        userIDList=["member"],
        memberList=[{"userID": "member", "muteTime": 30}],
    )
    drain(*everyone(w))
    w.m2.call("setGroupMemberNameCard", {"groupID": gid, "nameCard": "M"})
    expect_tip(w, gid, 7, members, operatorID="member", memberList=[{"userID": "member", "nameCard": "M"}])


def test_tip_1_tips_take_group_sequences_between_messages(w: SimpleNamespace) -> None:
    gid = setup_public(w)
    first = send(w.o1, gid)
    w.o1.call("updateGroupProfile", {"groupID": gid, "name": "renamed"})
    last = send(w.o1, gid)
    seen = history(w.m1, "GROUP" + gid)
    assert [m["sequence"] for m in seen] == [1, 2, 3]
    assert [m["type"] for m in seen] == ["TIMTextElem", TIP, "TIMTextElem"]
    assert (seen[0]["ID"], seen[2]["ID"]) == (first["ID"], last["ID"])
    assert conversation(w.m1, "GROUP" + gid)["unreadCount"] == 2  # the tip is not counted


def test_tip_1_avchatroom_tips_are_delivered_not_stored(w: SimpleNamespace) -> None:
    gid = create(w.o1, "AVChatRoom")
    w.o1.call("joinGroup", {"groupID": gid, "type": "AVChatRoom"})
    w.m1.call("joinGroup", {"groupID": gid, "type": "AVChatRoom"})
    drain(*everyone(w))
    w.x1.call("joinGroup", {"groupID": gid, "type": "AVChatRoom"})
    expect_tip(w, gid, 1, [w.o1, w.o2, w.m1, w.m2, w.x1, w.x2], stored=False, userIDList=["outsider"])
    assert history(w.m1, "GROUP" + gid) == []


def test_tip_1_chatroom_member_change_tips_are_off_by_default(service: Any, w: SimpleNamespace) -> None:
    gid = setup_public(w, "ChatRoom")
    w.x1.call("joinGroup", {"groupID": gid})
    w.m1.call("quitGroup", {"groupID": gid})
    w.o1.call("deleteGroupMember", {"groupID": gid, "userIDList": ["outsider"]})
    assert all(tips(tim) == [] for tim in everyone(w))
    assert history(w.a1, "GROUP" + gid) == []
    w.o1.call("setGroupMemberRole", {"groupID": gid, "userID": "admin", "role": "Member"})
    expect_tip(w, gid, 5, [w.o1, w.o2, w.a1])  # other tips still flow
    service.world.configure_app(APP, chatroom_member_tips=True)
    drain(*everyone(w))
    w.x1.call("joinGroup", {"groupID": gid})
    expect_tip(w, gid, 1, [w.o1, w.o2, w.a1, w.x1, w.x2])


def test_tip_1_discard_members_get_no_tips(w: SimpleNamespace) -> None:
    gid = setup_public(w)
    w.m1.call("setMessageRemindType", {"groupID": gid, "messageRemindType": "Discard"})
    w.o1.call("updateGroupProfile", {"groupID": gid, "name": "renamed"})
    tip = expect_tip(w, gid, 6, [w.o1, w.o2, w.a1])
    assert tip["ID"] in ids(history(w.m1, "GROUP" + gid))


# --- SYS-1 ---------------------------------------------------------------------------------
def test_sys_1_notice_1_apply_to_owner_and_admins(w: SimpleNamespace) -> None:
    gid = setup_public(w, joinOption="NeedPermission")
    before = {tim.instance_id: conversation(tim, SYSTEM)["unreadCount"] for tim in everyone(w)}
    w.x1.call("joinGroup", {"groupID": gid, "applyMessage": "please"})
    notice = expect_notice(w, 1, [w.o1, w.o2, w.a1], operatorID="outsider", handleMessage="please")
    assert notice["payload"]["groupProfile"]["groupID"] == gid
    after = {tim.instance_id: conversation(tim, SYSTEM)["unreadCount"] for tim in everyone(w)}
    plus_one = {tim.instance_id for tim in (w.o1, w.o2, w.a1)}  # +1 unread for the recipients' accounts
    assert after == {i: n + (i in plus_one) for i, n in before.items()}


@pytest.mark.parametrize(("action", "op_type"), [("Agree", 2), ("Reject", 3)])
def test_sys_1_notice_2_and_3_to_the_applicant(w: SimpleNamespace, action: str, op_type: int) -> None:
    gid = setup_public(w, joinOption="NeedPermission")
    w.x1.call("joinGroup", {"groupID": gid})
    [application] = notices(w.o1)
    drain(*everyone(w))
    w.o1.call(
        "handleGroupApplication", {"handleAction": action, "handleMessage": "decided", "message": application}
    )
    expect_notice(w, op_type, [w.x1, w.x2], operatorID="owner", handleMessage="decided")


def test_sys_1_notice_4_to_the_removed_user(w: SimpleNamespace) -> None:
    gid = setup_public(w)
    w.o1.call("deleteGroupMember", {"groupID": gid, "userIDList": ["member"]})
    expect_notice(w, 4, [w.m1, w.m2], operatorID="owner")


def test_sys_1_notice_5_to_every_member_but_the_acting_instance(w: SimpleNamespace) -> None:
    gid = setup_public(w)
    w.o1.call("dismissGroup", {"groupID": gid})
    expect_notice(w, 5, [w.o2, w.a1, w.m1, w.m2], acting=w.o1, operatorID="owner")


def test_sys_1_notice_6_to_the_creators_other_instances(w: SimpleNamespace) -> None:
    create(w.o1, "Public")
    expect_notice(w, 6, [w.o2], acting=w.o1, operatorID="owner")


def test_sys_1_notice_7_to_invitees(w: SimpleNamespace) -> None:
    create(w.o1, "Public", memberList=[{"userID": "member"}])
    expect_notice(w, 7, [w.m1, w.m2], operatorID="owner")
    drain(*everyone(w))
    gid = create(w.o1, "Private")
    drain(*everyone(w))
    w.o1.call("addGroupMember", {"groupID": gid, "userIDList": ["outsider"]})
    expect_notice(w, 7, [w.x1, w.x2], operatorID="owner")


def test_sys_1_notice_8_to_the_quitters_other_instances(w: SimpleNamespace) -> None:
    gid = setup_public(w)
    w.m1.call("quitGroup", {"groupID": gid})
    expect_notice(w, 8, [w.m2], acting=w.m1, operatorID="member")


@pytest.mark.parametrize(("role", "op_type"), [("Admin", 9), ("Member", 10)])
def test_sys_1_notice_9_and_10_to_the_target(w: SimpleNamespace, role: str, op_type: int) -> None:
    gid = setup_public(w)
    target = "admin" if role == "Member" else "member"
    w.o1.call("setGroupMemberRole", {"groupID": gid, "userID": target, "role": role})
    expect_notice(w, op_type, [w.a1] if target == "admin" else [w.m1, w.m2], operatorID="owner")


def test_sys_1_notice_255_custom_to_chosen_members(service: Any, w: SimpleNamespace) -> None:
    gid = setup_public(w)
    outcome = service.world.admin_send_group_system_notice(APP, gid, "maintenance", ["member", "outsider"])
    service.dispatch(outcome.events)
    expect_notice(w, 255, [w.m1, w.m2], handleMessage="maintenance", operatorID="administrator")
    drain(*everyone(w))
    service.dispatch(service.world.admin_send_group_system_notice(APP, gid, "all", None).events)
    expect_notice(w, 255, [w.o1, w.o2, w.a1, w.m1, w.m2], handleMessage="all")


# --- GLIST-1 -------------------------------------------------------------------------------
def group_lists(tim: TIM) -> list[set[str]]:
    return [{g["groupID"] for g in batch} for batch in of(tim, "onGroupListUpdated")]


def expect_group_list(w: SimpleNamespace, affected: list[TIM]) -> None:
    for tim in everyone(w):
        if any(tim is a for a in affected):
            full = {g["groupID"] for g in tim.call("getGroupList")["groupList"]}
            assert group_lists(tim) == [full], f"instance {tim.instance_id}"
        else:
            assert group_lists(tim) == [], f"instance {tim.instance_id}"
    drain(*everyone(w))


def test_glist_1_group_list_updates(service: Any, w: SimpleNamespace) -> None:
    other = create(w.o1, "Private", memberList=[{"userID": "member"}])
    drain(*everyone(w))
    gid = create(w.o1, "Public", memberList=[{"userID": "member"}])
    expect_group_list(w, [w.o1, w.o2, w.m1, w.m2])  # create: creator and initial members
    w.x1.call("joinGroup", {"groupID": gid})
    expect_group_list(w, [w.x1, w.x2])  # join
    w.o1.call("deleteGroupMember", {"groupID": gid, "userIDList": ["outsider"]})
    expect_group_list(w, [w.x1, w.x2])  # kick
    w.m1.call("addGroupMember", {"groupID": other, "userIDList": ["admin"]})
    expect_group_list(w, [w.a1])  # add
    service.dispatch(service.world.admin_add_group_member(APP, gid, ["outsider"]).events)
    expect_group_list(w, [w.x1, w.x2])  # admin add
    w.x2.call("quitGroup", {"groupID": gid})
    expect_group_list(w, [w.x1, w.x2])  # quit
    w.o2.call("dismissGroup", {"groupID": gid})
    expect_group_list(w, [w.o1, w.o2, w.m1, w.m2])  # dismiss
    assert {g["groupID"] for g in w.m1.call("getGroupList")["groupList"]} == {other}


def test_glist_1_agree_updates_the_applicants_list(w: SimpleNamespace) -> None:
    gid = setup_public(w, joinOption="NeedPermission")
    w.x1.call("joinGroup", {"groupID": gid})
    [application] = notices(w.o1)
    drain(*everyone(w))
    w.o1.call("handleGroupApplication", {"handleAction": "Agree", "message": application})
    expect_group_list(w, [w.x1, w.x2])
