"""The Web SDK wire's bodies (REST v4 names) as TIM SDK values, and back: what the official SDK does
between its public API and its socket.

Pure functions, no I/O.  A message read from the wire (a push, a history page, a send reply) becomes
the SDK's ``Message`` fields (MSG-4) as the instance's user sees them; element contents go through the
vocabulary the REST and Web SDK faces share (``simtim/protocol/rest/vocabulary.py``), so a message
reads the same whichever face wrote it.

Message IDs are the client's to build (the SDK makes ``<tinyid>-<time>-<random>``); this client uses
what the wire itself identifies a message by, so an ID handed back (``revokeMessage``,
``nextReqMessageID``) turns into the wire's cursor again: ``MsgKey`` for C2C, ``GroupId`` + ``MsgSeq``
for a group.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from simtim.protocol.rest.vocabulary import MSG_FLAG_REVOKED, element_from_rest, element_to_rest

C2C = "C2C"
GROUP = "GROUP"
#: ``MsgPriority`` numbers of group messages (REST v4) -> the SDK's names
PRIORITY_NAME = {1: "High", 2: "Normal", 3: "Low", 4: "Lowest"}
PRIORITY_NUMBER = {name: number for number, name in PRIORITY_NAME.items()}
#: profile tags of the standard fields the SDK reads (TIM-REST "profile")
TAG_NICK = "Tag_Profile_IM_Nick"
TAG_AVATAR = "Tag_Profile_IM_Image"
PROFILE_TAGS = {"nick": TAG_NICK, "avatar": TAG_AVATAR}
#: TIM's platform number of the web SDK, in the URL and every head
WEB_PLATFORM_NUMBER = 7
GROUP_ID_SEPARATOR = "#seq"
#: EventArray ``Event`` of group system notices and group revokes (``GroupTips`` entries)
EVENT_GROUP_NOTICE = 5
#: C2C message IDs: ``C2C|<from>|<to>|<MsgKey>``.  Never the bare key (REST replies carry MsgKeys,
#: and the conformance ID map must not see one value standing for two things); sender and receiver
#: are in it because a revoke names the message by them, as the SDK's Message object does
C2C_ID_PREFIX = "C2C|"


def c2c_message_id(sender: str, to: str, msg_key: str) -> str:
    return f"{C2C_ID_PREFIX}{sender}|{to}|{msg_key}"


def parse_c2c_message_id(message_id: str) -> tuple[str, str, str] | None:
    """(from, to, MsgKey) of an ID made by ``c2c_message_id``; None for anything else."""
    if not message_id.startswith(C2C_ID_PREFIX):
        return None
    parts = message_id[len(C2C_ID_PREFIX) :].split("|")
    if len(parts) != 3 or not all(parts):
        return None
    return parts[0], parts[1], parts[2]


def group_message_id(group_id: str, seq: int) -> str:
    return f"{group_id}{GROUP_ID_SEPARATOR}{seq}"


def parse_group_message_id(message_id: str) -> tuple[str, int] | None:
    group_id, sep, seq = message_id.rpartition(GROUP_ID_SEPARATOR)
    if not sep or not seq.isdigit():
        return None
    return group_id, int(seq)


def c2c_key_parts(msg_key: str) -> tuple[int, int, int] | None:
    """``{MsgSeq}_{MsgRandom}_{MsgTime}`` (REST-4's key) -> (seq, random, time)."""
    parts = msg_key.split("_")
    if len(parts) != 3 or not all(p.isdigit() for p in parts):
        return None
    return int(parts[0]), int(parts[1]), int(parts[2])


def body_to_wire(message: Mapping[str, Any]) -> list[dict[str, Any]]:
    """The SDK's ``type``/``payload`` (or ``elements``) -> ``MsgBody``."""
    elements = message.get("elements")
    if isinstance(elements, list) and elements:
        return [
            element_to_rest(e.get("type"), e.get("payload")) if isinstance(e, dict) else e for e in elements
        ]
    return [element_to_rest(message.get("type"), message.get("payload"))]


def body_from_wire(msg_body: Any) -> dict[str, Any]:
    """``MsgBody`` -> ``type`` + ``payload`` (+ ``elements`` when there are several)."""
    items = [item for item in msg_body if isinstance(item, dict)] if isinstance(msg_body, list) else []
    converted = [element_from_rest(item) for item in items]
    if not converted:
        return {"type": "", "payload": None}
    kind, payload = converted[0]
    out: dict[str, Any] = {"type": kind, "payload": payload}
    if len(converted) > 1:
        out["elements"] = [{"type": k, "payload": p} for k, p in converted]
    return out


def c2c_key(item: Mapping[str, Any]) -> str:
    """A C2C item's ``MsgKey``, or the key its seq, random and time make (revoke notices carry no key)."""
    key = item.get("MsgKey")
    if isinstance(key, str) and key:
        return key
    return f"{item.get('MsgSeq')}_{item.get('MsgRandom')}_{item.get('MsgTimeStamp', item.get('MsgTime'))}"


def c2c_message(item: Mapping[str, Any], me: str) -> dict[str, Any]:
    """One C2C message of a push or a ``getroammsg`` page, as ``me`` sees it."""
    sender = str(item.get("From_Account", ""))
    to = str(item.get("To_Account", ""))
    peer = to if sender == me else sender
    content = body_from_wire(item.get("MsgBody"))
    flags = item.get("MsgFlagBits", 0)
    server_id = item.get("MsgId")
    return _ordered(
        server_id if isinstance(server_id, str) and server_id else c2c_message_id(sender, to, c2c_key(item)),
        content,
        conversation_id=C2C + peer,
        conversation_type=C2C,
        to=to,
        sender=sender,
        me=me,
        time=item.get("MsgTimeStamp", item.get("MsgTime", 0)),
        sequence=item.get("MsgSeq", 0),
        random=item.get("MsgRandom", 0),
        revoked=bool(isinstance(flags, int) and flags & MSG_FLAG_REVOKED),
        priority=_priority(item.get("MsgPriority", 2)),
        item=item,
    )


def group_message(item: Mapping[str, Any], group_id: str, me: str) -> dict[str, Any]:
    """One group message of a push or a ``group_msg_get`` page, as ``me`` sees it."""
    sender = str(item.get("From_Account", ""))
    seq = item.get("MsgSeq", 0)
    content = body_from_wire(item.get("MsgBody"))
    priority = item.get("MsgPriority", 2)
    return _ordered(
        group_message_id(group_id, seq if isinstance(seq, int) else 0),
        content,
        conversation_id=GROUP + group_id,
        conversation_type=GROUP,
        to=group_id,
        sender=sender,
        me=me,
        time=item.get("MsgTimeStamp", item.get("MsgTime", 0)),
        sequence=seq,
        random=item.get("MsgRandom", item.get("Random", 0)),
        revoked=item.get("IsPlaceMsg") == 2,
        priority=_priority(priority),
        item=item,
    )


def _ordered(
    message_id: str,
    content: dict[str, Any],
    *,
    conversation_id: str,
    conversation_type: str,
    to: str,
    sender: str,
    me: str,
    time: Any,
    sequence: Any,
    random: Any,
    revoked: bool,
    priority: str,
    item: Mapping[str, Any],
) -> dict[str, Any]:
    """The SDK Message fields (MSG-4) in one place, for C2C and group alike."""
    data: dict[str, Any] = {
        "ID": message_id,
        "type": content["type"],
        "payload": content["payload"],
        "conversationID": conversation_id,
        "conversationType": conversation_type,
        "to": to,
        "from": sender,
        "flow": "out" if sender == me else "in",
        "time": time,
        "sequence": sequence,
        "random": random,
        "status": "success",
        "isRevoked": revoked,
        "priority": priority,
        "nick": _extra(item, "Nick", "NickName", "From_AccountNick"),
        "avatar": _extra(item, "FaceUrl", "FaceUrl", "From_AccountHeadurl"),
        "cloudCustomData": str(item.get("CloudCustomData", "")),
    }
    if "elements" in content:
        data["elements"] = content["elements"]
    return data


def _priority(value: Any) -> str:
    """``MsgPriority``: TIM's number (group items) or the SDK's name (what a client sent)."""
    if isinstance(value, int):
        return PRIORITY_NAME.get(value, "Normal")
    return str(value) if value in PRIORITY_NUMBER else "Normal"


def _extra(item: Mapping[str, Any], extra_key: str, *keys: str) -> str:
    """The sender's nick or avatar: ``MsgFrom_AccountExtraInfo`` (group items), else a flat key."""
    extra = item.get("MsgFrom_AccountExtraInfo")
    if isinstance(extra, dict) and extra.get(extra_key) is not None:
        return str(extra[extra_key])
    for key in keys:
        if item.get(key) is not None:
            return str(item[key])
    return ""


def profile_from_wire(user_id: str, items: Any) -> dict[str, Any]:
    """``ProfileItem [{Tag, Value}]`` (a profile push says ``ValueBytes``) -> the SDK's
    ``{userID, nick, avatar}``."""
    values = (
        {i.get("Tag"): i.get("Value", i.get("ValueBytes")) for i in items if isinstance(i, dict)}
        if isinstance(items, list)
        else {}
    )
    return {
        "userID": user_id,
        "nick": str(values.get(TAG_NICK) or ""),
        "avatar": str(values.get(TAG_AVATAR) or ""),
    }


def profile_items(args: Mapping[str, Any]) -> list[dict[str, Any]] | None:
    """``updateMyProfile`` options -> ``ProfileItem``; None when it names a field the wire has no tag for."""
    items = []
    for key, value in args.items():
        tag = PROFILE_TAGS.get(key)
        if tag is None:
            return None
        items.append({"Tag": tag, "Value": value})
    return items
