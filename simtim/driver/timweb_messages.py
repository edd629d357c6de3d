"""Messages, conversations and the profile over the Web SDK wire: one handler per TIM method, and the
message pushes as SDK events.

Each handler sends what the official SDK sends for the method (TIM-WEB-WIRE §3.3, §4) and resolves
what the SDK resolves.  Argument checks are the SDK's own, made before any request (a message
without a known ``conversationType`` or a conversation ID without a known prefix has nowhere to go);
everything else is the server's to decide, so raw values are passed on and its codes come back.
Where this wire (as far as the driver knows it) has no command, the answer is ``unsupported``.
"""

from __future__ import annotations

import secrets
from collections.abc import Mapping
from typing import Any

from simtim.driver import timweb_groups as groups
from simtim.driver import timweb_map as wire
from simtim.driver.base import EventStream, Reply
from simtim.driver.timweb_instance import Handler, Instance, WireClient, is_modified_notice, settle_send
from simtim.errors import Code
from simtim.model.events import MESSAGE_RECEIVED, MESSAGE_REVOKED, PROFILE_UPDATED

#: EventArray ``Event`` of a C2C notice (revoke) push
EVENT_C2C_NOTICE = 9
SYSTEM_CONVERSATION = "@TIM#SYSTEM"
NO_GROUPS = "group conversations in page_get carry no group profile the SDK's Conversation needs"


def _conversation_arg(args: Mapping[str, Any]) -> str | Reply:
    """``args["conversationID"]``, or the refusal of the SDK's own check: a conversation ID is
    ``C2C<user>`` or ``GROUP<group>`` (CONV-1: 6004)."""
    conversation = args.get("conversationID")
    if isinstance(conversation, str):
        for prefix in (wire.C2C, wire.GROUP):
            if conversation.startswith(prefix) and len(conversation) > len(prefix):
                return conversation
        if conversation == SYSTEM_CONVERSATION:
            return Reply.not_supported("the group system conversation has no Web SDK command in this driver")
    return Reply(int(Code.CONVERSATION_INVALID), f"not a conversation ID: {conversation!r}")


def _named(instance: Instance, message_id: Any) -> tuple[str, str, str] | None:
    """(from, to, MsgKey) of a C2C message ID this driver handed out."""
    if not isinstance(message_id, str):
        return None
    return instance.keys.get(message_id) or wire.parse_c2c_message_id(message_id)


# --- sending ---------------------------------------------------------------------------------------
def send_message(driver: WireClient, instance: Instance, args: Mapping[str, Any]) -> Reply:
    message = args.get("message")
    if not isinstance(message, Mapping):
        return Reply(int(Code.INVALID_PARAMETERS), "message must be an object")
    kind = message.get("conversationType")
    if kind == wire.GROUP:
        return groups.send_group_message(driver, instance, message)
    if kind != wire.C2C:
        return Reply(int(Code.INVALID_PARAMETERS), "message.conversationType must be C2C or GROUP")
    random = message.get("random")
    body: dict[str, Any] = {
        "From_Account": instance.user_id,
        "To_Account": message.get("to"),
        "MsgRandom": secrets.randbelow(2**32) if random is None else random,  # the SDK draws one
        "MsgBody": wire.body_to_wire(message),
    }
    for key, field in (
        ("CloudCustomData", "cloudCustomData"),
        ("MsgClientTime", "clientTime"),
        ("MsgPriority", "priority"),
    ):
        if message.get(field) is not None:
            body[key] = message[field]  # raw: the server refuses a wrong shape (MSG-2, 6017)
    reply = driver.request(instance, "openim.sendmsg", body)
    if not reply.ok:
        return reply
    msg_key = reply.data.get("MsgKey")
    if not isinstance(msg_key, str) or not msg_key:
        return Reply.transport_failure("openim.sendmsg answered without MsgKey")
    item = {
        **body,
        "CloudCustomData": body.get("CloudCustomData") or "",
        "MsgSeq": reply.data.get("MsgSeq", 0),
        "MsgTimeStamp": reply.data.get("MsgTime", 0),
        "MsgKey": msg_key,
        "MsgFrom_AccountExtraInfo": instance.profile,  # the SDK shows its own profile on its messages
    }
    view = wire.c2c_message(item, instance.user_id)
    known = instance.seen.get(view["ID"])
    if known is not None:  # MSG-6: the server named a message this instance already holds
        return Reply(0, "", {"message": known})
    return Reply(0, "", {"message": instance.remember(settle_send(driver, instance, view), msg_key)})


def resend_message(driver: WireClient, instance: Instance, args: Mapping[str, Any]) -> Reply:
    """MSG-6: the SDK resends only what it could not send; a message it holds as sent by this user
    resolves as it is, without a request, and one it never sent goes out now."""
    message = args.get("message")
    if not isinstance(message, Mapping):
        return Reply(int(Code.INVALID_PARAMETERS), "message must be an object")
    held = instance.seen.get(str(message.get("ID", "")))
    if held is not None:
        if held["from"] != instance.user_id:
            return Reply(int(Code.INVALID_PARAMETERS), "only the sender resends a message")
        return Reply(0, "", {"message": held})
    return send_message(driver, instance, {"message": message})


def revoke_message(driver: WireClient, instance: Instance, args: Mapping[str, Any]) -> Reply:
    """REV-1..3: ``openim.msgwithdraw`` names the message by seq, random and time (its MsgKey)."""
    message = args.get("message")
    if not isinstance(message, Mapping):
        return Reply(int(Code.INVALID_PARAMETERS), "message must be an object")
    message_id = message.get("ID")
    in_group = wire.parse_group_message_id(message_id) if isinstance(message_id, str) else None
    if in_group is not None:
        reply = groups.revoke_group_message(driver, instance, in_group[0], in_group[1])
        if not reply.ok:
            return reply
        held = instance.seen.get(str(message_id))
        revoked = {**(held if held is not None else dict(message)), "isRevoked": True}
        return Reply(0, "", {"message": instance.remember(revoked) if held is not None else revoked})
    named = _named(instance, message_id)
    parts = wire.c2c_key_parts(named[2]) if named is not None else None
    if named is None or parts is None:
        # an ID this client never handed out has no wire form (msgwithdraw names a message by its
        # seq, random and time): nothing to send, so nothing the server could be checked on
        return Reply.not_supported("revokeMessage of an ID this client never handed out: no wire form")
    sender, to, _ = named
    peer = to if sender == instance.user_id else sender
    seq, random, when = parts
    info = {
        "From_Account": sender,
        "To_Account": peer,
        "MsgSeq": seq,
        "MsgRandom": random,
        "MsgTimeStamp": when,
    }
    reply = driver.request(instance, "openim.msgwithdraw", {"MsgInfo": info})
    if not reply.ok:
        return reply
    held = instance.seen.get(str(message_id))  # the SDK resolves with the Message object it holds
    revoked = {**(held if held is not None else dict(message)), "isRevoked": True}
    if held is not None:
        instance.remember(revoked)
    return Reply(0, "", {"message": revoked})


# --- reading ---------------------------------------------------------------------------------------
def get_message_list(driver: WireClient, instance: Instance, args: Mapping[str, Any]) -> Reply:
    """PAGE-1: ``openim.getroammsg``; the SDK keeps a C2C roaming page in the order the wire gives
    it (oldest first), unlike a group page (newest first on the wire, reversed)."""
    conversation = _conversation_arg(args)
    if isinstance(conversation, Reply):
        return conversation
    if conversation.startswith(wire.GROUP):
        return groups.get_group_messages(driver, instance, conversation[len(wire.GROUP) :], args)
    cursor = args.get("nextReqMessageID") or ""
    body: dict[str, Any] = {
        "Peer_Account": conversation[len(wire.C2C) :],
        "MaxCnt": args.get("count", 15),
        "LastMsgTime": 0,
        "MsgKey": "",
        "WithRecalledMsg": 1,
        "GetDirection": 0,
    }
    if cursor:
        named = _named(instance, cursor)
        parts = wire.c2c_key_parts(named[2]) if named is not None else None
        if named is None or parts is None:
            return Reply(int(Code.INVALID_PARAMETERS), "nextReqMessageID is not in this conversation")
        body["MsgKey"], body["LastMsgTime"] = named[2], parts[2]
    reply = driver.request(instance, "openim.getroammsg", body)
    if not reply.ok:
        return reply
    items = [m for m in reply.data.get("MsgList") or [] if isinstance(m, dict)]
    me = instance.user_id
    messages = [instance.remember(wire.c2c_message(m, me), wire.c2c_key(m)) for m in items]
    completed = bool(reply.data.get("Complete", 1))
    return Reply(
        0,
        "",
        {
            "messageList": messages,
            "nextReqMessageID": "" if completed or not messages else messages[0]["ID"],
            "isCompleted": completed,
        },
    )


def set_message_read(driver: WireClient, instance: Instance, args: Mapping[str, Any]) -> Reply:
    """UNREAD-1: ``openim.msgreaded`` for a C2C conversation."""
    conversation = _conversation_arg(args)
    if isinstance(conversation, Reply):
        return conversation
    if conversation.startswith(wire.GROUP):
        return groups.set_group_read(driver, instance, conversation[len(wire.GROUP) :])
    peer = conversation[len(wire.C2C) :]
    body = {"C2CMsgReaded": {"Cookie": "", "C2CMsgReadedItem": [{"To_Account": peer}]}}
    reply = driver.request(instance, "openim.msgreaded", body)
    return reply if not reply.ok else Reply(0, "", {})


def delete_conversation(driver: WireClient, instance: Instance, args: Mapping[str, Any]) -> Reply:
    """CONV-3: ``recentcontact.batch_delete``."""
    conversation = _conversation_arg(args)
    if isinstance(conversation, Reply):
        return conversation
    if conversation.startswith(wire.GROUP):
        item: dict[str, Any] = {"Type": 2, "ToGroupid": conversation[len(wire.GROUP) :]}
    else:
        item = {"Type": 1, "To_Account": conversation[len(wire.C2C) :]}
    reply = driver.request(instance, "recentcontact.batch_delete", {"ContactItem": [item]})
    if not reply.ok:
        return reply
    for result in reply.data.get("ResultItem") or []:
        if isinstance(result, dict) and result.get("ResultCode"):
            return Reply(int(result["ResultCode"]), str(result.get("ResultInfo", "")))
    return Reply(0, "", {"conversationID": conversation})


def _conversations(driver: WireClient, instance: Instance) -> tuple[Reply, list[dict[str, Any]]]:
    """CONV-2: ``recentcontact.page_get`` as the SDK's Conversation values (C2C only)."""
    reply = driver.request(
        instance, "recentcontact.page_get", {"From_Account": instance.user_id, "Count": 100}
    )
    if not reply.ok:
        return reply, []
    out = []
    for item in reply.data.get("SessionItem") or []:
        if not isinstance(item, dict):
            continue
        if item.get("Type") != 1:
            return Reply.not_supported(NO_GROUPS), []
        out.append(_c2c_conversation(instance, item))
    return reply, out


def _c2c_conversation(instance: Instance, item: Mapping[str, Any]) -> dict[str, Any]:
    me = instance.user_id
    peer = str(item.get("To_Account", ""))
    sender = str(item.get("LastC2CMsgFromAccount", ""))
    last = item.get("LastMsg") if isinstance(item.get("LastMsg"), dict) else {}
    assert isinstance(last, dict)
    last_message: dict[str, Any] | None = None
    if sender:
        flags = item.get("LastMsgFlags", 0)
        message = {
            "From_Account": sender,
            "To_Account": peer if sender == me else me,
            "MsgSeq": item.get("MsgSeq", 0),
            "MsgRandom": item.get("MsgRandom", 0),
            "MsgTimeStamp": item.get("MsgTimeStamp", 0),
            "MsgBody": last.get("MsgBody", []),
            "CloudCustomData": last.get("CloudCustomData", ""),
            "MsgFlagBits": flags,
        }
        server_id = last.get("MsgId", item.get("MsgId"))
        if server_id:
            message["MsgId"] = server_id
        last_message = wire.c2c_message(message, me)
        known = instance.seen.get(last_message["ID"])
        if known is not None:  # the SDK shows the message it holds (with the sender's nick)
            last_message = {**known, "isRevoked": last_message["isRevoked"]}
    return {
        "conversationID": wire.C2C + peer,
        "type": wire.C2C,
        "unreadCount": item.get("UnreadMsgCount", 0),
        "lastMessage": last_message,
        "messageRemindType": "AcceptAndNotify",  # the SDK's default; C2C remind types are not mapped
        "userProfile": {
            "userID": peer,
            "nick": str(item.get("PeerNick", "")),
            "avatar": str(item.get("PeerAvatar", "")),
        },
    }


def get_conversation_list(driver: WireClient, instance: Instance, args: Mapping[str, Any]) -> Reply:
    reply, conversations = _conversations(driver, instance)
    if not reply.ok:
        return reply
    return Reply(0, "", {"conversationList": conversations})


def get_conversation_profile(driver: WireClient, instance: Instance, args: Mapping[str, Any]) -> Reply:
    """The SDK answers it from the conversation list it keeps (``page_get``)."""
    conversation = _conversation_arg(args)
    if isinstance(conversation, Reply):
        return conversation
    if conversation.startswith(wire.GROUP):
        return Reply.not_supported(NO_GROUPS)
    reply, conversations = _conversations(driver, instance)
    if not reply.ok:
        return reply
    found = next((c for c in conversations if c["conversationID"] == conversation), None)
    if found is None:
        return Reply.not_supported(
            "a conversation not in page_get's list: the SDK builds it without the server"
        )
    return Reply(0, "", {"conversation": found})


# --- profile ---------------------------------------------------------------------------------------
def get_my_profile(driver: WireClient, instance: Instance, args: Mapping[str, Any]) -> Reply:
    me = instance.user_id
    reply = driver.request(
        instance, "profile.portrait_get_all", {"From_Account": me, "UserItem": [{"To_Account": me}]}
    )
    if not reply.ok:
        return reply
    items = reply.data.get("UserProfileItem") or []
    mine = next((i for i in items if isinstance(i, dict) and i.get("To_Account") == me), {})
    profile = wire.profile_from_wire(me, mine.get("ProfileItem"))
    instance.profile = {"Nick": profile["nick"], "FaceUrl": profile["avatar"]}
    return Reply(0, "", {"profile": profile})


def read_own_profile(driver: WireClient, instance: Instance) -> None:
    """At login the SDK reads its user's profile (``portrait_get_all``); a failure leaves it empty."""
    get_my_profile(driver, instance, {})


def update_my_profile(driver: WireClient, instance: Instance, args: Mapping[str, Any]) -> Reply:
    items = wire.profile_items(args)
    if items is None:
        return Reply.not_supported("updateMyProfile: a field without a standard profile tag in this driver")
    reply = driver.request(
        instance, "profile.portrait_set", {"From_Account": instance.user_id, "ProfileItem": items}
    )
    if not reply.ok:
        return reply
    return get_my_profile(driver, instance, {})


# --- pushes ----------------------------------------------------------------------------------------
def push_to_events(instance: Instance, stream: EventStream, item: Mapping[str, Any]) -> None:
    """One ``EventArray`` entry of ``im_open_push.msg_push`` -> the SDK's events, in order."""
    groups.push_to_events(instance, stream, item)
    me = instance.user_id
    for message in item.get("C2cMsgArray") or []:
        if isinstance(message, dict):
            view = wire.c2c_message(message, me)
            if is_modified_notice(instance, message):  # MSG-8: for the send it belongs to
                instance.modified[view["ID"]] = view
                continue
            stream.put(MESSAGE_RECEIVED, [instance.remember(view, wire.c2c_key(message))])
    for change in item.get("ProfileDataMod") or []:  # PROF-1, REST-3
        if isinstance(change, dict) and isinstance(change.get("Profile_Account"), str):
            stream.put(
                PROFILE_UPDATED,
                [wire.profile_from_wire(change["Profile_Account"], change.get("ProfileList"))],
            )
    for notice in item.get("C2cNotifyMsgArray") or []:
        withdraw = notice.get("WithdrawC2cMsgNotify") if isinstance(notice, dict) else None
        if not isinstance(withdraw, dict):
            continue
        revoked = []
        for info in withdraw.get("C2cWithdrawInfoArray") or []:
            if not isinstance(info, dict):
                continue
            view = wire.c2c_message(info, me)
            known = instance.seen.get(view["ID"])
            if known is not None:  # the SDK shows the message it holds
                view = known
            revoked.append(instance.remember({**view, "isRevoked": True}))
        if revoked:
            stream.put(MESSAGE_REVOKED, revoked)


HANDLERS: dict[str, Handler] = {
    **groups.HANDLERS,
    "sendMessage": send_message,
    "resendMessage": resend_message,
    "revokeMessage": revoke_message,
    "getMessageList": get_message_list,
    "setMessageRead": set_message_read,
    "deleteConversation": delete_conversation,
    "getConversationList": get_conversation_list,
    "getConversationProfile": get_conversation_profile,
    "getMyProfile": get_my_profile,
    "updateMyProfile": update_my_profile,
}
