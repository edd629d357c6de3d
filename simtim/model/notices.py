"""Group tips, system notices and group-list updates (TIP-1, SYS-1, GLIST-1)."""

from __future__ import annotations

from typing import Any

from simtim.model.capabilities import AVCHATROOM, CHATROOM, NO_UNREAD_TYPES
from simtim.model.conversations import Conversations
from simtim.model.core import WorldState
from simtim.model.entities import (
    GROUP,
    NOTICE_ELEM,
    SYSTEM,
    SYSTEM_CONVERSATION_ID,
    TIP_ELEM,
    Account,
    App,
    ConvState,
    Group,
    Instance,
    Message,
)
from simtim.model.events import (
    CONVERSATION_LIST_UPDATED,
    GROUP_LIST_UPDATED,
    GROUP_SYSTEM_NOTICE_RECEIVED,
    MESSAGE_RECEIVED,
    Event,
)
from simtim.model.fanout import emit, emit_account
from simtim.model.group_directory import GroupDirectory
from simtim.model.retention import stored

SERVER_SENDER = "@TIM#SYSTEM"
ADMIN_OPERATOR = "administrator"  # operatorID of App-admin actions [decision]

# TIP-1 operation types
TIP_JOIN, TIP_QUIT, TIP_KICKED, TIP_SET_ADMIN, TIP_CANCEL_ADMIN, TIP_GROUP_PROFILE, TIP_MEMBER_PROFILE = (
    range(1, 8)
)
MEMBER_CHANGE_TIPS = frozenset({TIP_JOIN, TIP_QUIT, TIP_KICKED})
# SYS-1 notice types
(
    NOTICE_APPLY,
    NOTICE_ACCEPTED,
    NOTICE_REFUSED,
    NOTICE_KICKED,
    NOTICE_DISMISSED,
    NOTICE_CREATED,
    NOTICE_INVITED,
    NOTICE_QUIT,
    NOTICE_SET_ADMIN,
    NOTICE_CANCEL_ADMIN,
) = range(1, 11)
NOTICE_CUSTOM = 255


class Notices:
    """Server-sent group messages (tips), system notices and group-list pushes."""

    def __init__(self, state: WorldState, conversations: Conversations, groups: GroupDirectory) -> None:
        self.ids = state.ids
        self.conversations = conversations
        self.groups = groups

    def server_message(
        self, app: App, conversation_type: str, to: str, elem_type: str, payload: dict[str, Any]
    ) -> Message:
        """A message the server itself sends (tips TIP-1, notices SYS-1), not yet stored."""
        now = app.clock.now()
        msg = Message()
        msg.key = self.ids.message_key()
        msg.conversation_type = conversation_type
        msg.sender = SERVER_SENDER
        msg.to = to
        msg.type = elem_type
        msg.payload = payload
        msg.time = now
        msg.random = self.ids.random32()
        msg.client_time = now
        msg.order = app.next_order()
        return msg

    # --- tips ----------------------------------------------------------------------------
    def emit_tip(
        self,
        app: App,
        group: Group,
        operator: str,
        op_type: int,
        user_ids: list[str],
        events: list[Event],
        **extra: Any,
    ) -> Message | None:
        """TIP-1: a stored group message to every member after the change, never unread."""
        if op_type in MEMBER_CHANGE_TIPS and group.type == CHATROOM and not app.config.chatroom_member_tips:
            return None
        msg = self.server_message(
            app,
            GROUP,
            group.group_id,
            TIP_ELEM,
            {"operationType": op_type, "operatorID": operator, "userIDList": list(user_ids), **extra},
        )
        if group.type == AVCHATROOM:  # delivered to online joined members only, never stored
            msg.sequence = group.thread.next_sequence
            group.thread.next_sequence += 1
        else:
            group.thread.append(msg)
            msg.thread = group.thread
        app.messages.add(msg)
        if msg.stored:
            stored(app, group.thread)  # PAGE-2 caps
        received = [msg.view("")]
        key = GROUP + group.group_id
        profile = group.profile() if msg.stored else None
        for account in self.groups.listening_members(app, group):
            emit_account(events, account, MESSAGE_RECEIVED, received)
            if profile is not None and account.online:
                emit_account(
                    events,
                    account,
                    CONVERSATION_LIST_UPDATED,
                    [self.group_conversation(group, key, account.conv(key), received[0], profile)],
                )
        return msg

    @staticmethod
    def group_conversation(
        group: Group, key: str, state: ConvState, last_view: dict[str, Any], profile: dict[str, Any]
    ) -> dict[str, Any]:
        """CONV-2's conversation for a group fan-out from shared parts; equal to
        ``conversation_view`` for the same conversation, which a test checks."""
        return {
            "conversationID": key,
            "type": GROUP,
            "unreadCount": 0 if group.type in NO_UNREAD_TYPES else state.unread,  # UNREAD-1
            "lastMessage": last_view,
            "messageRemindType": state.remind_type,
            "groupProfile": profile,
        }

    # --- system notices ---------------------------------------------------------------------
    def deliver_notice(
        self,
        app: App,
        account: Account,
        op_type: int,
        operator: str,
        group: Group,
        events: list[Event],
        acting: Instance | None,
        handle_message: str = "",
    ) -> Message:
        """SYS-1: stored in @TIM#SYSTEM (+1 unread); the acting instance itself is skipped."""
        msg = self.server_message(
            app,
            SYSTEM,
            account.user_id,
            NOTICE_ELEM,
            {
                "operationType": op_type,
                "operatorID": operator,
                "groupProfile": group.profile(),
                "handleMessage": handle_message,
            },
        )
        account.system_thread.append(msg)
        msg.thread = account.system_thread
        app.messages.add(msg)
        stored(app, account.system_thread)  # PAGE-2 caps
        account.conv(SYSTEM_CONVERSATION_ID).unread += 1
        view = msg.view(account.user_id)
        for inst in account.online:
            if inst is not acting:
                emit(events, inst, MESSAGE_RECEIVED, [view])
                emit(events, inst, GROUP_SYSTEM_NOTICE_RECEIVED, {"type": op_type, "message": view})
        emit_account(
            events,
            account,
            CONVERSATION_LIST_UPDATED,
            [self.conversations.conversation_view(app, account, SYSTEM_CONVERSATION_ID, msg)],
        )
        return msg

    def emit_group_list(self, app: App, accounts: list[Account], events: list[Event]) -> None:
        """GLIST-1: the full group list to each affected account's online instances."""
        for account in accounts:
            if account.online:
                emit_account(events, account, GROUP_LIST_UPDATED, self.groups.group_list_for(app, account))
