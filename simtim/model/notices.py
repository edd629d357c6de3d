"""Group tips, system notices and group-list updates (TIP-1, SYS-1, GLIST-1).

Also the lookups every group operation starts with, in ORDER-1's order:
group exists (10010) -> caller is a member (10007) -> the type allows it ->
the caller's role allows it (10007).
"""

from __future__ import annotations

from typing import Any

from simtim.errors import Code, IMError
from simtim.model.capabilities import ANYONE, AVCHATROOM, CAPABILITIES, CHATROOM, NO_UNREAD_TYPES
from simtim.model.entities import (
    GROUP,
    NOTICE_ELEM,
    SYSTEM,
    SYSTEM_CONVERSATION_ID,
    TIP_ELEM,
    Account,
    App,
    ConvState,
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
from simtim.model.group_entities import Group, Member
from simtim.model.messaging import MessageOps

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
DISCARD = "Discard"


class NoticeOps(MessageOps):
    # --- lookups in ORDER-1 order ---------------------------------------------------
    @staticmethod
    def group_of(app: App, group_id: object, rule: str) -> Group:
        if not isinstance(group_id, str) or not group_id:
            raise IMError(Code.INVALID_PARAMETERS, "groupID must be a non-empty string", rule=rule)
        group = app.groups.get(group_id)
        if group is None:
            raise IMError(Code.GROUP_NOT_FOUND, rule=rule)
        return group

    @staticmethod
    def member_of(group: Group, user_id: str, rule: str) -> Member:
        member = group.members.get(user_id)
        if member is None:
            raise IMError(Code.GROUP_PERMISSION_DENIED, "not a member of this group", rule=rule)
        return member

    @staticmethod
    def check_capability(operation: str, group: Group, member: Member | None, rule: str) -> None:
        """The literal tables decide: type restriction first, then the caller's role."""
        allowed = CAPABILITIES[operation][group.type]
        if isinstance(allowed, int):
            raise IMError(allowed, f"{group.type} groups do not allow {operation}", rule=rule)
        if ANYONE in allowed:
            return
        if member is None or member.role not in allowed:
            raise IMError(
                Code.GROUP_PERMISSION_DENIED, f"{operation} needs role {'/'.join(allowed)}", rule=rule
            )

    def acting_member(
        self, app: App, account: Account, group_id: object, operation: str, rule: str
    ) -> tuple[Group, Member]:
        """ORDER-1 for a member's group operation: group exists -> caller is a member -> the
        type and the caller's role allow ``operation`` (the capability table)."""
        group = self.group_of(app, group_id, rule)
        member = self.member_of(group, account.user_id, rule)
        self.check_capability(operation, group, member, rule)
        return group, member

    @staticmethod
    def remind_type(account: Account, group: Group) -> str:
        state = account.convs.get(GROUP + group.group_id)
        return state.remind_type if state is not None else "AcceptAndNotify"

    def listening_members(self, app: App, group: Group) -> list[Account]:
        """Members whose instances get the group's messages and tips (GRP-9: not Discard)."""
        key = GROUP + group.group_id
        result = []
        for user_id in group.members:
            account = app.accounts[user_id]
            state = account.convs.get(key)
            if state is None or state.remind_type != DISCARD:
                result.append(account)
        return result

    def server_message(
        self, app: App, conversation_type: str, to: str, elem_type: str, payload: dict[str, Any]
    ) -> Message:
        """A message the server itself sends (tips TIP-1, notices SYS-1), not yet stored."""
        now = app.clock.now()
        msg = Message()
        msg.id = self.ids.message_id(SERVER_SENDER, now)
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
            msg.stored = False
        else:
            group.thread.append(msg)
            msg.thread = group.thread
        app.messages[msg.id] = msg
        received = [msg.view("")]
        key = GROUP + group.group_id
        profile = group.profile() if msg.stored else None
        for account in self.listening_members(app, group):
            self.emit_account(events, account, MESSAGE_RECEIVED, received)
            if profile is not None and account.online:
                self.emit_account(
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
        app.messages[msg.id] = msg
        account.conv(SYSTEM_CONVERSATION_ID).unread += 1
        view = msg.view(account.user_id)
        for inst in account.online:
            if inst is not acting:
                self.emit(events, inst, MESSAGE_RECEIVED, [view])
                self.emit(events, inst, GROUP_SYSTEM_NOTICE_RECEIVED, {"type": op_type, "message": view})
        self.emit_account(
            events,
            account,
            CONVERSATION_LIST_UPDATED,
            [self.conversation_view(app, account, SYSTEM_CONVERSATION_ID, msg)],
        )
        return msg

    def group_list_for(self, app: App, account: Account) -> list[dict[str, Any]]:
        me = account.user_id
        return [g.profile(me) for g in app.groups.values() if me in g.members]

    def emit_group_list(self, app: App, accounts: list[Account], events: list[Event]) -> None:
        """GLIST-1: the full group list to each affected account's online instances."""
        for account in accounts:
            if account.online:
                self.emit_account(events, account, GROUP_LIST_UPDATED, self.group_list_for(app, account))
