"""Member rules: MBR-1..MBR-5, ROLE-1..ROLE-3, MUTE-1 (simtim.model.members)."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

import pytest

from tests.unit.model.group_support import (
    APP,
    create,
    drain,
    group_state,
    history,
    members,
    notices,
    of,
    received,
    refused,
    refused_fn,
    roles,
    tips,
)


@pytest.fixture
def u(login: Any) -> SimpleNamespace:
    return SimpleNamespace(
        o=login("owner"),
        a=login("admin"),
        a2=login("admin2"),
        m=login("member"),
        m2=login("member2"),
        x=login("outsider"),
    )


def public(u: SimpleNamespace, group_type: str = "Public", **opts: Any) -> str:
    """owner + admin, admin2 (Admin) + member, member2."""
    gid = create(
        u.o,
        group_type,
        memberList=[
            {"userID": "admin", "role": "Admin"},
            {"userID": "admin2", "role": "Admin"},
            {"userID": "member"},
            {"userID": "member2"},
        ],
        **opts,
    )
    drain(*vars(u).values())
    return gid


def import_users(service: Any, count: int, prefix: str = "user") -> list[str]:
    names = [f"{prefix}{i}" for i in range(count)]
    for name in names:
        service.import_account(name)
    return names


# --- MBR-1 ---------------------------------------------------------------------------------
def test_mbr_1_private_any_member_adds(u: SimpleNamespace) -> None:
    gid = create(u.o, "Private", memberList=[{"userID": "member"}])
    drain(u.o, u.m)
    reply = u.m.call(
        "addGroupMember", {"groupID": gid, "userIDList": ["outsider", "nobody", "owner", "outsider"]}
    )
    assert reply["successUserIDList"] == ["outsider"]
    assert reply["failureUserIDList"] == ["nobody"]
    assert reply["existedUserIDList"] == ["owner"]
    assert reply["group"]["memberNum"] == 3
    for tim in (u.o, u.m, u.x):  # one tip 1 with userIDList = successUserIDList
        [tip] = tips(tim)
        assert tip["payload"]["operationType"] == 1
        assert tip["payload"]["userIDList"] == ["outsider"] and tip["payload"]["operatorID"] == "member"
    [notice] = notices(u.x)
    assert notice["payload"]["operationType"] == 7
    assert notices(u.o) == [] and notices(u.m) == []


def test_mbr_1_nothing_added_means_no_tip(u: SimpleNamespace) -> None:
    gid = create(u.o, "Private", memberList=[{"userID": "member"}])
    drain(u.o, u.m)
    reply = u.o.call("addGroupMember", {"groupID": gid, "userIDList": ["member", "nobody"]})
    assert reply["successUserIDList"] == [] and tips(u.o) == [] and tips(u.m) == []


def test_mbr_1_empty_list_is_6017(u: SimpleNamespace) -> None:
    gid = create(u.o, "Private")
    refused(6017, u.o, "addGroupMember", {"groupID": gid, "userIDList": []})
    refused(6017, u.o, "addGroupMember", {"groupID": gid})


def test_mbr_1_501_is_10005_and_nothing_is_added(service: Any, u: SimpleNamespace) -> None:
    names = import_users(service, 501)
    gid = create(u.o, "Private")
    before = group_state(service, gid)
    refused(10005, u.o, "addGroupMember", {"groupID": gid, "userIDList": names})
    assert group_state(service, gid) == before
    chat = create(u.o, "ChatRoom")
    before = group_state(service, chat)
    refused_fn(10005, service.world.admin_add_group_member, APP, chat, names)
    assert group_state(service, chat) == before


def test_mbr_1_500_is_accepted_and_the_overflow_fails(service: Any, u: SimpleNamespace) -> None:
    names = import_users(service, 500)
    gid = create(u.o, "Private")  # maxMemberNum 200: 199 seats left
    reply = u.o.call("addGroupMember", {"groupID": gid, "userIDList": names})
    assert reply["successUserIDList"] == names[:199]
    assert reply["failureUserIDList"] == names[199:]
    assert reply["group"]["memberNum"] == 200
    chat = create(u.o, "ChatRoom")
    outcome = service.world.admin_add_group_member(APP, chat, names)
    assert outcome.data["successUserIDList"] == names and outcome.data["group"]["memberNum"] == 501


@pytest.mark.parametrize("group_type", ["Public", "ChatRoom"])
def test_mbr_1_public_and_chatroom_only_through_the_admin_api(
    service: Any, u: SimpleNamespace, group_type: str
) -> None:
    gid = public(u, group_type)
    for tim in (u.o, u.a, u.m):
        refused(10007, tim, "addGroupMember", {"groupID": gid, "userIDList": ["outsider"]})
    outcome = service.world.admin_add_group_member(APP, gid, ["outsider"])
    service.dispatch(outcome.events)
    assert outcome.data["successUserIDList"] == ["outsider"]
    [notice] = notices(u.x)
    assert notice["payload"]["operationType"] == 7 and notice["payload"]["operatorID"] == "administrator"
    assert "outsider" in roles(u.o, gid)


def test_mbr_1_avchatroom_refuses_adds(service: Any, u: SimpleNamespace) -> None:
    gid = create(u.o, "AVChatRoom")
    refused(10007, u.o, "addGroupMember", {"groupID": gid, "userIDList": ["outsider"]})
    refused_fn(10007, service.world.admin_add_group_member, APP, gid, ["outsider"])


def test_mbr_1_non_member_is_10007(u: SimpleNamespace) -> None:
    gid = create(u.o, "Private")
    refused(10007, u.x, "addGroupMember", {"groupID": gid, "userIDList": ["member"]})
    refused(10010, u.x, "addGroupMember", {"groupID": "@TGS#none", "userIDList": ["member"]})


# --- MBR-2 ---------------------------------------------------------------------------------
def test_mbr_2_owner_removes_members_and_admins(u: SimpleNamespace, login: Any) -> None:
    gid = public(u)
    member_phone = login("member", platform="ios")
    reply = u.o.call(
        "deleteGroupMember", {"groupID": gid, "userIDList": ["member", "admin", "outsider"], "reason": "spam"}
    )
    assert reply["userIDList"] == ["member", "admin"]  # non-members ignored
    assert reply["group"]["memberNum"] == 3
    for tim in (u.m, member_phone, u.a):
        [notice] = notices(tim)
        assert notice["payload"]["operationType"] == 4
        assert tips(tim) == []
    for tim in (u.o, u.a2, u.m2):  # tip 3 to the remaining members, the operator included
        [tip] = tips(tim)
        assert tip["payload"]["operationType"] == 3 and tip["payload"]["userIDList"] == ["member", "admin"]
    assert set(roles(u.o, gid)) == {"owner", "admin2", "member2"}
    assert of(u.m, "onGroupListUpdated")[-1] == []


@pytest.mark.parametrize("group_type", ["Public", "ChatRoom"])
def test_mbr_2_admin_removes_only_plain_members_all_or_nothing(
    service: Any, u: SimpleNamespace, group_type: str
) -> None:
    gid = public(u, group_type)
    before = group_state(service, gid)
    refused(10007, u.a, "deleteGroupMember", {"groupID": gid, "userIDList": ["member", "admin2"]})
    assert group_state(service, gid) == before
    assert u.a.call("deleteGroupMember", {"groupID": gid, "userIDList": ["member"]})["userIDList"] == [
        "member"
    ]
    refused(10007, u.m2, "deleteGroupMember", {"groupID": gid, "userIDList": ["admin2"]})


def test_mbr_2_private_owner_only(u: SimpleNamespace) -> None:
    gid = create(u.o, "Private", memberList=[{"userID": "member"}, {"userID": "member2"}])
    refused(10007, u.m, "deleteGroupMember", {"groupID": gid, "userIDList": ["member2"]})
    assert u.o.call("deleteGroupMember", {"groupID": gid, "userIDList": ["member2"]})["userIDList"] == [
        "member2"
    ]


def test_mbr_2_self_owner_and_avchatroom_are_10004(service: Any, u: SimpleNamespace) -> None:
    gid = public(u)
    before = group_state(service, gid)
    refused(10004, u.o, "deleteGroupMember", {"groupID": gid, "userIDList": ["owner"]})
    refused(10004, u.a, "deleteGroupMember", {"groupID": gid, "userIDList": ["member", "admin"]})
    refused(10004, u.a, "deleteGroupMember", {"groupID": gid, "userIDList": ["member", "owner"]})
    assert group_state(service, gid) == before
    av = create(u.o, "AVChatRoom")
    u.x.call("joinGroup", {"groupID": av, "type": "AVChatRoom"})
    refused(10004, u.o, "deleteGroupMember", {"groupID": av, "userIDList": ["outsider"]})
    refused(6017, u.o, "deleteGroupMember", {"groupID": gid, "userIDList": ["member"], "reason": 5})
    refused(6017, u.o, "deleteGroupMember", {"groupID": gid, "userIDList": []})


# --- MBR-3 ---------------------------------------------------------------------------------
def test_mbr_3_member_list_paging(service: Any, u: SimpleNamespace) -> None:
    names = import_users(service, 120)
    gid = create(u.o, "ChatRoom")
    service.world.admin_add_group_member(APP, gid, names)  # 121 members
    page = u.o.call("getGroupMemberList", {"groupID": gid})
    assert len(page["memberList"]) == 15 and page["offset"] == 15  # default count 15
    assert page["memberList"][0]["userID"] == "owner"  # creator first
    page = u.o.call("getGroupMemberList", {"groupID": gid, "count": 500})
    assert len(page["memberList"]) == 100 and page["offset"] == 100  # capped at 100
    page = u.o.call("getGroupMemberList", {"groupID": gid, "count": 100, "offset": 100})
    assert len(page["memberList"]) == 21 and page["offset"] == 0  # the end
    page = u.o.call("getGroupMemberList", {"groupID": gid, "count": 15, "offset": 106})
    assert len(page["memberList"]) == 15 and page["offset"] == 0  # exactly reaching the end
    page = u.o.call("getGroupMemberList", {"groupID": gid, "count": 15, "offset": 105})
    assert len(page["memberList"]) == 15 and page["offset"] == 120
    assert [m["userID"] for m in members(u.o, gid)] == ["owner", *names]


def test_mbr_3_count_must_be_a_positive_integer(u: SimpleNamespace) -> None:
    gid = public(u)
    for bad in (0, -1, "5", 1.5, True):
        refused(6017, u.o, "getGroupMemberList", {"groupID": gid, "count": bad})
    refused(10007, u.x, "getGroupMemberList", {"groupID": gid})


def test_mbr_3_join_order_and_rejoin_goes_last(u: SimpleNamespace) -> None:
    gid = public(u)
    u.x.call("joinGroup", {"groupID": gid})
    u.m.call("quitGroup", {"groupID": gid})
    u.m.call("joinGroup", {"groupID": gid})
    assert [m["userID"] for m in members(u.o, gid)] == [
        "owner",
        "admin",
        "admin2",
        "member2",
        "outsider",
        "member",
    ]


def test_mbr_3_member_fields(service: Any, u: SimpleNamespace) -> None:
    u.m.update_my_profile({"nick": "Mem", "avatar": "http://a/m.png"})
    gid = public(u)
    service.advance(10)
    u.x.call("joinGroup", {"groupID": gid})
    u.o.call("setGroupMemberNameCard", {"groupID": gid, "userID": "member", "nameCard": "card"})
    u.o.call(
        "setGroupMemberCustomField",
        {"groupID": gid, "userID": "member", "memberCustomField": [{"key": "k", "value": "v"}]},
    )
    by_id = {m["userID"]: m for m in members(u.o, gid)}
    assert by_id["member"] == {
        "userID": "member",
        "role": "Member",
        "nameCard": "card",
        "nick": "Mem",
        "avatar": "http://a/m.png",
        "joinTime": 1_600_000_000,
        "muteUntil": 0,
        "memberCustomField": [{"key": "k", "value": "v"}],
    }
    assert by_id["outsider"]["joinTime"] == 1_600_000_010


# --- MBR-4 ---------------------------------------------------------------------------------
def test_mbr_4_only_the_first_50_ids(service: Any, u: SimpleNamespace) -> None:
    names = import_users(service, 60)
    gid = create(u.o, "ChatRoom")
    service.world.admin_add_group_member(APP, gid, names[:55])
    wanted = ["nobody", *names]  # 61 IDs; the first 50 are nobody + user0..user48
    reply = u.o.call("getGroupMemberProfile", {"groupID": gid, "userIDList": wanted})
    assert [m["userID"] for m in reply["memberList"]] == names[:49]
    reply = u.o.call("getGroupMemberProfile", {"groupID": gid, "userIDList": ["owner", "user54", "user59"]})
    assert [m["userID"] for m in reply["memberList"]] == ["owner", "user54"]  # non-members omitted
    refused(10007, u.x, "getGroupMemberProfile", {"groupID": gid, "userIDList": ["owner"]})


# --- MBR-5 ---------------------------------------------------------------------------------
def test_mbr_5_full_group_refuses_join_agree_and_add(service: Any, u: SimpleNamespace) -> None:
    gid = create(
        u.o,
        "Public",
        joinOption="NeedPermission",
        maxMemberNum=3,
        memberList=[{"userID": "admin", "role": "Admin"}],
    )
    u.x.call("joinGroup", {"groupID": gid})
    [application] = notices(u.o)
    service.world.admin_add_group_member(APP, gid, ["member"])  # now full: 3 of 3
    refused(10014, u.m2, "joinGroup", {"groupID": gid})
    refused(10014, u.o, "handleGroupApplication", {"handleAction": "Agree", "message": application})
    outcome = service.world.admin_add_group_member(APP, gid, ["member2"])
    assert outcome.data["failureUserIDList"] == ["member2"] and outcome.data["successUserIDList"] == []
    assert len(members(u.o, gid)) == 3


def test_mbr_5_public_default_is_full_at_2000(service: Any, u: SimpleNamespace) -> None:
    names = import_users(service, 1999)
    gid = create(u.o, "Public")
    for start in range(0, 1999, 500):
        service.world.admin_add_group_member(APP, gid, names[start : start + 500])
    assert u.o.call("getGroupProfile", {"groupID": gid})["group"]["memberNum"] == 2000
    refused(10014, u.x, "joinGroup", {"groupID": gid})


def test_mbr_5_private_default_is_full_at_200(service: Any, u: SimpleNamespace) -> None:
    names = import_users(service, 200)
    gid = create(u.o, "Private")
    assert (
        len(u.o.call("addGroupMember", {"groupID": gid, "userIDList": names[:199]})["successUserIDList"])
        == 199
    )
    reply = u.o.call("addGroupMember", {"groupID": gid, "userIDList": [names[199]]})
    assert reply["failureUserIDList"] == [names[199]]


# --- ROLE-1 --------------------------------------------------------------------------------
def test_role_1_promote_and_demote(u: SimpleNamespace, login: Any) -> None:
    gid = public(u)
    member_phone = login("member", platform="ios")
    reply = u.o.call("setGroupMemberRole", {"groupID": gid, "userID": "member", "role": "Admin"})
    assert reply["member"]["role"] == "Admin"
    for tim in (u.o, u.a, u.m, member_phone):
        [tip] = tips(tim)
        assert tip["payload"]["operationType"] == 4 and tip["payload"]["userIDList"] == ["member"]
    for tim in (u.m, member_phone):
        [notice] = notices(tim)
        assert notice["payload"]["operationType"] == 9
    assert notices(u.o) == [] and notices(u.a) == []
    drain(*vars(u).values(), member_phone)
    u.o.call("setGroupMemberRole", {"groupID": gid, "userID": "member", "role": "Member"})
    assert [t["payload"]["operationType"] for t in tips(u.a)] == [5]
    assert [n["payload"]["operationType"] for n in notices(u.m)] == [10]
    assert roles(u.o, gid)["member"] == "Member"


@pytest.mark.parametrize("group_type", ["Private", "AVChatRoom"])
def test_role_1_private_and_avchatroom_are_10007(u: SimpleNamespace, group_type: str) -> None:
    gid = create(u.o, group_type)
    if group_type == "Private":
        u.o.call("addGroupMember", {"groupID": gid, "userIDList": ["member"]})
    else:
        u.m.call("joinGroup", {"groupID": gid, "type": "AVChatRoom"})
    refused(10007, u.o, "setGroupMemberRole", {"groupID": gid, "userID": "member", "role": "Admin"})


def test_role_1_refusals(service: Any, u: SimpleNamespace) -> None:
    gid = public(u)
    before = group_state(service, gid)
    refused(10007, u.a, "setGroupMemberRole", {"groupID": gid, "userID": "member", "role": "Admin"})
    refused(10004, u.o, "setGroupMemberRole", {"groupID": gid, "userID": "member", "role": "Owner"})
    refused(10004, u.o, "setGroupMemberRole", {"groupID": gid, "userID": "owner", "role": "Member"})
    refused(10007, u.o, "setGroupMemberRole", {"groupID": gid, "userID": "outsider", "role": "Admin"})
    refused(10007, u.x, "setGroupMemberRole", {"groupID": gid, "userID": "member", "role": "Admin"})
    assert group_state(service, gid) == before


# --- ROLE-2 --------------------------------------------------------------------------------
def test_role_2_name_card_rights(u: SimpleNamespace) -> None:
    gid = public(u)
    assert (
        u.m.call("setGroupMemberNameCard", {"groupID": gid, "nameCard": "me"})["member"]["userID"] == "member"
    )
    refused(10007, u.m, "setGroupMemberNameCard", {"groupID": gid, "userID": "member2", "nameCard": "x"})
    u.a.call("setGroupMemberNameCard", {"groupID": gid, "userID": "member", "nameCard": "by admin"})
    u.a.call("setGroupMemberNameCard", {"groupID": gid, "nameCard": "admin self"})
    refused(10007, u.a, "setGroupMemberNameCard", {"groupID": gid, "userID": "admin2", "nameCard": "x"})
    refused(10007, u.a, "setGroupMemberNameCard", {"groupID": gid, "userID": "owner", "nameCard": "x"})
    for target in ("admin", "member", "owner"):
        u.o.call("setGroupMemberNameCard", {"groupID": gid, "userID": target, "nameCard": "by owner"})
    refused(10007, u.o, "setGroupMemberNameCard", {"groupID": gid, "userID": "outsider", "nameCard": "x"})
    assert {m["userID"]: m["nameCard"] for m in members(u.o, gid)} == {
        "owner": "by owner",
        "admin": "by owner",
        "admin2": "",
        "member": "by owner",
        "member2": "",
    }


def test_role_2_name_card_size_and_tip_7(u: SimpleNamespace) -> None:
    gid = public(u)
    card = "\u00e9" * 25  # 50 bytes
    u.m.call("setGroupMemberNameCard", {"groupID": gid, "nameCard": card})
    refused(10004, u.m, "setGroupMemberNameCard", {"groupID": gid, "nameCard": card + "x"})
    for tim in (u.o, u.m, u.m2):
        [tip] = tips(tim)
        assert tip["payload"]["operationType"] == 7
        assert tip["payload"]["memberList"] == [{"userID": "member", "nameCard": card}]


# --- ROLE-3 --------------------------------------------------------------------------------
def test_role_3_member_custom_field_rights_and_no_tip(u: SimpleNamespace) -> None:
    gid = public(u)
    field = [{"key": "k", "value": "v"}]
    u.m.call("setGroupMemberCustomField", {"groupID": gid, "memberCustomField": field})
    refused(
        10007,
        u.m,
        "setGroupMemberCustomField",
        {"groupID": gid, "userID": "member2", "memberCustomField": field},
    )
    for caller in (u.o, u.a):
        for target in ("owner", "admin", "admin2", "member"):  # Owner/Admin: anyone's
            caller.call(
                "setGroupMemberCustomField", {"groupID": gid, "userID": target, "memberCustomField": field}
            )
    assert received(u.o) == [] and received(u.m) == []  # no tip
    assert history(u.o, "GROUP" + gid) == []


def test_role_3_at_most_5_fields(u: SimpleNamespace) -> None:
    gid = public(u)
    five = [{"key": f"k{i}", "value": "v"} for i in range(5)]
    u.m.call("setGroupMemberCustomField", {"groupID": gid, "memberCustomField": five})
    refused(
        10004,
        u.m,
        "setGroupMemberCustomField",
        {"groupID": gid, "memberCustomField": [{"key": "k5", "value": "v"}]},
    )
    refused(
        10004,
        u.o,
        "setGroupMemberCustomField",
        {"groupID": gid, "userID": "member2", "memberCustomField": [*five, {"key": "k5", "value": "v"}]},
    )
    assert len(members(u.o, gid)[3]["memberCustomField"]) == 5


# --- MUTE-1 --------------------------------------------------------------------------------
def test_mute_1_sets_mute_until_with_tip_7(service: Any, u: SimpleNamespace) -> None:
    gid = public(u)
    reply = u.a.call("setGroupMemberMuteTime", {"groupID": gid, "userID": "member", "muteTime": 60})
    assert reply["member"]["muteUntil"] == 1_600_000_060
    for tim in (u.o, u.a, u.m):
        [tip] = tips(tim)
        assert tip["payload"]["operationType"] == 7
        assert tip["payload"]["memberList"] == [{"userID": "member", "muteTime": 60}]
    service.advance(59)
    assert {m["userID"]: m["muteUntil"] for m in members(u.o, gid)}["member"] == 1_600_000_060
    service.advance(1)  # computed on read: expired
    assert {m["userID"]: m["muteUntil"] for m in members(u.o, gid)}["member"] == 0


def test_mute_1_zero_unmutes(u: SimpleNamespace) -> None:
    gid = public(u)
    u.o.call("setGroupMemberMuteTime", {"groupID": gid, "userID": "admin", "muteTime": 600})
    reply = u.o.call("setGroupMemberMuteTime", {"groupID": gid, "userID": "admin", "muteTime": 0})
    assert reply["member"]["muteUntil"] == 0


def test_mute_1_mute_time_must_be_a_non_negative_integer(u: SimpleNamespace) -> None:
    gid = public(u)
    for bad in (-1, "60", 1.5, None, True):
        refused(6017, u.o, "setGroupMemberMuteTime", {"groupID": gid, "userID": "member", "muteTime": bad})


def test_mute_1_refusals(service: Any, u: SimpleNamespace) -> None:
    private = create(u.o, "Private", memberList=[{"userID": "member"}])
    refused(10007, u.o, "setGroupMemberMuteTime", {"groupID": private, "userID": "member", "muteTime": 60})
    gid = public(u)
    before = group_state(service, gid)
    for caller, target in (
        (u.m, "member2"),
        (u.x, "member"),
        (u.o, "outsider"),
        (u.o, "owner"),
        (u.a, "admin"),
        (u.a, "owner"),
        (u.a, "admin2"),
    ):
        refused(10007, caller, "setGroupMemberMuteTime", {"groupID": gid, "userID": target, "muteTime": 60})
    assert group_state(service, gid) == before
    u.o.call("setGroupMemberMuteTime", {"groupID": gid, "userID": "admin", "muteTime": 60})  # Owner -> Admin
    assert of(u.a, "receiveGroupSystemNotice") == []  # a mute sends no system notice
