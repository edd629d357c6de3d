"""Model events -> Web SDK pushes (``im_open_push.msg_push``, ``im_open_status.stat_forceoffline``).

Only what the SDK cannot work out itself is pushed: new messages, group tips and system notices,
revokes and kicks.  ``onConversationListUpdated``, ``onGroupListUpdated`` and the SDK-state events
have no push: the SDK derives them from the messages and from its own requests.  Every push body is
``{"EventArray": [{"Event": n, <key>: [...]}]}``; the SDK routes each entry by its key.
"""

from __future__ import annotations

from typing import Any

from simtim.model.admin_accounts import IMAGE_TAG, NICK_TAG
from simtim.model.entities import C2C, GROUP, NOTICE_ELEM, SYSTEM, TIP_ELEM, App, Message
from simtim.model.events import (
    GROUP_SYSTEM_NOTICE_RECEIVED,
    KICK_MULTIPLE_ACCOUNT,
    KICK_MULTIPLE_DEVICE,
    KICK_REST_API,
    KICKED_OUT,
    MESSAGE_RECEIVED,
    MESSAGE_REVOKED,
    PROFILE_UPDATED,
    Event,
)
from simtim.model.world import World
from simtim.protocol.web import codec
from simtim.protocol.web.c2c import push_item
from simtim.protocol.web.groups import group_message_item
from simtim.protocol.web.session import TinyIds, WebSession

#: kickedOut reason -> the SDK's KickType (1 multiple account, 2 multiple device, 3 REST kick)
KICK_TYPES = {KICK_MULTIPLE_ACCOUNT: 1, KICK_MULTIPLE_DEVICE: 2, KICK_REST_API: 3}
#: EventArray ``Event`` numbers the SDK's downlink handler reads (tips: 4 stored, 5 notices/revokes)
EVENT_C2C = 1
EVENT_GROUP_MESSAGE = 3
EVENT_GROUP_TIP = 4
EVENT_GROUP_NOTICE = 5
EVENT_C2C_NOTIFY = 9


def _push(servcmd: str, now: int, events: list[dict[str, Any]]) -> bytes:
    return codec.encode(codec.push_head(servcmd, now), {"EventArray": events})


#: the model's group profile names -> the wire's, for a profile-change tip's ``MsgGroupNewInfo``
NEW_PROFILE_NAMES = {
    "name": "Name",
    "ownerID": "Owner_Account",
    "avatar": "GroupFaceUrl",
    "introduction": "GroupIntroduction",
    "notification": "GroupNotification",
    "joinOption": "GroupApplyJoinOption",
}


def _member_info(entry: dict[str, Any]) -> dict[str, Any]:
    item: dict[str, Any] = {"User_Account": entry.get("userID", "")}
    if "muteTime" in entry:
        item["ShutupTime"] = entry["muteTime"]
    if "nameCard" in entry:
        item["NameCard"] = entry["nameCard"]
    return item


def _group_tip(msg: Message) -> dict[str, Any]:
    """A group tip (TIP-1): the SDK reads the element from ``MsgBody`` and the group from ``GroupInfo``."""
    payload = msg.payload or {}
    body: dict[str, Any] = {
        "OpType": payload.get("operationType", 0),
        "Operator_Account": payload.get("operatorID", ""),
        "List_Account": payload.get("userIDList", []),
    }
    if payload.get("memberList"):
        body["MsgMemberInfo"] = [_member_info(m) for m in payload["memberList"]]
    if payload.get("newGroupProfile"):
        body["MsgGroupNewInfo"] = {
            NEW_PROFILE_NAMES.get(k, k[:1].upper() + k[1:]): v for k, v in payload["newGroupProfile"].items()
        }
    return {
        "From_Account": payload.get("operatorID", ""),
        "GroupInfo": {"GroupId": msg.to},
        "ToGroupId": msg.to,
        "MsgSeq": msg.sequence,
        "MsgRandom": msg.random,
        "MsgTimeStamp": msg.time,
        "MsgBody": body,
    }


#: the model's Group fields -> ``GroupInfo`` names (as ``get_group_info`` writes them)
GROUP_INFO_NAMES = {
    "groupID": "GroupId",
    "type": "Type",
    "name": "Name",
    "introduction": "Introduction",
    "notification": "Notification",
    "avatar": "FaceUrl",
    "ownerID": "Owner_Account",
    "createTime": "CreateTime",
    "memberNum": "MemberNum",
    "maxMemberNum": "MaxMemberNum",
    "joinOption": "ApplyJoinOption",
}


def group_info_of(profile: dict[str, Any]) -> dict[str, Any]:
    """The group profile the model put in a notice (a snapshot at notice time, SYS-1) as ``GroupInfo``."""
    info = {wire: profile[name] for name, wire in GROUP_INFO_NAMES.items() if name in profile}
    info["ShutUpAllMember"] = "On" if profile.get("muteAllMembers") else "Off"
    info["AppDefinedData"] = [
        {"Key": f.get("key"), "Value": f.get("value")} for f in profile.get("groupCustomField") or []
    ]
    return info


def _notice(view: dict[str, Any]) -> dict[str, Any]:
    """A group system notice (SYS-1) addressed to one account, from the model's view of it, with the
    whole group profile the model attached (GRP-*, MBR-*: the SDK's ``payload.groupProfile``)."""
    payload = view.get("payload") or {}
    group = payload.get("groupProfile") or {}
    return {
        "From_Account": payload.get("operatorID", ""),
        "GroupInfo": group_info_of(group),
        "MsgSeq": view.get("sequence", 0),
        "MsgRandom": view.get("random", 0),
        "MsgTimeStamp": view.get("time", 0),
        "MsgBody": {
            "OpType": payload.get("operationType", 0),
            "Operator_Account": payload.get("operatorID", ""),
            "RemarkInfo": payload.get("handleMessage", ""),
            "UserDefinedField": payload.get("content", ""),
        },
    }


def _received(app: App, tinyids: TinyIds, session: WebSession, views: list[dict[str, Any]]) -> list[bytes]:
    c2c, group, tips = [], [], []
    for view in views:
        msg = app.messages.get(view.get("ID", ""))
        if msg is None:
            continue
        if msg.conversation_type == C2C:
            c2c.append(push_item(msg, tinyids, session.sdkappid))
        elif msg.conversation_type == GROUP and msg.type == TIP_ELEM:
            tips.append(_group_tip(msg))
        elif msg.conversation_type == GROUP and msg.type != NOTICE_ELEM:
            group.append(group_message_item(msg, tinyids, session.sdkappid))
    events: list[dict[str, Any]] = []
    if c2c:
        events.append({"Event": EVENT_C2C, "C2cMsgArray": c2c})
    if group:
        events.append({"Event": EVENT_GROUP_MESSAGE, "GroupMsgArray": group})
    if tips:
        events.append({"Event": EVENT_GROUP_TIP, "GroupTips": tips})
    return [_push(codec.PUSH_MESSAGE, app.clock.now(), events)] if events else []


def _revoked(app: App, views: list[dict[str, Any]]) -> list[bytes]:
    c2c, group = [], []
    for view in views:
        msg = app.messages.get(view.get("ID", ""))
        if msg is None:
            continue
        if msg.conversation_type == C2C:
            c2c.append(
                {
                    "From_Account": msg.sender,
                    "To_Account": msg.to,
                    "MsgSeq": msg.rest_seq or msg.sequence,
                    "MsgRandom": msg.random,
                    "MsgTimeStamp": msg.time,
                }
            )
        elif msg.conversation_type == GROUP:
            group.append(
                {
                    "From_Account": msg.sender,
                    "GroupInfo": {"GroupId": msg.to},
                    "MsgBody": {
                        "GroupWithdrawInfoArray": [
                            {"GroupId": msg.to, "MsgSeq": msg.sequence, "Random": msg.random}
                        ]
                    },
                    "MsgSeq": msg.sequence,
                    "MsgTimeStamp": msg.time,
                }
            )
    events: list[dict[str, Any]] = []
    if c2c:
        withdraw = {"WithdrawC2cMsgNotify": {"C2cWithdrawInfoArray": c2c}}
        events.append({"Event": EVENT_C2C_NOTIFY, "C2cNotifyMsgArray": [withdraw]})
    if group:
        events.append({"Event": EVENT_GROUP_NOTICE, "GroupTips": group})
    return [_push(codec.PUSH_MESSAGE, app.clock.now(), events)] if events else []


def frames_for(world: World, tinyids: TinyIds, session: WebSession, event: Event) -> list[bytes]:
    app = world.apps.get(session.sdkappid)
    if app is None:
        return []
    name = event.name
    if name == MESSAGE_RECEIVED:
        return _received(app, tinyids, session, event.data)
    if name == MESSAGE_REVOKED:
        return _revoked(app, event.data)
    if name == GROUP_SYSTEM_NOTICE_RECEIVED:
        # the model's view, not a stored message: REST-8's custom notices are online only, never stored
        view = event.data.get("message") or {}
        msg = app.messages.get(view.get("ID", ""))
        if view.get("type") != NOTICE_ELEM and (msg is None or msg.conversation_type != SYSTEM):
            return []
        return [
            _push(
                codec.PUSH_MESSAGE,
                app.clock.now(),
                [{"Event": EVENT_GROUP_NOTICE, "GroupTips": [_notice(view)]}],
            )
        ]
    if name == PROFILE_UPDATED:
        return [_push(codec.PUSH_MESSAGE, app.clock.now(), [_profile_change(event.data)])]
    if name == KICKED_OUT:
        kick_type = KICK_TYPES.get(event.data.get("type", ""))
        if kick_type is None:
            return []  # UserSig expiry: the next keep-alive answers 70001 (INST-5)
        kick = {"KickoutMsgNotify": {"KickType": kick_type, "NewInstInfo": {}}}
        return [
            _push(
                codec.PUSH_FORCE_OFFLINE,
                app.clock.now(),
                [{"Event": EVENT_C2C_NOTIFY, "C2cNotifyMsgArray": [kick]}],
            )
        ]
    return []


def _profile_change(profiles: list[dict[str, Any]]) -> dict[str, Any]:
    """PROF-1, REST-3: profiles that changed, as the SDK's ``ProfileDataMod`` entry (its key map:
    ``profileModify``, ``Profile_Account`` -> userID, ``ValueBytes`` -> value); the SDK then fires
    ``onProfileUpdated`` for its own account.  The SDK routes the entry by that key and never reads
    its ``Event`` number, so none is sent (no number was observed for it)."""
    return {
        "ProfileDataMod": [
            {
                "Profile_Account": profile.get("userID", ""),
                "ProfileList": [
                    {"Tag": NICK_TAG, "ValueBytes": profile.get("nick", "")},
                    {"Tag": IMAGE_TAG, "ValueBytes": profile.get("avatar", "")},
                ],
            }
            for profile in profiles
            if isinstance(profile, dict)
        ]
    }


#: the item flag the SDK reads as ``isModified`` (its key map: ``MsgModifiedFlag: "isModified"``)
MODIFIED_FLAG = "MsgModifiedFlag"


def modified_frame(world: World, tinyids: TinyIds, session: WebSession, msg: Message) -> bytes:
    """MSG-8: the stored message, flagged modified, to the instance that sent it.

    The official SDK resolves ``sendMessage`` with what it sent (the reply carries only time and
    sequence); a push of its own message with ``MsgModifiedFlag: 1`` that it knows it sent (by its
    random) replaces its copy and fires ``onMessageModified`` instead of ``onMessageReceived``
    (tim-js-sdk 2.27.6 and @tencentcloud/chat 3.6.6 alike).  Sent after the reply, so the SDK holds
    the message it replaces and its conversation shows the stored body."""
    now = world.apps[session.sdkappid].clock.now()
    if msg.conversation_type == GROUP:
        item = {**group_message_item(msg, tinyids, session.sdkappid), MODIFIED_FLAG: 1}
        return _push(codec.PUSH_MESSAGE, now, [{"Event": EVENT_GROUP_MESSAGE, "GroupMsgArray": [item]}])
    item = {**push_item(msg, tinyids, session.sdkappid), MODIFIED_FLAG: 1}
    return _push(codec.PUSH_MESSAGE, now, [{"Event": EVENT_C2C, "C2cMsgArray": [item]}])
