"""Group lifecycle rules: GRP-1..GRP-9 and the group side of REPLY-1 (simtim.model.groups)."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

import pytest

from tests.unit.model.group_support import (
    APP,
    SYSTEM,
    conversation,
    create,
    drain,
    group_state,
    history,
    notices,
    of,
    public,
    received,
    refused,
    refused_fn,
    roles,
    send,
    tips,
)


def group_count(service: Any) -> int:
    return len(service.world.apps[APP].groups)


# --- GRP-1 ---------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("group_type", "join_option", "max_members"),
    [
        ("Private", "DisableApply", 200),
        ("Public", "FreeAccess", 2000),
        ("ChatRoom", "FreeAccess", 10000),
        ("AVChatRoom", "FreeAccess", 0),
    ],
)
def test_grp_1_defaults_per_type(
    u: SimpleNamespace, group_type: str, join_option: str, max_members: int
) -> None:
    group = u.o.call("createGroup", {"name": "g", "type": group_type})["group"]
    assert group["type"] == group_type
    assert group["groupID"].startswith("@TGS#")
    assert group["ownerID"] == "owner" and group["selfInfo"]["role"] == "Owner"
    assert group["joinOption"] == join_option
    assert group["maxMemberNum"] == max_members  # AVChatRoom: unlimited, shown as 0
    assert group["memberNum"] == 1


def test_grp_1_type_defaults_to_private(u: SimpleNamespace) -> None:
    group = u.o.call("createGroup", {"name": "g"})["group"]
    assert group["type"] == "Private" and group["joinOption"] == "DisableApply"


@pytest.mark.parametrize(("group_type", "fixed"), [("Private", "DisableApply"), ("AVChatRoom", "FreeAccess")])
def test_grp_1_fixed_join_options_ignore_the_request(u: SimpleNamespace, group_type: str, fixed: str) -> None:
    group = u.o.call("createGroup", {"name": "g", "type": group_type, "joinOption": "NeedPermission"})[
        "group"
    ]
    assert group["joinOption"] == fixed


def test_grp_1_public_join_option_is_chosen(u: SimpleNamespace) -> None:
    group = u.o.call("createGroup", {"name": "g", "type": "Public", "joinOption": "NeedPermission"})["group"]
    assert group["joinOption"] == "NeedPermission"


def test_grp_1_max_member_num_defaults_are_configurable(service: Any, u: SimpleNamespace) -> None:
    service.world.configure_app(
        APP, max_member_num={"Private": 3, "Public": 4, "ChatRoom": 5, "AVChatRoom": None}
    )
    assert u.o.call("createGroup", {"name": "g"})["group"]["maxMemberNum"] == 3
    assert u.o.call("createGroup", {"name": "g", "type": "Public"})["group"]["maxMemberNum"] == 4
    refused(
        10014,
        u.o,
        "createGroup",
        {"name": "g", "memberList": [{"userID": n} for n in ("admin", "member", "outsider")]},
    )


@pytest.mark.parametrize("group_type", ["Public", "ChatRoom"])
def test_grp_1_initial_admins(u: SimpleNamespace, group_type: str) -> None:
    gid = public(u, group_type)
    assert roles(u.o, gid) == {"owner": "Owner", "admin": "Admin", "member": "Member"}


@pytest.mark.parametrize("group_type", ["Private", "AVChatRoom"])
def test_grp_1_admin_in_private_or_avchatroom_is_10004(
    service: Any, u: SimpleNamespace, group_type: str
) -> None:
    refused(
        10004,
        u.o,
        "createGroup",
        {"name": "g", "type": group_type, "memberList": [{"userID": "admin", "role": "Admin"}]},
    )
    assert group_count(service) == 0
    assert u.o.call("getGroupList")["groupList"] == []


def test_grp_1_owner_role_in_member_list_is_10004(service: Any, u: SimpleNamespace) -> None:
    refused(
        10004,
        u.o,
        "createGroup",
        {"name": "g", "type": "Public", "memberList": [{"userID": "admin", "role": "Owner"}]},
    )
    assert group_count(service) == 0


def test_grp_1_member_list_500_ok_501_is_10005(service: Any, u: SimpleNamespace) -> None:
    for i in range(501):
        service.import_account(f"user{i}")
    five_hundred = [{"userID": f"user{i}"} for i in range(500)]
    refused(
        10005,
        u.o,
        "createGroup",
        {"name": "g", "type": "ChatRoom", "memberList": [*five_hundred, {"userID": "user500"}]},
    )
    assert group_count(service) == 0
    group = u.o.call("createGroup", {"name": "g", "type": "ChatRoom", "memberList": five_hundred})["group"]
    assert group["memberNum"] == 501


def test_grp_1_unknown_account_is_10019(service: Any, u: SimpleNamespace) -> None:
    refused(
        10019, u.o, "createGroup", {"name": "g", "memberList": [{"userID": "member"}, {"userID": "nobody"}]}
    )
    assert group_count(service) == 0
    assert of(u.m, "receiveGroupSystemNotice") == []


def test_grp_1_creator_plus_members_over_max_is_10014(service: Any, u: SimpleNamespace) -> None:
    opts = {"name": "g", "type": "Public", "maxMemberNum": 2}
    refused(10014, u.o, "createGroup", {**opts, "memberList": [{"userID": "admin"}, {"userID": "member"}]})
    assert group_count(service) == 0
    assert u.o.call("createGroup", {**opts, "memberList": [{"userID": "admin"}]})["group"]["memberNum"] == 2


def test_grp_1_empty_name_is_10004(service: Any, u: SimpleNamespace) -> None:
    refused(10004, u.o, "createGroup", {"name": ""})
    refused(6017, u.o, "createGroup", {})  # a missing name is a shape error
    assert group_count(service) == 0


def test_grp_1_custom_group_id(service: Any, u: SimpleNamespace) -> None:
    gid = "g" * 48
    assert create(u.o, "Public", groupID=gid) == gid
    for bad in ("g" * 49, "@TGS#mine", "caf\u00e9", "tab\there"):
        refused(10004, u.o, "createGroup", {"name": "g", "groupID": bad})
    refused(10021, u.o, "createGroup", {"name": "g", "groupID": gid})
    assert list(service.world.apps[APP].groups) == [gid]


def test_grp_1_initial_members_get_notice_7_and_no_tip(u: SimpleNamespace) -> None:
    gid = create(u.o, "Public", memberList=[{"userID": "member"}])
    [notice] = notices(u.m)
    assert notice["payload"]["operationType"] == 7
    assert notice["payload"]["groupProfile"]["groupID"] == gid
    assert tips(u.m) == [] and tips(u.o) == []
    assert history(u.m, "GROUP" + gid) == []


def test_grp_1_avchatroom_ignores_member_list_and_owner_joins_before_sending(u: SimpleNamespace) -> None:
    gid = create(u.o, "AVChatRoom", memberList=[{"userID": "member"}])
    assert u.o.call("getGroupProfile", {"groupID": gid})["group"]["memberNum"] == 1
    assert notices(u.m) == []
    refused(10007, u.m, "getGroupProfile", {"groupID": gid})
    refused_fn(10007, send, u.o, gid)
    assert u.o.call("joinGroup", {"groupID": gid, "type": "AVChatRoom"})["status"] == "AlreadyInGroup"
    assert send(u.o, gid)["from"] == "owner"


# --- GRP-2 ---------------------------------------------------------------------------------
LIMITS = [("name", 30), ("introduction", 240), ("notification", 300), ("avatar", 100)]


@pytest.mark.parametrize(("field", "limit"), LIMITS)
def test_grp_2_profile_field_sizes_at_create(
    service: Any, u: SimpleNamespace, field: str, limit: int
) -> None:
    ok = "\u00e9" * (limit // 2) + "a" * (limit % 2)  # multi-byte: the limit is in UTF-8 bytes
    assert create(u.o, "Public", **{"name": "g", field: ok})
    refused(10004, u.o, "createGroup", {"name": "g", "type": "Public", field: ok + "a"})
    assert group_count(service) == 1


@pytest.mark.parametrize(("field", "limit"), LIMITS)
def test_grp_2_profile_field_sizes_on_update(
    service: Any, u: SimpleNamespace, field: str, limit: int
) -> None:
    gid = public(u)
    ok = "\u00e9" * (limit // 2) + "a" * (limit % 2)
    assert u.o.call("updateGroupProfile", {"groupID": gid, field: ok})["group"][field] == ok
    before = group_state(service, gid)
    refused(10004, u.o, "updateGroupProfile", {"groupID": gid, field: ok + "b"})
    assert group_state(service, gid) == before


def test_grp_2_group_custom_fields(service: Any, u: SimpleNamespace) -> None:
    ten = [{"key": f"k{i}", "value": "v"} for i in range(10)]
    gid = create(u.o, "Public", groupCustomField=ten)
    refused(
        10004, u.o, "updateGroupProfile", {"groupID": gid, "groupCustomField": [{"key": "k10", "value": "v"}]}
    )
    u.o.call("updateGroupProfile", {"groupID": gid, "groupCustomField": [{"key": "k0", "value": "x" * 512}]})
    refused(
        10004,
        u.o,
        "updateGroupProfile",
        {"groupID": gid, "groupCustomField": [{"key": "k1", "value": "x" * 513}]},
    )
    refused(
        10004, u.o, "createGroup", {"name": "g", "groupCustomField": [*ten, {"key": "k10", "value": "v"}]}
    )
    refused(10004, u.o, "createGroup", {"name": "g", "groupCustomField": [{"key": "k" * 17, "value": "v"}]})
    assert create(u.o, "Public", groupCustomField=[{"key": "k" * 16, "value": "v"}])
    refused(6017, u.o, "createGroup", {"name": "g", "groupCustomField": {"k": "v"}})


def test_grp_2_who_may_update(service: Any, u: SimpleNamespace) -> None:
    private = create(u.o, "Private", memberList=[{"userID": "member"}])
    assert (
        u.m.call("updateGroupProfile", {"groupID": private, "name": "by member"})["group"]["name"]
        == "by member"
    )
    gid = public(u)
    refused(10007, u.m, "updateGroupProfile", {"groupID": gid, "name": "x"})
    refused(10007, u.x, "updateGroupProfile", {"groupID": gid, "name": "x"})
    assert u.a.call("updateGroupProfile", {"groupID": gid, "name": "by admin"})["group"]["name"] == "by admin"
    refused(10010, u.o, "updateGroupProfile", {"groupID": "@TGS#none", "name": "x"})


@pytest.mark.parametrize("group_type", ["Private", "AVChatRoom"])
def test_grp_2_join_option_of_private_and_avchatroom_is_10007(u: SimpleNamespace, group_type: str) -> None:
    gid = create(u.o, group_type)
    refused(10007, u.o, "updateGroupProfile", {"groupID": gid, "joinOption": "FreeAccess"})


def test_grp_2_join_option_of_public_changes(u: SimpleNamespace) -> None:
    gid = public(u)
    group = u.o.call("updateGroupProfile", {"groupID": gid, "joinOption": "DisableApply"})["group"]
    assert group["joinOption"] == "DisableApply"
    refused(10007, u.x, "joinGroup", {"groupID": gid})


def test_grp_2_max_member_num_not_below_member_count(u: SimpleNamespace) -> None:
    gid = public(u)
    refused(10004, u.o, "updateGroupProfile", {"groupID": gid, "maxMemberNum": 2})
    assert u.o.call("updateGroupProfile", {"groupID": gid, "maxMemberNum": 3})["group"]["maxMemberNum"] == 3
    refused(10014, u.x, "joinGroup", {"groupID": gid})


def test_grp_2_tip_6_holds_only_changed_fields(u: SimpleNamespace) -> None:
    gid = create(u.o, "Public", introduction="same", memberList=[{"userID": "member"}])
    drain(u.o, u.m)
    u.o.call("updateGroupProfile", {"groupID": gid, "name": "renamed", "introduction": "same"})
    for tim in (u.o, u.m):
        [tip] = tips(tim)
        assert tip["payload"]["operationType"] == 6
        assert tip["payload"]["newGroupProfile"] == {"name": "renamed"}
        assert tip["payload"]["operatorID"] == "owner"


# --- GRP-3 ---------------------------------------------------------------------------------
def test_grp_3_owner_dismisses_and_members_get_notice_5(u: SimpleNamespace, login: Any) -> None:
    gid = public(u)
    owner_phone = login("owner", platform="android")
    assert u.o.call("dismissGroup", {"groupID": gid}) == {"groupID": gid}
    for tim in (u.a, u.m, owner_phone):
        [notice] = notices(tim)
        assert notice["payload"]["operationType"] == 5
        assert [d["type"] for d in of(tim, "receiveGroupSystemNotice")] == [5]
    assert notices(u.o) == [] and notices(u.x) == []  # not to the acting instance, not to outsiders
    assert [m["payload"]["operationType"] for m in history(u.o, SYSTEM)][-1] == 5  # stored for the owner
    refused(10010, u.o, "getGroupProfile", {"groupID": gid})
    refused(10010, u.x, "joinGroup", {"groupID": gid})
    refused(10010, u.m, "dismissGroup", {"groupID": gid})


def test_grp_3_only_owner_and_never_private(u: SimpleNamespace) -> None:
    gid = public(u)
    refused(10007, u.a, "dismissGroup", {"groupID": gid})
    refused(10007, u.m, "dismissGroup", {"groupID": gid})
    refused(10007, u.x, "dismissGroup", {"groupID": gid})
    private = create(u.o, "Private")
    refused(10007, u.o, "dismissGroup", {"groupID": private})
    assert u.o.call("getGroupProfile", {"groupID": private})


# --- GRP-4 ---------------------------------------------------------------------------------
def test_grp_4_quit_emits_tip_2_and_notice_8(u: SimpleNamespace, login: Any) -> None:
    gid = public(u)
    member_phone = login("member", platform="ios")
    assert u.m.call("quitGroup", {"groupID": gid}) == {"groupID": gid}
    for tim in (u.o, u.a):
        [tip] = tips(tim)
        assert tip["payload"]["operationType"] == 2 and tip["payload"]["userIDList"] == ["member"]
    assert tips(u.m) == [] and tips(member_phone) == []
    assert notices(u.m) == []
    [notice] = notices(member_phone)
    assert notice["payload"]["operationType"] == 8
    refused(10007, u.m, "getGroupProfile", {"groupID": gid})
    refused(10007, u.m, "quitGroup", {"groupID": gid})


@pytest.mark.parametrize("group_type", ["Public", "ChatRoom", "AVChatRoom"])
def test_grp_4_owner_cannot_quit_other_than_private(u: SimpleNamespace, group_type: str) -> None:
    gid = create(u.o, group_type)
    refused(10009, u.o, "quitGroup", {"groupID": gid})


def test_grp_4_private_owner_quits_and_group_has_no_owner(u: SimpleNamespace) -> None:
    gid = create(u.o, "Private", memberList=[{"userID": "member"}])
    u.o.call("quitGroup", {"groupID": gid})
    group = u.m.call("getGroupProfile", {"groupID": gid})["group"]
    assert group["ownerID"] == "" and group["memberNum"] == 1
    assert roles(u.m, gid) == {"member": "Member"}


def test_grp_4_unknown_group_is_10010(u: SimpleNamespace) -> None:
    refused(10010, u.o, "quitGroup", {"groupID": "@TGS#none"})


# --- GRP-5 ---------------------------------------------------------------------------------
def test_grp_5_search(u: SimpleNamespace) -> None:
    refused(10010, u.x, "searchGroupByID", {"groupID": "@TGS#none"})
    private = create(u.o, "Private")
    refused(10007, u.x, "searchGroupByID", {"groupID": private})
    refused(10007, u.o, "searchGroupByID", {"groupID": private})
    gid = public(u)
    group = u.x.call("searchGroupByID", {"groupID": gid})["group"]
    assert group["groupID"] == gid and "selfInfo" not in group


def test_grp_5_profile_for_members_only_with_member_num(u: SimpleNamespace) -> None:
    gid = public(u)
    refused(10007, u.x, "getGroupProfile", {"groupID": gid})
    group = u.m.call("getGroupProfile", {"groupID": gid})["group"]
    assert group["memberNum"] == 3 and group["selfInfo"]["role"] == "Member"


def test_grp_5_group_list_lists_the_callers_groups(u: SimpleNamespace) -> None:
    first = public(u)
    second = create(u.m, "Private")
    third = create(u.o, "ChatRoom")
    assert {g["groupID"] for g in u.m.call("getGroupList")["groupList"]} == {first, second}
    assert {g["groupID"] for g in u.o.call("getGroupList")["groupList"]} == {first, third}
    assert u.x.call("getGroupList")["groupList"] == []


# --- GRP-6 ---------------------------------------------------------------------------------
def test_grp_6_change_owner(u: SimpleNamespace) -> None:
    gid = public(u)
    group = u.o.call("changeGroupOwner", {"groupID": gid, "newOwnerID": "member"})["group"]
    assert group["ownerID"] == "member" and group["selfInfo"]["role"] == "Member"
    assert roles(u.m, gid) == {"owner": "Member", "admin": "Admin", "member": "Owner"}
    for tim in (u.o, u.a, u.m):
        [tip] = tips(tim)
        assert tip["payload"]["operationType"] == 6
        assert tip["payload"]["newGroupProfile"] == {"ownerID": "member"}
    refused(10007, u.o, "changeGroupOwner", {"groupID": gid, "newOwnerID": "admin"})  # no longer Owner


def test_grp_6_refusals_in_order(service: Any, u: SimpleNamespace) -> None:
    av = create(u.o, "AVChatRoom")
    u.m.call("joinGroup", {"groupID": av, "type": "AVChatRoom"})
    refused(10007, u.o, "changeGroupOwner", {"groupID": av, "newOwnerID": "member"})
    gid = public(u)
    before = group_state(service, gid)
    refused(10007, u.a, "changeGroupOwner", {"groupID": gid, "newOwnerID": "member"})
    refused(10007, u.o, "changeGroupOwner", {"groupID": gid, "newOwnerID": "outsider"})
    refused(10004, u.o, "changeGroupOwner", {"groupID": gid, "newOwnerID": "owner"})
    refused(10010, u.o, "changeGroupOwner", {"groupID": "@TGS#none", "newOwnerID": "member"})
    assert group_state(service, gid) == before


# --- GRP-7 ---------------------------------------------------------------------------------
def test_grp_7_free_access_join(u: SimpleNamespace) -> None:
    gid = public(u)
    reply = u.x.call("joinGroup", {"groupID": gid})
    assert reply["status"] == "JoinedSuccess" and reply["group"]["selfInfo"]["role"] == "Member"
    for tim in (u.o, u.a, u.m, u.x):
        [tip] = tips(tim)
        assert tip["payload"]["operationType"] == 1 and tip["payload"]["userIDList"] == ["outsider"]
    assert u.x.call("joinGroup", {"groupID": gid})["status"] == "AlreadyInGroup"


def test_grp_7_private_and_disable_apply_are_10007(u: SimpleNamespace) -> None:
    refused(10007, u.x, "joinGroup", {"groupID": create(u.o, "Private")})
    gid = public(u, joinOption="DisableApply")
    refused(10007, u.x, "joinGroup", {"groupID": gid})
    refused(10010, u.x, "joinGroup", {"groupID": "@TGS#none"})


def test_grp_7_member_of_a_disable_apply_group_is_already_in_group(u: SimpleNamespace) -> None:
    gid = public(u, joinOption="DisableApply")
    assert u.m.call("joinGroup", {"groupID": gid})["status"] == "AlreadyInGroup"


def test_grp_7_full_is_10014(u: SimpleNamespace) -> None:
    gid = public(u, maxMemberNum=3)
    refused(10014, u.x, "joinGroup", {"groupID": gid})


def test_grp_7_need_permission_applies(u: SimpleNamespace, login: Any) -> None:
    gid = public(u, joinOption="NeedPermission")
    owner_phone = login("owner", platform="android")
    reply = u.x.call("joinGroup", {"groupID": gid, "applyMessage": "let me in"})
    assert reply == {"status": "WaitAdminApproval"}
    for tim in (u.o, owner_phone, u.a):
        [notice] = notices(tim)
        assert notice["payload"]["operationType"] == 1
        assert notice["payload"]["handleMessage"] == "let me in"
        assert notice["payload"]["operatorID"] == "outsider"
    assert notices(u.m) == [] and notices(u.x) == []
    refused(10007, u.x, "getGroupProfile", {"groupID": gid})


def test_grp_7_reapplying_replaces_the_pending_application(u: SimpleNamespace) -> None:
    gid = public(u, joinOption="NeedPermission")
    u.x.call("joinGroup", {"groupID": gid, "applyMessage": "first"})
    [old] = notices(u.o)
    drain(u.o)
    u.x.call("joinGroup", {"groupID": gid, "applyMessage": "second"})
    [new] = notices(u.o)
    assert new["payload"]["handleMessage"] == "second"
    refused(10024, u.o, "handleGroupApplication", {"handleAction": "Agree", "message": old})
    u.o.call("handleGroupApplication", {"handleAction": "Agree", "message": new})
    assert "outsider" in roles(u.o, gid)


def test_grp_7_avchatroom_needs_the_type(u: SimpleNamespace) -> None:
    gid = create(u.o, "AVChatRoom")
    refused(6017, u.x, "joinGroup", {"groupID": gid})
    assert u.x.call("joinGroup", {"groupID": gid, "type": "AVChatRoom"})["status"] == "JoinedSuccess"


def test_grp_7_joining_an_avchatroom_leaves_the_previous_one(u: SimpleNamespace) -> None:
    first, second = create(u.o, "AVChatRoom"), create(u.o, "AVChatRoom")
    u.o.call("joinGroup", {"groupID": first, "type": "AVChatRoom"})
    u.x.call("joinGroup", {"groupID": first, "type": "AVChatRoom"})
    drain(u.o, u.x)
    u.x.call("joinGroup", {"groupID": second, "type": "AVChatRoom"})
    assert roles(u.o, first) == {"owner": "Owner"}
    assert [t["payload"]["operationType"] for t in tips(u.o) if t["to"] == first] == [2]  # quit tip
    assert {g["groupID"] for g in u.x.call("getGroupList")["groupList"]} == {second}
    send(u.x, second)
    refused(10007, u.x, "getGroupProfile", {"groupID": first})


def test_grp_7_owner_entering_another_avchatroom_stays_owner(u: SimpleNamespace) -> None:
    first, second = create(u.o, "AVChatRoom"), create(u.o, "AVChatRoom")
    u.o.call("joinGroup", {"groupID": first, "type": "AVChatRoom"})
    u.o.call("joinGroup", {"groupID": second, "type": "AVChatRoom"})
    assert roles(u.o, first) == {"owner": "Owner"}
    refused_fn(10007, send, u.o, first)  # left the room: rejoin to send
    u.o.call("joinGroup", {"groupID": first, "type": "AVChatRoom"})
    send(u.o, first)


# --- GRP-8 ---------------------------------------------------------------------------------
def apply(u: SimpleNamespace, gid: str, applicant: Any = None, message: str = "hi") -> dict[str, Any]:
    applicant = applicant or u.x
    drain(u.o, u.a)
    applicant.call("joinGroup", {"groupID": gid, "applyMessage": message})
    [notice] = notices(u.o)
    drain(u.o, u.a, applicant)
    return notice


def test_grp_8_agree(u: SimpleNamespace) -> None:
    gid = public(u, joinOption="NeedPermission")
    notice = apply(u, gid)
    reply = u.o.call(
        "handleGroupApplication", {"handleAction": "Agree", "handleMessage": "welcome", "message": notice}
    )
    assert set(reply) == {"group"} and reply["group"]["memberNum"] == 4
    [accepted] = notices(u.x)
    assert accepted["payload"]["operationType"] == 2 and accepted["payload"]["handleMessage"] == "welcome"
    for tim in (u.o, u.a, u.m, u.x):
        [tip] = tips(tim)
        assert tip["payload"]["operationType"] == 1 and tip["payload"]["userIDList"] == ["outsider"]
    assert {g["groupID"] for g in of(u.x, "onGroupListUpdated")[-1]} == {gid}
    refused(
        10024, u.a, "handleGroupApplication", {"handleAction": "Reject", "message": history(u.a, SYSTEM)[-1]}
    )


def test_grp_8_reject(u: SimpleNamespace) -> None:
    gid = public(u, joinOption="NeedPermission")
    notice = apply(u, gid)
    u.a.call(
        "handleGroupApplication",
        {"handleAction": "Reject", "handleMessage": "no", "message": history(u.a, SYSTEM)[-1]},
    )
    [refusal] = notices(u.x)
    assert refusal["payload"]["operationType"] == 3 and refusal["payload"]["handleMessage"] == "no"
    assert "outsider" not in roles(u.o, gid)
    refused(10024, u.o, "handleGroupApplication", {"handleAction": "Agree", "message": notice})


def test_grp_8_caller_must_be_owner_or_admin(u: SimpleNamespace) -> None:
    gid = public(u, joinOption="NeedPermission")
    apply(u, gid)
    u.o.call("setGroupMemberRole", {"groupID": gid, "userID": "admin", "role": "Member"})
    refused(
        10007, u.a, "handleGroupApplication", {"handleAction": "Agree", "message": history(u.a, SYSTEM)[-2]}
    )


def test_grp_8_bad_action_is_6017(u: SimpleNamespace) -> None:
    gid = public(u, joinOption="NeedPermission")
    notice = apply(u, gid)
    refused(6017, u.o, "handleGroupApplication", {"handleAction": "Maybe", "message": notice})
    u.o.call("handleGroupApplication", {"handleAction": "Agree", "message": notice})


def test_grp_8_agree_when_full_is_10014_and_stays_pending(u: SimpleNamespace) -> None:
    gid = public(u, joinOption="NeedPermission", maxMemberNum=4)
    notice = apply(u, gid)
    u.o.call("updateGroupProfile", {"groupID": gid, "maxMemberNum": 3})
    refused(10014, u.o, "handleGroupApplication", {"handleAction": "Agree", "message": notice})
    assert notices(u.x) == []
    u.o.call("updateGroupProfile", {"groupID": gid, "maxMemberNum": 4})
    u.o.call("handleGroupApplication", {"handleAction": "Agree", "message": notice})
    assert "outsider" in roles(u.o, gid)


# --- GRP-9 ---------------------------------------------------------------------------------
def test_grp_9_remind_types(u: SimpleNamespace, login: Any) -> None:
    gid = public(u)
    member_phone = login("member", platform="ios")
    refused(6017, u.m, "setMessageRemindType", {"groupID": gid, "messageRemindType": "Loud"})
    refused(10007, u.x, "setMessageRemindType", {"groupID": gid, "messageRemindType": "Discard"})
    refused(10010, u.m, "setMessageRemindType", {"groupID": "@TGS#none", "messageRemindType": "Discard"})
    reply = u.m.call("setMessageRemindType", {"groupID": gid, "messageRemindType": "Discard"})
    assert set(reply) == {"group"}
    assert conversation(u.m, "GROUP" + gid)["messageRemindType"] == "Discard"
    drain(u.m, member_phone)
    message = send(u.o, gid)
    u.o.call("updateGroupProfile", {"groupID": gid, "name": "tip"})
    for tim in (u.m, member_phone):
        assert received(tim) == [] and of(tim, "onConversationListUpdated") == []
    assert conversation(u.m, "GROUP" + gid)["unreadCount"] == 0
    assert message["ID"] in [m["ID"] for m in history(u.m, "GROUP" + gid)]  # still in history
    assert received(u.a)[0]["ID"] == message["ID"]  # others unaffected (per account)
    assert conversation(u.a, "GROUP" + gid)["unreadCount"] == 1

    u.m.call("setMessageRemindType", {"groupID": gid, "messageRemindType": "AcceptNotNotify"})
    send(u.o, gid)
    for tim in (u.m, member_phone):
        assert len([m for m in received(tim) if m["type"] == "TIMTextElem"]) == 1
    profile = conversation(u.m, "GROUP" + gid)
    assert profile["messageRemindType"] == "AcceptNotNotify" and profile["unreadCount"] == 1


def test_grp_9_remind_type_is_per_group(u: SimpleNamespace) -> None:
    first, second = public(u), public(u)
    u.m.call("setMessageRemindType", {"groupID": first, "messageRemindType": "Discard"})
    send(u.o, second)
    assert [m["to"] for m in received(u.m)] == [second]
    assert conversation(u.m, "GROUP" + second)["messageRemindType"] == "AcceptAndNotify"


# --- REPLY-1 (group methods) ----------------------------------------------------------------
def keys(reply: dict[str, Any]) -> set[str]:
    return set(reply)


def test_reply_1_group_reply_shapes(service: Any, u: SimpleNamespace) -> None:
    o, a, m, x = u.o, u.a, u.m, u.x
    created = o.call(
        "createGroup",
        {
            "name": "g",
            "type": "Public",
            "joinOption": "NeedPermission",
            "memberList": [{"userID": "admin", "role": "Admin"}, {"userID": "member"}],
        },
    )
    assert keys(created) == {"group"}
    group = created["group"]
    assert {
        "groupID",
        "name",
        "avatar",
        "type",
        "introduction",
        "notification",
        "ownerID",
        "createTime",
        "joinOption",
        "memberNum",
        "maxMemberNum",
        "groupCustomField",
        "selfInfo",
    } <= keys(group)
    gid = group["groupID"]
    assert keys(o.call("updateGroupProfile", {"groupID": gid, "name": "h"})) == {"group"}
    assert keys(x.call("searchGroupByID", {"groupID": gid})) == {"group"}
    assert keys(o.call("getGroupProfile", {"groupID": gid})) == {"group"}
    assert keys(o.call("getGroupList")) == {"groupList"}
    assert keys(m.call("setMessageRemindType", {"groupID": gid, "messageRemindType": "AcceptNotNotify"})) == {
        "group"
    }
    drain(o)
    assert keys(x.call("joinGroup", {"groupID": gid})) == {"status"}
    [notice] = notices(o)
    assert keys(o.call("handleGroupApplication", {"handleAction": "Agree", "message": notice})) == {"group"}
    assert keys(x.call("joinGroup", {"groupID": gid})) == {"status", "group"}
    free = create(o, "Public")
    assert keys(x.call("joinGroup", {"groupID": free})) == {"status", "group"}
    assert keys(x.call("quitGroup", {"groupID": free})) == {"groupID"}
    private = create(o, "Private")
    assert keys(o.call("addGroupMember", {"groupID": private, "userIDList": ["member", "nobody"]})) == {
        "successUserIDList",
        "failureUserIDList",
        "existedUserIDList",
        "group",
    }
    assert keys(o.call("deleteGroupMember", {"groupID": private, "userIDList": ["member"]})) == {
        "group",
        "userIDList",
    }
    page = o.call("getGroupMemberList", {"groupID": gid})
    assert keys(page) == {"memberList", "offset"}
    assert keys(page["memberList"][0]) == {
        "userID",
        "role",
        "nameCard",
        "nick",
        "avatar",
        "joinTime",
        "muteUntil",
        "memberCustomField",
    }
    assert keys(o.call("getGroupMemberProfile", {"groupID": gid, "userIDList": ["member"]})) == {"memberList"}
    for method, extra in (
        ("setGroupMemberMuteTime", {"userID": "member", "muteTime": 10}),
        ("setGroupMemberRole", {"userID": "member", "role": "Admin"}),
        ("setGroupMemberNameCard", {"userID": "member", "nameCard": "m"}),
        (
            "setGroupMemberCustomField",
            {"userID": "member", "memberCustomField": [{"key": "k", "value": "v"}]},
        ),
    ):
        assert keys(o.call(method, {"groupID": gid, **extra})) == {"group", "member"}, method
    assert keys(o.call("changeGroupOwner", {"groupID": gid, "newOwnerID": "admin"})) == {"group"}
    assert keys(a.call("dismissGroup", {"groupID": gid})) == {"groupID"}
    assert keys(o.call("quitGroup", {"groupID": private})) == {"groupID"}
    chat = create(o, "Private", memberList=[{"userID": "member"}])
    message = o.send_message(
        {"to": chat, "conversationType": "GROUP", "type": "TIMTextElem", "payload": {"text": "t"}}
    )
    assert keys(message) == {"message"}
    assert {
        "ID",
        "type",
        "payload",
        "conversationID",
        "conversationType",
        "to",
        "from",
        "flow",
        "time",
        "sequence",
        "random",
        "status",
        "isRevoked",
        "priority",
        "nick",
        "avatar",
        "cloudCustomData",
    } <= keys(message["message"])
    assert keys(o.get_message_list({"conversationID": "GROUP" + chat})) == {
        "messageList",
        "nextReqMessageID",
        "isCompleted",
    }
    assert keys(o.revoke_message(message["message"])) == {"message"}
    other = o.send_message(
        {"to": chat, "conversationType": "GROUP", "type": "TIMTextElem", "payload": {"text": "t"}}
    )["message"]
    assert keys(o.delete_message([other])) == {"messageList"}
