"""``simtim.conformance.report`` + ``evidence``: one outcome per rule from counted checks.

Zero checks is never passed; failures name how many of how many checks failed; skipped and
unsupported evidence carries its reason; known divergences fail the run when they start passing.
"""

from __future__ import annotations

import csv
import re
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from simtim.conformance.check import Mismatch
from simtim.conformance.evidence import Ledger, Outcome
from simtim.conformance.report import ConformReport, Divergence, load_divergences
from simtim.rules import RULE_IDS


def mismatch(
    rule: str = "REV-1", path: str = "code", expected: object = 20016, actual: object = 0
) -> Mismatch:
    return Mismatch(rule, "revokeMessage", path, expected, actual, "step 4 (revokeMessage by alice)")


def ledger(**spec: tuple[int, int]) -> Ledger:
    """``REV_1=(checks, failed)`` -> a ledger with that evidence."""
    out = Ledger()
    for key, (checks, failed) in spec.items():
        rule = key.replace("_", "-")
        for index in range(checks):
            out.check(rule, [mismatch(rule)] if index < failed else [], "revoke")
    return out


def outcome(report: ConformReport, rule: str) -> Outcome:
    return report.verdicts()[rule].outcome


# --- outcomes ---------------------------------------------------------------------------------
def test_a_rule_with_checks_and_no_failure_passes_with_its_count() -> None:
    report = ConformReport(ledger(REV_1=(7, 0)))
    verdict = report.verdicts()["REV-1"]
    assert verdict.outcome is Outcome.PASSED and verdict.text == "passed (7 checks)"


def test_failures_say_k_of_n() -> None:
    report = ConformReport(ledger(REV_1=(7, 2)))
    assert report.verdicts()["REV-1"].text == "failed (2 of 7)"
    assert report.failing_rules() == ["REV-1"]


def test_zero_checks_is_never_passed() -> None:
    report = ConformReport(Ledger())
    verdicts = report.verdicts()
    assert all(v.outcome is Outcome.SKIPPED and v.checks == 0 for v in verdicts.values())
    assert verdicts["REV-1"].text == "skipped (not exercised)"
    assert report.failing_rules() == []


def test_skipped_and_unsupported_evidence_carry_their_reasons() -> None:
    evidence = Ledger()
    evidence.skip("REV-4", "needs admin", "revoke", count=2)
    evidence.unsupported("GRP-9", "Matrix has no per-room message remind types")
    evidence.check("REV-1")
    evidence.skip("REV-1", "needs 130 s of real time (--max-wait 60)")
    report = ConformReport(evidence)
    verdicts = report.verdicts()
    assert verdicts["REV-4"].text == "skipped (needs admin)"
    assert verdicts["GRP-9"].text == "unsupported by target (Matrix has no per-room message remind types)"
    assert verdicts["REV-1"].text == "passed (1 check; 1 skipped: needs 130 s of real time (--max-wait 60))"


def test_evidence_merges_across_scenarios_and_workers() -> None:
    a, b = ledger(REV_1=(3, 0)), ledger(REV_1=(2, 1))
    a.merge(b)
    assert a.rules["REV-1"].checks == 5 and a.rules["REV-1"].failed == 1
    again = Ledger.from_json(a.to_json())
    assert again.rules["REV-1"].checks == 5 and again.rules["REV-1"].failed == 1
    assert ConformReport(again).verdicts()["REV-1"].text == "failed (1 of 5)"


# --- the matrix -------------------------------------------------------------------------------
def test_matrix_lists_every_rule_with_its_outcome() -> None:
    evidence = ledger(REV_1=(4, 0), REV_2=(3, 1))
    evidence.skip("REV-4", "needs admin")
    text = ConformReport(evidence, target="inproc://").matrix()
    assert text.splitlines()[0] == "conformance of inproc://"
    assert re.search(r"^\s+REV:\s+1/4 passed$", text, re.MULTILINE), text
    assert re.search(r"REV-1\s+passed \(4 checks\)", text)
    assert re.search(r"REV-2\s+failed \(1 of 3\)", text)
    assert re.search(r"REV-4\s+skipped \(needs admin\)", text)
    assert re.search(rf"total: 1 passed, 1 failed, {len(RULE_IDS) - 2} skipped, 0 unsupported", text)


def test_mismatch_lines_show_the_diff() -> None:
    report = ConformReport(ledger(REV_1=(1, 1)))
    assert report.mismatch_lines() == [
        "[REV-1] step 4 (revokeMessage by alice) revokeMessage code: expected 20016, got 0"
    ]


# --- JUnit ------------------------------------------------------------------------------------
def junit(report: ConformReport, tmp_path: Path) -> ET.Element:
    path = tmp_path / "out" / "junit.xml"
    path.parent.mkdir()
    report.write_junit(path)
    assert path.read_bytes().startswith(b"<?xml")
    return ET.parse(path).getroot()


def test_junit_one_testcase_per_rule_and_a_true_skipped_count(tmp_path: Path) -> None:
    evidence = ledger(REV_1=(3, 1), REV_2=(2, 0))
    evidence.skip("MUTE-2", "needs 300 s of real time (--max-wait 150)")
    root = junit(ConformReport(evidence), tmp_path)
    assert root.get("tests") == str(len(RULE_IDS))
    assert root.get("failures") == "1"
    assert root.get("skipped") == str(len(RULE_IDS) - 2)  # everything but REV-1 (failed) and REV-2
    cases = {c.get("name", "").split(":")[0]: c for c in root.findall("testcase")}
    assert list(cases) == list(RULE_IDS)
    failure = cases["REV-1"].find("failure")
    assert failure is not None and failure.get("message") == "failed (1 of 3)"
    assert "expected 20016, got 0" in (failure.text or "")
    assert list(cases["REV-2"]) == [] and cases["REV-2"].get("checks") == "2"
    skip = cases["MUTE-2"].find("skipped")
    assert skip is not None and skip.get("message") == "skipped (needs 300 s of real time (--max-wait 150))"
    assert cases["REV-1"].get("classname") == "simtim.conform.REV"


# --- known divergences ------------------------------------------------------------------------
def test_a_known_failing_rule_is_an_expected_divergence(tmp_path: Path) -> None:
    report = ConformReport(
        ledger(REV_1=(3, 2), REV_2=(1, 0)), [Divergence("no 2-minute window", rule="REV-1")]
    )
    assert report.failing_rules() == []
    assert report.verdicts()["REV-1"].text == "expected divergence (no 2-minute window)"
    assert any(line.startswith("(expected divergence):") for line in report.mismatch_lines())
    root = junit(report, tmp_path)
    assert root.get("failures") == "0"


def test_a_known_divergence_that_passes_fails_the_run_strict() -> None:
    report = ConformReport(ledger(PAGE_1=(4, 0)), [Divergence("paging capped at 20", rule="PAGE-1")])
    assert report.failing_rules() == ["PAGE-1"]
    assert "all 4 checks passed" in report.verdicts()["PAGE-1"].text


def test_a_known_divergence_without_checks_stays_a_divergence() -> None:
    report = ConformReport(Ledger(), [Divergence("no revoke window", rule="REV-1")])
    assert outcome(report, "REV-1") is Outcome.DIVERGENCE and report.failing_rules() == []


def test_load_divergences_reads_lists_and_target_files(tmp_path: Path) -> None:
    path = tmp_path / "known.yaml"
    path.write_text("- {rule: REV-1, reason: window is 60 s}\n", encoding="utf-8")
    assert load_divergences(path) == [Divergence("window is 60 s", "REV-1", "")]
    path.write_text("target: synapse\ndivergences:\n  - {rule: REV-1, reason: redaction}\n", encoding="utf-8")
    assert load_divergences(path) == [Divergence("redaction", "REV-1", "")]
    path.write_text("", encoding="utf-8")
    assert load_divergences(path) == []


@pytest.mark.parametrize(
    "text",
    [
        "{rule: REV-1, reason: x}\n",
        "- {rule: REV-1}\n",
        "- {reason: nothing}\n",
        "- REV-1\n",
        "- {rule: NO-1, reason: x}\n",
    ],
)
def test_load_divergences_refuses_bad_entries(tmp_path: Path, text: str) -> None:
    path = tmp_path / "known.yaml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(ValueError, match=r"known\.yaml"):
        load_divergences(path)


# --- CSV, HTML, compat ------------------------------------------------------------------------
def test_csv_has_one_row_per_mismatch(tmp_path: Path) -> None:
    evidence = Ledger()
    evidence.check("REV-1", [mismatch(), mismatch(path="data.x", expected={"a": 1}, actual=None)], "revoke")
    evidence.check("REV-2", [], "revoke")
    evidence.check("PAGE-1", [mismatch("PAGE-1")], "paging")
    report = ConformReport(evidence, [Divergence("known", rule="PAGE-1")])
    path = tmp_path / "c.csv"
    report.write_csv(path)
    with path.open(encoding="utf-8", newline="") as handle:
        rows = list(csv.DictReader(handle))
    assert [(r["rule"], r["scenario"], r["path"], r["known"]) for r in rows] == [
        ("REV-1", "revoke", "code", ""),
        ("REV-1", "revoke", "data.x", ""),
        ("PAGE-1", "paging", "code", "yes"),
    ]
    assert (rows[1]["expected"], rows[1]["actual"]) == ('{"a": 1}', "null")


def test_html_is_self_contained_escaped_and_shows_counts(tmp_path: Path) -> None:
    evidence = Ledger()
    evidence.check("REV-1", [mismatch(path="data.text", expected="<b>", actual="</td>")], "revoke")
    evidence.check("REV-2", [], "revoke")
    report = ConformReport(evidence, target="http://127.0.0.1:1 <x>", header=["admin no"])
    path = tmp_path / "r.html"
    report.write_html(path)
    page = path.read_text(encoding="utf-8")
    assert page.startswith("<!doctype html>") and "<script src" not in page and "<link" not in page
    assert "&lt;x&gt;" in page and "&lt;b&gt;" in page and "&lt;/td&gt;" in page
    assert "<td>REV-2</td><td style='color:#2e7d32'>passed</td><td>1</td><td>0</td>" in page
    assert ">skipped</td><td>0</td>" in page and "admin no" in page


def test_compat_markdown_links_rules_and_states_outcomes() -> None:
    evidence = ledger(REV_1=(2, 0))
    evidence.unsupported("GRP-9", "no remind types | in Matrix")
    text = ConformReport(evidence).compat_markdown("Synapse", ["Synapse 1.x"])
    assert text.startswith("# Synapse\n")
    assert "| [REV-1](../spec.md#rev-1) | passed | 2 | 0 |  |" in text
    assert (
        "| [GRP-9](../spec.md#grp-9) | unsupported by target | 0 | 0 | no remind types \\| in Matrix |"
        in text
    )
