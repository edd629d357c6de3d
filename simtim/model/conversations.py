"""Conversations, history paging and unread counts (CONV-*, PAGE-*, UNREAD-1).

Groups appear here only through ``GroupView`` (is GROUP<id> valid for this
account, where its visible history starts, what unread it shows, its profile).
"""

from __future__ import annotations

from typing import Any

from simtim.errors import Code, IMError
from simtim.limits import MESSAGE_PAGE_DEFAULT, MESSAGE_PAGE_MAX
from simtim.model.args import Options, is_int, opt_str, req_str
from simtim.model.entities import (
    C2C,
    GROUP,
    SYSTEM,
    SYSTEM_CONVERSATION_ID,
    Account,
    App,
    Instance,
    Message,
    Thread,
)
from simtim.model.events import CONVERSATION_LIST_UPDATED, Event, Outcome
from simtim.model.fanout import emit_account
from simtim.model.group_view import GroupView
from simtim.model.sessions import Sessions
from simtim.model.view_cache import RECENT_VIEWS

UNSET: Any = object()


def _pair(a: str, b: str) -> tuple[str, str]:
    return (a, b) if a <= b else (b, a)


class Conversations:
    """Each account's view of its conversations: validity, history, last message, unread."""

    def __init__(self, sessions: Sessions, groups: GroupView) -> None:
        self.require_online = sessions.require_online
        self.groups = groups

    # --- resolving a conversation ---------------------------------------------------
    def thread_of(self, app: App, account: Account, conversation_id: object) -> Thread | None:
        """CONV-1: the conversation's thread (None while empty), or 6004 if invalid."""
        if not isinstance(conversation_id, str):
            raise IMError(Code.INVALID_PARAMETERS, "conversationID must be a string", rule="CONV-1")
        if conversation_id == SYSTEM_CONVERSATION_ID:
            return account.system_thread
        if conversation_id.startswith(C2C):
            peer = conversation_id[len(C2C) :]
            if peer not in app.accounts:
                raise IMError(Code.CONVERSATION_INVALID, rule="CONV-1")
            return app.threads.get(_pair(account.user_id, peer))
        if conversation_id.startswith(GROUP):
            return self.groups.group_thread(app, account, conversation_id[len(GROUP) :])
        raise IMError(Code.CONVERSATION_INVALID, rule="CONV-1")

    def _visible(self, app: App, account: Account, msg: Message, floor: int, now: int) -> bool:
        return (
            msg.key not in account.deleted
            and msg.order > floor
            and now - msg.time <= app.config.retention_seconds
        )  # PAGE-2, PAGE-3

    def last_visible(self, app: App, account: Account, conversation_id: str) -> Message | None:
        try:
            thread = self.thread_of(app, account, conversation_id)
        except IMError:
            return None
        if thread is None:
            return None
        floor = self.groups.visible_from(app, account, conversation_id)
        now = app.clock.now()
        retention = app.config.retention_seconds
        deleted = account.deleted
        for msg in reversed(thread.messages):
            if now - msg.time > retention or msg.order <= floor:
                return None
            if msg.key not in deleted:
                return msg
        return None

    def conversation_view(
        self, app: App, account: Account, conversation_id: str, last: Message | None = UNSET
    ) -> dict[str, Any]:
        """CONV-2: one conversation as TIM shows it to this account."""
        if last is UNSET:
            last = self.last_visible(app, account, conversation_id)
        state = account.convs.get(conversation_id)
        data: dict[str, Any] = {
            "conversationID": conversation_id,
            "type": SYSTEM
            if conversation_id == SYSTEM_CONVERSATION_ID
            else (C2C if conversation_id.startswith(C2C) else GROUP),
            "unreadCount": self.groups.unread_of(app, conversation_id, state.unread if state else 0),
            "lastMessage": last.view(account.user_id) if last is not None else None,
            "messageRemindType": state.remind_type if state else "AcceptAndNotify",
        }
        if data["type"] == C2C:
            peer = app.accounts.get(conversation_id[len(C2C) :])
            data["userProfile"] = (
                peer.profile() if peer else {"userID": conversation_id[len(C2C) :], "nick": "", "avatar": ""}
            )
        elif data["type"] == GROUP:
            data["groupProfile"] = self.groups.profile_for_conversation(app, conversation_id[len(GROUP) :])
        return data

    def listed_conversations(self, app: App, account: Account) -> list[dict[str, Any]]:
        """CONV-2: newest first, capped, only those with a visible last message."""
        rows: list[tuple[int, int, str, Message]] = []
        for conversation_id, state in account.convs.items():
            last = self.last_visible(app, account, conversation_id)
            if last is not None and last.order > state.hidden_mark:  # CONV-3
                rows.append((last.time, last.order, conversation_id, last))
        rows.sort(key=lambda row: (row[0], row[1]), reverse=True)
        return [
            self.conversation_view(app, account, cid, last)
            for _, _, cid, last in rows[: app.config.conversation_list_max]
        ]

    # --- TIM methods -------------------------------------------------------------------
    def get_conversation_list(self, inst: Instance, opts: Options) -> Outcome:
        app, account = self.require_online(inst, conversation_api=True)
        return Outcome({"conversationList": self.listed_conversations(app, account)}, [])

    def get_conversation_profile(self, inst: Instance, opts: Options) -> Outcome:
        app, account = self.require_online(inst, conversation_api=True)
        conversation_id = req_str(opts, "conversationID", rule="CONV-1")
        self.thread_of(app, account, conversation_id)
        return Outcome({"conversation": self.conversation_view(app, account, conversation_id)}, [])

    def delete_conversation(self, inst: Instance, opts: Options) -> Outcome:
        """CONV-3: hide and zero unread; history stays; the next message brings it back."""
        app, account = self.require_online(inst, conversation_api=True)
        conversation_id = req_str(opts, "conversationID", rule="CONV-3")
        self.thread_of(app, account, conversation_id)
        state = account.conv(conversation_id)
        last = self.last_visible(app, account, conversation_id)
        was_listed = last is not None and last.order > state.hidden_mark  # CONV-4: no change, no event
        state.unread = 0
        state.read_mark = state.hidden_mark = app.order
        events: list[Event] = []
        # A changed-list cannot express a removal, so a deletion sends the full list, as TIM does.
        if was_listed:
            emit_account(events, account, CONVERSATION_LIST_UPDATED, self.listed_conversations(app, account))
        return Outcome({"conversationID": conversation_id}, events)

    def set_message_read(self, inst: Instance, opts: Options) -> Outcome:
        """UNREAD-1: zero the account's count everywhere; nothing reaches the peer."""
        app, account = self.require_online(inst, conversation_api=True)
        conversation_id = req_str(opts, "conversationID", rule="UNREAD-1")
        self.thread_of(app, account, conversation_id)
        state = account.conv(conversation_id)
        had_unread = state.unread > 0
        state.unread = 0
        state.read_mark = app.order
        events: list[Event] = []
        if had_unread:
            emit_account(
                events,
                account,
                CONVERSATION_LIST_UPDATED,
                [self.conversation_view(app, account, conversation_id)],
            )  # CONV-4
        return Outcome({}, events)

    def get_message_list(self, inst: Instance, opts: Options) -> Outcome:
        """PAGE-1: newest ``count`` (<= 15) visible messages older than the cursor, ascending."""
        app, account = self.require_online(inst, conversation_api=True)
        conversation_id = req_str(opts, "conversationID", rule="PAGE-1")
        count = opts.get("count", MESSAGE_PAGE_DEFAULT)
        if count is None:
            count = MESSAGE_PAGE_DEFAULT
        if not is_int(count) or count <= 0:
            raise IMError(Code.INVALID_PARAMETERS, "count must be a positive integer", rule="PAGE-1")
        count = min(count, MESSAGE_PAGE_MAX)
        cursor = opt_str(opts, "nextReqMessageID", rule="PAGE-1")
        thread = self.thread_of(app, account, conversation_id)
        messages = thread.messages if thread is not None else []
        start = len(messages)
        if cursor:
            at = app.messages.get(cursor)
            position = thread.index_of(at) if thread is not None and at is not None else None
            if position is None:
                raise IMError(
                    Code.INVALID_PARAMETERS, "nextReqMessageID is not in this conversation", rule="PAGE-1"
                )
            start = position
        floor = self.groups.visible_from(app, account, conversation_id)
        now = app.clock.now()
        retention = app.config.retention_seconds
        deleted = account.deleted
        # PAGE-1: a thread is in (time, sequence) order, so when nothing can hide a message (no
        # join floor, no deletions) and the oldest candidate is still retained, every candidate is
        # visible: the page is a slice. One message more than the page says whether history remains.
        lowest = start - count - 1 if start > count else 0
        if not floor and not deleted and start and now - messages[lowest].time <= retention:
            page = messages[lowest + 1 if start > count else 0 : start]
            return self.page_outcome(page, account.user_id, conversation_id, completed=start <= count)
        page = []
        completed = True
        index = start - 1
        while index >= 0:
            msg = messages[index]
            index -= 1
            if now - msg.time > retention or msg.order <= floor:
                break  # PAGE-2: everything older is gone or before the join
            if msg.key in deleted:
                continue  # PAGE-3
            if len(page) == count:
                completed = False
                break
            page.append(msg)
        page.reverse()
        return self.page_outcome(page, account.user_id, conversation_id, completed=completed)

    @staticmethod
    def page_outcome(page: list[Message], viewer: str, conversation_id: str, *, completed: bool) -> Outcome:
        """PAGE-1's reply: the page oldest first and the cursor to the next older page."""
        view = RECENT_VIEWS.view
        return Outcome(
            {
                "messageList": [view(m, viewer, conversation_id) for m in page],
                "nextReqMessageID": "" if completed or not page else page[0].id,
                "isCompleted": completed,
            },
            [],
        )
