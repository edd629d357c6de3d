"""Which groups exist and who is in them: lookups in ORDER-1's order and membership bookkeeping.

Every group operation starts here: group exists (10010) -> caller is a member
(10007) -> the type allows it -> the caller's role allows it (10007).  It also
answers ``GroupView``, the narrow questions C2C-side components ask about
groups (is GROUP<id> a valid conversation, where does its visible history
start, what unread does it show), so conversations and message storage never
reach into group rules.
"""

from __future__ import annotations

from typing import Any

from simtim.errors import Code, IMError
from simtim.model.capabilities import ANYONE, AVCHATROOM, CAPABILITIES, NO_UNREAD_TYPES
from simtim.model.core import WorldState
from simtim.model.entities import GROUP, Account, App, Group, Member, Message, Thread

DISCARD = "Discard"


class GroupDirectory:
    def __init__(self, state: WorldState) -> None:
        self.state = state

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

    # --- membership bookkeeping -------------------------------------------------------
    @staticmethod
    def add_member(app: App, group: Group, account: Account, role: str) -> Member:
        member = Member(account.user_id, role, app.clock.now(), app.order)
        group.members[account.user_id] = member
        account.conv(GROUP + group.group_id)
        return member

    @staticmethod
    def remove_member(app: App, group: Group, user_id: str) -> None:
        group.members.pop(user_id, None)
        if group.owner == user_id:
            group.owner = ""
        account = app.accounts.get(user_id)
        if account is not None:
            account.convs.pop(GROUP + group.group_id, None)
            for inst in account.online:
                if inst.avchatroom == group.group_id:
                    inst.avchatroom = ""

    @staticmethod
    def is_full(group: Group, extra: int = 1) -> bool:
        return group.max_member_num is not None and len(group.members) + extra > group.max_member_num

    @staticmethod
    def listening_members(app: App, group: Group) -> list[Account]:
        """Members whose instances get the group's messages and tips (GRP-9: not Discard)."""
        key = GROUP + group.group_id
        result = []
        for user_id in group.members:
            account = app.accounts[user_id]
            state = account.convs.get(key)
            if state is None or state.remind_type != DISCARD:
                result.append(account)
        return result

    @staticmethod
    def member_view(app: App, group: Group, member: Member) -> dict[str, Any]:
        """MBR-3's member fields; muteUntil is computed on read (CLOCK-1)."""
        account = app.accounts.get(member.user_id)
        mute_until = group.mute_until.get(member.user_id, 0)
        return {
            "userID": member.user_id,
            "role": member.role,
            "nameCard": member.name_card,
            "nick": account.nick if account else "",
            "avatar": account.avatar if account else "",
            "joinTime": member.join_time,
            "muteUntil": mute_until if mute_until > app.clock.now() else 0,
            "memberCustomField": [{"key": k, "value": v} for k, v in member.custom_fields.items()],
        }

    @staticmethod
    def group_list_for(app: App, account: Account) -> list[dict[str, Any]]:
        me = account.user_id
        return [g.profile(me) for g in app.groups.values() if me in g.members]

    # --- the view conversations and message storage need -------------------------------
    @staticmethod
    def group_thread(app: App, account: Account, group_id: str) -> Thread | None:
        """CONV-1: GROUP<id> is valid for members; AVChatRoom keeps no history (PAGE-2)."""
        group = app.groups.get(group_id)
        if group is None or account.user_id not in group.members:
            raise IMError(Code.CONVERSATION_INVALID, rule="CONV-1")
        return None if group.type == AVCHATROOM else group.thread

    @staticmethod
    def visible_from(app: App, account: Account, conversation_id: str) -> int:
        """PAGE-2: the oldest order the account may see; history before the caller's join is
        hidden unless the group type shows it (0 for C2C and the system conversation)."""
        if not conversation_id.startswith(GROUP):
            return 0
        group = app.groups.get(conversation_id[len(GROUP) :])
        if group is None:
            return 0
        member = group.members.get(account.user_id)
        if member is None or app.config.history_before_join.get(group.type, False):
            return 0
        return member.join_order

    @staticmethod
    def unread_of(app: App, conversation_id: str, counted: int) -> int:
        """UNREAD-1: ChatRoom and AVChatRoom conversations always show 0."""
        if conversation_id.startswith(GROUP):
            group = app.groups.get(conversation_id[len(GROUP) :])
            if group is not None and group.type in NO_UNREAD_TYPES:
                return 0
        return counted

    @staticmethod
    def profile_for_conversation(app: App, group_id: str) -> dict[str, Any] | None:
        group = app.groups.get(group_id)
        return group.profile() if group is not None else None

    @staticmethod
    def can_see_message(app: App, account: Account, msg: Message) -> bool:
        group = app.groups.get(msg.to)
        return group is not None and account.user_id in group.members

    @staticmethod
    def check_deletable(app: App, msg: Message) -> None:
        """MSG-9 (group side): the type table, then AVChatRoom messages are never in history."""
        group = app.groups.get(msg.to)
        if group is not None and isinstance(CAPABILITIES["deleteMessage"][group.type], int):
            raise IMError(CAPABILITIES["deleteMessage"][group.type], rule="MSG-9")  # type: ignore[arg-type]
        if not msg.stored:
            raise IMError(Code.GROUP_TYPE_NO_DELETE, rule="MSG-9")
