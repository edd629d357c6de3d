"""Which rule a history read of the random phase counts for (simtim/conformance/history_rules.py)."""

from __future__ import annotations

from simtim.conformance.history_rules import HistoryRules, key_of_conversation


def message(to: str, kind: str = "C2C") -> dict[str, str]:
    return {"to": to, "conversationType": kind}


def test_a_plain_history_read_is_paging() -> None:
    rules = HistoryRules()
    rules.sent("a", message("b"))
    assert rules.rule_of_read(key_of_conversation("b", "C2Ca")) == "PAGE-1"


def test_a_conversation_with_a_revoked_message_is_rev2_on_both_sides() -> None:
    rules = HistoryRules()
    rules.sent("a", message("b"))
    rules.revoked("a", message("b"))
    assert rules.rule_of_read(key_of_conversation("a", "C2Cb")) == "REV-2"
    assert rules.rule_of_read(key_of_conversation("b", "C2Ca")) == "REV-2"
    assert rules.rule_of_read(key_of_conversation("a", "C2Cc")) == "PAGE-1"


def test_messages_sent_before_a_rename_are_prof1_and_only_where_the_renamed_sender_wrote() -> None:
    rules = HistoryRules()
    rules.sent("a", message("g1", "GROUP"))
    rules.sent("b", message("c"))
    rules.renamed("a")
    assert rules.rule_of_read(key_of_conversation("c", "GROUPg1")) == "PROF-1"
    assert rules.rule_of_read(key_of_conversation("b", "C2Cc")) == "PAGE-1"
    rules.sent("a", message("b"))  # sent after the rename: nothing earlier to show
    assert rules.rule_of_read(key_of_conversation("b", "C2Ca")) == "PAGE-1"


def test_a_revoke_outranks_a_rename() -> None:
    rules = HistoryRules()
    rules.sent("a", message("g1", "GROUP"))
    rules.renamed("a")
    rules.revoked("a", message("g1", "GROUP"))
    assert rules.rule_of_read(key_of_conversation("b", "GROUPg1")) == "REV-2"
