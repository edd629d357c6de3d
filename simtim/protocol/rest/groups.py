"""REST v4 groups, members and group messages (REST-6, REST-7, REST-8): ``group_open_http_svc/*``.

Requests are turned into the model's own option shapes (so GRP-1/GRP-2's limits are checked once,
by the model) and replies are written with TIM's field names."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from simtim.errors import Code, IMError
from simtim.limits import (
    MUTE_FOREVER,
    REST_DELETE_MEMBER_MAX,
    REST_FORBID_MAX,
    REST_GROUP_HISTORY_MAX,
    REST_GROUP_LIST_LIMIT_MAX,
    REST_IMPORT_GROUP_MSG_MAX,
    REST_MEMBER_INFO_LIMIT_MAX,
    REST_NOTIFICATION_RECIPIENTS_MAX,
    REST_RECALL_SEQS_MAX,
    UINT32_MAX,
)
from simtim.model.entities import GROUP, Group
from simtim.model.groups import CUSTOM_GROUP_ID_RULE, custom_group_id_ok
from simtim.protocol.rest.c2c import message_body
from simtim.protocol.rest.context import Ctx, Result
from simtim.protocol.rest.request import Fields
from simtim.protocol.rest.vocabulary import group_item

PARAM = Code.GROUP_INVALID_PARAMETER  # the group service's parameter code (10004)
TYPES = ("Private", "Public", "ChatRoom", "AVChatRoom")
PRIORITIES = ("High", "Normal", "Low", "Lowest")


def pairs(value: Any, key: str, val: str) -> list[dict[str, Any]]:
    """``[{Key, Value}]`` -> the model's ``[{key, value}]`` (shapes are checked by the model)."""
    if value is None:
        return []
    if not isinstance(value, list) or not all(isinstance(v, Mapping) for v in value):
        raise IMError(PARAM, f"{key}/{val} pairs must be a list of objects", rule="REST-6")
    return [{"key": v.get(key), "value": v.get(val)} for v in value]


def _group_id(ctx: Ctx) -> str:
    return ctx.fields(PARAM).string("GroupId")


def _on_off(value: Any) -> bool | None:
    if value is None:
        return None
    if value not in ("On", "Off"):
        raise IMError(PARAM, "MuteAllMember is On or Off", rule="REST-6")
    return bool(value == "On")


def _operator(ctx: Ctx) -> str:
    value = ctx.body.get("From_Account")
    if value is None:
        return ctx.admin
    if not isinstance(value, str) or not value:
        raise IMError(PARAM, "From_Account must be a non-empty string", rule="REST-6")
    if value not in ctx.caller.app.accounts:
        raise IMError(Code.GROUP_ACCOUNT_NOT_FOUND, f"unknown account {value!r}", rule="REST-6")
    return value


def profile_opts(body: Mapping[str, Any], *, create: bool) -> dict[str, Any]:
    opts: dict[str, Any] = {}
    for rest, model in (
        ("Name", "name"),
        ("Introduction", "introduction"),
        ("Notification", "notification"),
        ("FaceUrl", "avatar"),
        ("ApplyJoinOption", "joinOption"),
    ):
        if body.get(rest) is not None:
            opts[model] = body[rest]
    size = body.get("MaxMemberCount" if create else "MaxMemberNum")
    if size is not None:
        opts["maxMemberNum"] = size
    if body.get("AppDefinedData") is not None:
        opts["groupCustomField"] = pairs(body.get("AppDefinedData"), "Key", "Value")
    return opts


# --- the group itself (REST-6) -------------------------------------------------------------------
def create_group(ctx: Ctx) -> Result:
    fields = ctx.fields(PARAM)
    kind = fields.string("Type")
    if kind == "Community":
        raise IMError(
            Code.GROUP_PERMISSION_DENIED, "Community groups are not modelled [decision]", rule="REST-6"
        )
    if kind not in TYPES:
        raise IMError(PARAM, f"Type must be one of {', '.join(TYPES)}", rule="REST-6")
    opts = profile_opts(ctx.body, create=True)
    opts["type"] = kind
    opts["name"] = fields.string("Name", empty=True)
    if ctx.body.get("GroupId") is not None:
        opts["groupID"] = fields.string("GroupId")
        if not custom_group_id_ok(opts["groupID"]):
            raise IMError(Code.GROUP_INVALID_ID, CUSTOM_GROUP_ID_RULE, rule="REST-6")
    members = []
    for record in ctx.body.get("MemberList") or []:
        if not isinstance(record, Mapping) or not isinstance(record.get("Member_Account"), str):
            raise IMError(PARAM, "MemberList holds {Member_Account, Role?}", rule="REST-6")
        entry: dict[str, Any] = {"userID": record["Member_Account"]}
        if record.get("Role") is not None:
            entry["role"] = record["Role"]
        if record.get("AppMemberDefinedData") is not None:
            entry["memberCustomField"] = pairs(record["AppMemberDefinedData"], "Key", "Value")
        members.append(entry)
    if members:
        opts["memberList"] = members
    owner = fields.string("Owner_Account") if ctx.body.get("Owner_Account") is not None else None
    outcome = ctx.world.group_admin.create(ctx.sdkappid, owner, opts, ctx.admin)
    return {"GroupId": outcome.data["group"]["groupID"]}, outcome.events


def _info(ctx: Ctx, group: Group) -> dict[str, Any]:
    app = ctx.caller.app
    thread = group.thread
    last = thread.messages[-1].time if thread.messages else 0
    return {
        "ErrorCode": 0,
        "ErrorInfo": "",
        "GroupId": group.group_id,
        "Type": group.type,
        "Name": group.name,
        "Appid": app.sdkappid,
        "Introduction": group.introduction,
        "Notification": group.notification,
        "FaceUrl": group.avatar,
        "Owner_Account": group.owner,
        "CreateTime": group.create_time,
        "LastMsgTime": last,
        "NextMsgSeq": thread.next_sequence,
        "MemberNum": len(group.members),
        "MaxMemberNum": group.max_member_num or 0,
        "ApplyJoinOption": group.join_option,
        "MuteAllMember": "On" if group.mute_all else "Off",
        "AppDefinedData": [{"Key": k, "Value": v} for k, v in group.custom_fields.items()],
        "MemberList": [_member(ctx, group, m.user_id) for m in group.members.values()],
    }


def _member(ctx: Ctx, group: Group, user_id: str) -> dict[str, Any]:
    app = ctx.caller.app
    view = ctx.world.groups.member_view(app, group, group.members[user_id])
    account = app.accounts.get(user_id)
    state = account.convs.get(GROUP + group.group_id) if account is not None else None
    return {
        "Member_Account": user_id,
        "Role": view["role"],
        "JoinTime": view["joinTime"],
        "MsgFlag": state.remind_type if state is not None else "AcceptAndNotify",
        "NameCard": view["nameCard"],
        "MuteUntil": view["muteUntil"],
        "AppMemberDefinedData": [{"Key": f["key"], "Value": f["value"]} for f in view["memberCustomField"]],
    }


def get_group_info(ctx: Ctx) -> Result:
    ids = ctx.fields(PARAM).strings("GroupIdList", most=50)
    infos = []
    for group_id in ids:
        group = ctx.caller.app.groups.get(group_id)
        if group is None:
            infos.append(
                {
                    "GroupId": group_id,
                    "ErrorCode": int(Code.GROUP_NOT_FOUND),
                    "ErrorInfo": "group does not exist or was dismissed",
                }
            )
        else:
            infos.append(_info(ctx, group))
    return {"GroupInfo": infos}, []


def modify_group_base_info(ctx: Ctx) -> Result:
    group_id = _group_id(ctx)
    opts = profile_opts(ctx.body, create=False)
    outcome = ctx.world.group_admin.modify(
        ctx.sdkappid, group_id, opts, _operator(ctx), _on_off(ctx.body.get("MuteAllMember"))
    )
    return {}, outcome.events


def destroy_group(ctx: Ctx) -> Result:
    return {}, ctx.world.group_admin.destroy(ctx.sdkappid, _group_id(ctx), ctx.admin).events


def get_appid_group_list(ctx: Ctx) -> Result:
    fields = ctx.fields(PARAM)
    limit = fields.opt_integer("Limit", REST_GROUP_LIST_LIMIT_MAX, low=1, high=REST_GROUP_LIST_LIMIT_MAX) or 1
    start = fields.opt_integer("Next", 0) or 0
    kind = ctx.body.get("GroupType") or None  # "" is no filter (clients send it)
    groups = [g for g in ctx.caller.app.groups.values() if kind is None or g.type == kind]
    page = groups[start : start + limit]
    following = start + len(page)
    return {
        "TotalCount": len(groups),
        "GroupIdList": [{"GroupId": g.group_id} for g in page],
        "Next": following if following < len(groups) else 0,
    }, []


def get_joined_group_list(ctx: Ctx) -> Result:
    fields = ctx.fields(PARAM)
    user = fields.string("Member_Account")
    huge = fields.flag("WithHugeGroups")
    kind = ctx.body.get("GroupType") or None
    joined = [
        g
        for g in ctx.caller.app.groups.values()
        if user in g.members and (huge or g.type != "AVChatRoom") and (kind is None or g.type == kind)
    ]
    offset = fields.opt_integer("Offset", 0) or 0
    limit = fields.opt_integer("Limit", len(joined) or 1, low=1) or 1
    rows = [
        {
            "GroupId": g.group_id,
            "Type": g.type,
            "Name": g.name,
            "SelfInfo": {"Role": g.members[user].role, "JoinTime": g.members[user].join_time},
        }
        for g in joined[offset : offset + limit]
    ]
    return {"TotalCount": len(joined), "GroupIdList": rows}, []


# --- members (REST-7) -----------------------------------------------------------------------------
def add_group_member(ctx: Ctx) -> Result:
    fields = ctx.fields(PARAM)
    group_id = _group_id(ctx)
    cap = ctx.caller.app.config.rest_add_member_max
    records = fields.records("MemberList", most=cap, many=Code.GROUP_TOO_MANY_MEMBERS_IN_REQUEST)
    user_ids = [r.get("Member_Account") for r in records]
    if not all(isinstance(u, str) and u for u in user_ids):
        raise IMError(PARAM, "MemberList holds {Member_Account}", rule="REST-7")
    outcome = ctx.world.group_admin.add_members(
        ctx.sdkappid, group_id, [str(u) for u in user_ids], ctx.admin, silence=fields.flag("Silence"), cap=cap
    )
    result = {u: 1 for u in outcome.data["successUserIDList"]}
    result.update({u: 2 for u in outcome.data["existedUserIDList"]})
    result.update({u: 0 for u in outcome.data["failureUserIDList"]})
    return {
        "MemberList": [{"Member_Account": u, "Result": result[str(u)]} for u in dict.fromkeys(user_ids)]
    }, outcome.events


def delete_group_member(ctx: Ctx) -> Result:
    fields = ctx.fields(PARAM)
    group_id = _group_id(ctx)
    user_ids = fields.strings(
        "MemberToDel_Account", most=REST_DELETE_MEMBER_MAX, many=Code.GROUP_TOO_MANY_MEMBERS_IN_REQUEST
    )
    fields.opt_string("Reason")
    outcome = ctx.world.group_admin.delete_members(
        ctx.sdkappid, group_id, user_ids, ctx.admin, silence=fields.flag("Silence")
    )
    return {}, outcome.events


def modify_group_member_info(ctx: Ctx) -> Result:
    fields = ctx.fields(PARAM)
    group_id = _group_id(ctx)
    user = fields.string("Member_Account")
    name_card = fields.opt_string("NameCard") if fields.has("NameCard") else None
    if name_card is not None and len(name_card.encode("utf-8")) > 50:
        raise IMError(PARAM, "NameCard is longer than 50 bytes", rule="REST-7")
    outcome = ctx.world.group_admin.modify_member(
        ctx.sdkappid,
        group_id,
        user,
        ctx.admin,
        role=fields.string("Role") if fields.has("Role") else None,
        name_card=name_card,
        msg_flag=fields.string("MsgFlag") if fields.has("MsgFlag") else None,
        custom=pairs(ctx.body.get("AppMemberDefinedData"), "Key", "Value")
        if fields.has("AppMemberDefinedData")
        else None,
        mute_time=fields.opt_integer("MuteTime", high=MUTE_FOREVER),
    )
    return {}, outcome.events


def get_group_member_info(ctx: Ctx) -> Result:
    fields = ctx.fields(PARAM)
    group_id = _group_id(ctx)
    app = ctx.caller.app
    group = ctx.world.groups.group_of(app, group_id, "REST-7")
    if group.type == "AVChatRoom":
        raise IMError(Code.GROUP_PERMISSION_DENIED, "AVChatRoom keeps no member list", rule="REST-7")
    limit = (
        fields.opt_integer("Limit", REST_MEMBER_INFO_LIMIT_MAX, low=1, high=REST_MEMBER_INFO_LIMIT_MAX) or 1
    )
    offset = fields.opt_integer("Offset", 0) or 0
    members = list(group.members)[offset : offset + limit]
    return {"MemberNum": len(group.members), "MemberList": [_member(ctx, group, u) for u in members]}, []


def forbid_send_msg(ctx: Ctx) -> Result:
    fields = ctx.fields(PARAM)
    group_id = _group_id(ctx)
    user_ids = fields.strings(
        "Members_Account", most=REST_FORBID_MAX, many=Code.GROUP_TOO_MANY_MEMBERS_IN_REQUEST
    )
    mute_time = fields.integer("MuteTime", high=MUTE_FOREVER)
    return {}, ctx.world.group_admin.forbid(ctx.sdkappid, group_id, user_ids, mute_time, ctx.admin).events


def get_group_muted_account(ctx: Ctx) -> Result:
    group_id = _group_id(ctx)
    muted = ctx.world.group_admin.muted(ctx.sdkappid, group_id)
    return {
        "GroupId": group_id,
        "MutedAccountList": [{"Member_Account": u, "MutedUntil": t} for u, t in muted],
    }, []


def change_group_owner(ctx: Ctx) -> Result:
    fields = ctx.fields(PARAM)
    group_id = _group_id(ctx)
    new_owner = fields.string("NewOwner_Account")
    return {}, ctx.world.group_admin.change_owner(ctx.sdkappid, group_id, new_owner, _operator(ctx)).events


# --- messages (REST-8) ----------------------------------------------------------------------------
def send_group_msg(ctx: Ctx) -> Result:
    fields = ctx.fields(PARAM)
    group_id = _group_id(ctx)
    random = fields.integer("Random", high=UINT32_MAX)
    priority = ctx.body.get("MsgPriority") or "Normal"
    if priority not in PRIORITIES:
        raise IMError(PARAM, "MsgPriority is High, Normal, Low or Lowest", rule="REST-8")
    cloud = fields.opt_string("CloudCustomData")
    elements = message_body(ctx, fields, cloud, invalid=PARAM, too_long=Code.MESSAGE_TOO_LONG)
    sender = ctx.body.get("From_Account")
    if sender is not None and (not isinstance(sender, str) or not sender):
        raise IMError(PARAM, "From_Account must be a non-empty string", rule="REST-8")
    sender_id = sender or ctx.admin
    outcome = ctx.world.group_admin.send(
        ctx.sdkappid,
        group_id,
        sender_id,
        elements,
        is_admin=sender_id == ctx.admin,
        random=random,
        priority=str(priority),
        cloud_custom_data=cloud,
    )
    msg = outcome.data["message"]
    reply: dict[str, Any] = {"MsgTime": msg.time, "MsgSeq": msg.sequence}
    if outcome.data["dropped"]:
        reply["MsgDropReason"] = outcome.data["dropped"]
    return reply, outcome.events


def send_group_system_notification(ctx: Ctx) -> Result:
    fields = ctx.fields(PARAM)
    group_id = _group_id(ctx)
    recipients = (
        fields.strings("ToMembers_Account", most=REST_NOTIFICATION_RECIPIENTS_MAX)
        if ctx.body.get("ToMembers_Account")
        else None
    )
    content = fields.string("Content")
    outcome = ctx.world.group_admin.system_notification(
        ctx.sdkappid, group_id, recipients, content, ctx.admin
    )
    return {}, outcome.events


def group_msg_recall(ctx: Ctx) -> Result:
    fields = ctx.fields(PARAM)
    group_id = _group_id(ctx)
    records = fields.records("MsgSeqList", most=REST_RECALL_SEQS_MAX, many=PARAM)
    seqs = [r.get("MsgSeq") for r in records]
    if not all(isinstance(s, int) and not isinstance(s, bool) for s in seqs):
        raise IMError(PARAM, "MsgSeqList holds {MsgSeq: integer}", rule="REST-8")
    outcome = ctx.world.group_admin.recall(ctx.sdkappid, group_id, [int(s) for s in seqs if s is not None])
    return {
        "RecallRetList": [{"MsgSeq": s, "RetCode": c} for s, c in outcome.data["results"]]
    }, outcome.events


def import_group_msg(ctx: Ctx) -> Result:
    fields = ctx.fields(PARAM)
    group_id = _group_id(ctx)
    items = []
    for record in fields.records("MsgList", most=REST_IMPORT_GROUP_MSG_MAX, many=PARAM):
        entry = Fields(record, PARAM)
        items.append(
            (
                entry.string("From_Account"),
                entry.integer("SendTime"),
                entry.opt_integer("Random", 0, high=UINT32_MAX) or 0,
                message_body(ctx, entry, invalid=PARAM, too_long=Code.MESSAGE_TOO_LONG),
            )
        )
    outcome = ctx.world.group_admin.import_messages(ctx.sdkappid, group_id, items)
    return {
        "ImportMsgResult": [{"MsgSeq": s, "MsgTime": t, "Result": r} for s, t, r in outcome.data["results"]]
    }, []


def group_msg_get_simple(ctx: Ctx) -> Result:
    fields = ctx.fields(PARAM)
    group_id = _group_id(ctx)
    count = min(fields.integer("ReqMsgNumber", low=1), REST_GROUP_HISTORY_MAX)
    below = fields.opt_integer("ReqMsgSeq")
    page, finished = ctx.world.group_admin.history(
        ctx.sdkappid, group_id, count, below, fields.flag("WithRecalledMsg")
    )
    return {
        "GroupId": group_id,
        "IsFinished": 1 if finished else 0,
        "RspMsgList": [group_item(m) for m in page],
    }, []


def get_online_member_num(ctx: Ctx) -> Result:
    return {"OnlineMemberNum": ctx.world.group_admin.online_member_num(ctx.sdkappid, _group_id(ctx))}, []


COMMANDS: dict[tuple[str, str], Any] = {
    ("group_open_http_svc", name): handler
    for name, handler in {
        "create_group": create_group,
        "get_group_info": get_group_info,
        "modify_group_base_info": modify_group_base_info,
        "destroy_group": destroy_group,
        "get_appid_group_list": get_appid_group_list,
        "get_joined_group_list": get_joined_group_list,
        "add_group_member": add_group_member,
        "delete_group_member": delete_group_member,
        "modify_group_member_info": modify_group_member_info,
        "get_group_member_info": get_group_member_info,
        "forbid_send_msg": forbid_send_msg,
        "get_group_muted_account": get_group_muted_account,
        "change_group_owner": change_group_owner,
        "send_group_msg": send_group_msg,
        "send_group_system_notification": send_group_system_notification,
        "group_msg_recall": group_msg_recall,
        "import_group_msg": import_group_msg,
        "group_msg_get_simple": group_msg_get_simple,
        "get_online_member_num": get_online_member_num,
    }.items()
}
