"""What C2C and group messages share: drawing a stored message, dedup, the callback verdict,
revoke bookkeeping and deletion (MSG-4, MSG-6, MSG-8, MSG-9, REV-2).
"""

from __future__ import annotations

from collections.abc import Mapping
from sys import intern
from typing import Any

import orjson

from simtim.errors import Code, IMError
from simtim.model.args import Options
from simtim.model.conversations import Conversations
from simtim.model.core import WorldState
from simtim.model.dedup import dedup_key
from simtim.model.drafts import Draft, apply_verdict, callback_body
from simtim.model.entities import C2C, GROUP, Account, App, Instance, Message, compact_payload
from simtim.model.events import CONVERSATION_LIST_UPDATED, MESSAGE_REVOKED, Event, Outcome
from simtim.model.fanout import emit_account
from simtim.model.group_view import GroupView
from simtim.model.retention import retained
from simtim.model.sessions import Sessions

#: "no verdict given": ask the app's configured callable, if any (MSG-8)
ASK_CALLBACK: Any = object()


def _detached(payload: Any) -> Any:
    """A deep copy of a JSON-like payload (orjson round trip: faster than copy.deepcopy)."""
    return orjson.loads(orjson.dumps(payload))


def _keep(payload: Any) -> Any:
    return payload


class MessageStore:
    """Every accepted message of an app, whichever conversation it belongs to."""

    def __init__(
        self, state: WorldState, sessions: Sessions, conversations: Conversations, groups: GroupView
    ) -> None:
        self.state = state
        self.ids = state.ids
        self.require_online = sessions.require_online
        self.conversations = conversations
        self.groups = groups

    def verdict_elements(
        self, app: App, draft: Draft, sender: str, verdict: Any, c2c: bool, group_type: str = ""
    ) -> list[tuple[Any, Any]]:
        if verdict is ASK_CALLBACK:
            callback = self.state.before_send.get(app.sdkappid)
            if callback is None:
                return draft.elements
            try:
                verdict = callback(callback_body(draft, sender, group_type))
            except Exception:  # a failing callback means proceed (MSG-8)
                verdict = None
        return apply_verdict(verdict, draft, c2c)

    def dedup_hit(self, app: App, account: Account, draft: Draft, window: int) -> Message | None:
        """MSG-6: same (sender, conversation, random, clientTime) within the window."""
        if draft.random is None:
            return None
        now = app.clock.now()
        client_time = draft.client_time if draft.client_time is not None else now
        key = dedup_key(account.user_id, draft.to, draft.conversation_type, draft.random, client_time)
        prior = app.dedup.get(key)
        if prior is not None and now - prior.time <= window:
            return prior
        return None

    def new_message(
        self,
        app: App,
        account: Account,
        draft: Draft,
        elements: list[tuple[Any, Any]],
        now: int,
        *,
        owned: bool = False,
    ) -> Message:
        """A message with server-chosen fields (MSG-4); drawn only once accepted. ``owned``: the
        elements were parsed for this message alone (a REST body), so they need no private copy."""
        detach = _keep if owned else _detached
        msg = Message()
        msg.key = self.ids.message_key()
        # One string object for every message naming the same peer, group, type or priority: a
        # server parses a new copy of each from every request, ~60 bytes a message kept for nothing.
        conversation_type, to, priority = draft.conversation_type, draft.to, draft.priority
        msg.conversation_type = (
            intern(conversation_type) if conversation_type.__class__ is str else conversation_type
        )
        msg.sender = account.user_id
        msg.to = intern(to) if to.__class__ is str else to
        elem_type, payload = elements[0]
        msg.type = elem_type = intern(elem_type) if elem_type.__class__ is str else elem_type
        body = compact_payload(elem_type, payload)  # a text's bytes need no copy: they are immutable
        msg.body = body if body.__class__ is bytes else detach(payload)
        # ^ stored history never shares objects with the caller (an in-process caller may mutate them)
        if len(elements) > 1:
            msg.elements = [{"type": t, "payload": detach(p)} for t, p in elements]
        msg.time = now
        random = draft.random
        msg.random = random if random is not None else self.ids.random32()
        client_time = draft.client_time
        # the same second as ``now`` (as a client's clock usually says) shares its int object
        msg.client_time = now if client_time is None or client_time == now else client_time
        msg.priority = intern(priority) if priority.__class__ is str else priority
        msg.card = account.card()  # PROF-1
        msg.cloud_custom_data = draft.cloud_custom_data
        msg.order = app.next_order()
        if random is not None:
            app.dedup.put(msg.dedup_key(), msg, now)
        app.messages.add(msg)
        return msg

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
            emit_account(events, account, MESSAGE_REVOKED, [view], exclude=acting)
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
            last = self.conversations.last_visible(app, account, conversation_id)
            if changed or last is msg:
                emit_account(
                    events,
                    account,
                    CONVERSATION_LIST_UPDATED,
                    [self.conversations.conversation_view(app, account, conversation_id, last)],
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
            msg = retained(app, app.messages.get(message_id)) if isinstance(message_id, str) else None
            if msg is None or not self.can_see(app, account, msg):  # PAGE-2: past retention is gone
                raise IMError(Code.INVALID_PARAMETERS, f"message {message_id!r} not found", rule="MSG-9")
            found.append(msg)
        conversation_id = found[0].conversation_id_for(me)
        if any(m.conversation_id_for(me) != conversation_id for m in found):
            raise IMError(Code.INVALID_PARAMETERS, "all messages must be in one conversation", rule="MSG-9")
        for msg in found:
            if msg.is_tip_or_notice:
                raise IMError(Code.MESSAGE_TYPE_NOT_DELETABLE, rule="MSG-9")
            if msg.conversation_type == GROUP:
                self.groups.check_deletable(app, msg)
        last_before = self.conversations.last_visible(app, account, conversation_id)
        account.deleted.update(m.key for m in found)
        events: list[Event] = []
        last_after = self.conversations.last_visible(app, account, conversation_id)
        if last_after is not last_before:
            emit_account(
                events,
                account,
                CONVERSATION_LIST_UPDATED,
                [self.conversations.conversation_view(app, account, conversation_id, last_after)],
            )
        return Outcome({"messageList": [m.view(me) for m in found]}, events)

    def can_see(self, app: App, account: Account, msg: Message) -> bool:
        """Whether the message belongs to one of the account's conversations."""
        if msg.conversation_type == C2C:
            return account.user_id in (msg.sender, msg.to)
        if msg.thread is not None and msg.thread is account.system_thread:
            return True
        return self.groups.can_see_message(app, account, msg)
