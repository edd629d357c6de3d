"""Groups over the Web SDK wire (``group_open_http_svc``): the SDK's group methods as model calls.

Request bodies use the REST v4 group names (``GroupId``, ``Member_Account``, ``ApplyJoinOption`` ...),
read with the REST face's helpers (``profile_opts``, ``pairs``); the decision is the model's
(``createGroup``, ``joinGroup``, ``addGroupMember``, ``setGroupMemberMuteTime`` ... as the caller), so
a refusal carries the model's code (10007, 10010, 10017 ...).
"""

from __future__ import annotations

from typing import Any

from simtim.errors import Code
from simtim.limits import MESSAGE_PAGE_MAX
from simtim.model.capabilities import CAPABILITIES
from simtim.model.entities import GROUP, Group, Message
from simtim.protocol.rest.groups import pairs, profile_opts
from simtim.protocol.rest.vocabulary import group_item
from simtim.protocol.web.c2c import draft
from simtim.protocol.web.context import WebCtx, bad, integer, strings, text
from simtim.protocol.web.session import TinyIds

#: the model's role names <- the wire's (the SDK sends TIM's REST names)
ROLES = {"Owner": "Owner", "Admin": "Admin", "Member": "Member"}


def _group(ctx: WebCtx) -> str:
    return text(ctx.body, "GroupId", code=10004)


def group_info(ctx: WebCtx, group: Group) -> dict[str, Any]:
    """One group as ``get_group_info`` / ``get_joined_group_list`` write it."""
    thread = group.thread
    me = ctx.me.user_id
    member = group.members.get(me)
    info: dict[str, Any] = {
        "GroupId": group.group_id,
        "Type": group.type,
        "Name": group.name,
        "Introduction": group.introduction,
        "Notification": group.notification,
        "FaceUrl": group.avatar,
        "Owner_Account": group.owner,
        "CreateTime": group.create_time,
        "LastMsgTime": thread.messages[-1].time if thread.messages else 0,
        "NextMsgSeq": thread.next_sequence,
        "MemberNum": len(group.members),
        "MaxMemberNum": group.max_member_num or 0,
        "ApplyJoinOption": group.join_option,
        "ShutUpAllMember": "On" if group.mute_all else "Off",
        "AppDefinedData": [{"Key": k, "Value": v} for k, v in group.custom_fields.items()],
        "InfoSeq": 0,
        "LastInfoTime": 0,
        "ErrorCode": 0,
        "ErrorInfo": "",
    }
    if member is not None:
        info["SelfInfo"] = {
            "Role": member.role,
            "NameCard": member.name_card,
            "JoinTime": member.join_time,
            "MsgFlag": "AcceptAndNotify",
            "MsgSeq": 0,
        }
    return info


def create_group(ctx: WebCtx) -> dict[str, Any]:
    body = ctx.body
    opts = profile_opts(body, create=True)
    opts["type"] = body.get("Type", "Private")
    opts["name"] = body.get("Name")
    if body.get("GroupId"):
        opts["groupID"] = body["GroupId"]
    members = []
    for record in body.get("MemberList") or []:
        if not isinstance(record, dict) or not isinstance(record.get("Member_Account"), str):
            raise bad("MemberList holds {Member_Account, Role?}", 10004)
        entry: dict[str, Any] = {"userID": record["Member_Account"]}
        if record.get("Role"):
            entry["role"] = record["Role"]
        if record.get("AppMemberDefinedData") is not None:
            entry["memberCustomField"] = pairs(record["AppMemberDefinedData"], "Key", "Value")
        members.append(entry)
    if members:
        opts["memberList"] = members
    data = ctx.call("createGroup", opts)
    return {"GroupId": data["group"]["groupID"]}


def get_joined_group_list(ctx: WebCtx) -> dict[str, Any]:
    data = ctx.call("getGroupList", {})
    groups = [ctx.app.groups[g["groupID"]] for g in data["groupList"]]
    return {"GroupIdList": [group_info(ctx, g) for g in groups], "TotalCount": len(groups)}


def get_group_info(ctx: WebCtx) -> dict[str, Any]:
    ids = strings(ctx.body, "GroupIdList")
    infos = []
    for group_id in ids:
        group = ctx.app.groups.get(group_id)
        if group is None:
            infos.append({"GroupId": group_id, "ErrorCode": 10010, "ErrorInfo": "group not found"})
        else:
            ctx.call("getGroupProfile", {"groupID": group_id})  # GRP-4: who may read it
            infos.append(group_info(ctx, group))
    return {"GroupInfo": infos}


def get_group_public_info(ctx: WebCtx) -> dict[str, Any]:
    """``searchGroupByID``."""
    infos = []
    for group_id in strings(ctx.body, "GroupIdList"):
        ctx.call("searchGroupByID", {"groupID": group_id})
        infos.append(group_info(ctx, ctx.app.groups[group_id]))
    return {"GroupInfo": infos}


def modify_group_base_info(ctx: WebCtx) -> dict[str, Any]:
    opts = profile_opts(ctx.body, create=False)
    if ctx.body.get("ShutUpAllMember") is not None:
        opts["muteAllMembers"] = ctx.body["ShutUpAllMember"] == "On"
    opts["groupID"] = _group(ctx)
    ctx.call("updateGroupProfile", opts)
    return {}


def destroy_group(ctx: WebCtx) -> dict[str, Any]:
    ctx.call("dismissGroup", {"groupID": _group(ctx)})
    return {}


def apply_join_group(ctx: WebCtx) -> dict[str, Any]:
    group_id = _group(ctx)
    group = ctx.app.groups.get(group_id)
    opts: dict[str, Any] = {"groupID": group_id}
    if ctx.body.get("ApplyMsg"):
        opts["applyMessage"] = ctx.body["ApplyMsg"]
    if group is not None:
        opts["type"] = group.type
    data = ctx.call("joinGroup", opts)
    # the model's status as it is; AlreadyInGroup is one the official SDK normally settles from its
    # own group list before asking (a stale list makes it answer 2660, TIM-SDK joinGroup)
    return {"JoinedStatus": data.get("status", "")}


def quit_group(ctx: WebCtx) -> dict[str, Any]:
    ctx.call("quitGroup", {"groupID": _group(ctx)})
    return {}


def add_group_member(ctx: WebCtx) -> dict[str, Any]:
    raw = ctx.body.get("MemberList")
    if not isinstance(raw, list):
        raise bad("MemberList must be a list", 10004)
    user_ids = [m.get("Member_Account") if isinstance(m, dict) else m for m in raw]
    data = ctx.call("addGroupMember", {"groupID": _group(ctx), "userIDList": user_ids})
    added = set(data.get("successUserIDList", []))
    existing = set(data.get("existedUserIDList", []))
    return {
        "MemberList": [
            {"Member_Account": u, "Result": 1 if u in added else (2 if u in existing else 0)}
            for u in user_ids
        ]
    }


def delete_group_member(ctx: WebCtx) -> dict[str, Any]:
    user_ids = strings(ctx.body, "MemberToDel_Account")
    opts: dict[str, Any] = {"groupID": _group(ctx), "userIDList": user_ids}
    if isinstance(ctx.body.get("Reason"), str):
        opts["reason"] = ctx.body["Reason"]
    ctx.call("deleteGroupMember", opts)
    return {}


def _member_item(view: dict[str, Any]) -> dict[str, Any]:
    return {
        "Member_Account": view["userID"],
        "Role": view["role"],
        "NameCard": view["nameCard"],
        "JoinTime": view["joinTime"],
        "ShutUpUntil": view["muteUntil"],
        "Nick": view.get("nick", ""),
        "Avatar": view.get("avatar", ""),
        "MsgFlag": "AcceptAndNotify",
        "AppMemberDefinedData": [{"Key": f["key"], "Value": f["value"]} for f in view["memberCustomField"]],
    }


def get_group_member_info(ctx: WebCtx) -> dict[str, Any]:
    """``getGroupMemberList`` (MBR-3): ``Limit``, ``Offset`` as the SDK sends them, checked by the model."""
    opts: dict[str, Any] = {"groupID": _group(ctx), "offset": ctx.body.get("Offset", 0)}
    limit = ctx.body.get("Limit")
    if limit is not None:
        # the SDK always sends its count (default 15), so a 0 is the app's and the model refuses it
        # (6017, MBR-3) like any other bad page; never clamped here
        opts["count"] = limit
    data = ctx.call("getGroupMemberList", opts)
    members = data["memberList"]
    group = ctx.app.groups[opts["groupID"]]
    return {"MemberNum": len(group.members), "MemberList": [_member_item(m) for m in members], "Next": ""}


def get_specified_group_member_info(ctx: WebCtx) -> dict[str, Any]:
    user_ids = strings(ctx.body, "Member_List_Account")
    data = ctx.call("getGroupMemberProfile", {"groupID": _group(ctx), "userIDList": user_ids})
    return {"MemberList": [_member_item(m) for m in data["memberList"]]}


def modify_group_member_info(ctx: WebCtx) -> dict[str, Any]:
    """One SDK method per field: role (ROLE-*), name card (MBR-4), mute (MUTE-*), custom fields."""
    body = ctx.body
    group_id = _group(ctx)
    user_id = text(body, "Member_Account", code=10004)
    if body.get("Role") is not None:
        role = ROLES.get(body["Role"])
        if role is None:
            raise bad("Role must be Admin or Member", 10004)
        ctx.call("setGroupMemberRole", {"groupID": group_id, "userID": user_id, "role": role})
    if body.get("NameCard") is not None:
        ctx.call(
            "setGroupMemberNameCard", {"groupID": group_id, "userID": user_id, "nameCard": body["NameCard"]}
        )
    if body.get("ShutUpTime") is not None:
        ctx.call(
            "setGroupMemberMuteTime", {"groupID": group_id, "userID": user_id, "muteTime": body["ShutUpTime"]}
        )
    if body.get("AppMemberDefinedData") is not None:
        fields = pairs(body["AppMemberDefinedData"], "Key", "Value")
        ctx.call(
            "setGroupMemberCustomField", {"groupID": group_id, "userID": user_id, "memberCustomField": fields}
        )
    if body.get("MsgFlag") is not None:
        ctx.call("setMessageRemindType", {"groupID": group_id, "messageRemindType": body["MsgFlag"]})
    return {}


def group_message_item(msg: Message, tinyids: TinyIds, sdkappid: int) -> dict[str, Any]:
    """A group message as pushes and history carry it (REST-8's vocabulary plus the group)."""
    item = group_item(msg)
    item.update(
        {
            "GroupId": msg.to,
            "GroupInfo": {"GroupId": msg.to},
            "ToGroupId": msg.to,
            "Random": msg.random,
            "MsgTime": msg.time,
            "ClientSeq": msg.sequence,
            "TinyId": tinyids.of(sdkappid, msg.sender),
            "MsgClientTime": msg.client_time or msg.time,
            "MsgFrom_AccountExtraInfo": {"Nick": msg.nick, "FaceUrl": msg.avatar},
        }
    )
    return item


def send_options(request_body: dict[str, Any]) -> dict[str, Any]:
    """The model's ``sendMessage`` options of a group send body (the callback asks with the same)."""
    return {"message": draft(request_body, GROUP, text(request_body, "GroupId", code=10004))}


def send_group_msg(ctx: WebCtx) -> dict[str, Any]:
    group_id = _group(ctx)
    data = ctx.send({"message": draft(ctx.body, GROUP, group_id)})
    msg = ctx.app.messages[data["message"]["ID"]]
    return {"MsgTime": msg.time, "MsgSeq": msg.sequence}


def group_msg_get(ctx: WebCtx) -> dict[str, Any]:
    """Group history (PAGE-1): ``ReqMsgSeq`` is the newest sequence wanted (0 or absent: the latest)."""
    group_id = _group(ctx)
    count = max(1, min(integer(ctx.body, "ReqMsgNumber", MESSAGE_PAGE_MAX), MESSAGE_PAGE_MAX))
    upper = ctx.body.get("ReqMsgSeq") or 0
    if not isinstance(upper, int) or isinstance(upper, bool):
        raise bad("ReqMsgSeq must be an integer", 10004)
    options: dict[str, Any] = {"conversationID": GROUP + group_id, "count": count}
    thread = ctx.world.conversations.thread_of(ctx.app, ctx.account, GROUP + group_id)
    if upper and thread is not None:
        newer = next((m for m in thread.messages if m.sequence > upper), None)
        if newer is not None:
            options["nextReqMessageID"] = newer.id
    data = ctx.call("getMessageList", options)
    page = [ctx.app.messages[m["ID"]] for m in data["messageList"]]
    page.reverse()  # newest first
    return {
        "GroupId": group_id,
        "IsFinished": 1 if data["isCompleted"] else 0,
        "RspMsgList": [group_message_item(m, ctx.face.tinyids, ctx.me.sdkappid) for m in page],
    }


def group_msg_recall(ctx: WebCtx) -> dict[str, Any]:
    group_id = _group(ctx)
    seqs = ctx.body.get("MsgSeqList")
    if not isinstance(seqs, list):
        raise bad("MsgSeqList must be a list", 10004)
    group = ctx.app.groups.get(group_id)
    refused = CAPABILITIES["revokeMessage"][group.type] if group is not None else None
    results = []
    for entry in seqs:
        seq = entry.get("MsgSeq") if isinstance(entry, dict) else entry
        msg = next((m for m in group.thread.messages if m.sequence == seq), None) if group else None
        if isinstance(refused, int):
            # REV-3: the model's table; an AVChatRoom keeps no history, so its seqs are never found
            results.append({"MsgSeq": seq, "RetCode": refused})
            continue
        if msg is None:
            results.append({"MsgSeq": seq, "RetCode": int(Code.GROUP_MESSAGE_NOT_FOUND)})
            continue
        ctx.call("revokeMessage", {"message": {"ID": msg.id, "conversationType": GROUP}})
        results.append({"MsgSeq": seq, "RetCode": 0})
    return {"RecallRetList": results}


def msg_read_report(ctx: WebCtx) -> dict[str, Any]:
    ctx.call("setMessageRead", {"conversationID": GROUP + _group(ctx)})
    return {}


SERVICE = "group_open_http_svc"
COMMANDS = {
    f"{SERVICE}.create_group": create_group,
    f"{SERVICE}.get_joined_group_list": get_joined_group_list,
    f"{SERVICE}.get_group_info": get_group_info,
    f"{SERVICE}.get_group_self_member_info": get_group_info,  # the SDK's getGroupProfile
    f"{SERVICE}.get_group_public_info": get_group_public_info,
    f"{SERVICE}.modify_group_base_info": modify_group_base_info,
    f"{SERVICE}.destroy_group": destroy_group,
    f"{SERVICE}.apply_join_group": apply_join_group,
    f"{SERVICE}.quit_group": quit_group,
    f"{SERVICE}.add_group_member": add_group_member,
    f"{SERVICE}.delete_group_member": delete_group_member,
    f"{SERVICE}.get_group_member_info": get_group_member_info,
    f"{SERVICE}.get_specified_group_member_info": get_specified_group_member_info,
    f"{SERVICE}.modify_group_member_info": modify_group_member_info,
    f"{SERVICE}.send_group_msg": send_group_msg,
    f"{SERVICE}.group_msg_get": group_msg_get,
    f"{SERVICE}.group_msg_recall": group_msg_recall,
    f"{SERVICE}.msg_read_report": msg_read_report,
}
