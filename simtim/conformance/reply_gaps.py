"""What a target's replies cannot carry, taken out of the model's side before the two are compared.

A driver declares each gap once, with its reason (DESIGN rule 6: report it, never make it up):

- a reply field of one method, as a ``field_gaps`` key ``"<method>.<field>"`` (a bare key, such as
  Matrix's ``sequence``, is left out of every comparison instead; ``check.compare``'s ``ignored``).
  The official Web SDK resolves ``deleteGroupMember`` with the IDs it asked to remove: its wire
  reply names none, so ``deleteGroupMember.userIDList`` is such a gap for ``timweb+ws://``.
- a conversation the target never lists, as ``conversation_gaps`` (conversation ID -> reason): the
  Web SDK accepts only C2C and group entries from ``recentcontact.page_get`` and builds
  ``@TIM#SYSTEM`` on the client from the notices it saw, so the server cannot list it.

Each removal is one ``unsupported`` note of the rule, never a passed check; the rest of the reply
is compared as usual (the order and contents of the other conversations, every other field).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

#: the reply key that holds the conversations of each listing method
CONVERSATION_LISTS = {"getConversationList": "conversationList"}


@dataclass(frozen=True)
class ReplyGaps:
    #: method -> reply field -> reason
    fields: Mapping[str, Mapping[str, str]] = field(default_factory=dict)
    #: conversation ID -> reason
    conversations: Mapping[str, str] = field(default_factory=dict)

    @classmethod
    def of(cls, field_gaps: Mapping[str, str], conversation_gaps: Mapping[str, str]) -> ReplyGaps:
        """From a driver's ``field_gaps`` (only the ``method.field`` keys) and ``conversation_gaps``."""
        fields: dict[str, dict[str, str]] = {}
        for key, reason in field_gaps.items():
            method, dot, name = key.partition(".")
            if dot and method and name:
                fields.setdefault(method, {})[name] = reason
        return cls(fields, dict(conversation_gaps))

    def strip(
        self, method: str, expected: Mapping[str, Any], actual: Mapping[str, Any]
    ) -> tuple[dict[str, Any], dict[str, Any], list[str]]:
        """Both replies' data without what the target cannot carry (a gap field goes from both
        sides: what the target put there is not the model's value), and one reason per removal."""
        data, got = dict(expected), dict(actual)
        reasons: list[str] = []
        for name, reason in self.fields.get(method, {}).items():
            if name in data:
                del data[name]
                reasons.append(f"{method} {name}: {reason}")
            got.pop(name, None)
        listed = CONVERSATION_LISTS.get(method)
        conversations = data.get(listed) if listed else None
        if listed and isinstance(conversations, list) and self.conversations:
            kept: list[Any] = []
            for conversation in conversations:
                conversation_id = (
                    conversation.get("conversationID") if isinstance(conversation, dict) else None
                )
                gap = self.conversations.get(conversation_id) if isinstance(conversation_id, str) else None
                if gap is None:
                    kept.append(conversation)
                else:
                    reasons.append(f"{conversation_id}: {gap}")
            data[listed] = kept
        return data, got, reasons

    def __bool__(self) -> bool:
        return bool(self.fields or self.conversations)
