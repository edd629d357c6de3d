"""One outcome per rule from the evidence, and the files: matrix text, JUnit XML, CSV, HTML, compat.

Known divergences are data (rule + reason, optionally a scenario): their failures are reported
as ``expected divergence`` and do not fail the run, and one that starts passing does (strict),
so a fixed endpoint cannot hide behind a stale exception list.
"""

from __future__ import annotations

import csv
import html
import json
import xml.etree.ElementTree as ET
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from simtim.conformance.evidence import Ledger, Outcome, Verdict
from simtim.rules import RULE_IDS, RULES, area


@dataclass
class Divergence:
    reason: str
    rule: str = ""
    scenario: str = ""


def load_divergences(path: Path) -> list[Divergence]:
    raw = yaml.safe_load(path.read_text(encoding="utf-8")) or []
    if isinstance(raw, dict):  # a per-target expectation file: {target: ..., divergences: [...]}
        if "divergences" not in raw:
            raise ValueError(f"{path}: a list of {{rule, reason}} entries, or a mapping with divergences:")
        raw = raw.get("divergences") or []
    if not isinstance(raw, list):
        raise ValueError(f"{path}: a list of {{rule, reason}} entries is expected")
    out = []
    for index, entry in enumerate(raw):
        if not isinstance(entry, dict) or not entry.get("rule") or not entry.get("reason"):
            raise ValueError(f"{path}: entry {index + 1} needs a rule and a reason")
        if entry["rule"] not in RULES:
            raise ValueError(f"{path}: entry {index + 1} names an unknown rule {entry['rule']!r}")
        out.append(Divergence(str(entry["reason"]), str(entry["rule"]), str(entry.get("scenario", ""))))
    return out


@dataclass
class ConformReport:
    ledger: Ledger
    divergences: list[Divergence] = field(default_factory=list)
    target: str = ""
    header: list[str] = field(default_factory=list)  # capability and app lines, printed and in files
    rules: Sequence[str] = RULE_IDS

    def divergence_for(self, rule: str) -> Divergence | None:
        return next((d for d in self.divergences if d.rule == rule), None)

    def verdicts(self) -> dict[str, Verdict]:
        out = {}
        for rule in self.rules:
            known = self.divergence_for(rule)
            out[rule] = self.ledger.verdict(rule, known.reason if known else None)
        return out

    def failing_rules(self) -> list[str]:
        return [rule for rule, v in self.verdicts().items() if v.outcome is Outcome.FAILED]

    def totals(self) -> dict[Outcome, int]:
        counts: dict[Outcome, int] = dict.fromkeys(Outcome, 0)
        for verdict in self.verdicts().values():
            counts[verdict.outcome] += 1
        return counts

    def summary_line(self) -> str:
        t = self.totals()
        return (
            f"total: {t[Outcome.PASSED]} passed, {t[Outcome.FAILED]} failed, {t[Outcome.SKIPPED]} skipped, "
            f"{t[Outcome.UNSUPPORTED]} unsupported, {t[Outcome.DIVERGENCE]} expected divergences "
            f"of {len(self.rules)} rules"
        )

    def matrix(self) -> str:
        verdicts = self.verdicts()
        by_area: dict[str, list[str]] = defaultdict(list)
        for rule in self.rules:
            by_area[area(rule)].append(rule)
        lines = [f"conformance of {self.target}" if self.target else "conformance"]
        for name, rules in by_area.items():
            passed = sum(verdicts[r].outcome is Outcome.PASSED for r in rules)
            lines.append(f"  {name + ':':<8} {passed}/{len(rules)} passed")
            for rule in rules:
                lines.append(f"    {rule:<9} {verdicts[rule].text}")
        lines.append("  " + self.summary_line())
        return "\n".join(lines)

    def mismatch_lines(self, limit: int = 50) -> list[str]:
        lines = []
        for rule, verdict in self.verdicts().items():
            if verdict.outcome not in (Outcome.FAILED, Outcome.DIVERGENCE):
                continue
            tag = " (expected divergence)" if verdict.outcome is Outcome.DIVERGENCE else ""
            for mismatch in self.ledger.rules[rule].mismatches[:5] if rule in self.ledger.rules else []:
                lines.append(f"{tag.strip() + ': ' if tag else ''}{mismatch.describe()}")
        return lines[:limit]

    # --- files ------------------------------------------------------------------------------------
    def write_junit(self, path: Path) -> None:
        verdicts = self.verdicts()
        suite = ET.Element("testsuite", name="simtim conform", tests=str(len(verdicts)))
        failures = skipped = 0
        for rule, verdict in verdicts.items():
            case = ET.SubElement(
                suite,
                "testcase",
                classname=f"simtim.conform.{area(rule)}",
                name=f"{rule}: {RULES[rule].summary if rule in RULES else rule}",
            )
            case.set("checks", str(verdict.checks))
            if verdict.outcome is Outcome.FAILED:
                failures += 1
                failure = ET.SubElement(case, "failure", message=verdict.text)
                found = self.ledger.rules[rule].mismatches if rule in self.ledger.rules else []
                failure.text = "\n".join(m.describe() for m in found[:200]) or verdict.reason
            elif verdict.outcome is not Outcome.PASSED:
                skipped += 1
                ET.SubElement(case, "skipped", message=verdict.text)
        suite.set("failures", str(failures))
        suite.set("skipped", str(skipped))
        ET.ElementTree(suite).write(path, encoding="utf-8", xml_declaration=True)

    def write_csv(self, path: Path) -> None:
        """One row per mismatch (rule, step, path, expected, actual, kind, known divergence)."""
        with path.open("w", newline="", encoding="utf-8") as handle:
            writer = csv.writer(handle)
            writer.writerow(
                ["rule", "scenario", "step", "method", "path", "expected", "actual", "kind", "known"]
            )
            for rule, evidence in self.ledger.rules.items():
                known = "yes" if self.divergence_for(rule) else ""
                scenario = ",".join(sorted(evidence.scenarios))
                for m in evidence.mismatches:
                    writer.writerow(
                        [
                            m.rule,
                            scenario,
                            m.step,
                            m.method,
                            m.path,
                            _cell(m.expected),
                            _cell(m.actual),
                            m.kind,
                            known,
                        ]
                    )

    def write_html(self, path: Path) -> None:
        colour = {
            Outcome.PASSED: "#2e7d32",
            Outcome.FAILED: "#c62828",
            Outcome.SKIPPED: "#757575",
            Outcome.UNSUPPORTED: "#6a1b9a",
            Outcome.DIVERGENCE: "#ef6c00",
        }
        rows = "".join(
            f"<tr><td>{rule}</td><td style='color:{colour[v.outcome]}'>{html.escape(v.outcome.value)}</td>"
            f"<td>{v.checks}</td><td>{v.failed}</td><td>{html.escape(v.text)}</td></tr>"
            for rule, v in self.verdicts().items()
        )
        mism = "".join(f"<tr><td>{html.escape(line)}</td></tr>" for line in self.mismatch_lines(500))
        head = "".join(f"<p>{html.escape(line)}</p>" for line in self.header)
        path.write_text(
            "<!doctype html><meta charset='utf-8'><title>simtim conform</title>"
            "<style>body{font-family:sans-serif}td,th{padding:2px 8px;border-bottom:1px solid #ddd;"
            "text-align:left}</style>"
            f"<h1>simtim conform</h1><p>{html.escape(self.target)}</p>{head}"
            f"<p>{html.escape(self.summary_line())}</p>"
            "<h2>Rules</h2><table><tr><th>rule</th><th>outcome</th><th>checks</th><th>failed</th><th>detail</th></tr>"
            f"{rows}</table><h2>Mismatches</h2><table>{mism or '<tr><td>none</td></tr>'}</table>",
            encoding="utf-8",
        )

    def compat_markdown(self, title: str, notes: Sequence[str] = ()) -> str:
        """A compatibility matrix (rule, outcome, checks, reason) for docs/compat/."""
        lines = [f"# {title}", "", *notes, "", f"{self.summary_line()}.", ""]
        lines += ["| rule | outcome | checks | failed | reason / detail |", "|---|---|---|---|---|"]
        for rule, v in self.verdicts().items():
            reason = v.reason.replace("|", "\\|")
            lines.append(
                f"| [{rule}](../spec.md#{rule.lower()}) | {v.outcome.value} | {v.checks} | {v.failed} | {reason} |"
            )
        return "\n".join(lines) + "\n"

    def to_json(self) -> dict[str, Any]:
        return {
            "target": self.target,
            "header": self.header,
            "rules": {
                rule: {"outcome": v.outcome.value, "checks": v.checks, "failed": v.failed, "text": v.text}
                for rule, v in self.verdicts().items()
            },
        }


def _cell(value: Any) -> str:
    return value if isinstance(value, str) else json.dumps(value, ensure_ascii=False, default=str)
