"""Events the model emits, named by TIM's event values (EVT-1).

An event is addressed to one instance; the model returns them in the order
they happen so a transport can deliver them exactly once, in order.
"""

from __future__ import annotations

from typing import Any, NamedTuple

SDK_STATE_READY = "sdkStateReady"
SDK_STATE_NOT_READY = "sdkStateNotReady"
MESSAGE_RECEIVED = "onMessageReceived"
MESSAGE_REVOKED = "onMessageRevoked"
CONVERSATION_LIST_UPDATED = "onConversationListUpdated"
GROUP_LIST_UPDATED = "onGroupListUpdated"
GROUP_SYSTEM_NOTICE_RECEIVED = "receiveGroupSystemNotice"
PROFILE_UPDATED = "onProfileUpdated"
KICKED_OUT = "kickedOut"
NET_STATE_CHANGE = "netStateChange"
ERROR = "error"  # EVT-1: only transports emit it, never the model

ALL_EVENTS = (
    SDK_STATE_READY,
    SDK_STATE_NOT_READY,
    MESSAGE_RECEIVED,
    MESSAGE_REVOKED,
    CONVERSATION_LIST_UPDATED,
    GROUP_LIST_UPDATED,
    GROUP_SYSTEM_NOTICE_RECEIVED,
    PROFILE_UPDATED,
    KICKED_OUT,
    NET_STATE_CHANGE,
    ERROR,
)

# kickedOut reasons (INST-3..INST-6)
KICK_MULTIPLE_ACCOUNT = "multipleAccount"
KICK_MULTIPLE_DEVICE = "multipleDevice"
KICK_USERSIG_EXPIRED = "userSigExpired"
KICK_REST_API = "REST_API_Kick"


class Event(NamedTuple):
    """One event for one instance: ``instance`` is the model's instance id."""

    instance: int
    name: str
    data: Any


class Outcome(NamedTuple):
    """What a model operation returns: TIM's ``imResponse.data`` and the events it caused."""

    data: dict[str, Any]
    events: list[Event]
