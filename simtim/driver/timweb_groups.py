"""Groups over the Web SDK wire (``group_open_http_svc``): one handler per TIM group method, and the
group pushes (messages, tips, system notices, revokes) as SDK events.

Bodies use the REST v4 group names.  Where the SDK resolves a method with the group's profile or a
member's, it reads them back from the server after the change (``get_group_info``,
``get_specified_group_member_info``), as the official SDK refreshes its cache; nothing about a group
is worked out on the client.
"""

from __future__ import annotations

import secrets
from collections.abc import Mapping
from typing import Any

from simtim.driver import timweb_map as wire
from simtim.driver.base import EventStream, Reply
from simtim.driver.timweb_instance import Handler, Instance, WireClient, is_modified_notice, settle_send
from simtim.errors import Code
from simtim.model.events import GROUP_SYSTEM_NOTICE_RECEIVED, MESSAGE_RECEIVED, MESSAGE_REVOKED

SERVICE = "group_open_http_svc"
SYSTEM_CONVERSATION = "@TIM#SYSTEM"
TIP_ELEM = "TIMGroupTipElem"
NOTICE_ELEM = "TIMGroupSystemNoticeElem"
#: TIM method option -> create_group / modify_group_base_info field (REST v4 names)
PROFILE_FIELDS = {
    "name": "Name",
    "introduction": "Introduction",
    "notification": "Notification",
    "avatar": "FaceUrl",
    "joinOption": "ApplyJoinOption",
}


def _pairs(value: Any) -> Any:
    """The SDK's ``[{key, value}]`` -> ``[{Key, Value}]`` (anything else is passed on for the server)."""
    if isinstance(value, list):
        return [{"Key": v.get("key"), "Value": v.get("value")} if isinstance(v, dict) else v for v in value]
    return value


def _from_pairs(value: Any) -> list[dict[str, Any]]:
    if not isinstance(value, list):
        return []
    return [{"key": v.get("Key"), "value": v.get("Value")} for v in value if isinstance(v, dict)]


def group_from_wire(info: Mapping[str, Any]) -> dict[str, Any]:
    """``GroupInfo`` -> the SDK's Group (GRP-*)."""
    group: dict[str, Any] = {
        "groupID": info.get("GroupId", ""),
        "name": info.get("Name", ""),
        "avatar": info.get("FaceUrl", ""),
        "type": info.get("Type", ""),
        "introduction": info.get("Introduction", ""),
        "notification": info.get("Notification", ""),
        "ownerID": info.get("Owner_Account", ""),
        "createTime": info.get("CreateTime", 0),
        "joinOption": info.get("ApplyJoinOption", ""),
        "memberNum": info.get("MemberNum", 0),
        "maxMemberNum": info.get("MaxMemberNum", 0),
        "groupCustomField": _from_pairs(info.get("AppDefinedData")),
        "muteAllMembers": info.get("ShutUpAllMember") == "On",
    }
    mine = info.get("SelfInfo")
    if isinstance(mine, dict):
        group["selfInfo"] = {
            "role": mine.get("Role", ""),
            "nameCard": mine.get("NameCard", ""),
            "joinTime": mine.get("JoinTime", 0),
        }
    return group


def member_from_wire(item: Mapping[str, Any]) -> dict[str, Any]:
    """``MemberList`` item -> the SDK's GroupMember (MBR-*)."""
    return {
        "userID": item.get("Member_Account", ""),
        "role": item.get("Role", ""),
        "nameCard": item.get("NameCard", ""),
        "nick": item.get("Nick", ""),
        "avatar": item.get("Avatar", ""),
        "joinTime": item.get("JoinTime", 0),
        "muteUntil": item.get("ShutUpUntil", 0),
        "memberCustomField": _from_pairs(item.get("AppMemberDefinedData")),
    }


# --- reading back what the SDK shows -------------------------------------------------------------
def _profile(driver: WireClient, instance: Instance, group_id: Any) -> Reply:
    reply = driver.request(instance, f"{SERVICE}.get_group_info", {"GroupIdList": [group_id]})
    if not reply.ok:
        return reply
    infos = [i for i in reply.data.get("GroupInfo") or [] if isinstance(i, dict)]
    if not infos:
        return Reply.transport_failure("get_group_info answered no GroupInfo")
    code = infos[0].get("ErrorCode", 0)
    if code:
        return Reply(int(code), str(infos[0].get("ErrorInfo", "")))
    return Reply(0, "", {"group": group_from_wire(infos[0])})


def _member(driver: WireClient, instance: Instance, group_id: Any, user_id: Any) -> Reply:
    body = {"GroupId": group_id, "Member_List_Account": [user_id]}
    reply = driver.request(instance, f"{SERVICE}.get_specified_group_member_info", body)
    if not reply.ok:
        return reply
    members = [m for m in reply.data.get("MemberList") or [] if isinstance(m, dict)]
    if not members:
        return Reply.transport_failure("get_specified_group_member_info answered no member")
    return Reply(0, "", {"member": member_from_wire(members[0])})


def _then_profile(driver: WireClient, instance: Instance, group_id: Any, reply: Reply) -> Reply:
    return reply if not reply.ok else _profile(driver, instance, group_id)


# --- the group itself ------------------------------------------------------------------------------
def create_group(driver: WireClient, instance: Instance, args: Mapping[str, Any]) -> Reply:
    body: dict[str, Any] = {"Type": args.get("type"), "Name": args.get("name")}
    for option, field in PROFILE_FIELDS.items():
        if args.get(option) is not None and option != "name":
            body[field] = args[option]
    if args.get("groupID") is not None:
        body["GroupId"] = args["groupID"]
    if args.get("maxMemberNum") is not None:
        body["MaxMemberCount"] = args["maxMemberNum"]
    if args.get("groupCustomField") is not None:
        body["AppDefinedData"] = _pairs(args["groupCustomField"])
    members = args.get("memberList")
    if members is not None:
        if not isinstance(members, list):
            return Reply(int(Code.INVALID_PARAMETERS), "memberList must be a list")
        body["MemberList"] = [_member_record(m) for m in members]
    reply = driver.request(instance, f"{SERVICE}.create_group", body)
    if not reply.ok:
        return reply
    return _profile(driver, instance, reply.data.get("GroupId"))


def _member_record(member: Any) -> Any:
    if not isinstance(member, dict):
        return member
    record: dict[str, Any] = {"Member_Account": member.get("userID")}
    if member.get("role") is not None:
        record["Role"] = member["role"]
    if member.get("memberCustomField") is not None:
        record["AppMemberDefinedData"] = _pairs(member["memberCustomField"])
    return record


def update_group_profile(driver: WireClient, instance: Instance, args: Mapping[str, Any]) -> Reply:
    group_id = args.get("groupID")
    body: dict[str, Any] = {"GroupId": group_id}
    for option, field in PROFILE_FIELDS.items():
        if args.get(option) is not None:
            body[field] = args[option]
    if args.get("maxMemberNum") is not None:
        body["MaxMemberNum"] = args["maxMemberNum"]
    if args.get("groupCustomField") is not None:
        body["AppDefinedData"] = _pairs(args["groupCustomField"])
    if args.get("muteAllMembers") is not None:
        mute = args["muteAllMembers"]
        body["ShutUpAllMember"] = ("On" if mute else "Off") if isinstance(mute, bool) else mute
    reply = driver.request(instance, f"{SERVICE}.modify_group_base_info", body)
    return _then_profile(driver, instance, group_id, reply)


def dismiss_group(driver: WireClient, instance: Instance, args: Mapping[str, Any]) -> Reply:
    group_id = args.get("groupID")
    reply = driver.request(instance, f"{SERVICE}.destroy_group", {"GroupId": group_id})
    return reply if not reply.ok else Reply(0, "", {"groupID": group_id})


def join_group(driver: WireClient, instance: Instance, args: Mapping[str, Any]) -> Reply:
    group_id = args.get("groupID")
    body: dict[str, Any] = {"GroupId": group_id}
    if args.get("applyMessage") is not None:
        body["ApplyMsg"] = args["applyMessage"]
    reply = driver.request(instance, f"{SERVICE}.apply_join_group", body)
    if not reply.ok:
        return reply
    status = str(reply.data.get("JoinedStatus", ""))
    if status not in ("JoinedSuccess", "AlreadyInGroup"):
        return Reply(0, "", {"status": status})
    profile = _profile(driver, instance, group_id)
    return profile if not profile.ok else Reply(0, "", {"status": status, **profile.data})


def quit_group(driver: WireClient, instance: Instance, args: Mapping[str, Any]) -> Reply:
    group_id = args.get("groupID")
    reply = driver.request(instance, f"{SERVICE}.quit_group", {"GroupId": group_id})
    return reply if not reply.ok else Reply(0, "", {"groupID": group_id})


def get_group_profile(driver: WireClient, instance: Instance, args: Mapping[str, Any]) -> Reply:
    return _profile(driver, instance, args.get("groupID"))


def search_group_by_id(driver: WireClient, instance: Instance, args: Mapping[str, Any]) -> Reply:
    body = {"GroupIdList": [args.get("groupID")]}
    reply = driver.request(instance, f"{SERVICE}.get_group_public_info", body)
    if not reply.ok:
        return reply
    infos = [i for i in reply.data.get("GroupInfo") or [] if isinstance(i, dict)]
    if not infos:
        return Reply.transport_failure("get_group_public_info answered no GroupInfo")
    if infos[0].get("ErrorCode"):
        return Reply(int(infos[0]["ErrorCode"]), str(infos[0].get("ErrorInfo", "")))
    return Reply(0, "", {"group": group_from_wire(infos[0])})


def get_group_list(driver: WireClient, instance: Instance, args: Mapping[str, Any]) -> Reply:
    reply = driver.request(instance, f"{SERVICE}.get_joined_group_list", {"Member_Account": instance.user_id})
    if not reply.ok:
        return reply
    infos = [i for i in reply.data.get("GroupIdList") or [] if isinstance(i, dict)]
    return Reply(0, "", {"groupList": [group_from_wire(i) for i in infos]})


def set_message_remind_type(driver: WireClient, instance: Instance, args: Mapping[str, Any]) -> Reply:
    group_id = args.get("groupID")
    body = {"GroupId": group_id, "Member_Account": instance.user_id, "MsgFlag": args.get("messageRemindType")}
    reply = driver.request(instance, f"{SERVICE}.modify_group_member_info", body)
    return _then_profile(driver, instance, group_id, reply)


# --- members ----------------------------------------------------------------------------------------
def get_group_member_list(driver: WireClient, instance: Instance, args: Mapping[str, Any]) -> Reply:
    """MBR-3: ``Limit``/``Offset``; the next offset is the SDK's own count (0 when it has them all)."""
    offset = args.get("offset", 0) or 0
    body: dict[str, Any] = {"GroupId": args.get("groupID"), "Offset": offset}
    if args.get("count") is not None:
        body["Limit"] = args["count"]
    reply = driver.request(instance, f"{SERVICE}.get_group_member_info", body)
    if not reply.ok:
        return reply
    members = [member_from_wire(m) for m in reply.data.get("MemberList") or [] if isinstance(m, dict)]
    total = reply.data.get("MemberNum", 0)
    following = offset + len(members) if isinstance(offset, int) else 0
    following = 0 if not isinstance(total, int) or following >= total else following
    return Reply(0, "", {"memberList": members, "offset": following})


def get_group_member_profile(driver: WireClient, instance: Instance, args: Mapping[str, Any]) -> Reply:
    body = {"GroupId": args.get("groupID"), "Member_List_Account": args.get("userIDList")}
    reply = driver.request(instance, f"{SERVICE}.get_specified_group_member_info", body)
    if not reply.ok:
        return reply
    members = [member_from_wire(m) for m in reply.data.get("MemberList") or [] if isinstance(m, dict)]
    return Reply(0, "", {"memberList": members})


def add_group_member(driver: WireClient, instance: Instance, args: Mapping[str, Any]) -> Reply:
    group_id = args.get("groupID")
    users = args.get("userIDList")
    records = [{"Member_Account": u} for u in users] if isinstance(users, list) else users
    reply = driver.request(
        instance, f"{SERVICE}.add_group_member", {"GroupId": group_id, "MemberList": records}
    )
    if not reply.ok:
        return reply
    results = [m for m in reply.data.get("MemberList") or [] if isinstance(m, dict)]
    lists: dict[str, list[Any]] = {"successUserIDList": [], "failureUserIDList": [], "existedUserIDList": []}
    for result in results:
        outcome = result.get("Result")
        key = (
            "successUserIDList"
            if outcome == 1
            else "existedUserIDList"
            if outcome == 2
            else "failureUserIDList"
        )
        lists[key].append(result.get("Member_Account"))
    profile = _profile(driver, instance, group_id)
    return profile if not profile.ok else Reply(0, "", {**lists, **profile.data})


def delete_group_member(driver: WireClient, instance: Instance, args: Mapping[str, Any]) -> Reply:
    group_id = args.get("groupID")
    body: dict[str, Any] = {"GroupId": group_id, "MemberToDel_Account": args.get("userIDList")}
    if args.get("reason") is not None:
        body["Reason"] = args["reason"]
    reply = driver.request(instance, f"{SERVICE}.delete_group_member", body)
    if not reply.ok:
        return reply
    profile = _profile(driver, instance, group_id)
    return profile if not profile.ok else Reply(0, "", {**profile.data, "userIDList": args.get("userIDList")})


def _member_change(field: str, option: str, self_by_default: bool = False) -> Handler:
    """setGroupMemberRole / NameCard / MuteTime / CustomField: one ``modify_group_member_info``.

    ``self_by_default``: the SDK fills a missing ``userID`` with its own user before it asks
    (``userID = getMyUserID()`` in both pinned versions' setGroupMemberNameCard and
    setGroupMemberCustomField; ROLE-2, ROLE-3), so the request names the caller."""

    def handler(driver: WireClient, instance: Instance, args: Mapping[str, Any]) -> Reply:
        group_id, user_id = args.get("groupID"), args.get("userID")
        if user_id is None and self_by_default:
            user_id = instance.user_id
        value = args.get(option)
        body = {
            "GroupId": group_id,
            "Member_Account": user_id,
            field: _pairs(value) if option == "memberCustomField" else value,
        }
        reply = driver.request(instance, f"{SERVICE}.modify_group_member_info", body)
        if not reply.ok:
            return reply
        profile = _profile(driver, instance, group_id)
        if not profile.ok:
            return profile
        member = _member(driver, instance, group_id, user_id)
        return member if not member.ok else Reply(0, "", {**profile.data, **member.data})

    return handler


# --- messages -----------------------------------------------------------------------------------------
def send_group_message(driver: WireClient, instance: Instance, message: Mapping[str, Any]) -> Reply:
    group_id = message.get("to")
    random = message.get("random")
    body: dict[str, Any] = {
        "GroupId": group_id,
        "Random": secrets.randbelow(2**32) if random is None else random,
        "MsgBody": wire.body_to_wire(message),
    }
    for key, field in (
        ("CloudCustomData", "cloudCustomData"),
        ("MsgClientTime", "clientTime"),
        ("MsgPriority", "priority"),
    ):
        if message.get(field) is not None:
            body[key] = message[field]
    reply = driver.request(instance, f"{SERVICE}.send_group_msg", body)
    if not reply.ok:
        return reply
    seq = reply.data.get("MsgSeq")
    if not isinstance(seq, int):
        return Reply.transport_failure("send_group_msg answered without MsgSeq")
    view = _own_group_message(instance, body, str(group_id), seq, reply.data.get("MsgTime", 0))
    known = instance.seen.get(view["ID"])
    if known is not None:
        return Reply(0, "", {"message": known})
    return Reply(0, "", {"message": instance.remember(settle_send(driver, instance, view))})


def _own_group_message(
    instance: Instance, body: Mapping[str, Any], group_id: str, seq: int, when: Any
) -> dict[str, Any]:
    """What the SDK resolves for its own group send: its message, completed by the reply."""
    item = {
        "From_Account": instance.user_id,
        "MsgSeq": seq,
        "MsgTimeStamp": when,
        "MsgRandom": body.get("Random"),
        "MsgBody": body.get("MsgBody"),
        "CloudCustomData": body.get("CloudCustomData") or "",
        "MsgPriority": wire.PRIORITY_NUMBER.get(str(body.get("MsgPriority") or "Normal"), 2),
        "MsgFrom_AccountExtraInfo": instance.profile,
    }
    view = wire.group_message(item, group_id, instance.user_id)
    if seq == 0:
        # MSG-7: a message the server kept no sequence for (a dropped low-priority one) is not in
        # the group's history; its random tells two of them apart (the seq alone would not)
        view["ID"] = f"{view['ID']}{UNSEQUENCED_SEPARATOR}{body.get('Random')}"
    return view


#: between ``<group>#seq0`` and the random of a message without a sequence (never a history cursor)
UNSEQUENCED_SEPARATOR = "~"


def get_group_messages(
    driver: WireClient, instance: Instance, group_id: str, args: Mapping[str, Any]
) -> Reply:
    """PAGE-1 for a group: ``group_msg_get`` from the cursor's sequence down, newest first on the wire."""
    body: dict[str, Any] = {"GroupId": group_id, "ReqMsgNumber": args.get("count", 15)}
    cursor = args.get("nextReqMessageID") or ""
    if cursor:
        parsed = wire.parse_group_message_id(cursor) if isinstance(cursor, str) else None
        if parsed is None or parsed[0] != group_id:
            return Reply(int(Code.INVALID_PARAMETERS), "nextReqMessageID is not in this conversation")
        body["ReqMsgSeq"] = parsed[1] - 1
        if parsed[1] <= 1:
            return Reply(0, "", {"messageList": [], "nextReqMessageID": "", "isCompleted": True})
    reply = driver.request(instance, f"{SERVICE}.group_msg_get", body)
    if not reply.ok:
        return reply
    me = instance.user_id
    items = [m for m in reply.data.get("RspMsgList") or [] if isinstance(m, dict)]
    messages = [
        instance.remember(_held(instance, _group_item_view(m, group_id, me))) for m in reversed(items)
    ]
    completed = bool(reply.data.get("IsFinished", 1))
    return Reply(
        0,
        "",
        {
            "messageList": messages,
            "nextReqMessageID": "" if completed or not messages else messages[0]["ID"],
            "isCompleted": completed,
        },
    )


def _held(instance: Instance, view: dict[str, Any]) -> dict[str, Any]:
    """A recalled group message comes back as a place-holder without its body; the SDK shows the
    copy it holds, marked revoked."""
    known = instance.seen.get(view["ID"])
    if view["isRevoked"] and known is not None:
        return {**known, "isRevoked": True}
    return view


def _group_item_view(item: Mapping[str, Any], group_id: str, me: str) -> dict[str, Any]:
    return wire.group_message(item, str(item.get("GroupId", group_id)), me)


def revoke_group_message(driver: WireClient, instance: Instance, group_id: str, seq: int) -> Reply:
    body = {"GroupId": group_id, "MsgSeqList": [{"MsgSeq": seq}]}
    reply = driver.request(instance, f"{SERVICE}.group_msg_recall", body)
    if not reply.ok:
        return reply
    for result in reply.data.get("RecallRetList") or []:
        if isinstance(result, dict) and result.get("RetCode"):
            return Reply(int(result["RetCode"]), "recall refused")
    return Reply(0, "", {})


def set_group_read(driver: WireClient, instance: Instance, group_id: str) -> Reply:
    reply = driver.request(instance, f"{SERVICE}.msg_read_report", {"GroupId": group_id})
    return reply if not reply.ok else Reply(0, "", {})


# --- pushes --------------------------------------------------------------------------------------------
def push_to_events(instance: Instance, stream: EventStream, item: Mapping[str, Any]) -> None:
    """Group entries of an ``EventArray``: messages, tips, notices and group revokes."""
    me = instance.user_id
    for message in item.get("GroupMsgArray") or []:
        if isinstance(message, dict):
            view = _group_item_view(message, "", me)
            if is_modified_notice(instance, message):  # MSG-8: for the send it belongs to
                instance.modified[view["ID"]] = view
                continue
            stream.put(MESSAGE_RECEIVED, [instance.remember(view)])
    for tip in item.get("GroupTips") or []:
        if not isinstance(tip, dict):
            continue
        body = tip.get("MsgBody") if isinstance(tip.get("MsgBody"), dict) else {}
        assert isinstance(body, dict)
        if "GroupWithdrawInfoArray" in body:
            _group_revoked(instance, stream, tip, body)
        elif item.get("Event") == wire.EVENT_GROUP_NOTICE:
            _notice(instance, stream, tip, body)
        else:
            _tip(instance, stream, tip, body)


#: a tip's ``MsgMemberInfo`` / ``MsgGroupNewInfo`` names -> the SDK's (its own key map, TIP-1)
TIP_MEMBER_NAMES = {"User_Account": "userID", "ShutupTime": "muteTime", "NameCard": "nameCard"}
TIP_PROFILE_NAMES = {
    "Name": "name",
    "Owner_Account": "ownerID",
    "GroupFaceUrl": "avatar",
    "GroupIntroduction": "introduction",
    "GroupNotification": "notification",
    "GroupApplyJoinOption": "joinOption",
}


def _renamed(fields: Mapping[str, Any], names: Mapping[str, str]) -> dict[str, Any]:
    """Wire names -> the SDK's; a name without an entry loses its capital (``MuteAllMembers``)."""
    return {names.get(k, k[:1].lower() + k[1:]): v for k, v in fields.items()}


def _tip(instance: Instance, stream: EventStream, tip: Mapping[str, Any], body: Mapping[str, Any]) -> None:
    """TIP-1: a group tip is a message of the group (``TIMGroupTipElem``)."""
    group_id = str(tip.get("ToGroupId") or (tip.get("GroupInfo") or {}).get("GroupId", ""))
    payload: dict[str, Any] = {
        "operationType": body.get("OpType", 0),
        "operatorID": body.get("Operator_Account", ""),
        "userIDList": body.get("List_Account", []),
    }
    members = body.get("MsgMemberInfo")
    if isinstance(members, list) and members:
        payload["memberList"] = [_renamed(m, TIP_MEMBER_NAMES) for m in members if isinstance(m, dict)]
    new_profile = body.get("MsgGroupNewInfo")
    if isinstance(new_profile, dict) and new_profile:
        payload["newGroupProfile"] = _renamed(new_profile, TIP_PROFILE_NAMES)
    item = {**tip, "MsgBody": [{"MsgType": TIP_ELEM, "MsgContent": {}}], "From_Account": SYSTEM_CONVERSATION}
    view = {**wire.group_message(item, group_id, instance.user_id), "type": TIP_ELEM, "payload": payload}
    stream.put(MESSAGE_RECEIVED, [instance.remember(view)])


#: the system notice type of a join application (GRP-7)
NOTICE_TYPE_APPLY = 1


def _notice(instance: Instance, stream: EventStream, tip: Mapping[str, Any], body: Mapping[str, Any]) -> None:
    """SYS-1: a group system notice is a message of ``@TIM#SYSTEM`` and a receiveGroupSystemNotice."""
    group = tip.get("GroupInfo") if isinstance(tip.get("GroupInfo"), dict) else {}
    assert isinstance(group, dict)
    op_type = body.get("OpType", 0)
    payload = {
        "operationType": op_type,
        "operatorID": body.get("Operator_Account", ""),
        "groupProfile": group_from_wire(group) if "Type" in group else {"groupID": group.get("GroupId", "")},
        "handleMessage": body.get("RemarkInfo", ""),
    }
    if op_type == NOTICE_TYPE_APPLY:
        # GRP-7/8: a join application's operator IS the applicant (the SDK names no other field)
        payload["applicant"] = payload["operatorID"]
    seq = tip.get("MsgSeq", 0)
    view = {
        "ID": f"{SYSTEM_CONVERSATION}|{instance.user_id}|{seq}|{tip.get('MsgRandom', 0)}",
        "type": NOTICE_ELEM,
        "payload": payload,
        "conversationID": SYSTEM_CONVERSATION,
        "conversationType": SYSTEM_CONVERSATION,
        "to": instance.user_id,
        "from": SYSTEM_CONVERSATION,
        "flow": "in",
        "time": tip.get("MsgTimeStamp", 0),
        "sequence": seq,
        "random": tip.get("MsgRandom", 0),
        "status": "success",
        "isRevoked": False,
        "priority": "Normal",
        "nick": "",
        "avatar": "",
        "cloudCustomData": "",
    }
    stream.put(MESSAGE_RECEIVED, [instance.remember(view)])
    stream.put(GROUP_SYSTEM_NOTICE_RECEIVED, {"type": op_type, "message": view})


def _group_revoked(
    instance: Instance, stream: EventStream, tip: Mapping[str, Any], body: Mapping[str, Any]
) -> None:
    group_id = str((tip.get("GroupInfo") or {}).get("GroupId", ""))
    revoked = []
    for info in body.get("GroupWithdrawInfoArray") or []:
        if not isinstance(info, dict):
            continue
        message_id = wire.group_message_id(group_id, int(info.get("MsgSeq", 0)))
        known = instance.seen.get(message_id)
        view = known if known is not None else wire.group_message({**info, **tip}, group_id, instance.user_id)
        revoked.append(instance.remember({**view, "isRevoked": True}))
    if revoked:
        stream.put(MESSAGE_REVOKED, revoked)


HANDLERS: dict[str, Handler] = {
    "createGroup": create_group,
    "updateGroupProfile": update_group_profile,
    "dismissGroup": dismiss_group,
    "joinGroup": join_group,
    "quitGroup": quit_group,
    "getGroupProfile": get_group_profile,
    "searchGroupByID": search_group_by_id,
    "getGroupList": get_group_list,
    "setMessageRemindType": set_message_remind_type,
    "getGroupMemberList": get_group_member_list,
    "getGroupMemberProfile": get_group_member_profile,
    "addGroupMember": add_group_member,
    "deleteGroupMember": delete_group_member,
    "setGroupMemberRole": _member_change("Role", "role"),
    "setGroupMemberNameCard": _member_change("NameCard", "nameCard", self_by_default=True),
    "setGroupMemberMuteTime": _member_change("ShutUpTime", "muteTime"),
    "setGroupMemberCustomField": _member_change(
        "AppMemberDefinedData", "memberCustomField", self_by_default=True
    ),
}
