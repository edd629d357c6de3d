"""TIM's server-API vocabulary: ``MsgBody`` elements and message items, to and from the model's.

The REST v4 face and the Web SDK face (whose bodies use the same names) share these functions, so a
message reads the same whichever face wrote or reads it.  Element contents differ from the model's
payloads only in names (``Text`` <-> ``text``, ``Url`` <-> ``fileUrl`` ...): one table per element,
everything not in a table maps by the first letter's case.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from simtim.model.entities import Message

#: per element type: TIM server-API name -> model payload name (where not just the first letter)
_NAMES: dict[str, dict[str, str]] = {
    "TIMLocationElem": {"Desc": "description"},
    "TIMCustomElem": {"Desc": "description", "Ext": "extension"},
    "TIMSoundElem": {"UUID": "uuid", "Download_Flag": "downloadFlag"},
    "TIMImageElem": {"UUID": "uuid", "URL": "url"},
    "TIMFileElem": {"Url": "fileUrl", "UUID": "uuid", "Download_Flag": "downloadFlag"},
    "TIMVideoFileElem": {"VideoUUID": "videoUUID", "ThumbUUID": "thumbUUID"},
}
_BACK: dict[str, dict[str, str]] = {kind: {v: k for k, v in names.items()} for kind, names in _NAMES.items()}
_PRIORITY_NUMBER = {"High": 1, "Normal": 2, "Low": 3, "Lowest": 4}
MSG_FLAG_REVOKED = 8  # MsgFlagBits of a recalled C2C message (REST-5)


def _lower_first(name: str) -> str:
    return name[:1].lower() + name[1:] if name else name


def _upper_first(name: str) -> str:
    return name[:1].upper() + name[1:] if name else name


def _convert(value: Any, rename: Mapping[str, str], default: Any) -> Any:
    if isinstance(value, dict):
        return {rename.get(k, default(k)): _convert(v, rename, default) for k, v in value.items()}
    if isinstance(value, list):
        return [_convert(v, rename, default) for v in value]
    return value


def element_from_rest(item: Mapping[str, Any]) -> tuple[Any, Any]:
    """``{MsgType, MsgContent}`` -> the model's (type, payload)."""
    kind = item.get("MsgType")
    content = item.get("MsgContent")
    names = _NAMES.get(kind, {}) if isinstance(kind, str) else {}
    return kind, _convert(content, names, _lower_first) if isinstance(content, dict) else content


def element_to_rest(kind: Any, payload: Any) -> dict[str, Any]:
    names = _BACK.get(kind, {}) if isinstance(kind, str) else {}
    return {"MsgType": kind, "MsgContent": _convert(payload, names, _upper_first)}


def body_of(msg: Message) -> list[dict[str, Any]]:
    """A stored message's ``MsgBody``."""
    if msg.elements is not None:
        return [element_to_rest(e["type"], e["payload"]) for e in msg.elements]
    return [element_to_rest(msg.type, msg.payload)]


def priority_number(name: str) -> int:
    """The SDK's priority name -> TIM's ``MsgPriority`` number (Normal for anything else)."""
    return _PRIORITY_NUMBER.get(name, 2)


def c2c_item(msg: Message) -> dict[str, Any]:
    """One message of ``admin_getroammsg``'s MsgList (REST-5)."""
    return {
        "From_Account": msg.sender,
        "To_Account": msg.to,
        "MsgSeq": msg.rest_seq or msg.sequence,
        "MsgRandom": msg.random,
        "MsgTimeStamp": msg.time,
        "MsgFlagBits": MSG_FLAG_REVOKED if msg.revoked else 0,
        "IsPeerRead": 0,
        "MsgKey": msg.msg_key,
        "MsgBody": body_of(msg),
        "CloudCustomData": msg.cloud_custom_data,
    }


def group_item(msg: Message) -> dict[str, Any]:
    """One message of ``group_msg_get_simple``'s RspMsgList (REST-8); a recalled one is a place-holder
    (IsPlaceMsg 2) without a body."""
    return {
        "From_Account": msg.sender,
        "IsPlaceMsg": 2 if msg.revoked else 0,
        "MsgBody": [] if msg.revoked else body_of(msg),
        "MsgPriority": _PRIORITY_NUMBER.get(msg.priority, 2),
        "MsgRandom": msg.random,
        "MsgSeq": msg.sequence,
        "MsgTimeStamp": msg.time,
        "IsSystemMsg": 1 if msg.is_tip_or_notice else 0,
        "CloudCustomData": msg.cloud_custom_data,
    }
