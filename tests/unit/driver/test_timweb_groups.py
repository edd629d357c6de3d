"""Group bodies of the Web SDK wire as SDK values, and group pushes as SDK events."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from simtim.driver import timweb_groups as groups
from simtim.driver import timweb_messages
from simtim.driver.base import EventStream, Reply
from simtim.driver.timweb import Instance


def test_grp_1_group_info_reads_as_the_sdk_group() -> None:
    info = {
        "GroupId": "@TGS#1",
        "Type": "Public",
        "Name": "g",
        "Owner_Account": "alice",
        "CreateTime": 17,
        "MemberNum": 2,
        "MaxMemberNum": 2000,
        "ApplyJoinOption": "FreeAccess",
        "ShutUpAllMember": "On",
        "AppDefinedData": [{"Key": "k", "Value": "v"}],
        "SelfInfo": {"Role": "Owner", "NameCard": "", "JoinTime": 17},
    }
    group = groups.group_from_wire(info)
    assert group["groupID"] == "@TGS#1" and group["ownerID"] == "alice" and group["muteAllMembers"] is True
    assert group["groupCustomField"] == [{"key": "k", "value": "v"}]
    assert group["selfInfo"] == {"role": "Owner", "nameCard": "", "joinTime": 17}
    assert "selfInfo" not in groups.group_from_wire({"GroupId": "@TGS#1"})  # not a member


def test_mbr_3_member_items_read_as_sdk_members() -> None:
    item = {"Member_Account": "bob", "Role": "Admin", "ShutUpUntil": 99, "AppMemberDefinedData": []}
    member = groups.member_from_wire(item)
    assert member["userID"] == "bob" and member["role"] == "Admin" and member["muteUntil"] == 99


def instance(user: str) -> Instance:
    made = Instance(1400000000)
    made.user_id = user
    return made


def test_tip_1_sys_1_group_pushes_become_messages_tips_and_notices() -> None:
    bob = instance("bob")
    stream = EventStream("s")
    message = {
        "GroupId": "@TGS#1",
        "From_Account": "alice",
        "MsgSeq": 4,
        "MsgTimeStamp": 5,
        "MsgPriority": 1,
        "MsgBody": [{"MsgType": "TIMTextElem", "MsgContent": {"Text": "hi"}}],
        "MsgFrom_AccountExtraInfo": {"Nick": "Al", "FaceUrl": ""},
    }
    tip = {
        "ToGroupId": "@TGS#1",
        "MsgSeq": 5,
        "MsgBody": {"OpType": 1, "Operator_Account": "carol", "List_Account": ["carol"]},
    }
    groups.push_to_events(bob, stream, {"Event": 3, "GroupMsgArray": [message]})
    groups.push_to_events(bob, stream, {"Event": 4, "GroupTips": [tip]})
    notice = {
        "GroupInfo": {"GroupId": "@TGS#1"},
        "MsgSeq": 1,
        "MsgBody": {"OpType": 7, "Operator_Account": "alice"},
    }
    groups.push_to_events(bob, stream, {"Event": 5, "GroupTips": [notice]})
    recall = {"GroupInfo": {"GroupId": "@TGS#1"}, "MsgBody": {"GroupWithdrawInfoArray": [{"MsgSeq": 4}]}}
    groups.push_to_events(bob, stream, {"Event": 5, "GroupTips": [recall]})
    names = [(e.name, e.data) for e in stream.drain()]
    (received, [got]), (tipped, [tip_view]), (_, [notice_view]), (noticed, data), (revoked, [gone]) = names
    assert received == tipped == "onMessageReceived"
    assert got["priority"] == "High" and got["nick"] == "Al" and got["conversationID"] == "GROUP@TGS#1"
    assert tip_view["type"] == "TIMGroupTipElem" and tip_view["from"] == "@TIM#SYSTEM"
    assert tip_view["payload"] == {"operationType": 1, "operatorID": "carol", "userIDList": ["carol"]}
    assert notice_view["conversationID"] == "@TIM#SYSTEM" and noticed == "receiveGroupSystemNotice"
    assert data["type"] == 7
    assert revoked == "onMessageRevoked" and gone["ID"] == got["ID"] and gone["isRevoked"] is True
    assert gone["payload"] == {"text": "hi"}  # the held copy, not the place-holder


class Recorder:
    """A WireClient that answers every command OK and keeps what was asked."""

    def __init__(self) -> None:
        self.asked: list[tuple[str, dict[str, Any]]] = []

    def request(self, instance: Instance, servcmd: str, body: Mapping[str, Any]) -> Reply:
        self.asked.append((servcmd, dict(body)))
        if servcmd.endswith("get_group_info"):
            return Reply(0, "", {"GroupInfo": [{"GroupId": body["GroupIdList"][0]}]})
        if servcmd.endswith("get_specified_group_member_info"):
            return Reply(0, "", {"MemberList": [{"Member_Account": body["Member_List_Account"][0]}]})
        return Reply(0, "", {})


def test_role_2_role_3_name_card_and_custom_field_default_to_the_caller_as_the_sdk_does() -> None:
    carol = instance("carol")
    for method, option in (
        ("setGroupMemberNameCard", {"nameCard": "Caz"}),
        ("setGroupMemberCustomField", {}),
    ):
        wire = Recorder()
        reply = groups.HANDLERS[method](wire, carol, {"groupID": "@TGS#1", **option})
        assert reply.ok and reply.data["member"]["userID"] == "carol"
        assert wire.asked[0][1]["Member_Account"] == "carol"
    wire = Recorder()  # a role change names nobody by default: the SDK sends what it was given
    groups.HANDLERS["setGroupMemberRole"](wire, carol, {"groupID": "@TGS#1", "role": "Admin"})
    assert wire.asked[0][1]["Member_Account"] is None


def test_prof_1_rest_3_a_profile_push_is_on_profile_updated() -> None:
    alice = instance("alice")
    stream = EventStream("s")
    change = {
        "Profile_Account": "alice",
        "ProfileList": [
            {"Tag": "Tag_Profile_IM_Nick", "ValueBytes": "Al"},
            {"Tag": "Tag_Profile_IM_Image", "ValueBytes": "https://x/a.png"},
        ],
    }
    timweb_messages.push_to_events(alice, stream, {"ProfileDataMod": [change]})
    ((name, data),) = [(e.name, e.data) for e in stream.drain()]
    assert name == "onProfileUpdated"
    assert data == [{"userID": "alice", "nick": "Al", "avatar": "https://x/a.png"}]
