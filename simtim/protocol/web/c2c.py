"""One-to-one messages and conversations over the Web SDK wire (``openim``, ``recentcontact``).

Bodies use the REST v4 names; messages are written and read through the vocabulary the REST face
uses (``element_from_rest``, ``c2c_item``), and every decision is the model's: ``sendMessage``,
``getMessageList``, ``revokeMessage``, ``setMessageRead``, ``getConversationList`` as the caller.
"""

from __future__ import annotations

from typing import Any

from simtim.errors import Code, IMError
from simtim.limits import MESSAGE_PAGE_MAX, UINT32_MAX
from simtim.model.entities import C2C, GROUP, Message
from simtim.protocol.rest.vocabulary import (
    MSG_FLAG_REVOKED,
    body_of,
    c2c_item,
    element_from_rest,
    priority_number,
)
from simtim.protocol.web.context import WebCtx, bad, integer, text
from simtim.protocol.web.session import TinyIds


def elements_of(body: dict[str, Any]) -> list[dict[str, Any]]:
    """``MsgBody`` -> the model's ``elements`` (6017 for a body of the wrong shape, MSG-2)."""
    raw = body.get("MsgBody")
    if not isinstance(raw, list) or not raw or not all(isinstance(e, dict) for e in raw):
        raise bad("MsgBody must be a non-empty array of {MsgType, MsgContent}")
    out = []
    for element in raw:
        kind, payload = element_from_rest(element)
        out.append({"type": kind, "payload": payload})
    return out


def draft(body: dict[str, Any], conversation_type: str, to: str) -> dict[str, Any]:
    """A Web SDK send body -> the model's message option object (MSG-1)."""
    message: dict[str, Any] = {"to": to, "conversationType": conversation_type, "elements": elements_of(body)}
    random = body.get("MsgRandom", body.get("Random"))
    if random is not None:
        message["random"] = random
    cloud = body.get("CloudCustomData")
    if cloud:
        message["cloudCustomData"] = cloud
    client_time = body.get("MsgClientTime")
    if client_time is not None:
        message["clientTime"] = client_time
    priority = body.get("MsgPriority")
    if isinstance(priority, str) and priority:
        message["priority"] = priority
    return message


def push_item(msg: Message, tinyids: TinyIds, sdkappid: int) -> dict[str, Any]:
    """A C2C message as pushes, offline sync and history carry it.  The SDK names a message
    ``<sender tinyid>-<client time>-<random>``, so ``TinyId`` and ``MsgClientTime`` make every copy
    of one message (sent, pushed, synced, in history) the same message to the SDK.  The sender's
    nick and avatar as the model stored them at send time (PROF-1) go in the names the SDK maps to
    ``Message.nick``/``avatar``; ``MsgPriority`` in TIM's numbers, as group items carry it (MSG-4)."""
    item = c2c_item(msg)
    item["From_AccountNick"] = msg.nick
    item["From_AccountHeadurl"] = msg.avatar
    item["MsgPriority"] = priority_number(msg.priority)
    item["ClientSeq"] = msg.rest_seq or msg.sequence
    item["TinyId"] = tinyids.of(sdkappid, msg.sender)
    item["MsgClientTime"] = msg.client_time or msg.time
    return item


def _items(ctx: WebCtx, messages: list[Message]) -> list[dict[str, Any]]:
    return [push_item(m, ctx.face.tinyids, ctx.me.sdkappid) for m in messages]


def send_options(request_body: dict[str, Any]) -> dict[str, Any]:
    """The model's ``sendMessage`` options of a C2C send body (the callback asks with the same)."""
    return {"message": draft(request_body, C2C, text(request_body, "To_Account"))}


def sendmsg(ctx: WebCtx) -> dict[str, Any]:
    body = ctx.body
    to = text(body, "To_Account")
    seq = body.get("MsgSeq")
    if seq is not None and not (isinstance(seq, int) and not isinstance(seq, bool) and 0 < seq <= UINT32_MAX):
        raise bad("MsgSeq must be a uint32")
    data = ctx.send({"message": draft(body, C2C, to)})
    msg = ctx.app.messages[data["message"]["ID"]]
    if seq and not msg.rest_seq:
        # REST-4: a C2C MsgSeq is the sender's own number; the SDK dedups its copies by it
        msg.rest_seq = seq
    return {"MsgTime": msg.time, "MsgKey": msg.msg_key, "MsgSeq": msg.rest_seq or msg.sequence}


def _after(ctx: WebCtx, order: int) -> list[Message]:
    """C2C messages to this account newer than ``order`` (offline sync), oldest first."""
    me = ctx.me.user_id
    out = []
    for msg in ctx.app.messages.newest_first():
        if msg.order <= order:
            break
        if msg.conversation_type == C2C and msg.to == me and msg.sender != me and not msg.revoked:
            out.append(msg)
    out.reverse()
    return out


def getmsg(ctx: WebCtx) -> dict[str, Any]:
    """Offline sync: the first call after a login returns the unread C2C messages (what arrived
    while the account was away, UNREAD-1) with each peer's unread count; later calls what is newer
    than the cookie.  ``SyncFlag`` 2 ends the sync, and the cookie is the app-wide message order
    (MSG-4), so nothing is given twice."""
    session = ctx.me
    app, account = ctx.app, ctx.account
    pairs: list[dict[str, Any]] = []
    if not session.synced:
        messages: list[Message] = []
        inst = ctx.world.instances[session.instance_id]
        for conversation_id, state in account.convs.items():
            if not conversation_id.startswith(C2C) or state.unread <= 0:
                continue
            data = ctx.world.conversations.get_message_list(
                inst, {"conversationID": conversation_id, "count": MESSAGE_PAGE_MAX}
            ).data
            received = [app.messages[m["ID"]] for m in data["messageList"] if m["flow"] == "in"]
            messages.extend(received[-state.unread :])
            pairs.append({"From_Account": conversation_id[len(C2C) :], "UnreadCount": state.unread})
        messages.sort(key=lambda m: m.order)
        session.synced = True
    else:
        messages = _after(ctx, session.cookie)
    session.cookie = app.order
    return {
        "Cookie": str(session.cookie),
        "SyncFlag": 2,
        "MsgList": _items(ctx, messages),
        "C2CPairUnreadCount": pairs,
        "C2CRemainingUnreadCount": [],
    }


def _thread_message(ctx: WebCtx, conversation_id: str, key: str, when: int) -> str:
    """The model ID of the message a history cursor (``MsgKey``/``LastMsgTime``) names."""
    data = ctx.world.conversations.thread_of(ctx.app, ctx.account, conversation_id)
    if data is None:
        return ""
    for msg in reversed(data.messages):
        if (key and msg.msg_key == key) or (not key and msg.time <= when):
            return msg.id
    return ""


def getroammsg(ctx: WebCtx) -> dict[str, Any]:
    """``getMessageList`` of a C2C conversation (PAGE-1: at most 15 a page, oldest first on the
    wire); the cursor is the oldest message of the previous page."""
    body = ctx.body
    peer = text(body, "Peer_Account")
    count = integer(body, "MaxCnt", MESSAGE_PAGE_MAX)
    key = body.get("MsgKey") or ""
    last_time = integer(body, "LastMsgTime", 0)
    conversation_id = C2C + peer
    # the count as sent: the model checks it (6017, ORDER-1) and caps a page at 15 (PAGE-1)
    options: dict[str, Any] = {"conversationID": conversation_id, "count": count}
    if key or last_time:
        cursor = _thread_message(ctx, conversation_id, str(key), last_time)
        if cursor:
            options["nextReqMessageID"] = cursor
    data = ctx.call("getMessageList", options)
    page = [ctx.app.messages[m["ID"]] for m in data["messageList"]]  # oldest first: the SDK keeps
    oldest = page[0] if page else None  # C2C roaming pages in the order given (groups: reversed)
    return {
        "Complete": 1 if data["isCompleted"] else 0,
        "MsgCnt": len(page),
        "LastMsgTime": oldest.time if oldest else 0,
        "MsgKey": oldest.msg_key if oldest else "",
        "MsgList": _items(ctx, page),
    }


def msgwithdraw(ctx: WebCtx) -> dict[str, Any]:
    """``revokeMessage`` of a C2C message named by seq/random/time (REV-1..3)."""
    info = ctx.body.get("MsgInfo")
    if not isinstance(info, dict):
        raise bad("MsgInfo must be an object")
    peer = info.get("To_Account")
    if not isinstance(peer, str) or not peer:
        raise bad("MsgInfo.To_Account must be a non-empty string")
    key = f"{info.get('MsgSeq')}_{info.get('MsgRandom')}_{info.get('MsgTimeStamp')}"
    thread = ctx.world.conversations.thread_of(ctx.app, ctx.account, C2C + peer)
    found = next((m for m in (thread.messages if thread else []) if m.msg_key == key), None)
    if found is None:
        raise IMError(Code.C2C_MESSAGE_NOT_FOUND, rule="REV-3")
    ctx.call("revokeMessage", {"message": {"ID": found.id, "conversationType": C2C}})
    return {}


def msgreaded(ctx: WebCtx) -> dict[str, Any]:
    """``setMessageRead`` of C2C conversations (UNREAD-1)."""
    entries = ctx.body.get("C2CMsgReaded", {})
    items = entries.get("C2CMsgReadedItem") if isinstance(entries, dict) else None
    if not isinstance(items, list):
        raise bad("C2CMsgReaded.C2CMsgReadedItem must be a list")
    for item in items:
        if not isinstance(item, dict) or not isinstance(item.get("To_Account"), str):
            raise bad("each C2CMsgReadedItem needs To_Account")
        ctx.call("setMessageRead", {"conversationID": C2C + item["To_Account"]})
    return {}


def get_peer_read_time(ctx: WebCtx) -> dict[str, Any]:
    """The model keeps no peer read receipts: 0 for every peer (no receipt yet)."""
    peers = ctx.body.get("To_Account", [])
    return {"ReadTime": [0 for _ in peers] if isinstance(peers, list) else []}


def _session_item(ctx: WebCtx, view: dict[str, Any]) -> dict[str, Any]:
    last = view.get("lastMessage") or {}
    msg = ctx.app.messages.get(last.get("ID", "")) if last else None
    item: dict[str, Any] = {
        "UnreadMsgCount": view.get("unreadCount", 0),
        "MsgTimeStamp": msg.time if msg else 0,
        "MsgSeq": msg.sequence if msg else 0,
        "MsgRandom": msg.random if msg else 0,
        "LastMsg": {
            "MsgBody": body_of(msg) if msg else [],
            "CloudCustomData": msg.cloud_custom_data if msg else "",
        },
        "MsgShow": "",
        "TopFlags": 0,
    }
    if view["type"] == C2C:
        profile = view.get("userProfile") or {}
        item.update(
            {
                "Type": 1,
                "To_Account": view["conversationID"][len(C2C) :],
                "PeerNick": profile.get("nick", ""),
                "PeerAvatar": profile.get("avatar", ""),
                "LastC2CMsgFromAccount": msg.sender if msg else "",
                "LastMsgFlags": MSG_FLAG_REVOKED if msg and msg.revoked else 0,
                "C2cPeerReadTime": 0,
            }
        )
    else:
        profile = view.get("groupProfile") or {}
        item.update(
            {
                "Type": 2,
                "ToAccount": view["conversationID"][len(GROUP) :],
                "GroupNick": profile.get("name", ""),
                "GroupImage": profile.get("avatar", ""),
                "MsgGroupFromAccount": msg.sender if msg else "",
                "LastMsgFlags": 2 if msg and msg.revoked else 0,
                "MsgGroupReadedSeq": 0,
            }
        )
    return item


def page_get(ctx: WebCtx) -> dict[str, Any]:
    """``getConversationList`` (CONV-2) in one page: ``CompleteFlag`` 1 always (an incomplete reply
    makes the SDK ask again at once, ~1k requests a second)."""
    data = ctx.call("getConversationList", {})
    items = [_session_item(ctx, v) for v in data["conversationList"] if v["type"] in (C2C, GROUP)]
    return {
        "SessionItem": items,
        "CompleteFlag": 1,
        "TimeStamp": ctx.now(),
        "StartIndex": 0,
        "TopTimeStamp": 0,
        "TopStartIndex": 0,
    }


def batch_delete(ctx: WebCtx) -> dict[str, Any]:
    """``deleteConversation`` (CONV-3)."""
    items = ctx.body.get("ContactItem")
    if not isinstance(items, list):
        raise bad("ContactItem must be a list")
    results = []
    for item in items:
        if not isinstance(item, dict):
            raise bad("ContactItem entries must be objects")
        if item.get("Type") == 2 or item.get("ToGroupid"):
            conversation_id = GROUP + str(item.get("ToGroupid", ""))
        else:
            conversation_id = C2C + str(item.get("To_Account", ""))
        ctx.call("deleteConversation", {"conversationID": conversation_id})
        results.append({**item, "ResultCode": 0, "ResultInfo": ""})
    return {"ResultItem": results}


COMMANDS = {
    "openim.sendmsg": sendmsg,
    "openim.getmsg": getmsg,
    "openim.getroammsg": getroammsg,
    "openim.msgwithdraw": msgwithdraw,
    "openim.msgreaded": msgreaded,
    "openim.get_peer_read_time": get_peer_read_time,
    "recentcontact.page_get": page_get,
    "recentcontact.batch_delete": batch_delete,
}
