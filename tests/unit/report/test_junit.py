"""``simtim.report.junit``: one testsuite, a testcase per SPEC rule, per category and per threshold."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from pathlib import Path

from simtim.cli import main
from simtim.report.junit import ROWS_PER_FAILURE
from simtim.rules import RULE_IDS
from tests.unit.report.synthetic import Run, mismatch


def junit(tmp_path: Path, run: Run, *extra: str) -> tuple[int, ET.Element]:
    prefix = run.write(tmp_path / "run")
    code = main(["report", prefix, *extra])
    return code, ET.parse(f"{prefix}_junit.xml").getroot()


def cases(suite: ET.Element) -> dict[str, ET.Element]:
    """Testcases by name, rule cases also by their name without the check count."""
    found = {}
    for case in suite.findall("testcase"):
        name = case.attrib["name"]
        found[name] = case
        found[_bare(name)] = case
        found[name.split(":", 1)[0]] = case
    return found


def _bare(name: str) -> str:
    return re.sub(r" \(\d+ checks\)$", "", name)


def failing(suite: ET.Element) -> list[str]:
    return [
        _bare(case.attrib["name"]) for case in suite.findall("testcase") if case.find("failure") is not None
    ]


def skipped(suite: ET.Element) -> dict[str, str]:
    return {
        case.attrib["name"].split(":", 1)[0]: element.attrib["message"]
        for case in suite.findall("testcase")
        if (element := case.find("skipped")) is not None
    }


def test_clean_run(tmp_path: Path) -> None:
    code, suite = junit(tmp_path, Run())
    assert code == 0 and suite.tag == "testsuite"
    names = [case.attrib["name"] for case in suite.findall("testcase")]
    assert len(names) == len(RULE_IDS) + 2
    for rule, name in zip(RULE_IDS, names, strict=False):
        assert name.startswith(f"{rule}: ")
    assert names[-2:] == ["transport: no transport failure (6010)", "harness: no harness error"]
    assert suite.attrib["tests"] == str(len(names)) and suite.attrib["failures"] == "0"
    assert suite.attrib["errors"] == "0" and suite.attrib["skipped"] == "0"  # every rule had checks
    assert float(suite.attrib["time"]) == 10.0
    assert (
        cases(suite)["REV-1: no conformance mismatch under load"].attrib["classname"] == "simtim.report.REV"
    )
    assert failing(suite) == []
    assert cases(suite)["REV-1: no conformance mismatch under load"].attrib["name"].endswith("(10 checks)")


def test_rules_with_no_checks_are_skipped_never_passed(tmp_path: Path) -> None:
    counts = dict.fromkeys(RULE_IDS, 0) | {"MSG-5": 40, "PAGE-1": 3}
    code, suite = junit(tmp_path, Run(checks=counts))
    assert code == 0
    skips = skipped(suite)
    assert set(skips) == set(RULE_IDS) - {"MSG-5", "PAGE-1"}
    assert skips["REV-1"].startswith("0 checks: not exercised")
    assert suite.attrib["skipped"] == str(len(RULE_IDS) - 2)
    assert cases(suite)["MSG-5"].attrib["name"] == "MSG-5: no conformance mismatch under load (40 checks)"


def test_a_run_without_an_evidence_file_passes_no_rule(tmp_path: Path) -> None:
    code, suite = junit(tmp_path, Run(checks=None))
    assert code == 0
    assert len(skipped(suite)) == len(RULE_IDS)
    assert "did not count checks" in skipped(suite)["REV-1"]


def test_rules_with_mismatches_fail_with_their_rows(tmp_path: Path) -> None:
    rows = [
        mismatch("REV-1", step="first"),
        mismatch("REV-1", step="second"),
        mismatch("MSG-3"),
        mismatch("", kind="transport"),
        mismatch("BOGUS-1"),
    ]
    code, suite = junit(tmp_path, Run(mismatches=rows))
    assert code == 3  # a transport failure nobody tolerated ranks before the mismatches (simtim.verdict)
    assert failing(suite) == [
        "MSG-3: no conformance mismatch under load",  # in RULE_IDS order
        "REV-1: no conformance mismatch under load",
        "unattributed: conformance mismatches naming no SPEC rule",
        "transport: no transport failure (6010)",
    ]
    failure = cases(suite)["REV-1: no conformance mismatch under load"].find("failure")
    assert failure is not None and failure.attrib["message"] == "2 mismatch(es)"
    text = failure.text or ""
    assert text.splitlines()[0] == "timestamp,worker,kind,rule,method,path,expected,actual,step,check"
    assert "REV-1,revokeMessage,code,20016,0,first" in text and "second" in text and "MSG-3" not in text
    assert suite.attrib["failures"] == "4"


def test_harness_category_counts_locust_exceptions(tmp_path: Path) -> None:
    code, suite = junit(tmp_path, Run(exceptions=3))
    assert code == 1
    failure = cases(suite)["harness: no harness error"].find("failure")
    assert failure is not None and "3 Locust exception(s)" in (failure.text or "")


def test_a_testcase_per_threshold_given(tmp_path: Path) -> None:
    code, suite = junit(
        tmp_path, Run(), "--max-p99-ms", "50", "--max-fail-ratio", "0.01", "--max-conformance-failures", "0"
    )
    assert code == 3
    thresholds = [
        c.attrib["name"] for c in suite.findall("testcase") if c.attrib["name"].startswith("threshold ")
    ]
    assert thresholds == [
        "threshold --max-p99-ms: total p99 90 ms > 50 ms",
        "threshold --max-fail-ratio: failure ratio 0.0008 <= 0.01 (5 of 5940 requests)",
        "threshold --max-conformance-failures: conformance mismatches 0 <= 0",
    ]
    assert failing(suite) == ["threshold --max-p99-ms: total p99 90 ms > 50 ms"]


def test_failure_text_is_capped_and_xml_safe(tmp_path: Path) -> None:
    rows = [mismatch("MSG-1", actual=f"bad\x00\x07<&>{i}") for i in range(ROWS_PER_FAILURE + 5)]
    code, suite = junit(tmp_path, Run(mismatches=rows))  # ET.parse would fail on raw control characters
    assert code == 2
    failure = cases(suite)["MSG-1: no conformance mismatch under load"].find("failure")
    assert failure is not None
    text = failure.text or ""
    assert "bad\\x00\\x07<&>0" in text and "... and 5 more row(s)" in text
    assert len(text.splitlines()) == ROWS_PER_FAILURE + 2
