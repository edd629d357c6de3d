"""Per-rule evidence: how many checks each rule rests on, how many failed, and why some were not run.

Every comparison the checker makes (a reply, a pushed event, a delivery, a model pin) is one
*check* of the rule it names.  Evidence that could not be gathered is recorded with its reason:
*skipped* (the target lacks a capability, or it needs more real time than allowed) or
*unsupported* (the target has no counterpart for the TIM concept, as its driver says).  A rule's
outcome follows from the counts, and zero checks is never ``passed``.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from simtim.conformance.check import Mismatch


class Outcome(StrEnum):
    PASSED = "passed"
    FAILED = "failed"
    SKIPPED = "skipped"
    UNSUPPORTED = "unsupported by target"
    DIVERGENCE = "expected divergence"


@dataclass
class RuleEvidence:
    rule: str
    checks: int = 0
    failed: int = 0
    mismatches: list[Mismatch] = field(default_factory=list)
    skipped: Counter[str] = field(default_factory=Counter)  # reason -> steps not run
    unsupported: Counter[str] = field(default_factory=Counter)  # reason -> operations not supported
    scenarios: set[str] = field(default_factory=set)

    def merge(self, other: RuleEvidence) -> None:
        self.checks += other.checks
        self.failed += other.failed
        self.mismatches += other.mismatches
        self.skipped.update(other.skipped)
        self.unsupported.update(other.unsupported)
        self.scenarios |= other.scenarios

    def to_json(self) -> dict[str, Any]:
        return {
            "rule": self.rule,
            "checks": self.checks,
            "failed": self.failed,
            "skipped": dict(self.skipped),
            "unsupported": dict(self.unsupported),
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> RuleEvidence:
        return cls(
            str(data["rule"]),
            int(data.get("checks", 0)),
            int(data.get("failed", 0)),
            skipped=Counter({str(k): int(v) for k, v in (data.get("skipped") or {}).items()}),
            unsupported=Counter({str(k): int(v) for k, v in (data.get("unsupported") or {}).items()}),
        )


@dataclass(frozen=True)
class Verdict:
    rule: str
    outcome: Outcome
    checks: int
    failed: int
    reason: str

    @property
    def text(self) -> str:
        if self.outcome is Outcome.PASSED:
            return f"passed ({self.checks} check{'s' if self.checks != 1 else ''}{self._note()})"
        if self.outcome is Outcome.FAILED:
            return f"failed ({self.failed} of {self.checks}{self._note()})"
        return f"{self.outcome.value} ({self.reason})"

    def _note(self) -> str:
        return f"; {self.reason}" if self.reason else ""


class Ledger:
    """Evidence per rule, gathered by cells and runs; merged across scenarios and workers."""

    def __init__(self, keep_mismatches: bool = True) -> None:
        self.rules: dict[str, RuleEvidence] = {}
        self.keep_mismatches = keep_mismatches  # a load run keeps counts only (rows go to a CSV)

    def _of(self, rule: str) -> RuleEvidence:
        evidence = self.rules.get(rule)
        if evidence is None:
            evidence = self.rules[rule] = RuleEvidence(rule)
        return evidence

    def check(self, rule: str, mismatches: Iterable[Mismatch] = (), scenario: str = "") -> bool:
        """One comparison of ``rule``; failed when it produced mismatches. True when it passed."""
        evidence = self._of(rule)
        found = list(mismatches)
        evidence.checks += 1
        if found:
            evidence.failed += 1
            if self.keep_mismatches:
                evidence.mismatches += found
        if scenario:
            evidence.scenarios.add(scenario)
        return not found

    def skip(self, rule: str, reason: str, scenario: str = "", count: int = 1) -> None:
        evidence = self._of(rule)
        evidence.skipped[reason] += count
        if scenario:
            evidence.scenarios.add(scenario)

    def unsupported(self, rule: str, reason: str, scenario: str = "", count: int = 1) -> None:
        evidence = self._of(rule)
        evidence.unsupported[reason] += count
        if scenario:
            evidence.scenarios.add(scenario)

    def mention(self, rule: str, scenario: str = "") -> None:
        """The rule was in play (so a rule with no evidence at all still shows why)."""
        evidence = self._of(rule)
        if scenario:
            evidence.scenarios.add(scenario)

    def take(self) -> Ledger:
        """Move everything gathered so far into a new ledger and start again, in place: the cells
        holding this ledger keep recording into it (swapping the object would lose their checks)."""
        taken = Ledger(self.keep_mismatches)
        taken.rules, self.rules = self.rules, {}
        return taken

    def merge(self, other: Ledger) -> None:
        for rule, evidence in other.rules.items():
            self._of(rule).merge(evidence)

    def mismatches(self) -> list[Mismatch]:
        return [m for evidence in self.rules.values() for m in evidence.mismatches]

    def to_json(self) -> list[dict[str, Any]]:
        return [evidence.to_json() for evidence in self.rules.values()]

    @classmethod
    def from_json(cls, rows: Iterable[Mapping[str, Any]]) -> Ledger:
        ledger = cls()
        for row in rows:
            ledger._of(str(row["rule"])).merge(RuleEvidence.from_json(row))
        return ledger

    def verdict(self, rule: str, divergence: str | None = None) -> Verdict:
        """The rule's one outcome. ``divergence`` is the reason of a listed known divergence."""
        evidence = self.rules.get(rule) or RuleEvidence(rule)
        checks, failed = evidence.checks, evidence.failed
        note = _skip_note(evidence)
        if divergence is not None:
            if failed:
                return Verdict(rule, Outcome.DIVERGENCE, checks, failed, divergence)
            if checks:  # strict: a listed divergence that now passes fails the run
                reason = f"listed as a known divergence ({divergence}) but all {checks} checks passed"
                return Verdict(rule, Outcome.FAILED, checks, 0, reason)
        if failed:
            return Verdict(rule, Outcome.FAILED, checks, failed, note)
        if checks:
            return Verdict(rule, Outcome.PASSED, checks, 0, note)
        if evidence.unsupported:
            return Verdict(rule, Outcome.UNSUPPORTED, 0, 0, _reasons(evidence.unsupported))
        if evidence.skipped:
            return Verdict(rule, Outcome.SKIPPED, 0, 0, _reasons(evidence.skipped))
        if divergence is not None:
            return Verdict(rule, Outcome.DIVERGENCE, 0, 0, divergence)
        return Verdict(rule, Outcome.SKIPPED, 0, 0, "not exercised")


def _reasons(counter: Counter[str]) -> str:
    return "; ".join(reason for reason, _ in counter.most_common())


def _skip_note(evidence: RuleEvidence) -> str:
    parts = []
    if evidence.skipped:
        parts.append(f"{sum(evidence.skipped.values())} skipped: {_reasons(evidence.skipped)}")
    if evidence.unsupported:
        parts.append(f"{sum(evidence.unsupported.values())} unsupported: {_reasons(evidence.unsupported)}")
    return "; ".join(parts)
