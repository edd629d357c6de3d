"""Group messages: send with mute, callback, priority and rate control; revoke; delete; history.

Implements the group sides of MSG-3, MSG-5..MSG-9, REV-1..REV-4, PAGE-2 and
UNREAD-1 by overriding the hooks the C2C modules leave open.
"""

from __future__ import annotations

from typing import Any

from simtim.errors import Code, IMError
from simtim.limits import DEDUP_WINDOW_GROUP_SECONDS
from simtim.model.args import str_list
from simtim.model.capabilities import AVCHATROOM, CAPABILITIES, NO_UNREAD_TYPES
from simtim.model.drafts import Draft, callback_body
from simtim.model.entities import GROUP, Account, App, Instance, Message, Thread
from simtim.model.events import CONVERSATION_LIST_UPDATED, MESSAGE_RECEIVED, Event, Outcome
from simtim.model.group_entities import Group
from simtim.model.members import MemberOps
from simtim.model.notices import ADMIN_OPERATOR, NOTICE_CUSTOM

_new_tuple = tuple.__new__

#: MSG-7: priorities that resolve success without being stored once the second is full
_DROPPED_WHEN_LIMITED = frozenset({"Low", "Lowest"})


class GroupMessageOps(MemberOps):
    # --- conversation hooks ---------------------------------------------------------------
    def group_thread(self, app: App, account: Account, group_id: str) -> Thread | None:
        """CONV-1: GROUP<id> is valid for members; AVChatRoom keeps no history (PAGE-2)."""
        group = app.groups.get(group_id)
        if group is None or account.user_id not in group.members:
            raise IMError(Code.CONVERSATION_INVALID, rule="CONV-1")
        return None if group.type == AVCHATROOM else group.thread

    def visible_from(self, app: App, account: Account, conversation_id: str) -> int:
        """PAGE-2: history before the caller's join is hidden unless the type shows it."""
        if not conversation_id.startswith(GROUP):
            return 0
        group = app.groups.get(conversation_id[len(GROUP) :])
        if group is None:
            return 0
        member = group.members.get(account.user_id)
        if member is None or app.config.history_before_join.get(group.type, False):
            return 0
        return member.join_order

    def unread_of(self, app: App, conversation_id: str, counted: int) -> int:
        if conversation_id.startswith(GROUP):
            group = app.groups.get(conversation_id[len(GROUP) :])
            if group is not None and group.type in NO_UNREAD_TYPES:
                return 0  # UNREAD-1
        return counted

    def group_profile_for_conversation(self, app: App, group_id: str) -> dict[str, Any] | None:
        group = app.groups.get(group_id)
        return group.profile() if group is not None else None

    def can_see_group_message(self, app: App, account: Account, msg: Message) -> bool:
        group = app.groups.get(msg.to)
        return group is not None and account.user_id in group.members

    # --- send -------------------------------------------------------------------------------
    def _group_send_checks(self, app: App, account: Account, draft: Draft, inst: Instance) -> Group:
        """MSG-3 (group): 10010 -> 10007 -> MUTE-2's 10017, all before the callback."""
        group: Group | None = app.groups.get(draft.to)
        if group is None:
            raise IMError(Code.GROUP_NOT_FOUND, rule="MSG-3")
        if account.user_id not in group.members:
            raise IMError(Code.GROUP_PERMISSION_DENIED, "not a member of this group", rule="MSG-3")
        if group.type == AVCHATROOM and inst.avchatroom != group.group_id:  # GRP-1: join before sending
            raise IMError(Code.GROUP_PERMISSION_DENIED, "join the AVChatRoom before sending", rule="MSG-3")
        if group.mute_until.get(account.user_id, 0) > app.clock.now():
            raise IMError(Code.GROUP_MEMBER_MUTED, rule="MUTE-2")
        return group

    def group_callback_request(
        self, app: App, account: Account, inst: Instance, draft: Draft
    ) -> dict[str, Any] | None:
        group = self._group_send_checks(app, account, draft, inst)
        if self._dedup_hit(app, account, draft, GROUP + draft.to, DEDUP_WINDOW_GROUP_SECONDS):
            return None
        return callback_body(draft, account.user_id, group.type)

    def send_group_message(
        self, app: App, account: Account, inst: Instance, draft: Draft, verdict: Any
    ) -> Outcome:
        group = self._group_send_checks(app, account, draft, inst)
        me = account.user_id
        prior = self._dedup_hit(app, account, draft, GROUP + draft.to, DEDUP_WINDOW_GROUP_SECONDS)
        if prior is not None:
            return Outcome({"message": prior.view(me)}, [])  # MSG-6
        elements = self._verdict_elements(app, draft, me, verdict, c2c=False, group_type=group.type)  # MSG-8
        now = app.clock.now()
        second, counted = app.rate_counts.get(group.group_id, (now, 0))
        if second != now:
            second, counted = now, 0
        if counted >= app.config.group_message_rate_per_second:  # MSG-7
            if draft.priority == "Normal":
                raise IMError(Code.GROUP_MESSAGE_FREQUENCY_LIMIT, rule="MSG-7")
            if draft.priority in _DROPPED_WHEN_LIMITED:
                ghost = self.new_message(app, account, draft, elements, now)
                ghost.stored = False  # resolves success: no sequence, not stored, not delivered
                return Outcome({"message": ghost.view(me)}, [])
        app.rate_counts[group.group_id] = (second, counted + 1)
        msg = self.new_message(app, account, draft, elements, now)
        if group.type == AVCHATROOM:
            msg.sequence = group.thread.next_sequence
            group.thread.next_sequence += 1
            msg.stored = False  # PAGE-2: no history, but still identifiable by ID
        else:
            group.thread.append(msg)
            msg.thread = group.thread
        events: list[Event] = []
        self._fan_out(app, group, msg, account, inst, events)
        return Outcome({"message": msg.view(me)}, events)

    def _fan_out(
        self, app: App, group: Group, msg: Message, sender: Account, inst: Instance, events: list[Event]
    ) -> None:
        """MSG-5 + UNREAD-1 + CONV-4 for one group message; Discard members get nothing (GRP-9).

        The hot loop of a big group: views, the group profile and the event payload lists are
        built once and shared, events are plain tuples (see ``group_conversation``).
        """
        key = GROUP + group.group_id
        incoming = [msg.view("")]
        outgoing = [msg.view(sender.user_id)]
        counts = group.type not in NO_UNREAD_TYPES and msg.stored
        profile = group.profile() if msg.stored else None
        accounts = app.accounts
        new = _new_tuple
        for user_id in group.members:
            account = accounts[user_id]
            state = account.convs.get(key) or account.conv(key)
            if state.remind_type == "Discard":
                continue
            is_sender = account is sender
            if counts and not is_sender:
                state.unread += 1
            online = account.online
            if not online:
                continue
            received = outgoing if is_sender else incoming
            conversation = (
                None
                if profile is None
                else [self.group_conversation(group, key, state, received[0], profile)]
            )
            for target in online:
                if target.connected:
                    if target is not inst:
                        events.append(new(Event, (target.id, MESSAGE_RECEIVED, received)))
                    if conversation is not None:
                        events.append(new(Event, (target.id, CONVERSATION_LIST_UPDATED, conversation)))
                else:
                    if target is not inst:
                        target.deferred.append((MESSAGE_RECEIVED, received))
                    if conversation is not None:
                        target.deferred.append((CONVERSATION_LIST_UPDATED, conversation))

    # --- revoke (REV-1..REV-4, group side) ---------------------------------------------------
    def revoke_group_message(
        self, app: App, account: Account, inst: Instance | None, msg: Message | None, admin: bool
    ) -> Outcome:
        """REV-3 order: AVChatRoom 10033 -> not in history 10030 -> tip 10032 -> revoked 10030
        -> not the sender 10007 -> window 10031."""
        group: Group | None = app.groups.get(msg.to) if msg is not None else None
        if group is not None and isinstance(CAPABILITIES["revokeMessage"][group.type], int):
            raise IMError(CAPABILITIES["revokeMessage"][group.type], rule="REV-3")  # type: ignore[arg-type]
        if (
            msg is None
            or group is None
            or not msg.stored
            or (not admin and account.user_id not in group.members)
            or (app.clock.now() - msg.time > app.config.retention_seconds)
        ):  # past retention: not in history
            raise IMError(Code.GROUP_MESSAGE_NOT_FOUND, rule="REV-3")
        if msg.is_tip_or_notice:
            raise IMError(Code.GROUP_MESSAGE_NOT_REVOKABLE, rule="REV-3")
        if msg.revoked:
            raise IMError(Code.GROUP_MESSAGE_NOT_FOUND, "already revoked", rule="REV-3")
        if not admin and msg.sender != account.user_id:
            raise IMError(Code.GROUP_PERMISSION_DENIED, "only the sender revokes", rule="REV-3")
        if not admin and app.clock.now() - msg.time > app.config.revoke_window_seconds:
            raise IMError(Code.GROUP_REVOKE_TIME_LIMIT, rule="REV-1")
        recipients = self.listening_members(app, group)
        sender = app.accounts.get(msg.sender)
        if sender is not None and sender not in recipients:
            recipients.append(sender)
        events = self.apply_revoke(app, msg, recipients, inst)
        return Outcome({"message": msg.view(account.user_id)}, events)

    def check_group_delete(self, app: App, account: Account, msg: Message) -> None:
        group = app.groups.get(msg.to)
        if group is not None and isinstance(CAPABILITIES["deleteMessage"][group.type], int):
            raise IMError(CAPABILITIES["deleteMessage"][group.type], rule="MSG-9")  # type: ignore[arg-type]
        if not msg.stored:
            raise IMError(Code.GROUP_TYPE_NO_DELETE, rule="MSG-9")

    # --- admin: custom system notice (SYS-1 type 255) -----------------------------------------
    def admin_send_group_system_notice(
        self, sdkappid: int, group_id: str, content: str, user_ids: list[str] | None = None
    ) -> Outcome:
        app = self._app(sdkappid)
        group = self.group_of(app, group_id, "SYS-1")
        if not isinstance(content, str):
            raise IMError(Code.INVALID_PARAMETERS, "content must be a string", rule="SYS-1")
        if user_ids is None:
            chosen = list(group.members)
        else:
            chosen = [u for u in str_list({"u": user_ids}, "u", rule="SYS-1") if u in group.members]
        events: list[Event] = []
        for user_id in dict.fromkeys(chosen):
            self.deliver_notice(
                app, app.accounts[user_id], NOTICE_CUSTOM, ADMIN_OPERATOR, group, events, None, content
            )
        return Outcome({}, events)
