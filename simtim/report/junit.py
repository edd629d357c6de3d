"""``PREFIX_junit.xml``: one testsuite; a testcase per rule, per failure category, per threshold.

Names start with the rule ID (DESIGN "Reports": ``REV-1: ...``); a rule fails when the run
recorded conformance mismatches for it, the failure text being those rows of
``PREFIX_conformance.csv``; a rule with no check in ``PREFIX_evidence.csv`` is ``<skipped>`` with
the reason (zero checks is never a pass), and the suite's ``skipped`` count says how many.
``transport`` and ``harness`` fail when rows of that kind exist.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from collections import defaultdict
from collections.abc import Sequence
from pathlib import Path

from simtim.report.data import RunData
from simtim.rules import RULE_IDS, area
from simtim.runfiles import CONFORMANCE_COLUMNS, FailureCategory
from simtim.verdict import TRANSPORT_CHECK, ThresholdCheck

ROWS_PER_FAILURE = 200
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")


def _clean(text: str) -> str:
    """XML 1.0 cannot carry most control characters: show them as \\xNN."""
    return _NOT_XML.sub(lambda m: f"\\x{ord(m.group()):02x}", text)


def rows_text(rows: Sequence[Sequence[str]], limit: int = ROWS_PER_FAILURE) -> str:
    lines = [",".join(CONFORMANCE_COLUMNS), *(",".join(row) for row in rows[:limit])]
    if len(rows) > limit:
        lines.append(f"... and {len(rows) - limit} more row(s)")
    return _clean("\n".join(lines))


def _case(
    suite: ET.Element,
    classname: str,
    name: str,
    failure: str | None = None,
    text: str = "",
    skipped: str | None = None,
) -> None:
    case = ET.SubElement(suite, "testcase", classname=classname, name=_clean(name), time="0")
    if failure is not None:
        element = ET.SubElement(case, "failure", message=_clean(failure), type="failure")
        element.text = text
    elif skipped is not None:
        ET.SubElement(case, "skipped", message=_clean(skipped))


def build_junit(run: RunData, checks: Sequence[ThresholdCheck]) -> ET.Element:
    suite = ET.Element("testsuite", name=f"simtim report {run.prefix}")
    frame = run.conformance[list(CONFORMANCE_COLUMNS)]
    rows: list[tuple[str, ...]] = [tuple(str(v) for v in row) for row in frame.itertuples(index=False)]
    kind_at, rule_at = CONFORMANCE_COLUMNS.index("kind"), CONFORMANCE_COLUMNS.index("rule")
    by_rule: dict[str, list[tuple[str, ...]]] = defaultdict(list)
    by_kind: dict[str, list[tuple[str, ...]]] = defaultdict(list)
    for row in rows:
        by_kind[row[kind_at]].append(row)
        if row[kind_at] == FailureCategory.CONFORMANCE:
            by_rule[row[rule_at] if row[rule_at] in RULE_IDS else ""].append(row)
    for rule in RULE_IDS:
        found = by_rule.get(rule, [])
        evidence = run.evidence.get(rule) if run.evidence is not None else None
        count = evidence.checks if evidence is not None else 0
        if run.evidence is None:
            why = f"no {run.prefix}_evidence.csv: this run did not count checks per rule"
        else:
            why = evidence.reason if evidence is not None else "not exercised by this load mix"
        _case(
            suite,
            f"simtim.report.{area(rule)}",
            f"{rule}: no conformance mismatch under load ({count} checks)",
            f"{len(found)} mismatch(es)" if found else None,
            rows_text(found) if found else "",
            skipped=None if found or count else f"0 checks: {why}",
        )
    if by_rule.get(""):
        unknown = by_rule[""]
        _case(
            suite,
            "simtim.report.conformance",
            "unattributed: conformance mismatches naming no SPEC rule",
            f"{len(unknown)} mismatch(es)",
            rows_text(unknown),
        )
    categories = (
        (FailureCategory.TRANSPORT, "no transport failure (6010)"),
        (FailureCategory.HARNESS, "no harness error"),
    )
    for kind, what in categories:
        found = by_kind.get(kind, [])
        extra = run.exceptions if kind is FailureCategory.HARNESS else 0
        failed = len(found) + extra
        text = rows_text(found) + (
            f"\nplus {extra} Locust exception(s) in {run.prefix}_exceptions.csv" if extra else ""
        )
        _case(suite, f"simtim.report.{kind}", f"{kind}: {what}", f"{failed} row(s)" if failed else None, text)
    for check in checks:
        if check.flag == TRANSPORT_CHECK:
            continue  # the "transport" category testcase above already fails on them
        _case(
            suite,
            "simtim.report.threshold",
            f"threshold {check.flag}: {check.text}",
            None if check.passed else check.text,
            check.text,
        )
    cases = suite.findall("testcase")
    suite.set("tests", str(len(cases)))
    suite.set("failures", str(sum(1 for c in cases if c.find("failure") is not None)))
    suite.set("errors", "0")
    suite.set("skipped", str(sum(1 for c in cases if c.find("skipped") is not None)))
    suite.set("time", f"{run.duration_s:.3f}")
    return suite


def write_junit(run: RunData, checks: Sequence[ThresholdCheck], path: Path) -> None:
    tree = ET.ElementTree(build_junit(run, checks))
    ET.indent(tree)
    tree.write(path, encoding="utf-8", xml_declaration=True)
