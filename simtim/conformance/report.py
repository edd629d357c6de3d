"""Verdicts per rule, the printed matrix, JUnit XML, CSV and a small self-contained HTML page.

Known divergences are data (rule or scenario + reason): they are run anyway,
their failures do not fail the run, and one that starts passing does (strict),
so a fixed endpoint cannot hide behind a stale exception list.
"""

from __future__ import annotations

import csv
import html
import json
import xml.etree.ElementTree as ET
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from simtim.conformance.runner import FAIL, PASS, SKIP, RuleCheck
from simtim.rules import RULE_IDS, area


@dataclass
class Divergence:
    reason: str
    rule: str = ""
    scenario: str = ""

    def covers(self, check: RuleCheck) -> bool:
        return (not self.rule or self.rule == check.rule) and (
            not self.scenario or self.scenario == check.scenario
        )


def load_divergences(path: Path) -> list[Divergence]:
    raw = yaml.safe_load(path.read_text(encoding="utf-8")) or []
    if not isinstance(raw, list):
        raise ValueError(f"{path}: a list of {{rule|scenario, reason}} entries is expected")
    out = []
    for index, entry in enumerate(raw):
        if (
            not isinstance(entry, dict)
            or not (entry.get("rule") or entry.get("scenario"))
            or not entry.get("reason")
        ):
            raise ValueError(f"{path}: entry {index + 1} needs rule or scenario, and a reason")
        out.append(
            Divergence(str(entry["reason"]), str(entry.get("rule", "")), str(entry.get("scenario", "")))
        )
    return out


@dataclass
class ConformReport:
    checks: list[RuleCheck]
    divergences: list[Divergence] = field(default_factory=list)
    target: str = ""

    def known(self, check: RuleCheck) -> Divergence | None:
        return next((d for d in self.divergences if d.covers(check)), None)

    def verdicts(self) -> dict[str, str]:
        """Per rule: fail if any unexplained failure, pass if checked and clean, else skip."""
        out: dict[str, str] = {}
        for rule in RULE_IDS:
            mine = [c for c in self.checks if c.rule == rule]
            if any(c.verdict == FAIL and not self.known(c) for c in mine):
                out[rule] = FAIL
            elif any(c.verdict == PASS and not self.known(c) for c in mine):
                out[rule] = PASS
            elif mine:
                out[rule] = SKIP
        return out

    def newly_passing(self) -> list[RuleCheck]:
        """Known divergences that now pass: strict mode fails the run on them."""
        return [c for c in self.checks if c.verdict == PASS and self.known(c) is not None]

    def failing_rules(self) -> list[str]:
        failing = {r for r, v in self.verdicts().items() if v == FAIL}
        failing |= {c.rule for c in self.newly_passing()}
        return [r for r in RULE_IDS if r in failing]

    def unchecked_rules(self) -> list[str]:
        return [r for r in RULE_IDS if r not in self.verdicts()]

    def matrix(self) -> str:
        verdicts = self.verdicts()
        by_area: dict[str, list[str]] = defaultdict(list)
        for rule in RULE_IDS:
            by_area[area(rule)].append(rule)
        lines = [f"conformance of {self.target}" if self.target else "conformance"]
        for name, rules in by_area.items():
            passed = sum(verdicts.get(r) == PASS for r in rules)
            failed = [r for r in rules if verdicts.get(r) == FAIL]
            skipped = [r for r in rules if verdicts.get(r) == SKIP]
            unchecked = [r for r in rules if r not in verdicts]
            extra = []
            if failed:
                extra.append("FAILED " + " ".join(failed))
            if skipped:
                extra.append("skipped " + " ".join(skipped))
            if unchecked:
                extra.append("unchecked " + " ".join(unchecked))
            lines.append(
                f"  {name + ':':<8} {passed}/{len(rules)} passed"
                + (f"  ({'; '.join(extra)})" if extra else "")
            )
        totals: dict[str, int] = defaultdict(int)
        for verdict in verdicts.values():
            totals[verdict] += 1
        lines.append(
            f"  total: {totals[PASS]} passed, {totals[FAIL]} failed, {totals[SKIP]} skipped, "
            f"{len(self.unchecked_rules())} unchecked of {len(RULE_IDS)} rules"
        )
        for check in self.newly_passing():
            lines.append(f"  STRICT: known divergence now passes: {check.rule} in {check.scenario}")
        return "\n".join(lines)

    def mismatch_lines(self, limit: int = 50) -> list[str]:
        lines = []
        for check in self.checks:
            if check.verdict == FAIL:
                tag = " (known divergence)" if self.known(check) else ""
                for mismatch in check.mismatches[:5]:
                    lines.append(f"{check.scenario}{tag}: {mismatch.describe()}")
        return lines[:limit]

    # --- files ------------------------------------------------------------------------------------
    def write_junit(self, path: Path) -> None:
        suite = ET.Element("testsuite", name="simtim conform", tests=str(len(self.checks)))
        failures = skipped = 0
        for check in sorted(self.checks, key=lambda c: (RULE_IDS.index(c.rule), c.scenario)):
            case = ET.SubElement(
                suite,
                "testcase",
                classname=f"simtim.conform.{area(check.rule)}",
                name=f"{check.rule}: {check.scenario}",
            )
            known = self.known(check)
            if check.verdict == FAIL and not known:
                failures += 1
                failure = ET.SubElement(case, "failure", message=f"{len(check.mismatches)} mismatch(es)")
                failure.text = "\n".join(m.describe() for m in check.mismatches)
            elif check.verdict == PASS and known:
                failures += 1
                ET.SubElement(case, "failure", message=f"known divergence now passes: {known.reason}")
            elif check.verdict == SKIP or known:
                skipped += 1
                ET.SubElement(case, "skipped", message=check.reason or (known.reason if known else ""))
        suite.set("failures", str(failures))
        suite.set("skipped", str(skipped))
        ET.ElementTree(suite).write(path, encoding="utf-8", xml_declaration=True)

    def write_csv(self, path: Path) -> None:
        with path.open("w", newline="", encoding="utf-8") as handle:
            writer = csv.writer(handle)
            writer.writerow(["rule", "scenario", "step", "method", "path", "expected", "actual", "known"])
            for check in self.checks:
                for m in check.mismatches:
                    writer.writerow(
                        [
                            m.rule,
                            check.scenario,
                            m.step,
                            m.method,
                            m.path,
                            _cell(m.expected),
                            _cell(m.actual),
                            "yes" if self.known(check) else "",
                        ]
                    )

    def write_html(self, path: Path) -> None:
        verdicts = self.verdicts()
        colour = {PASS: "#2e7d32", FAIL: "#c62828", SKIP: "#9e9e9e"}
        rows = "".join(
            f"<tr><td>{rule}</td><td style='color:{colour.get(verdicts.get(rule, ''), '#000')}'>"
            f"{verdicts.get(rule, 'unchecked')}</td></tr>"
            for rule in RULE_IDS
        )
        mism = "".join(f"<tr><td>{html.escape(line)}</td></tr>" for line in self.mismatch_lines(500))
        path.write_text(
            "<!doctype html><meta charset='utf-8'><title>simtim conform</title>"
            "<style>body{font-family:sans-serif}td{padding:2px 8px;border-bottom:1px solid #ddd}</style>"
            f"<h1>simtim conform</h1><p>{html.escape(self.target)}</p><pre>{html.escape(self.matrix())}</pre>"
            f"<h2>Rules</h2><table>{rows}</table><h2>Mismatches</h2><table>{mism or '<tr><td>none</td></tr>'}</table>",
            encoding="utf-8",
        )


def _cell(value: Any) -> str:
    return value if isinstance(value, str) else json.dumps(value, ensure_ascii=False, default=str)
