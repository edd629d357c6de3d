"""The six questions conversation and message-store code asks about groups, and nothing more.

C2C-side components (``Conversations``, ``MessageStore``) handle GROUP<id> conversations and
group messages too, but group rules are not theirs: they get this interface (the World passes
its ``GroupDirectory``, which implements it) instead of the group component, so a change to
group rules cannot reach them except through these signatures, and a C2C-only reading of the
model never has to open a group module.
"""

from __future__ import annotations

from typing import Any, Protocol

from simtim.model.entities import Account, App, Message, Thread


class GroupView(Protocol):
    def group_thread(self, app: App, account: Account, group_id: str) -> Thread | None:
        """CONV-1: the history of GROUP<id> for a member (None: no history), else 6004."""
        ...

    def visible_from(self, app: App, account: Account, conversation_id: str) -> int:
        """PAGE-2: the app order after which the account may see the conversation's messages."""
        ...

    def unread_of(self, app: App, conversation_id: str, counted: int) -> int:
        """UNREAD-1: the unread count shown, given the one counted."""
        ...

    def profile_for_conversation(self, app: App, group_id: str) -> dict[str, Any] | None:
        """CONV-2: the groupProfile of a group conversation (None once the group is gone)."""
        ...

    def can_see_message(self, app: App, account: Account, msg: Message) -> bool:
        """MSG-9: whether a group message is in one of the account's conversations."""
        ...

    def check_deletable(self, app: App, msg: Message) -> None:
        """MSG-9 (group side): raise the code the group's type answers to a deletion."""
        ...


__all__ = ["GroupView"]
