"""``simtim.conformance.report``: verdicts, the matrix, JUnit/CSV/HTML and known divergences."""

from __future__ import annotations

import csv
import re
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from simtim.conformance.check import Mismatch
from simtim.conformance.report import ConformReport, Divergence, load_divergences
from simtim.conformance.runner import FAIL, PASS, SKIP, RuleCheck
from simtim.rules import RULE_IDS

REV = ("REV-1", "REV-2", "REV-3", "REV-4")


def mismatch(
    rule: str = "REV-1", path: str = "code", expected: object = 20016, actual: object = 0
) -> Mismatch:
    return Mismatch(rule, "revokeMessage", path, expected, actual, "step 4 (revokeMessage by alice)")


def passed(rule: str, scenario: str = "revoke") -> RuleCheck:
    return RuleCheck(rule, scenario, PASS)


def failed(rule: str, scenario: str = "revoke", *found: Mismatch) -> RuleCheck:
    return RuleCheck(rule, scenario, FAIL, list(found) or [mismatch(rule)])


def skipped(rule: str, scenario: str = "revoke", reason: str = "target has no fake_clock") -> RuleCheck:
    return RuleCheck(rule, scenario, SKIP, reason=reason)


def matrix_line(report: ConformReport, area_name: str) -> str:
    lines = [line for line in report.matrix().splitlines() if line.strip().startswith(area_name + ":")]
    assert len(lines) == 1, report.matrix()
    return lines[0]


# --- verdicts ---------------------------------------------------------------------------------
def test_fail_beats_pass_for_the_same_rule() -> None:
    report = ConformReport([passed("REV-1", "a"), failed("REV-1", "b"), passed("REV-1", "c")])
    assert report.verdicts() == {"REV-1": FAIL}
    assert report.failing_rules() == ["REV-1"]


def test_skip_never_counts_as_pass() -> None:
    report = ConformReport([skipped("REV-1"), skipped("REV-1", "other")])
    assert report.verdicts() == {"REV-1": SKIP}
    assert report.failing_rules() == []
    assert re.search(r"REV:\s+0/4 passed", matrix_line(report, "REV"))
    assert "skipped REV-1" in matrix_line(report, "REV")


def test_one_checked_pass_beats_skips() -> None:
    report = ConformReport([skipped("REV-1", "a"), passed("REV-1", "b")])
    assert report.verdicts() == {"REV-1": PASS}


def test_a_failure_still_beats_a_skip() -> None:
    assert ConformReport([skipped("REV-1", "a"), failed("REV-1", "b")]).verdicts() == {"REV-1": FAIL}


def test_rules_without_any_check_are_unchecked_not_passed() -> None:
    report = ConformReport([passed("REV-1")])
    unchecked = report.unchecked_rules()
    assert "REV-1" not in unchecked
    assert set(unchecked) == set(RULE_IDS) - {"REV-1"}
    assert list(unchecked) == [r for r in RULE_IDS if r != "REV-1"]  # SPEC order
    line = matrix_line(report, "REV")
    assert re.search(r"REV:\s+1/4 passed", line)
    assert "unchecked REV-2 REV-3 REV-4" in line


def test_an_empty_run_fails_nothing_and_checks_nothing() -> None:
    report = ConformReport([])
    assert report.verdicts() == {}
    assert report.failing_rules() == []
    assert len(report.unchecked_rules()) == len(RULE_IDS)


# --- the matrix -------------------------------------------------------------------------------
def test_matrix_groups_rules_by_area() -> None:
    report = ConformReport(
        [passed(rule) for rule in REV] + [passed("PAGE-1"), failed("PAGE-3"), skipped("PAGE-2")],
        target="inproc://",
    )
    text = report.matrix()
    assert text.splitlines()[0] == "conformance of inproc://"
    assert re.search(r"^\s+REV:\s+4/4 passed$", text, re.MULTILINE), text
    page = matrix_line(report, "PAGE")
    assert re.search(r"PAGE:\s+1/3 passed", page)
    assert "FAILED PAGE-3" in page and "skipped PAGE-2" in page
    areas = [line.split(":")[0].strip() for line in text.splitlines()[1:] if re.match(r"^\s+[A-Z]+:", line)]
    assert areas == list(dict.fromkeys(rule.split("-")[0] for rule in RULE_IDS))
    assert re.search(
        rf"total: 5 passed, 1 failed, 1 skipped, {len(RULE_IDS) - 7} unchecked of {len(RULE_IDS)} rules", text
    )


def test_mismatch_lines_show_scenario_and_diff() -> None:
    report = ConformReport([failed("REV-1", "revoke", mismatch())], [])
    lines = report.mismatch_lines()
    assert lines == [
        "revoke: [REV-1] step 4 (revokeMessage by alice) revokeMessage code: expected 20016, got 0"
    ]


# --- JUnit ------------------------------------------------------------------------------------
def junit(report: ConformReport, tmp_path: Path) -> ET.Element:
    path = tmp_path / "out" / "junit.xml"
    path.parent.mkdir()
    report.write_junit(path)
    assert path.read_bytes().startswith(b"<?xml")
    return ET.parse(path).getroot()


def test_junit_has_one_testcase_per_check_named_after_the_rule(tmp_path: Path) -> None:
    checks = [
        passed("REV-2"),
        failed(
            "REV-1",
            "revoke",
            mismatch(),
            mismatch(path="data.message.isRevoked", expected=True, actual=False),
        ),
        skipped("MUTE-2", "mute", "target has no fake_clock"),
    ]
    root = junit(ConformReport(checks), tmp_path)
    assert root.tag == "testsuite"
    assert (root.get("tests"), root.get("failures"), root.get("skipped")) == ("3", "1", "1")
    cases = root.findall("testcase")
    assert [c.get("name") for c in cases] == ["REV-1: revoke", "REV-2: revoke", "MUTE-2: mute"]  # SPEC order
    for case in cases:
        rule = case.get("name", "").split(":")[0]
        assert rule in RULE_IDS
        assert case.get("classname") == f"simtim.conform.{rule.split('-')[0]}"
    rev1, rev2, mute2 = cases
    failure = rev1.find("failure")
    assert failure is not None and failure.get("message") == "2 mismatch(es)"
    assert failure.text is not None
    assert "[REV-1] step 4 (revokeMessage by alice) revokeMessage code: expected 20016, got 0" in failure.text
    assert "data.message.isRevoked: expected True, got False" in failure.text
    assert list(rev2) == []  # a pass is an empty testcase
    skip = mute2.find("skipped")
    assert skip is not None and skip.get("message") == "target has no fake_clock"
    assert mute2.find("failure") is None


# --- known divergences ------------------------------------------------------------------------
def test_a_known_failing_rule_does_not_fail_the_run(tmp_path: Path) -> None:
    known = [Divergence("the endpoint keeps a 60 s window", rule="REV-1")]
    report = ConformReport([failed("REV-1"), passed("REV-2")], known)
    assert report.failing_rules() == []
    assert report.verdicts() == {"REV-1": SKIP, "REV-2": PASS}
    assert report.newly_passing() == []
    assert any("(known divergence)" in line for line in report.mismatch_lines())
    root = junit(report, tmp_path)
    assert root.get("failures") == "0" and root.get("skipped") == "1"
    case = root.find("testcase[@name='REV-1: revoke']")
    assert case is not None
    skip = case.find("skipped")
    assert skip is not None and skip.get("message") == "the endpoint keeps a 60 s window"


def test_a_known_divergence_that_passes_fails_the_run_strict(tmp_path: Path) -> None:
    known = [Divergence("paging capped at 20", rule="PAGE-1")]
    report = ConformReport([passed("PAGE-1", "paging")], known)
    assert report.failing_rules() == ["PAGE-1"]
    assert [c.rule for c in report.newly_passing()] == ["PAGE-1"]
    assert "STRICT: known divergence now passes: PAGE-1 in paging" in report.matrix()
    root = junit(report, tmp_path)
    assert root.get("failures") == "1"
    failure = root.find("testcase/failure")
    assert failure is not None and "known divergence now passes: paging capped at 20" in str(
        failure.get("message")
    )


def test_a_known_divergence_only_covers_its_rule_and_scenario() -> None:
    known = [Divergence("flaky in this scenario", rule="REV-1", scenario="revoke")]
    report = ConformReport(
        [failed("REV-1", "revoke"), failed("REV-1", "revoke_group"), failed("REV-2")], known
    )
    assert report.failing_rules() == ["REV-1", "REV-2"]
    by_scenario = [Divergence("whole scenario", scenario="revoke")]
    report = ConformReport(
        [failed("REV-1", "revoke"), failed("REV-2", "revoke"), failed("REV-3", "other")], by_scenario
    )
    assert report.failing_rules() == ["REV-3"]


def test_load_divergences_reads_rule_or_scenario_entries(tmp_path: Path) -> None:
    path = tmp_path / "known.yaml"
    path.write_text(
        "- {rule: REV-1, reason: window is 60 s}\n- {scenario: paging, reason: cap 20}\n", encoding="utf-8"
    )
    assert load_divergences(path) == [
        Divergence("window is 60 s", "REV-1", ""),
        Divergence("cap 20", "", "paging"),
    ]
    path.write_text("", encoding="utf-8")
    assert load_divergences(path) == []


@pytest.mark.parametrize(
    "text", ["{rule: REV-1, reason: x}\n", "- {rule: REV-1}\n", "- {reason: nothing}\n", "- REV-1\n"]
)
def test_load_divergences_refuses_bad_entries(tmp_path: Path, text: str) -> None:
    path = tmp_path / "known.yaml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(ValueError, match=r"known\.yaml"):
        load_divergences(path)


# --- CSV and HTML -----------------------------------------------------------------------------
def test_csv_has_one_row_per_mismatch(tmp_path: Path) -> None:
    report = ConformReport(
        [
            failed("REV-1", "revoke", mismatch(), mismatch(path="data.x", expected={"a": 1}, actual=None)),
            passed("REV-2"),
            failed("PAGE-1", "paging"),
        ],
        [Divergence("known", rule="PAGE-1")],
    )
    path = tmp_path / "c.csv"
    report.write_csv(path)
    with path.open(encoding="utf-8", newline="") as handle:
        rows = list(csv.DictReader(handle))
    assert [(r["rule"], r["scenario"], r["path"], r["known"]) for r in rows] == [
        ("REV-1", "revoke", "code", ""),
        ("REV-1", "revoke", "data.x", ""),
        ("PAGE-1", "paging", "code", "yes"),
    ]
    assert rows[0]["step"] == "step 4 (revokeMessage by alice)"
    assert (rows[0]["expected"], rows[0]["actual"]) == ("20016", "0")
    assert (rows[1]["expected"], rows[1]["actual"]) == ('{"a": 1}', "null")


def test_html_is_self_contained_and_escaped(tmp_path: Path) -> None:
    report = ConformReport(
        [
            failed("REV-1", "revoke", mismatch(path="data.text", expected="<b>", actual="</td>")),
            passed("REV-2"),
        ],
        target="http://127.0.0.1:1 <x>",
    )
    path = tmp_path / "r.html"
    report.write_html(path)
    page = path.read_text(encoding="utf-8")
    assert page.startswith("<!doctype html>")
    assert "<script src" not in page and "<link" not in page
    assert "&lt;x&gt;" in page and "&lt;b&gt;" in page and "&lt;/td&gt;" in page
    assert (
        "<td>REV-1</td>" in page
        and ">fail</td>" in page
        and ">pass</td>" in page
        and ">unchecked</td>" in page
    )
