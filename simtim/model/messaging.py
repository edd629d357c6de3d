"""C2C sending, resending, revoking and deleting (MSG-*, REV-*).

Group messages enter through the same ``send_message`` and branch to the
group hooks, which ``simtim.model.groups`` overrides.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import orjson

from simtim.errors import Code, IMError
from simtim.limits import DEDUP_WINDOW_C2C_SECONDS
from simtim.model.args import Options
from simtim.model.conversations import ConversationOps
from simtim.model.drafts import Draft, apply_verdict, callback_body, parse_draft
from simtim.model.entities import C2C, GROUP, Account, App, ConvState, Instance, Message, Thread
from simtim.model.events import (
    CONVERSATION_LIST_UPDATED,
    MESSAGE_RECEIVED,
    MESSAGE_REVOKED,
    Event,
    Outcome,
)

#: "no verdict given": ask the app's configured callable, if any (MSG-8)
ASK_CALLBACK: Any = object()


_new_tuple = tuple.__new__


def _detached(payload: Any) -> Any:
    """A deep copy of a JSON-like payload (orjson round trip: faster than copy.deepcopy)."""
    return orjson.loads(orjson.dumps(payload))


def c2c_conversation(
    conversation_id: str, state: ConvState, last_view: dict[str, Any], peer: Account
) -> dict[str, Any]:
    """CONV-2's conversation for a C2C send, from views already rendered (the send hot path);
    equal to ``conversation_view`` for the same conversation, which a test checks."""
    return {
        "conversationID": conversation_id,
        "type": C2C,
        "unreadCount": state.unread,
        "lastMessage": last_view,
        "messageRemindType": state.remind_type,
        "userProfile": {"userID": peer.user_id, "nick": peer.nick, "avatar": peer.avatar},
    }


def pair_key(a: str, b: str) -> tuple[str, str]:
    return (a, b) if a <= b else (b, a)


class MessageOps(ConversationOps):
    # --- send --------------------------------------------------------------------
    def send_message(self, inst: Instance, opts: Options, verdict: Any = ASK_CALLBACK) -> Outcome:
        app, account = self.require_online(inst)
        draft = parse_draft(opts.get("message"), app.config.message_max_bytes)
        if draft.conversation_type == GROUP:
            return self.send_group_message(app, account, inst, draft, verdict)
        return self._send_c2c(app, account, inst, draft, verdict)

    def callback_request(self, inst: Instance, opts: Options) -> dict[str, Any] | None:
        """MSG-8 for servers: every check before the callback, then the body to post.

        ``None`` means the send would be decided without a callback (dedup hit).
        A server awaits the real callback (2 s) and then calls ``send_message``
        with the reply as ``verdict``, which re-checks everything.
        """
        app, account = self.require_online(inst)
        draft = parse_draft(opts.get("message"), app.config.message_max_bytes)
        if draft.conversation_type == GROUP:
            return self.group_callback_request(app, account, inst, draft)
        if draft.to not in app.accounts:
            raise IMError(Code.ACCOUNT_NOT_FOUND, rule="MSG-3")
        if self._dedup_hit(app, account, draft, C2C + draft.to, DEDUP_WINDOW_C2C_SECONDS):
            return None
        return callback_body(draft, account.user_id)

    def _verdict_elements(
        self, app: App, draft: Draft, sender: str, verdict: Any, c2c: bool, group_type: str = ""
    ) -> list[tuple[Any, Any]]:
        if verdict is ASK_CALLBACK:
            callback = self.before_send.get(app.sdkappid)
            if callback is None:
                return draft.elements
            try:
                verdict = callback(callback_body(draft, sender, group_type))
            except Exception:  # a failing callback means proceed (MSG-8)
                verdict = None
        return apply_verdict(verdict, draft, c2c)

    def _dedup_hit(
        self, app: App, account: Account, draft: Draft, conversation_id: str, window: int
    ) -> Message | None:
        """MSG-6: same (sender, conversation, random, clientTime) within the window."""
        if draft.random is None:
            return None
        now = app.clock.now()
        key = (
            account.user_id,
            conversation_id,
            draft.random,
            draft.client_time if draft.client_time is not None else now,
        )
        prior = app.dedup.get(key)
        if prior is not None and now - prior.time <= window:
            return prior
        return None

    def new_message(
        self, app: App, account: Account, draft: Draft, elements: list[tuple[Any, Any]], now: int
    ) -> Message:
        """A message with server-chosen fields (MSG-4); drawn only once accepted."""
        msg = Message()
        msg.id = self.ids.message_id(account.user_id, now)
        msg.conversation_type = draft.conversation_type
        msg.sender = account.user_id
        msg.to = draft.to
        msg.type, msg.payload = elements[0][0], _detached(elements[0][1])
        # ^ stored history never shares objects with the caller (an in-process caller may mutate them)
        if len(elements) > 1:
            msg.elements = [{"type": t, "payload": _detached(p)} for t, p in elements]
        msg.time = now
        msg.random = draft.random if draft.random is not None else self.ids.random32()
        msg.client_time = draft.client_time if draft.client_time is not None else now
        msg.priority = draft.priority
        msg.nick = account.nick  # PROF-1
        msg.avatar = account.avatar
        msg.cloud_custom_data = draft.cloud_custom_data
        msg.order = app.next_order()
        if draft.random is not None:
            app.dedup[
                (account.user_id, msg.conversation_id_for(account.user_id), draft.random, msg.client_time)
            ] = msg
        app.messages[msg.id] = msg
        return msg

    def _send_c2c(self, app: App, account: Account, inst: Instance, draft: Draft, verdict: Any) -> Outcome:
        target = app.accounts.get(draft.to)
        if target is None:
            raise IMError(Code.ACCOUNT_NOT_FOUND, rule="MSG-3")
        conversation_id = C2C + draft.to
        prior = self._dedup_hit(app, account, draft, conversation_id, DEDUP_WINDOW_C2C_SECONDS)
        if prior is not None:
            return Outcome({"message": prior.view(account.user_id)}, [])  # MSG-6
        elements = self._verdict_elements(app, draft, account.user_id, verdict, c2c=True)
        msg = self.new_message(app, account, draft, elements, app.clock.now())
        key = pair_key(account.user_id, target.user_id)
        thread = app.threads.get(key)
        if thread is None:
            thread = app.threads[key] = Thread(C2C)
        thread.append(msg)  # MSG-4
        msg.thread = thread
        events: list[Event] = []
        sender_view = msg.view(account.user_id)
        own_state = account.conv(conversation_id)
        if target is not account:
            peer_conversation = C2C + account.user_id
            peer_state = target.conv(peer_conversation)
            peer_state.unread += 1  # UNREAD-1
            if target.online:
                received = dict(sender_view)  # the peer's view differs in two fields (MSG-4)
                received["conversationID"] = peer_conversation
                received["flow"] = "in"
                self.emit_account(events, target, MESSAGE_RECEIVED, [received])  # MSG-5
                self.emit_account(
                    events,
                    target,
                    CONVERSATION_LIST_UPDATED,
                    [c2c_conversation(peer_conversation, peer_state, received, account)],
                )  # CONV-4
        self.emit_account(events, account, MESSAGE_RECEIVED, [sender_view], exclude=inst)  # MSG-5
        self.emit_account(
            events,
            account,
            CONVERSATION_LIST_UPDATED,
            [c2c_conversation(conversation_id, own_state, sender_view, target)],
        )
        return _new_tuple(Outcome, ({"message": sender_view}, events))

    def resend_message(self, inst: Instance, opts: Options) -> Outcome:
        """MSG-6: a stored message comes back as it is; an unsent one is sent now."""
        app, account = self.require_online(inst)
        message = opts.get("message")
        if not isinstance(message, Mapping):
            raise IMError(Code.INVALID_PARAMETERS, "message must be an object", rule="MSG-6")
        message_id = message.get("ID")
        stored = app.messages.get(message_id) if isinstance(message_id, str) and message_id else None
        if stored is not None:
            if stored.sender != account.user_id:
                raise IMError(Code.INVALID_PARAMETERS, "only the sender resends a message", rule="MSG-6")
            return Outcome({"message": stored.view(account.user_id)}, [])
        return self.send_message(inst, {"message": message})

    # --- group hooks (overridden by GroupOps) ---------------------------------------
    def send_group_message(
        self, app: App, account: Account, inst: Instance, draft: Draft, verdict: Any
    ) -> Outcome:
        raise IMError(Code.GROUP_NOT_FOUND, rule="MSG-3")

    def group_callback_request(
        self, app: App, account: Account, inst: Instance, draft: Draft
    ) -> dict[str, Any] | None:
        raise IMError(Code.GROUP_NOT_FOUND, rule="MSG-3")

    def revoke_group_message(
        self, app: App, account: Account, inst: Instance | None, msg: Message | None, admin: bool
    ) -> Outcome:
        raise IMError(Code.GROUP_MESSAGE_NOT_FOUND, rule="REV-3")

    def check_group_delete(self, app: App, account: Account, msg: Message) -> None:
        raise IMError(Code.INVALID_PARAMETERS, "message not found", rule="MSG-9")

    # --- revoke ---------------------------------------------------------------------
    def revoke_message(self, inst: Instance, opts: Options) -> Outcome:
        app, account = self.require_online(inst)
        message = opts.get("message")
        if not isinstance(message, Mapping) or not isinstance(message.get("ID"), str):
            raise IMError(Code.INVALID_PARAMETERS, "message.ID must be a string", rule="REV-3")
        msg = app.messages.get(message["ID"])
        kind = msg.conversation_type if msg is not None else message.get("conversationType", C2C)
        if kind == GROUP:
            return self.revoke_group_message(app, account, inst, msg, admin=False)
        me = account.user_id
        if msg is not None and msg.is_tip_or_notice and self.can_see(app, account, msg):
            raise IMError(Code.GROUP_MESSAGE_NOT_REVOKABLE, rule="REV-3")  # a system notice
        # REV-3 (C2C): not found (past retention is not in history, CLOCK-1) -> already revoked
        # -> not the sender -> window
        if (
            msg is None
            or msg.conversation_type != C2C
            or me not in (msg.sender, msg.to)
            or app.clock.now() - msg.time > app.config.retention_seconds
        ):
            raise IMError(Code.C2C_MESSAGE_NOT_FOUND, rule="REV-3")
        if msg.revoked:
            raise IMError(Code.C2C_MESSAGE_ALREADY_REVOKED, rule="REV-3")
        if msg.sender != me:
            raise IMError(Code.C2C_MESSAGE_NOT_FOUND, "only the sender revokes", rule="REV-3")
        if app.clock.now() - msg.time > app.config.revoke_window_seconds:
            raise IMError(Code.C2C_REVOKE_TIME_LIMIT, rule="REV-1")
        events = self.apply_revoke(app, msg, [app.accounts[msg.sender], app.accounts[msg.to]], inst)
        return Outcome({"message": msg.view(me)}, events)

    def admin_recall(self, sdkappid: int, message_id: str) -> Outcome:
        """REV-4: admin recall has no time window; otherwise as REV-2."""
        app = self._app(sdkappid)
        if not isinstance(message_id, str):
            raise IMError(Code.INVALID_PARAMETERS, "message ID must be a string", rule="REV-4")
        msg = app.messages.get(message_id)
        if msg is not None and msg.conversation_type == GROUP:
            sender = app.accounts[msg.sender]
            return self.revoke_group_message(app, sender, None, msg, admin=True)
        if msg is None or msg.conversation_type != C2C:
            raise IMError(Code.C2C_MESSAGE_NOT_FOUND, rule="REV-4")
        if msg.revoked:
            raise IMError(Code.C2C_MESSAGE_ALREADY_REVOKED, rule="REV-4")
        events = self.apply_revoke(app, msg, [app.accounts[msg.sender], app.accounts[msg.to]], None)
        return Outcome({"message": msg.view(msg.sender)}, events)

    def apply_revoke(
        self, app: App, msg: Message, accounts: list[Account], acting: Instance | None
    ) -> list[Event]:
        """REV-2: mark, notify everyone but the caller, fix unread and last messages."""
        msg.revoked = True
        events: list[Event] = []
        seen: set[str] = set()
        for account in accounts:
            if account.user_id in seen:
                continue
            seen.add(account.user_id)
            view = msg.view(account.user_id)
            self.emit_account(events, account, MESSAGE_REVOKED, [view], exclude=acting)
            conversation_id = msg.conversation_id_for(account.user_id)
            state = account.convs.get(conversation_id)
            changed = False
            if (
                state is not None
                and msg.sender != account.user_id
                and state.unread > 0
                and msg.order > state.read_mark
                and not msg.is_tip_or_notice
            ):
                state.unread -= 1  # REV-2: it was unread for this recipient
                changed = True
            last = self.last_visible(app, account, conversation_id)
            if changed or last is msg:
                self.emit_account(
                    events,
                    account,
                    CONVERSATION_LIST_UPDATED,
                    [self.conversation_view(app, account, conversation_id, last)],
                )
        return events

    # --- delete ---------------------------------------------------------------------
    def delete_message(self, inst: Instance, opts: Options) -> Outcome:
        """MSG-9: one conversation, no tips or notices, the caller's account only."""
        app, account = self.require_online(inst)
        items = opts.get("messageList")
        if not isinstance(items, list) or not items:
            raise IMError(Code.INVALID_PARAMETERS, "messageList must be a non-empty list", rule="MSG-9")
        me = account.user_id
        found: list[Message] = []
        for item in items:
            message_id = item.get("ID") if isinstance(item, Mapping) else None
            msg = app.messages.get(message_id) if isinstance(message_id, str) else None
            if msg is None or not self.can_see(app, account, msg):
                raise IMError(Code.INVALID_PARAMETERS, f"message {message_id!r} not found", rule="MSG-9")
            found.append(msg)
        conversation_id = found[0].conversation_id_for(me)
        if any(m.conversation_id_for(me) != conversation_id for m in found):
            raise IMError(Code.INVALID_PARAMETERS, "all messages must be in one conversation", rule="MSG-9")
        for msg in found:
            if msg.is_tip_or_notice:
                raise IMError(Code.MESSAGE_TYPE_NOT_DELETABLE, rule="MSG-9")
            if msg.conversation_type == GROUP:
                self.check_group_delete(app, account, msg)
        last_before = self.last_visible(app, account, conversation_id)
        account.deleted.update(m.id for m in found)
        events: list[Event] = []
        last_after = self.last_visible(app, account, conversation_id)
        if last_after is not last_before:
            self.emit_account(
                events,
                account,
                CONVERSATION_LIST_UPDATED,
                [self.conversation_view(app, account, conversation_id, last_after)],
            )
        return Outcome({"messageList": [m.view(me) for m in found]}, events)

    def can_see(self, app: App, account: Account, msg: Message) -> bool:
        """Whether the message belongs to one of the account's conversations."""
        if msg.conversation_type == C2C:
            return account.user_id in (msg.sender, msg.to)
        if msg.thread is not None and msg.thread is account.system_thread:
            return True
        return self.can_see_group_message(app, account, msg)

    def can_see_group_message(self, app: App, account: Account, msg: Message) -> bool:
        return False
