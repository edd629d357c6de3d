"""TIM <-> Matrix: the mapping tables and pure translations of the Matrix driver (docs/matrix.md).

Pure: no I/O.  Names and IDs (userIDs as localparts, groups as rooms), message elements as
``m.room.message`` contents, group types as join rules and history visibility, roles as power
levels, Matrix errcodes as TIM codes, and Matrix events as TIM Message views and tips.  Everything
the driver cannot translate is said here too, once (``GAPS``), so the driver answers
``unsupported`` instead of pretending.
"""

from __future__ import annotations

import hashlib
import string
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from simtim.errors import Code

NS = "org.simtim"
#: a room's TIM identity, set at creation as initial state (who a C2C room is for, a group's ID/type)
CONVERSATION_STATE = f"{NS}.conversation"
C2C = "C2C"
GROUP = "GROUP"
DEFAULT_GROUP_PREFIX = "@TGS#"  # GRP-1: default group IDs; the rest is the room ID's opaque part
TIP_ELEM = "TIMGroupTipElem"
PAGE_SIZE = 15  # PAGE-1: TIM never returns more per page, so the driver never asks for more


class Refusal(Exception):
    """A TIM code the driver answers from what the server said (e.g. 20003 for an unknown peer)."""

    def __init__(self, code: int, message: str = "") -> None:
        self.code = int(code)
        super().__init__(message or str(self.code))


class Unsupported(Exception):
    """This use of an operation has no Matrix counterpart (the call answers ``not_supported``)."""


# --- names ----------------------------------------------------------------------------------------
#: bytes a localpart may hold as they are (Matrix's "mapping from other character sets": a-z, 0-9,
#: ``-./+``); ``A-Z`` become ``_`` + lower case, ``_`` becomes ``__``, every other byte ``=XX`` (hex),
#: and so does a first byte that would start the localpart with ``_`` (Synapse refuses those).
_PLAIN = frozenset((string.ascii_lowercase + string.digits + "-./+").encode())
#: the driver's own admin account: ``_.`` never comes out of the escaping, so no TIM user maps here
ADMIN_LOCALPART = "simtim_.admin"
PROVISION_DEVICE = "SIMTIM_PROVISION"  # the driver's own device per account (setup, not a TIM instance)


def localpart_of(user_id: str) -> str:
    """A TIM userID as a Matrix localpart, bijectively (``alice_Bo`` -> ``alice___bo``,
    ``Alice`` -> ``=41lice``)."""
    out: list[str] = []
    for index, byte in enumerate(user_id.encode("utf-8")):
        if byte in _PLAIN:
            out.append(chr(byte))
        elif index == 0:  # Synapse keeps localparts starting with _ for application services
            out.append(f"={byte:02x}")
        elif 0x41 <= byte <= 0x5A:
            out.append("_" + chr(byte + 32))
        elif byte == 0x5F:
            out.append("__")
        else:
            out.append(f"={byte:02x}")
    return "".join(out)


def user_id_of_localpart(localpart: str) -> str | None:
    """The inverse of ``localpart_of``; None for a localpart it never makes (another client's user)."""
    raw = bytearray()
    i = 0
    while i < len(localpart):
        char = localpart[i]
        if char == "_" and i + 1 < len(localpart):
            follower = localpart[i + 1]
            if follower == "_":
                raw.append(0x5F)
            elif "a" <= follower <= "z":
                raw.append(ord(follower) - 32)
            else:
                return None
            i += 2
        elif char == "=" and _is_hex(localpart[i + 1 : i + 3]):
            raw.append(int(localpart[i + 1 : i + 3], 16))
            i += 3
        elif ord(char) < 128 and ord(char) in _PLAIN:
            raw.append(ord(char))
            i += 1
        else:
            return None
    try:
        decoded = raw.decode("utf-8")
    except UnicodeDecodeError:
        return None
    return decoded if localpart_of(decoded) == localpart else None  # only what the escaping makes


def _is_hex(text: str) -> bool:
    return len(text) == 2 and all(c in "0123456789abcdef" for c in text)


def mxid(user_id: str, server: str) -> str:
    return f"@{localpart_of(user_id)}:{server}"


def tim_user(matrix_id: str) -> str:
    """``@_alice:hs`` -> ``Alice``; a Matrix user the escaping never made keeps its Matrix ID."""
    localpart = matrix_id[1:].split(":", 1)[0] if matrix_id.startswith("@") else matrix_id
    decoded = user_id_of_localpart(localpart)
    return decoded if decoded is not None else matrix_id


def group_alias(group_id: str, server: str) -> str:
    """A custom TIM groupID (GRP-1) is a room alias, so the driver and others find the room again."""
    return f"#simtim.g.{localpart_of(group_id)}:{server}"


def dm_alias_localpart(user_a: str, user_b: str) -> str:
    """The C2C room of a pair, the same whichever of the two asks first (sorted, hashed)."""
    first, second = sorted((user_a, user_b))
    digest = hashlib.sha256(f"{first}\x00{second}".encode()).hexdigest()[:40]
    return f"simtim.dm.{digest}"


def group_id_of_room(room_id: str) -> str:
    """A group created without a groupID gets ``@TGS#`` + the room ID's opaque part (reversible)."""
    return DEFAULT_GROUP_PREFIX + room_id[1:].split(":", 1)[0]


def room_of_default_group(group_id: str, server: str) -> str:
    return f"!{group_id[len(DEFAULT_GROUP_PREFIX) :]}:{server}"


def txn_id(sender: str, conversation_id: str, random: int | None, client_time: int | None) -> str | None:
    """MSG-6 as Matrix transaction IDs: the same (sender, conversation, random, clientTime) gives the
    same txnId, which the homeserver deduplicates (per device); None without ``random`` (a fresh one)."""
    if random is None:
        return None
    key = f"{sender}\x00{conversation_id}\x00{random}\x00{client_time if client_time is not None else ''}"
    return "tim." + hashlib.sha256(key.encode()).hexdigest()[:40]


# --- message elements (MSG-1) ---------------------------------------------------------------------
#: TIM element type -> msgtype; TIM's own JSON rides along in ``org.simtim.payload``
MSGTYPES: dict[str, str] = {
    "TIMTextElem": "m.text",
    "TIMImageElem": "m.image",
    "TIMSoundElem": "m.audio",
    "TIMVideoFileElem": "m.video",
    "TIMFileElem": "m.file",
    "TIMLocationElem": "m.location",
    "TIMCustomElem": f"{NS}.custom",
    "TIMFaceElem": f"{NS}.face",
}
ELEMENT_OF_MSGTYPE: dict[str, str] = {msgtype: elem for elem, msgtype in MSGTYPES.items()}
ELEMENT_OF_MSGTYPE["m.notice"] = "TIMTextElem"
ELEMENT_OF_MSGTYPE["m.emote"] = "TIMTextElem"


def _text(payload: Mapping[str, Any], *keys: str) -> str:
    for key in keys:
        value = payload.get(key)
        if isinstance(value, str) and value:
            return value
    return ""


def content_of(message: Mapping[str, Any]) -> dict[str, Any]:
    """A TIM Message option object (sendMessage's ``message``) as an ``m.room.message`` content:
    Matrix-native fields for Matrix clients, the TIM element(s) and ``cloudCustomData`` verbatim."""
    elements = message.get("elements")
    if isinstance(elements, list) and elements and isinstance(elements[0], Mapping):
        elem_type, payload = elements[0].get("type"), elements[0].get("payload")
    else:
        elem_type, payload = message.get("type"), message.get("payload")
        elements = None
    payload = payload if isinstance(payload, Mapping) else {}
    msgtype = MSGTYPES.get(str(elem_type), f"{NS}.unknown")
    content: dict[str, Any] = {"msgtype": msgtype, "body": _body(str(elem_type), payload)}
    if msgtype == "m.image":
        infos = payload.get("imageInfoArray")
        first = infos[0] if isinstance(infos, list) and infos and isinstance(infos[0], Mapping) else {}
        content["url"] = _text(first, "url")
    elif msgtype == "m.audio":
        content["url"] = _text(payload, "url")
        content["info"] = {"size": payload.get("size"), "duration": _ms(payload.get("second"))}
    elif msgtype == "m.video":
        content["url"] = _text(payload, "videoUrl")
        content["info"] = {"size": payload.get("videoSize"), "duration": _ms(payload.get("videoSecond"))}
    elif msgtype == "m.file":
        content["url"] = _text(payload, "fileUrl")
        content["filename"] = _text(payload, "fileName")
        content["info"] = {"size": payload.get("fileSize")}
    elif msgtype == "m.location":
        content["geo_uri"] = f"geo:{payload.get('latitude')},{payload.get('longitude')}"
    content[f"{NS}.type"] = elem_type
    content[f"{NS}.payload"] = _without_coordinates(msgtype, payload)
    if elements is not None:
        content[f"{NS}.elements"] = elements
    for tim_key, key in (("cloudCustomData", "cloud_custom_data"), ("priority", "priority")):
        value = message.get(tim_key)
        if value is not None:
            content[f"{NS}.{key}"] = value
    for tim_key, key in (("random", "random"), ("clientTime", "client_time")):
        value = message.get(tim_key)
        if isinstance(value, int):
            content[f"{NS}.{key}"] = value
    return content


def _without_coordinates(msgtype: str, payload: Mapping[str, Any]) -> dict[str, Any]:
    """MSG-1: Matrix events are canonical JSON, which has no floats (room versions >= 6 refuse
    them), so a location's latitude and longitude travel only in ``geo_uri``, Matrix's own field."""
    if msgtype != "m.location":
        return dict(payload)
    return {k: v for k, v in payload.items() if k not in ("latitude", "longitude")}


def _with_coordinates(content: Mapping[str, Any], payload: Any) -> Any:
    """The location payload back from ``geo:lat,lon`` (RFC 5870), the inverse of the above."""
    geo = content.get("geo_uri")
    if not isinstance(payload, Mapping) or not isinstance(geo, str) or not geo.startswith("geo:"):
        return payload
    parts = geo[len("geo:") :].split(";")[0].split(",")
    try:
        latitude, longitude = float(parts[0]), float(parts[1])
    except (IndexError, ValueError):
        return payload
    return {**payload, "latitude": latitude, "longitude": longitude}


def _ms(seconds: Any) -> Any:
    return seconds * 1000 if isinstance(seconds, int) else None


def _body(elem_type: str, payload: Mapping[str, Any]) -> str:
    if elem_type == "TIMTextElem":
        return _text(payload, "text")
    if elem_type == "TIMFileElem":
        return _text(payload, "fileName") or "file"
    if elem_type == "TIMLocationElem":
        return _text(payload, "description") or "location"
    if elem_type == "TIMCustomElem":
        return _text(payload, "description", "data") or "custom message"
    return elem_type


def element_of(content: Mapping[str, Any]) -> tuple[str, Any, Any]:
    """(TIM type, payload, elements or None) of a message content; one sent by another Matrix
    client gets the nearest TIM element from its Matrix fields."""
    tim_type = content.get(f"{NS}.type")
    if isinstance(tim_type, str) and f"{NS}.payload" in content:
        payload = content[f"{NS}.payload"]
        if content.get("msgtype") == "m.location":
            payload = _with_coordinates(content, payload)
        return tim_type, payload, content.get(f"{NS}.elements")
    msgtype = str(content.get("msgtype", ""))
    body = content.get("body", "")
    elem = ELEMENT_OF_MSGTYPE.get(msgtype, "TIMTextElem")
    if elem == "TIMTextElem" or not isinstance(body, str):
        return "TIMTextElem", {"text": body if isinstance(body, str) else ""}, None
    if elem == "TIMFileElem":
        return elem, {"fileUrl": content.get("url", ""), "fileName": body, "fileSize": 0}, None
    return "TIMCustomElem", {"data": body, "description": msgtype, "extension": ""}, None


# --- rooms as conversations and groups ------------------------------------------------------------
@dataclass(frozen=True)
class RoomInfo:
    """What a room is in TIM terms (from its ``org.simtim.conversation`` state)."""

    room_id: str
    kind: str  # C2C or GROUP
    users: tuple[str, ...] = ()  # C2C: the pair's TIM userIDs
    group_id: str = ""
    group_type: str = ""
    creator: str = ""  # TIM userID of the group's creator (its first join is no tip)

    @classmethod
    def from_state(cls, room_id: str, content: Mapping[str, Any]) -> RoomInfo | None:
        kind = content.get("kind")
        if kind == C2C and isinstance(content.get("users"), list):
            return cls(room_id, C2C, tuple(str(u) for u in content["users"]))
        if kind == GROUP and isinstance(content.get("groupID"), str):
            return cls(
                room_id,
                GROUP,
                group_id=content["groupID"] or group_id_of_room(room_id),
                group_type=str(content.get("type", "")),
                creator=str(content.get("creator", "")),
            )
        return None

    def conversation_id(self, viewer: str) -> str:
        if self.kind == C2C:
            return C2C + self.peer_of(viewer)
        return GROUP + self.group_id

    def peer_of(self, user_id: str) -> str:
        others = [u for u in self.users if u != user_id]
        return others[0] if others else user_id


@dataclass(frozen=True)
class GroupRoom:
    """GRP types as Matrix room settings (docs/matrix.md)."""

    join_rule: str
    history_visibility: str
    preset: str
    members_invite: bool  # MBR-1: in a Private group any member adds (invites) others


#: PAGE-2's history_before_join: Private/Public off (``invited``/``joined``), ChatRoom on (``shared``)
GROUP_TYPES: dict[str, GroupRoom] = {
    "Private": GroupRoom("invite", "invited", "private_chat", True),
    "Public": GroupRoom("knock", "joined", "private_chat", False),
    "ChatRoom": GroupRoom("public", "shared", "public_chat", False),
    "AVChatRoom": GroupRoom("public", "joined", "public_chat", False),
}
#: roles as power levels; a muted member sits below ``events_default`` (MUTE-1, no expiry)
ROLE_POWER: dict[str, int] = {"Owner": 100, "Admin": 50, "Member": 0}
MUTED_POWER = -1
JOIN_OPTION_OF_RULE = {"invite": "DisableApply", "knock": "NeedPermission", "public": "FreeAccess"}


def role_of(level: int) -> str:
    if level >= ROLE_POWER["Owner"]:
        return "Owner"
    if level >= ROLE_POWER["Admin"]:
        return "Admin"
    return "Member"


def power_levels(owner: str, group_type: str) -> dict[str, Any]:
    """Initial power levels: the owner 100; admins (50) kick, redact and change power levels below
    their own (which is how they mute members); profile changes need 50 except in Private groups."""
    anyone_edits = group_type == "Private"
    profile_level = 0 if anyone_edits else ROLE_POWER["Admin"]
    return {
        "users": {owner: ROLE_POWER["Owner"]},
        "users_default": 0,
        "events_default": 0,
        "state_default": ROLE_POWER["Admin"],
        "invite": 0 if GROUP_TYPES[group_type].members_invite else ROLE_POWER["Admin"],
        "kick": ROLE_POWER["Admin"],
        "ban": ROLE_POWER["Admin"],
        "redact": ROLE_POWER["Admin"],
        "events": {
            "m.room.name": profile_level,
            "m.room.topic": profile_level,
            "m.room.avatar": profile_level,
            "m.room.power_levels": ROLE_POWER["Admin"],
            "m.room.history_visibility": ROLE_POWER["Owner"],
            "m.room.join_rules": ROLE_POWER["Owner"],
            "m.room.tombstone": ROLE_POWER["Owner"],
            "m.room.server_acl": ROLE_POWER["Owner"],
            "m.room.encryption": ROLE_POWER["Owner"],
            CONVERSATION_STATE: ROLE_POWER["Owner"],
        },
    }


# --- errors: ONE table ----------------------------------------------------------------------------
#: errcode -> {context: TIM code}; context "*" is the default.  Contexts: "group" (group operations),
#: "c2c" (C2C sends and reads), "group_message"/"c2c_message" (a message by ID), "account",
#: "conversation" (a conversation API reading a room: TIM says 6004 for one the caller is not in).
ERRCODES: dict[str, dict[str, int]] = {
    "M_FORBIDDEN": {
        "c2c_message": Code.C2C_MESSAGE_NOT_FOUND,
        "conversation": Code.CONVERSATION_INVALID,
        "*": Code.GROUP_PERMISSION_DENIED,
    },
    "M_NOT_FOUND": {
        "conversation": Code.CONVERSATION_INVALID,
        "group": Code.GROUP_NOT_FOUND,
        "c2c": Code.ACCOUNT_NOT_FOUND,
        "account": Code.ACCOUNT_NOT_FOUND,
        "group_message": Code.GROUP_MESSAGE_NOT_FOUND,
        "c2c_message": Code.C2C_MESSAGE_NOT_FOUND,
        "*": Code.INVALID_PARAMETERS,
    },
    "M_UNKNOWN_TOKEN": {"*": Code.KICKED_BY_OTHER},  # the device was deleted: kicked (INST-6)
    "M_MISSING_TOKEN": {"*": Code.NOT_LOGGED_IN},
    "M_ROOM_IN_USE": {"*": Code.GROUP_ID_TAKEN},  # a custom groupID's alias is taken (GRP-1)
    "M_INVALID_PARAM": {"group": Code.GROUP_INVALID_PARAMETER, "*": Code.INVALID_PARAMETERS},
    "M_BAD_JSON": {"group": Code.GROUP_INVALID_PARAMETER, "*": Code.INVALID_PARAMETERS},
    "M_NOT_JSON": {"*": Code.INVALID_PARAMETERS},
    "M_INVALID_USERNAME": {"*": Code.INVALID_USER_ID},
    "M_TOO_LARGE": {"*": Code.MESSAGE_TOO_LONG},
    "M_USER_DEACTIVATED": {"*": Code.REST_ACCOUNT_NOT_FOUND},
}
#: errcodes that are about the transport, not the operation: 6010 with the server's words
TRANSPORT_ERRCODES = frozenset({"M_LIMIT_EXCEEDED", "M_UNRECOGNIZED", "M_UNKNOWN"})


def tim_code(errcode: str, context: str) -> int | None:
    """The nearest TIM code for a Matrix errcode in an operation's context, None when there is none."""
    row = ERRCODES.get(errcode)
    if row is None:
        return None
    return int(row.get(context, row.get("*", Code.INVALID_PARAMETERS)))


# --- events -> TIM --------------------------------------------------------------------------------
def seconds(origin_server_ts: Any) -> int:
    return int(origin_server_ts) // 1000 if isinstance(origin_server_ts, int) else 0


def message_view(
    event: Mapping[str, Any], room: RoomInfo, viewer: str, profiles: Mapping[str, tuple[str, str]]
) -> dict[str, Any]:
    """An ``m.room.message`` (or its redacted remains) as TIM's Message for ``viewer`` (MSG-4).
    ``sequence`` is the origin timestamp in ms: an ordering key, not TIM's per-conversation counter."""
    content = event.get("content") or {}
    sender = tim_user(str(event.get("sender", "")))
    unsigned = event.get("unsigned") or {}
    revoked = "redacted_because" in unsigned or not content
    elem_type, payload, elements = element_of(content) if content else ("", {}, None)
    to = room.peer_of(sender) if room.kind == C2C else room.group_id
    nick, avatar = profiles.get(str(event.get("sender", "")), ("", ""))
    view: dict[str, Any] = {
        "ID": event.get("event_id", ""),
        "type": elem_type,
        "payload": payload,
        "conversationID": room.conversation_id(viewer),
        "conversationType": room.kind,
        "to": to,
        "from": sender,
        "flow": "out" if sender == viewer else "in",
        "time": seconds(event.get("origin_server_ts")),
        "sequence": int(event.get("origin_server_ts") or 0),
        "random": int(content.get(f"{NS}.random", 0) or 0),
        "status": "success",
        "isRevoked": revoked,
        "priority": str(content.get(f"{NS}.priority", "Normal")),
        "nick": nick,
        "avatar": avatar,
        "cloudCustomData": str(content.get(f"{NS}.cloud_custom_data", "")),
    }
    if elements is not None:
        view["elements"] = elements
    return view


#: TIP-1 operation types
#: keys of a member's join event content when the driver accepted an invite for TIM's direct add:
#: who added the member (the tip's operator, MBR-1) and whether it was part of createGroup (no tip, GRP-1)
ADDED_BY = "org.simtim.added_by"
AT_CREATION = "org.simtim.at_creation"
TIP_JOIN, TIP_QUIT, TIP_KICKED, TIP_SET_ADMIN, TIP_CANCEL_ADMIN, TIP_PROFILE, TIP_MEMBER = 1, 2, 3, 4, 5, 6, 7
PROFILE_STATE = {"m.room.name": "name", "m.room.topic": "introduction", "m.room.avatar": "avatar"}
PROFILE_KEY = {"name": "name", "introduction": "topic", "avatar": "url"}  # the state content's key


def tip_payloads(event: Mapping[str, Any], room: RoomInfo) -> list[dict[str, Any]]:
    """TIP-1 payloads for a group room's state event; none for the room's initial state (GRP-1:
    creating a group makes no tip: the creator's first join, the first power levels, name, topic)
    or for changes TIM has no tip for."""
    unsigned = event.get("unsigned") or {}
    kind = event.get("type")
    content = event.get("content") or {}
    previous = unsigned.get("prev_content") or {}
    operator = tim_user(str(event.get("sender", "")))
    if kind == "m.room.member":
        target = tim_user(str(event.get("state_key", "")))
        now, before = content.get("membership"), previous.get("membership")
        if now == "join" and before != "join":
            if (not previous and target == room.creator) or content.get(AT_CREATION):
                return []  # the creator's join, and the members' joins, while creating the group (GRP-1)
            adder = content.get(ADDED_BY)  # MBR-1: a member added by someone else
            return [_tip(TIP_JOIN, adder if isinstance(adder, str) else operator, [target])]
        if now in ("leave", "ban") and before == "join":
            op = TIP_QUIT if event.get("sender") == event.get("state_key") else TIP_KICKED
            return [_tip(op, operator, [target])]
        return []
    if "replaces_state" not in unsigned:
        return []  # initial state of the room
    if kind == "m.room.power_levels":
        return _power_tips(operator, previous.get("users") or {}, content.get("users") or {})
    if kind in PROFILE_STATE:
        field_name = PROFILE_STATE[str(kind)]
        value = content.get(PROFILE_KEY[field_name], "")
        return [_tip(TIP_PROFILE, operator, [], newGroupProfile={field_name: value})]
    return []


def _power_tips(operator: str, before: Mapping[str, Any], after: Mapping[str, Any]) -> list[dict[str, Any]]:
    tips: list[dict[str, Any]] = []
    for matrix_id in sorted(set(before) | set(after)):
        old, new = int(before.get(matrix_id, 0)), int(after.get(matrix_id, 0))
        if old == new:
            continue
        user = tim_user(matrix_id)
        if new == ROLE_POWER["Admin"] and old < new:
            tips.append(_tip(TIP_SET_ADMIN, operator, [user]))
        elif old == ROLE_POWER["Admin"] and new == ROLE_POWER["Member"]:
            tips.append(_tip(TIP_CANCEL_ADMIN, operator, [user]))
        elif new == MUTED_POWER or old == MUTED_POWER:
            # MUTE-1's tip 7; Matrix keeps no mute time, so muteTime says only muted (-1) or not (0)
            tips.append(
                _tip(
                    TIP_MEMBER,
                    operator,
                    [user],
                    memberList=[{"userID": user, "muteTime": -1 if new == MUTED_POWER else 0}],
                )
            )
    return tips


def _tip(op: int, operator: str, users: list[str], **extra: Any) -> dict[str, Any]:
    return {"operationType": op, "operatorID": operator, "userIDList": users, **extra}


def tip_view(
    event: Mapping[str, Any], room: RoomInfo, viewer: str, payload: Mapping[str, Any]
) -> dict[str, Any]:
    """A tip as TIM's group tip message (TIP-1); its ID is the state event's ID."""
    return {
        "ID": event.get("event_id", ""),
        "type": TIP_ELEM,
        "payload": dict(payload),
        "conversationID": room.conversation_id(viewer),
        "conversationType": GROUP,
        "to": room.group_id,
        "from": "@TIM#SYSTEM",
        "flow": "in",
        "time": seconds(event.get("origin_server_ts")),
        "sequence": int(event.get("origin_server_ts") or 0),
        "random": 0,
        "status": "success",
        "isRevoked": False,
        "priority": "Normal",
        "nick": "",
        "avatar": "",
        "cloudCustomData": "",
    }
