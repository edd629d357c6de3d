"""REST v4 one-to-one messages (REST-4, REST-5): ``openim/sendmsg``, ``batchsendmsg``,
``importmsg``, ``admin_getroammsg``, ``admin_msgwithdraw``, ``admin_set_msg_read``,
``get_c2c_unread_msg_num``."""

from __future__ import annotations

from typing import Any

from simtim.errors import Code, IMError
from simtim.limits import (
    REST_BATCH_SEND_MAX,
    REST_MSG_LIFETIME_MAX,
    REST_ROAM_PAGE_MAX,
    REST_UNREAD_PEERS_MAX,
    UINT32_MAX,
)
from simtim.model.elements import body_size, check_elements, declared_size_limit_exceeded
from simtim.protocol.rest.context import Ctx, Result
from simtim.protocol.rest.request import Fields
from simtim.protocol.rest.vocabulary import c2c_item, element_from_rest

OPENIM = Code.REST_JSON_INVALID  # openim's code for a field of the wrong shape (90001)
Elements = list[tuple[Any, Any]]


def message_body(
    ctx: Ctx,
    fields: Fields,
    cloud: str = "",
    *,
    invalid: int = Code.REST_MSG_BODY_INVALID,
    too_long: int = Code.REST_BODY_TOO_LONG,
) -> Elements:
    """``MsgBody``: a non-empty array of valid elements (MSG-1's rules, at most one custom element),
    within the app's size limit (MSG-2's measure)."""
    raw = fields.body.get("MsgBody")
    if not isinstance(raw, list) or not raw or not all(isinstance(e, dict) for e in raw):
        raise IMError(invalid, "MsgBody must be a non-empty array of {MsgType, MsgContent}", rule="REST-4")
    elements = [element_from_rest(e) for e in raw]
    try:
        check_elements(elements)
    except IMError as exc:
        raise IMError(invalid, exc.message, rule="REST-4") from None
    if body_size(elements, cloud) > ctx.caller.app.config.message_max_bytes:
        raise IMError(too_long, rule="REST-4")
    if declared_size_limit_exceeded(elements):
        raise IMError(invalid, "a declared file size is over the limit", rule="REST-4")
    return elements


def _sender(ctx: Ctx, fields: Fields) -> tuple[str, bool]:
    """``From_Account`` (an account the admin speaks as) or, absent, the admin itself."""
    if fields.body.get("From_Account") is None:
        return ctx.admin, True
    sender = fields.string("From_Account", code=Code.REST_FROM_ACCOUNT_INVALID)
    return sender, sender == ctx.admin


def sendmsg(ctx: Ctx) -> Result:
    fields = ctx.fields(OPENIM)
    to = fields.string("To_Account", code=Code.REST_TO_ACCOUNT_INVALID)
    random = fields.integer("MsgRandom", high=UINT32_MAX, code=Code.REST_MSG_RANDOM_INVALID)
    seq = fields.opt_integer("MsgSeq", high=UINT32_MAX)
    sync = fields.opt_integer("SyncOtherMachine", 1, low=1, high=2)
    fields.opt_integer("MsgLifeTime", 0, high=REST_MSG_LIFETIME_MAX, code=Code.REST_MSG_LIFETIME_INVALID)
    cloud = fields.opt_string("CloudCustomData")
    elements = message_body(ctx, fields, cloud)
    sender, is_admin = _sender(ctx, fields)
    outcome = ctx.world.c2c_admin.send(
        ctx.sdkappid,
        sender,
        to,
        elements,
        is_admin=is_admin,
        random=random,
        msg_seq=seq,
        sync_sender=sync == 1,
        cloud_custom_data=cloud,
    )
    msg = outcome.data["message"]
    return {"MsgTime": msg.time, "MsgKey": msg.msg_key, "MsgId": msg.id}, outcome.events


def batchsendmsg(ctx: Ctx) -> Result:
    fields = ctx.fields(OPENIM)
    recipients = fields.strings(
        "To_Account",
        most=REST_BATCH_SEND_MAX,
        code=Code.REST_TO_ACCOUNT_INVALID,
        many=Code.REST_TOO_MANY_RECIPIENTS,
    )
    random = fields.integer("MsgRandom", high=UINT32_MAX, code=Code.REST_MSG_RANDOM_INVALID)
    seq = fields.opt_integer("MsgSeq", high=UINT32_MAX)
    cloud = fields.opt_string("CloudCustomData")
    elements = message_body(ctx, fields, cloud)
    sender, is_admin = _sender(ctx, fields)
    outcome = ctx.world.c2c_admin.batch_send(
        ctx.sdkappid,
        sender,
        recipients,
        elements,
        is_admin=is_admin,
        random=random,
        msg_seq=seq,
        cloud_custom_data=cloud,
    )
    sent = outcome.data["messages"]
    reply: dict[str, Any] = {"MsgKey": sent[0].msg_key if sent else "", "MsgId": sent[0].id if sent else ""}
    unknown = outcome.data["unknown"]
    if unknown:
        reply["ErrorList"] = [
            {"To_Account": u, "ErrorCode": int(Code.REST_ACCOUNT_NOT_FOUND)} for u in unknown
        ]
    return reply, outcome.events


def importmsg(ctx: Ctx) -> Result:
    fields = ctx.fields(OPENIM)
    mode = fields.integer("SyncFromOldSystem", low=1, high=5)
    if mode not in (2, 5):
        raise IMError(OPENIM, "SyncFromOldSystem is 2 (history) or 5 (realtime)", rule="REST-4")
    sender = fields.string("From_Account", code=Code.REST_FROM_ACCOUNT_INVALID)
    to = fields.string("To_Account", code=Code.REST_TO_ACCOUNT_INVALID)
    seq = fields.integer("MsgSeq", high=UINT32_MAX)
    random = fields.integer("MsgRandom", high=UINT32_MAX, code=Code.REST_MSG_RANDOM_INVALID)
    stamp = fields.integer("MsgTimeStamp", code=Code.REST_MSG_TIMESTAMP_INVALID)
    if stamp > ctx.caller.app.clock.now():
        raise IMError(Code.REST_MSG_TIMESTAMP_INVALID, "MsgTimeStamp is in the future", rule="REST-4")
    cloud = fields.opt_string("CloudCustomData")
    elements = message_body(ctx, fields, cloud)
    outcome = ctx.world.c2c_admin.import_message(
        ctx.sdkappid,
        sender,
        to,
        elements,
        msg_seq=seq,
        random=random,
        timestamp=stamp,
        realtime=mode == 5,
        cloud_custom_data=cloud,
    )
    return {}, outcome.events


def admin_getroammsg(ctx: Ctx) -> Result:
    """Current field names ``Operator_Account``/``Peer_Account``; the pre-2024 ``From_Account``/
    ``To_Account`` are accepted too (TIM-REST.md [D])."""
    fields = ctx.fields(OPENIM)
    body = ctx.body
    operator = body.get("Operator_Account", body.get("From_Account"))
    peer = body.get("Peer_Account", body.get("To_Account"))
    if not isinstance(operator, str) or not operator or not isinstance(peer, str) or not peer:
        raise IMError(OPENIM, "Operator_Account and Peer_Account must be non-empty strings", rule="REST-5")
    count = min(fields.integer("MaxCnt", low=1), REST_ROAM_PAGE_MAX)
    page, complete = ctx.world.c2c_admin.roam(
        ctx.sdkappid,
        operator,
        peer,
        max_count=count,
        min_time=fields.integer("MinTime"),
        max_time=fields.integer("MaxTime"),
        last_key=fields.opt_string("LastMsgKey"),
    )
    last = page[-1] if page else None
    return {
        "Complete": 1 if complete else 0,
        "MsgCnt": len(page),
        "LastMsgTime": last.time if last else 0,
        "LastMsgKey": last.msg_key if last else "",
        "MsgList": [c2c_item(m) for m in page],
    }, []


def admin_msgwithdraw(ctx: Ctx) -> Result:
    fields = ctx.fields(OPENIM)
    sender = fields.string("From_Account", code=Code.REST_FROM_ACCOUNT_INVALID)
    to = fields.string("To_Account", code=Code.REST_TO_ACCOUNT_INVALID)
    key = fields.string("MsgKey", code=Code.REST_MSG_KEY_INVALID)
    return {}, ctx.world.c2c_admin.withdraw(ctx.sdkappid, sender, to, key).events


def admin_set_msg_read(ctx: Ctx) -> Result:
    fields = ctx.fields(OPENIM)
    reader = fields.string("Report_Account")
    peer = fields.string("Peer_Account")
    read_time = fields.opt_integer("MsgReadTime")
    return {}, ctx.world.c2c_admin.set_read(ctx.sdkappid, reader, peer, read_time).events


def get_c2c_unread_msg_num(ctx: Ctx) -> Result:
    fields = ctx.fields(OPENIM)
    user = fields.string("To_Account", code=Code.REST_TO_ACCOUNT_INVALID)
    peers = fields.strings("Peer_Account", most=REST_UNREAD_PEERS_MAX) if fields.has("Peer_Account") else None
    total, per_peer = ctx.world.c2c_admin.unread(ctx.sdkappid, user, peers)
    reply: dict[str, Any] = {"AllC2CUnreadMsgNum": total}
    if peers is not None:
        reply["C2CUnreadMsgNumList"] = [
            {"Peer_Account": p, "C2CUnreadMsgNum": n} for p, n in per_peer if n is not None
        ]
        errors = [
            {"Peer_Account": p, "ErrorCode": int(Code.REST_ACCOUNT_NOT_FOUND)}
            for p, n in per_peer
            if n is None
        ]
        if errors:
            reply["ErrorList"] = errors
    return reply, []


COMMANDS: dict[tuple[str, str], Any] = {
    ("openim", "sendmsg"): sendmsg,
    ("openim", "batchsendmsg"): batchsendmsg,
    ("openim", "importmsg"): importmsg,
    ("openim", "admin_getroammsg"): admin_getroammsg,
    ("openim", "admin_msgwithdraw"): admin_msgwithdraw,
    ("openim", "admin_set_msg_read"): admin_set_msg_read,
    ("openim", "get_c2c_unread_msg_num"): get_c2c_unread_msg_num,
}
