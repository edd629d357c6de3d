"""What an app's backend does with one-to-one messages through the server API (REST-4, REST-5):
send as an account or as the App admin, batch send, import history, read history both ways, recall
without a window, mark read, count unread.

Delivery, unread and conversation updates are the C2C component's own (``C2CMessaging.deliver``),
so an SDK user cannot tell a backend's message from a peer's (REST-9).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any

from simtim.errors import Code, IMError
from simtim.limits import REST_C2C_DEDUP_SECONDS
from simtim.model.admin_accounts import AccountAdmin
from simtim.model.core import WorldState
from simtim.model.drafts import Draft
from simtim.model.elements import content_key
from simtim.model.entities import C2C, Account, App, Message, Thread
from simtim.model.events import CONVERSATION_LIST_UPDATED, Event, Outcome
from simtim.model.fanout import emit_account
from simtim.model.message_store import MessageStore
from simtim.model.messaging import C2CMessaging, pair_key

Elements = list[tuple[Any, Any]]
_MSG_KEY = re.compile(r"^(\d+)_(\d+)_(\d+)$")


class C2CAdmin:
    def __init__(
        self, state: WorldState, accounts: AccountAdmin, store: MessageStore, c2c: C2CMessaging
    ) -> None:
        self.state = state
        self.accounts = accounts
        self.store = store
        self.c2c = c2c

    def _peer(self, app: App, user_id: str) -> Account:
        target = app.accounts.get(user_id)
        if target is None:
            raise IMError(Code.REST_TO_ACCOUNT_NOT_FOUND, rule="REST-4")
        return target

    def _sender(self, app: App, sender_id: str, is_admin: bool) -> Account:
        """The App admin exists by being the admin; anyone else must exist (90008)."""
        if is_admin:
            return self.accounts.ensure(app, sender_id)
        account = app.accounts.get(sender_id)
        if account is None:
            raise IMError(Code.REST_FROM_ACCOUNT_INVALID, rule="REST-4")
        return account

    def _draw(
        self,
        app: App,
        sender: Account,
        to: str,
        elements: Elements,
        random: int,
        cloud: str,
        now: int,
        owned: bool = False,
    ) -> Message:
        draft = Draft(C2C, to, "Normal", random, now, cloud, elements)
        return self.store.new_message(app, sender, draft, elements, now, owned=owned)

    # --- sendmsg / batchsendmsg -------------------------------------------------------------------
    def send(
        self,
        sdkappid: int,
        sender_id: str,
        to: str,
        elements: Elements,
        *,
        is_admin: bool,
        random: int,
        msg_seq: int | None = None,
        sync_sender: bool = True,
        cloud_custom_data: str = "",
    ) -> Outcome:
        """REST-4 sendmsg: no mute or callback checks; dedup 120 s on (sender, peer, MsgSeq,
        MsgRandom, content); delivered, stored and counted as MSG-5/UNREAD-1."""
        app = self.state.app_of(sdkappid)
        target = self._peer(app, to)
        sender = self._sender(app, sender_id, is_admin)
        now = app.clock.now()
        key = ("c2c", sender.user_id, target.user_id, msg_seq, random, content_key(elements))
        prior = app.rest_dedup.get(key)
        if prior is not None and now - prior.time <= REST_C2C_DEDUP_SECONDS:
            return Outcome({"message": prior, "duplicate": True}, [])
        msg = self._draw(app, sender, to, elements, random, cloud_custom_data, now, owned=True)
        msg.rest_seq = msg_seq or 0
        app.rest_dedup[key] = msg
        _, events = self.c2c.deliver(app, sender, target, msg, None, sync_sender=sync_sender)
        return Outcome({"message": msg, "duplicate": False}, events)

    def batch_send(
        self,
        sdkappid: int,
        sender_id: str,
        recipients: Iterable[str],
        elements: Elements,
        *,
        is_admin: bool,
        random: int,
        msg_seq: int | None = None,
        cloud_custom_data: str = "",
    ) -> Outcome:
        """REST-4 batchsendmsg: one message per recipient, unknown ones in the error list (70107);
        never synced to the sender's instances."""
        app = self.state.app_of(sdkappid)
        sender = self._sender(app, sender_id, is_admin)
        now = app.clock.now()
        sent: list[Message] = []
        unknown: list[str] = []
        events: list[Event] = []
        for to in dict.fromkeys(recipients):
            target = app.accounts.get(to)
            if target is None:
                unknown.append(to)
                continue
            msg = self._draw(app, sender, to, elements, random, cloud_custom_data, now)
            msg.rest_seq = msg_seq or 0
            events += self.c2c.deliver(app, sender, target, msg, None, sync_sender=False)[1]
            sent.append(msg)
        return Outcome({"messages": sent, "unknown": unknown}, events)

    def import_message(
        self,
        sdkappid: int,
        sender_id: str,
        to: str,
        elements: Elements,
        *,
        msg_seq: int,
        random: int,
        timestamp: int,
        realtime: bool,
        cloud_custom_data: str = "",
    ) -> Outcome:
        """REST-4 importmsg: a message from the past takes its place by time; SyncFromOldSystem 2
        (history) counts no unread and pushes nothing, 5 (realtime) does both. Duplicate iff the
        pair, MsgSeq, MsgRandom and MsgTimeStamp are equal (content irrelevant): the first wins."""
        app = self.state.app_of(sdkappid)
        sender = app.accounts.get(sender_id)
        if sender is None:
            raise IMError(Code.REST_FROM_ACCOUNT_INVALID, rule="REST-4")
        target = self._peer(app, to)
        key = ("import", pair_key(sender.user_id, target.user_id), msg_seq, random, timestamp)
        prior = app.rest_dedup.get(key)
        if prior is not None:
            return Outcome({"message": prior, "duplicate": True}, [])
        msg = self._draw(app, sender, to, elements, random, cloud_custom_data, timestamp)
        msg.rest_seq = msg_seq
        app.rest_dedup[key] = msg
        _, events = self.c2c.deliver(
            app, sender, target, msg, None, count_unread=realtime, push=realtime, imported=True
        )
        return Outcome({"message": msg, "duplicate": False}, events)

    # --- history, recall, read -----------------------------------------------------------------
    def _thread(self, app: App, a: str, b: str) -> Thread | None:
        return app.threads.get(pair_key(a, b))

    def roam(
        self,
        sdkappid: int,
        operator: str,
        peer: str,
        *,
        max_count: int,
        min_time: int,
        max_time: int,
        last_key: str = "",
    ) -> tuple[list[Message], bool]:
        """REST-5 admin_getroammsg: both directions from the operator's side, newest first, within
        [min_time, max_time] and retention, without what the operator deleted; continues strictly
        older than ``last_key``. Returns (page, complete)."""
        app = self.state.app_of(sdkappid)
        for user_id in (operator, peer):
            if user_id not in app.accounts:
                raise IMError(Code.REST_ACCOUNT_NOT_FOUND, f"unknown account {user_id!r}", rule="REST-5")
        account = app.accounts[operator]
        thread = self._thread(app, operator, peer)
        messages = thread.messages if thread is not None else []
        now = app.clock.now()
        retention = app.config.retention_seconds
        candidates = [
            m
            for m in reversed(messages)
            if min_time <= m.time <= max_time and now - m.time <= retention and m.key not in account.deleted
        ]
        if last_key:
            keys = [m.msg_key for m in candidates]
            if last_key not in keys:
                raise IMError(
                    Code.REST_MSG_KEY_INVALID, "LastMsgKey is not in this conversation", rule="REST-5"
                )
            candidates = candidates[keys.index(last_key) + 1 :]
        return candidates[:max_count], len(candidates) <= max_count

    def find_by_key(self, app: App, sender: str, to: str, msg_key: str) -> Message | None:
        if not _MSG_KEY.match(msg_key):
            raise IMError(Code.REST_MSG_KEY_INVALID, rule="REST-5")
        thread = self._thread(app, sender, to)
        for msg in reversed(thread.messages if thread is not None else []):
            if msg.sender == sender and msg.msg_key == msg_key:
                return msg
        return None

    def withdraw(self, sdkappid: int, sender: str, to: str, msg_key: str) -> Outcome:
        """REST-5 admin_msgwithdraw: by MsgKey, no time window; SDK users see REV-2's events
        (REV-4). Not found 20022, already revoked 20023, a malformed key 90054."""
        app = self.state.app_of(sdkappid)
        return self.c2c.admin_recall(app, self.find_by_key(app, sender, to, msg_key))

    def set_read(self, sdkappid: int, reader: str, peer: str, read_time: int | None) -> Outcome:
        """REST-5 admin_set_msg_read: the reader's unread toward the peer counts only messages
        after ``read_time`` (default now); the reader's instances see the change (CONV-4), the peer
        nothing (UNREAD-1)."""
        app = self.state.app_of(sdkappid)
        for user_id in (reader, peer):
            if user_id not in app.accounts:
                raise IMError(Code.REST_ACCOUNT_NOT_FOUND, f"unknown account {user_id!r}", rule="REST-5")
        account = app.accounts[reader]
        conversation_id = C2C + peer
        state = account.conv(conversation_id)
        thread = self._thread(app, reader, peer)
        until = app.clock.now() if read_time is None else read_time
        later = [
            m
            for m in (thread.messages if thread is not None else [])
            if m.sender == peer and m.time > until and not m.revoked and m.order > state.hidden_mark
        ]
        before = state.unread
        state.unread = len(later)
        state.read_mark = min((m.order for m in later), default=app.order + 1) - 1
        events: list[Event] = []
        if state.unread != before:
            view = self.c2c.store.conversations.conversation_view(app, account, conversation_id)
            emit_account(events, account, CONVERSATION_LIST_UPDATED, [view])
        return Outcome({}, events)

    def unread(
        self, sdkappid: int, user_id: str, peers: list[str] | None
    ) -> tuple[int, list[tuple[str, int | None]]]:
        """REST-5 get_c2c_unread_msg_num: the total over C2C conversations, and per asked peer
        (None for an unknown peer)."""
        app = self.state.app_of(sdkappid)
        account = app.accounts.get(user_id)
        if account is None:
            raise IMError(Code.REST_ACCOUNT_NOT_FOUND, rule="REST-5")
        total = sum(state.unread for cid, state in account.convs.items() if cid.startswith(C2C))
        per_peer: list[tuple[str, int | None]] = []
        for peer in peers or []:
            if peer not in app.accounts:
                per_peer.append((peer, None))
                continue
            state = account.convs.get(C2C + peer)
            per_peer.append((peer, state.unread if state is not None else 0))
        return total, per_peer
