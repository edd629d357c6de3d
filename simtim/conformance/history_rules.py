"""Which rule a history read of the random phase is evidence for.

A ``getMessageList`` is PAGE-1's (paging: count, order, ``nextReqMessageID``, ``isCompleted``) until
the conversation holds something another rule governs: a revoked message is REV-2's clause ("history
keeps it with ``isRevoked: true``"), and a message whose sender has changed their profile since
sending it is PROF-1's ("nick/avatar appear on messages sent afterwards", so earlier ones keep the
earlier profile).  A page there checks that rule's clause as much as paging, and a difference in it
(Synapse: a redaction erases the content; messages show the current nick) is that rule's.

The choice is made from what the random phase itself did (a revoke or a rename the model accepted)
before the page is read, never from the target's answer, so no outcome picks the rule it counts for.
"""

from __future__ import annotations

from typing import Any

PAGING_RULE = "PAGE-1"
REVOKE_RULE = "REV-2"  # REV-2: history keeps a revoked message with isRevoked
PROFILE_RULE = "PROF-1"  # PROF-1: a message shows its sender's profile at send time

#: a conversation as both sides see it: the pair of a C2C, or the group's ID
ConversationKey = frozenset[str] | str


def conversation_key(actor: str, conversation_type: str, to: str) -> ConversationKey:
    """``to`` is the peer (C2C) or the group ID (GROUP), as in a message or a conversation ID."""
    return frozenset((actor, to)) if conversation_type == "C2C" else to


def key_of_conversation(viewer: str, conversation_id: str) -> ConversationKey:
    """A conversation ID as ``viewer`` names it (``C2C<peer>``, ``GROUP<groupID>``)."""
    if conversation_id.startswith("C2C"):
        return conversation_key(viewer, "C2C", conversation_id[len("C2C") :])
    return conversation_key(viewer, "GROUP", conversation_id.removeprefix("GROUP"))


class HistoryRules:
    """What the random phase did to each conversation so far, as the rule its history reads check."""

    def __init__(self) -> None:
        self._senders: dict[ConversationKey, set[str]] = {}
        self._revoked: set[ConversationKey] = set()
        self._renamed: set[ConversationKey] = set()

    def sent(self, actor: str, message: dict[str, Any]) -> None:
        key = conversation_key(actor, str(message.get("conversationType")), str(message.get("to")))
        self._senders.setdefault(key, set()).add(actor)

    def revoked(self, actor: str, message: dict[str, Any]) -> None:
        self._revoked.add(
            conversation_key(actor, str(message.get("conversationType")), str(message.get("to")))
        )

    def renamed(self, actor: str) -> None:
        """``actor`` changed their profile: every conversation they have sent to now holds messages
        with the earlier one."""
        self._renamed.update(key for key, senders in self._senders.items() if actor in senders)

    def rule_of_read(self, key: ConversationKey) -> str:
        if key in self._revoked:
            return REVOKE_RULE
        if key in self._renamed:
            return PROFILE_RULE
        return PAGING_RULE
