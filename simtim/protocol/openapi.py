"""The OpenAPI 3 document of simtim/1, served at ``/v1/openapi.json``.

Built from the same method table the server dispatches on, so a method can
not exist on the wire without appearing here.  Request schemas describe TIM's
option objects loosely (unknown fields are ignored by the server).
"""

from __future__ import annotations

from typing import Any

from simtim.model import METHODS

_S: dict[str, Any] = {"type": "string"}
_I: dict[str, Any] = {"type": "integer"}
_STRS: dict[str, Any] = {"type": "array", "items": _S}
_MESSAGE: dict[str, Any] = {
    "type": "object",
    "properties": {
        "ID": _S,
        "to": _S,
        "conversationType": {"type": "string", "enum": ["C2C", "GROUP"]},
        "type": _S,
        "payload": {"type": "object"},
        "priority": _S,
        "random": _I,
        "clientTime": _I,
        "cloudCustomData": _S,
    },
}
_GROUP: dict[str, Any] = {"groupID": _S}

#: method -> (request properties, required)
REQUESTS: dict[str, tuple[dict[str, Any], list[str]]] = {
    "create": ({"SDKAppID": _I, "platform": _S}, ["SDKAppID"]),
    "login": ({"userID": _S, "userSig": _S, "SDKAppID": _I, "platform": _S}, ["userID", "userSig"]),
    "logout": ({}, []),
    "destroy": ({}, []),
    "sendMessage": ({"message": _MESSAGE}, ["message"]),
    "resendMessage": ({"message": _MESSAGE}, ["message"]),
    "revokeMessage": ({"message": _MESSAGE}, ["message"]),
    "deleteMessage": ({"messageList": {"type": "array", "items": _MESSAGE}}, ["messageList"]),
    "getMessageList": ({"conversationID": _S, "nextReqMessageID": _S, "count": _I}, ["conversationID"]),
    "setMessageRead": ({"conversationID": _S}, ["conversationID"]),
    "getConversationList": ({}, []),
    "getConversationProfile": ({"conversationID": _S}, ["conversationID"]),
    "deleteConversation": ({"conversationID": _S}, ["conversationID"]),
    "getMyProfile": ({}, []),
    "updateMyProfile": ({"nick": _S, "avatar": _S}, []),
    "createGroup": (
        {
            "name": _S,
            "type": _S,
            "groupID": _S,
            "introduction": _S,
            "notification": _S,
            "avatar": _S,
            "maxMemberNum": _I,
            "joinOption": _S,
            "memberList": {
                "type": "array",
                "items": {"type": "object", "properties": {"userID": _S, "role": _S}},
            },
        },
        ["name"],
    ),
    "dismissGroup": (_GROUP, ["groupID"]),
    "updateGroupProfile": (
        {
            **_GROUP,
            "name": _S,
            "introduction": _S,
            "notification": _S,
            "avatar": _S,
            "maxMemberNum": _I,
            "joinOption": _S,
        },
        ["groupID"],
    ),
    "joinGroup": ({**_GROUP, "applyMessage": _S, "type": _S}, ["groupID"]),
    "quitGroup": (_GROUP, ["groupID"]),
    "searchGroupByID": (_GROUP, ["groupID"]),
    "getGroupList": ({}, []),
    "getGroupProfile": (_GROUP, ["groupID"]),
    "changeGroupOwner": ({**_GROUP, "newOwnerID": _S}, ["groupID", "newOwnerID"]),
    "handleGroupApplication": (
        {"handleAction": _S, "handleMessage": _S, "message": _MESSAGE},
        ["handleAction", "message"],
    ),
    "setMessageRemindType": ({**_GROUP, "messageRemindType": _S}, ["groupID", "messageRemindType"]),
    "getGroupMemberList": ({**_GROUP, "count": _I, "offset": _I}, ["groupID"]),
    "getGroupMemberProfile": ({**_GROUP, "userIDList": _STRS}, ["groupID", "userIDList"]),
    "addGroupMember": ({**_GROUP, "userIDList": _STRS}, ["groupID", "userIDList"]),
    "deleteGroupMember": ({**_GROUP, "userIDList": _STRS, "reason": _S}, ["groupID", "userIDList"]),
    "setGroupMemberMuteTime": ({**_GROUP, "userID": _S, "muteTime": _I}, ["groupID", "userID", "muteTime"]),
    "setGroupMemberRole": ({**_GROUP, "userID": _S, "role": _S}, ["groupID", "userID", "role"]),
    "setGroupMemberNameCard": ({**_GROUP, "userID": _S, "nameCard": _S}, ["groupID", "nameCard"]),
    "setGroupMemberCustomField": (
        {
            **_GROUP,
            "userID": _S,
            "memberCustomField": {
                "type": "array",
                "items": {"type": "object", "properties": {"key": _S, "value": _S}},
            },
        },
        ["groupID", "memberCustomField"],
    ),
}

_ENVELOPE: dict[str, Any] = {
    "type": "object",
    "required": ["code", "message"],
    "properties": {"code": _I, "message": _S, "data": {"type": "object"}},
}


def openapi_document() -> dict[str, Any]:
    missing = set(METHODS) - set(REQUESTS)
    if missing:  # a method on the wire must be documented
        raise RuntimeError(f"methods without a request schema: {sorted(missing)}")
    paths: dict[str, Any] = {}
    for method, (properties, required) in REQUESTS.items():
        schema: dict[str, Any] = {"type": "object", "properties": properties}
        if required:
            schema["required"] = required
        operation: dict[str, Any] = {
            "operationId": method,
            "summary": f"TIM {method}",
            "requestBody": {"required": True, "content": {"application/json": {"schema": schema}}},
            "responses": {
                "200": {
                    "description": "simtim/1 envelope: code 0 with data, or a TIM error code",
                    "content": {"application/json": {"schema": _ENVELOPE}},
                }
            },
        }
        if method not in ("create",):
            operation["security"] = [{"bearer": []}] if method != "login" else [{"bearer": []}, {}]
        paths[f"/v1/{method}"] = {"post": operation}
    return {
        "openapi": "3.0.3",
        "info": {
            "title": "simtim/1",
            "version": "1",
            "description": "TIM (Tencent Cloud IM) SDK methods over HTTP; events over WebSocket "
            "at GET /v1/events?token=...",
        },
        "servers": [{"url": "/"}],
        "components": {"securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}}},
        "paths": paths,
    }
