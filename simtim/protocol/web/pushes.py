"""Model events -> Web SDK pushes (``im_open_push.msg_push``, ``im_open_status.stat_forceoffline``).

Only what the SDK cannot work out itself is pushed: new messages, revokes, kicks, group tips and
notices.  ``onConversationListUpdated`` and the SDK-state events have no push: the SDK derives its
conversation list and state from the messages and its own requests.
"""

from __future__ import annotations

from typing import Any

from simtim.model.entities import C2C, GROUP
from simtim.model.events import (
    KICK_MULTIPLE_ACCOUNT,
    KICK_MULTIPLE_DEVICE,
    KICK_REST_API,
    KICKED_OUT,
    MESSAGE_RECEIVED,
    MESSAGE_REVOKED,
    Event,
)
from simtim.model.world import World
from simtim.protocol.web import codec
from simtim.protocol.web.c2c import push_item
from simtim.protocol.web.session import TinyIds, WebSession

#: kickedOut reason -> the SDK's KickType (1 multiple account, 2 multiple device, 3 REST kick)
KICK_TYPES = {KICK_MULTIPLE_ACCOUNT: 1, KICK_MULTIPLE_DEVICE: 2, KICK_REST_API: 3}
#: EventArray ``Event`` numbers
EVENT_C2C = 1


def _push(servcmd: str, now: int, body: dict[str, Any]) -> bytes:
    return codec.encode(codec.push_head(servcmd, now), body)


def frames_for(world: World, tinyids: TinyIds, session: WebSession, event: Event) -> list[bytes]:
    app = world.apps.get(session.sdkappid)
    if app is None:
        return []
    now = app.clock.now()
    name = event.name
    if name == MESSAGE_RECEIVED:
        c2c = []
        for view in event.data:
            msg = app.messages.get(view.get("ID", ""))
            if msg is None:
                continue
            if msg.conversation_type == C2C and msg.sender != session.user_id:
                c2c.append(push_item(msg, tinyids, session.sdkappid))
        if not c2c:
            return []
        body = {"EventArray": [{"Event": EVENT_C2C, "C2cMsgArray": c2c}]}
        return [_push(codec.PUSH_MESSAGE, now, body)]
    if name == MESSAGE_REVOKED:
        infos = []
        for view in event.data:
            msg = app.messages.get(view.get("ID", ""))
            if msg is None or msg.conversation_type != C2C:
                continue
            infos.append(
                {
                    "From_Account": msg.sender,
                    "To_Account": msg.to,
                    "MsgSeq": msg.rest_seq or msg.sequence,
                    "MsgRandom": msg.random,
                    "MsgTimeStamp": msg.time,
                }
            )
        if not infos:
            return []
        withdraw = {"WithdrawC2cMsgNotify": {"C2cWithdrawInfoArray": infos}}
        body = {"EventArray": [{"Event": 9, "C2cNotifyMsgArray": [withdraw]}]}
        return [_push(codec.PUSH_MESSAGE, now, body)]
    if name == KICKED_OUT:
        kick_type = KICK_TYPES.get(event.data.get("type", ""))
        if kick_type is None:
            return []  # UserSig expiry: the next request answers 70001 (INST-5)
        kick = {"KickoutMsgNotify": {"KickType": kick_type, "NewInstInfo": {}}}
        body = {"EventArray": [{"Event": 9, "C2cNotifyMsgArray": [kick]}]}  # pushes carry EventArray
        return [_push(codec.PUSH_FORCE_OFFLINE, now, body)]
    _ = GROUP
    return []
