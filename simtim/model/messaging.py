"""C2C messages: send, the before-send callback request, revoke and admin recall (MSG-*, REV-*).

The World routes a message here by its conversation type; group messages go to
``GroupMessaging``.  Storage, dedup and revoke bookkeeping are the shared
``MessageStore``'s.
"""

from __future__ import annotations

from typing import Any

from simtim.errors import Code, IMError
from simtim.limits import DEDUP_WINDOW_C2C_SECONDS
from simtim.model.core import WorldState
from simtim.model.drafts import Draft, callback_body
from simtim.model.entities import C2C, Account, App, ConvState, Instance, Message, Thread
from simtim.model.events import CONVERSATION_LIST_UPDATED, MESSAGE_RECEIVED, Event, Outcome
from simtim.model.fanout import emit_account
from simtim.model.message_store import MessageStore
from simtim.model.retention import stored

_new_tuple = tuple.__new__


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


class C2CMessaging:
    def __init__(self, state: WorldState, store: MessageStore) -> None:
        self.state = state
        self.store = store
        self.dedup_hit = store.dedup_hit
        self.verdict_elements = store.verdict_elements
        self.new_message = store.new_message

    def callback_request(self, app: App, account: Account, draft: Draft) -> dict[str, Any] | None:
        """MSG-8: every check before the callback, then the body to post (None: a dedup hit)."""
        if draft.to not in app.accounts:
            raise IMError(Code.ACCOUNT_NOT_FOUND, rule="MSG-3")
        if self.dedup_hit(app, account, draft, DEDUP_WINDOW_C2C_SECONDS):
            return None
        return callback_body(draft, account.user_id)

    def send(self, app: App, account: Account, inst: Instance, draft: Draft, verdict: Any) -> Outcome:
        target = app.accounts.get(draft.to)
        if target is None:
            raise IMError(Code.ACCOUNT_NOT_FOUND, rule="MSG-3")
        prior = self.dedup_hit(app, account, draft, DEDUP_WINDOW_C2C_SECONDS)
        if prior is not None:
            return Outcome({"message": prior.view(account.user_id)}, [])  # MSG-6
        elements = self.verdict_elements(app, draft, account.user_id, verdict, c2c=True)
        msg = self.new_message(app, account, draft, elements, app.clock.now())
        sender_view, events = self.deliver(app, account, target, msg, inst)
        return _new_tuple(Outcome, ({"message": sender_view}, events))

    def deliver(
        self,
        app: App,
        account: Account,
        target: Account,
        msg: Message,
        acting: Instance | None,
        *,
        sync_sender: bool = True,
        count_unread: bool = True,
        push: bool = True,
        imported: bool = False,
    ) -> tuple[dict[str, Any], list[Event]]:
        """Store an accepted C2C message and tell everyone who should know (MSG-4, MSG-5, UNREAD-1,
        CONV-4). ``acting`` is the sending instance (a backend has none); ``sync_sender`` False keeps
        the sender's instances quiet (REST-4 SyncOtherMachine 2); an import (from the past: it takes
        its place by time) may neither count nor push."""
        conversation_id = C2C + target.user_id
        key = pair_key(account.user_id, target.user_id)
        thread = app.threads.get(key)
        if thread is None:
            thread = app.threads[key] = Thread(C2C)
        if imported:
            thread.insert_in_time_order(msg)
        else:
            thread.append(msg)  # MSG-4
        msg.thread = thread
        stored(app, thread)  # PAGE-2 caps
        events: list[Event] = []
        sender_view = msg.view(account.user_id, conversation_id)
        own_state = account.conv(conversation_id)
        if target is not account:
            peer_conversation = C2C + account.user_id
            peer_state = target.conv(peer_conversation)
            if count_unread:
                peer_state.unread += 1  # UNREAD-1
            if target.online and push:
                received = dict(sender_view)  # the peer's view differs in two fields (MSG-4)
                received["conversationID"] = peer_conversation
                received["flow"] = "in"
                emit_account(events, target, MESSAGE_RECEIVED, [received])  # MSG-5
                emit_account(
                    events,
                    target,
                    CONVERSATION_LIST_UPDATED,
                    [c2c_conversation(peer_conversation, peer_state, received, account)],
                )  # CONV-4
        if sync_sender and push:
            emit_account(events, account, MESSAGE_RECEIVED, [sender_view], exclude=acting)  # MSG-5
            emit_account(
                events,
                account,
                CONVERSATION_LIST_UPDATED,
                [c2c_conversation(conversation_id, own_state, sender_view, target)],
            )
        return sender_view, events

    def revoke(self, app: App, account: Account, inst: Instance, msg: Message | None) -> Outcome:
        """REV-3 (C2C): not found (past retention is not in history, CLOCK-1) -> already revoked
        -> not the sender -> window (REV-1)."""
        me = account.user_id
        if msg is not None and msg.is_tip_or_notice and self.store.can_see(app, account, msg):
            raise IMError(Code.GROUP_MESSAGE_NOT_REVOKABLE, rule="REV-3")  # a system notice
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
        events = self.store.apply_revoke(app, msg, [app.accounts[msg.sender], app.accounts[msg.to]], inst)
        return Outcome({"message": msg.view(me)}, events)

    def admin_recall(self, app: App, msg: Message | None) -> Outcome:
        """REV-4: admin recall has no time window; otherwise as REV-2."""
        if msg is None or msg.conversation_type != C2C:
            raise IMError(Code.C2C_MESSAGE_NOT_FOUND, rule="REV-4")
        if msg.revoked:
            raise IMError(Code.C2C_MESSAGE_ALREADY_REVOKED, rule="REV-4")
        parties = [app.accounts[u] for u in (msg.sender, msg.to) if u in app.accounts]
        events = self.store.apply_revoke(app, msg, parties, None)
        return Outcome({"message": msg.view(msg.sender)}, events)
