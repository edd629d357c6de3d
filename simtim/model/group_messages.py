"""Group messages: send with mute, callback, priority and rate control; fan-out; revoke.

The group sides of MSG-3, MSG-5..MSG-8, REV-1..REV-4 and UNREAD-1; the World
routes a message here by its conversation type.
"""

from __future__ import annotations

from typing import Any

from simtim.errors import Code, IMError
from simtim.limits import DEDUP_WINDOW_GROUP_SECONDS
from simtim.model.args import str_list
from simtim.model.capabilities import AVCHATROOM, CAPABILITIES, MEMBER, NO_UNREAD_TYPES
from simtim.model.core import WorldState
from simtim.model.drafts import Draft, callback_body
from simtim.model.entities import GROUP, Account, App, Group, Instance, Message
from simtim.model.events import CONVERSATION_LIST_UPDATED, MESSAGE_RECEIVED, Event, Outcome
from simtim.model.group_directory import DISCARD, GroupDirectory
from simtim.model.message_store import MessageStore
from simtim.model.notices import ADMIN_OPERATOR, NOTICE_CUSTOM, Notices
from simtim.model.retention import stored

_new_tuple = tuple.__new__

#: MSG-7: priorities that resolve success without being stored once the second is full
_DROPPED_WHEN_LIMITED = frozenset({"Low", "Lowest"})


class GroupMessaging:
    """Group sends (mute, callback, priority, rate), fan-out, revoke and admin notices."""

    def __init__(
        self, state: WorldState, store: MessageStore, groups: GroupDirectory, notices: Notices
    ) -> None:
        self.state = state
        self.store = store
        self.groups = groups
        self.notices = notices
        self.dedup_hit = store.dedup_hit
        self.new_message = store.new_message

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
        if group.mute_all and group.members[account.user_id].role == MEMBER:
            raise IMError(Code.GROUP_MEMBER_MUTED, "the whole group is muted", rule="REST-6")
        return group

    def callback_request(
        self, app: App, account: Account, inst: Instance, draft: Draft
    ) -> dict[str, Any] | None:
        group = self._group_send_checks(app, account, draft, inst)
        if self.dedup_hit(app, account, draft, DEDUP_WINDOW_GROUP_SECONDS):
            return None
        return callback_body(draft, account.user_id, group.type)

    def send(self, app: App, account: Account, inst: Instance, draft: Draft, verdict: Any) -> Outcome:
        group = self._group_send_checks(app, account, draft, inst)
        me = account.user_id
        prior = self.dedup_hit(app, account, draft, DEDUP_WINDOW_GROUP_SECONDS)
        if prior is not None:
            return Outcome({"message": prior.view(me)}, [])  # MSG-6
        elements = self.store.verdict_elements(
            app, draft, me, verdict, c2c=False, group_type=group.type
        )  # MSG-8
        now = app.clock.now()
        second, counted = app.rate_counts.get(group.group_id, (now, 0))
        if second != now:
            second, counted = now, 0
        if counted >= app.config.group_message_rate_per_second:  # MSG-7
            if draft.priority == "Normal":
                raise IMError(Code.GROUP_MESSAGE_FREQUENCY_LIMIT, rule="MSG-7")
            if draft.priority in _DROPPED_WHEN_LIMITED:
                ghost = self.new_message(app, account, draft, elements, now)
                # resolves success: no sequence, not stored (no thread), not delivered
                return Outcome({"message": ghost.view(me)}, [])
        app.rate_counts[group.group_id] = (second, counted + 1)
        msg = self.new_message(app, account, draft, elements, now)
        events = self.store_and_fan_out(app, group, msg, account, inst)
        return Outcome({"message": msg.view(me)}, events)

    def rate_full(self, app: App, group: Group) -> bool:
        """MSG-7 / REST-8: this server second already holds the group's limit of messages; else
        the message about to be stored is counted."""
        now = app.clock.now()
        second, counted = app.rate_counts.get(group.group_id, (now, 0))
        if second != now:
            second, counted = now, 0
        if counted >= app.config.group_message_rate_per_second:
            return True
        app.rate_counts[group.group_id] = (second, counted + 1)
        return False

    def store_and_fan_out(
        self, app: App, group: Group, msg: Message, sender: Account, inst: Instance | None
    ) -> list[Event]:
        """A message the group accepted: it takes the next sequence and reaches every listener;
        AVChatRoom keeps no history but the message stays identifiable by ID (PAGE-2)."""
        if group.type == AVCHATROOM:
            msg.sequence = group.thread.next_sequence
            group.thread.next_sequence += 1
        else:
            group.thread.append(msg)
            msg.thread = group.thread
            stored(app, group.thread)  # PAGE-2 caps
        events: list[Event] = []
        self._fan_out(app, group, msg, sender, inst, events)
        return events

    def _fan_out(
        self,
        app: App,
        group: Group,
        msg: Message,
        sender: Account,
        inst: Instance | None,
        events: list[Event],
    ) -> None:
        """MSG-5 + UNREAD-1 + CONV-4 for one group message; Discard members get nothing (GRP-9).

        The hot loop of a big group: views, the group profile and the event payload lists are
        built once and shared, events are plain tuples (see ``group_conversation``).
        """
        key = GROUP + group.group_id
        incoming = [msg.view("")]
        outgoing = [msg.view(sender.user_id)]
        no_unread = group.type in NO_UNREAD_TYPES
        counts = not no_unread and msg.stored
        profile = group.profile() if msg.stored else None
        accounts = app.accounts
        new = _new_tuple
        for user_id in group.members:
            account = accounts[user_id]
            state = account.convs.get(key) or account.conv(key)
            if state.remind_type == DISCARD:
                continue
            is_sender = account is sender
            if counts and not is_sender:
                state.unread += 1
            online = account.online
            if not online:
                continue
            received = outgoing if is_sender else incoming
            # CONV-2's conversation: NoticeService.group_conversation inlined (a call per member
            # was a tenth of the loop); a test checks the pushed item equals conversation_view
            conversation = (
                None
                if profile is None
                else [
                    {
                        "conversationID": key,
                        "type": GROUP,
                        "unreadCount": 0 if no_unread else state.unread,  # UNREAD-1
                        "lastMessage": received[0],
                        "messageRemindType": state.remind_type,
                        "groupProfile": profile,
                    }
                ]
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
    def revoke(
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
        recipients = self.groups.listening_members(app, group)
        sender = app.accounts.get(msg.sender)
        if sender is not None and sender not in recipients:
            recipients.append(sender)
        events = self.store.apply_revoke(app, msg, recipients, inst)
        return Outcome({"message": msg.view(account.user_id)}, events)

    # --- admin: custom system notice (SYS-1 type 255) -----------------------------------------
    def admin_send_group_system_notice(
        self, sdkappid: int, group_id: str, content: str, user_ids: list[str] | None = None
    ) -> Outcome:
        app = self.state.app_of(sdkappid)
        group = self.groups.group_of(app, group_id, "SYS-1")
        if not isinstance(content, str):
            raise IMError(Code.INVALID_PARAMETERS, "content must be a string", rule="SYS-1")
        if user_ids is None:
            chosen = list(group.members)
        else:
            chosen = [u for u in str_list({"u": user_ids}, "u", rule="SYS-1") if u in group.members]
        events: list[Event] = []
        for user_id in dict.fromkeys(chosen):
            self.notices.deliver_notice(
                app, app.accounts[user_id], NOTICE_CUSTOM, ADMIN_OPERATOR, group, events, None, content
            )
        return Outcome({}, events)
