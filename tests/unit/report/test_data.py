"""``simtim.report.data``: loading the CSVs, the metrics, thresholds and the command's exit codes."""

from __future__ import annotations

import math
from pathlib import Path

import pytest

from simtim.cli import main
from simtim.report.data import (
    ReportInputError,
    check_thresholds,
    estimate_percentile,
    exit_code,
    histogram_bounds,
    load_run,
)
from simtim.rules import RULE_IDS
from simtim.verdict import Limits
from tests.unit.report.synthetic import START, Method, Run, mismatch


@pytest.fixture
def prefix(tmp_path: Path) -> str:
    return Run().write(tmp_path / "run")


def test_methods_and_totals(prefix: str) -> None:
    run = load_run(prefix)
    by_name = {(m.type, m.name): m for m in run.methods}
    assert set(by_name) == {
        ("TIM", "sendMessage"),
        ("TIM", "getMessageList"),
        ("TIM", "login"),
        ("PUSH", "onMessageReceived"),
        ("PUSH", "onConversationListUpdated"),
    }
    send = by_name[("TIM", "sendMessage")]
    assert (send.count, send.failures, send.median_ms, send.p95_ms, send.p99_ms, send.avg_ms) == (
        1000,
        5,
        20,
        50,
        90,
        24,
    )
    assert send.failure_ratio == pytest.approx(0.005)
    assert run.totals is not None
    assert (run.totals.requests, run.totals.failures, run.totals.source) == (5940, 5, "stats")
    assert run.totals.p99_ms == 90
    assert run.start == START and run.end == START + 10 and run.duration_s == 10 and run.users == 10


def test_history_wins_when_the_stats_csv_missed_the_last_flush(tmp_path: Path) -> None:
    run = load_run(Run(history_extra=25).write(tmp_path / "run"))
    assert run.totals is not None
    assert run.totals.source == "stats_history"
    assert (run.totals.requests, run.totals.stats_requests, run.totals.history_requests) == (5965, 5940, 5965)


def test_history_keeps_only_aggregated_rows_and_na_becomes_nan(prefix: str) -> None:
    run = load_run(prefix)
    assert set(run.history["Name"]) == {"Aggregated"}
    assert len(run.history) == 11
    assert math.isnan(float(run.history["50%"].iloc[0]))  # "N/A" in the first row
    assert run.history_series("Requests/s")[0] == (0.0, 0.0)
    assert run.history_series("Requests/s")[-1] == (10.0, 594.0)
    latency = run.latency_series("99%")
    assert (
        math.isnan(latency[0][1]) and latency[1] == (1.0, 82.0) and latency[-1] == (10.0, 100.0)
    )  # empty window: a gap


def test_e2e_histogram_and_estimated_percentiles(prefix: str) -> None:
    e2e = load_run(prefix).e2e()
    assert e2e.labels[0] == "≤1" and e2e.labels[-1] == ">5000" and len(e2e.labels) == 13
    by_label = dict(zip(e2e.labels, e2e.counts, strict=True))
    assert (by_label["≤5"], by_label["≤20"], by_label["≤100"], e2e.total) == (10, 80, 10, 100)
    assert e2e.p50_ms == pytest.approx(10 + 10 * (50 - 10) / 80)  # linear inside (10, 20]
    assert e2e.p99_ms == pytest.approx(50 + 50 * 9 / 10)
    assert e2e.max_ms == pytest.approx(70.0)


def test_estimate_percentile_edges() -> None:
    bounds = [1, 10, 100]
    assert estimate_percentile(bounds, [0, 0, 0, 0], 0.5) is None
    assert estimate_percentile(bounds, [0, 4, 0, 0], 0.5) == pytest.approx(5.5)
    assert estimate_percentile(bounds, [0, 0, 0, 2], 1.0, max_ms=300.0) == pytest.approx(300.0)
    assert estimate_percentile(bounds, [0, 0, 0, 2], 0.5, max_ms=300.0) == pytest.approx(200.0)
    assert histogram_bounds(["e2e_le_5ms", "e2e_le_1ms", "e2e_gt_max", "sent", "e2e_le_2.5ms"]) == [1, 2.5, 5]


def test_delivery_totals(tmp_path: Path) -> None:
    run = load_run(Run(lost=3, duplicated=2).write(tmp_path / "run"))
    totals = run.delivery_totals()
    assert totals == {
        "sent": 100,
        "expected": 103,
        "delivered": 100,
        "lost": 3,
        "late": 0,
        "duplicated": 2,
        "reordered": 0,
    }


def test_rule_counts_categories_and_unattributed(tmp_path: Path) -> None:
    rows = [
        mismatch("REV-1"),
        mismatch("REV-1"),
        mismatch("MSG-3"),
        mismatch("NOPE-9"),
        mismatch(""),
        mismatch("", kind="transport"),
        mismatch("", kind="harness"),
    ]
    run = load_run(Run(mismatches=rows).write(tmp_path / "run"))
    counts = run.rule_counts()
    assert list(counts) == list(RULE_IDS)
    assert counts["REV-1"] == 2 and counts["MSG-3"] == 1 and sum(counts.values()) == 3
    assert run.unattributed() == 2
    assert run.categories() == {"conformance": 5, "transport": 1, "harness": 1}
    assert run.conformance_mismatches == 5 and run.harness_errors == 1


@pytest.mark.parametrize("suffix", ["_stats.csv", "_stats_history.csv", "_conformance.csv", "_delivery.csv"])
def test_a_missing_required_file_is_named(
    prefix: str, suffix: str, capsys: pytest.CaptureFixture[str]
) -> None:
    Path(f"{prefix}{suffix}").unlink()
    with pytest.raises(ReportInputError, match=suffix.replace(".", r"\.")):
        load_run(prefix)
    assert main(["report", prefix]) == 1
    err = capsys.readouterr().err
    assert f"{prefix}{suffix}" in err and "missing" in err


def test_optional_locust_files_may_be_absent(prefix: str) -> None:
    Path(f"{prefix}_failures.csv").unlink()
    Path(f"{prefix}_exceptions.csv").unlink()
    run = load_run(prefix)
    assert {f.role: f.rows for f in run.files}["failures"] is None
    assert main(["report", prefix]) == 0


@pytest.mark.parametrize(
    ("content", "reason"),
    [
        ("", "empty"),
        ("just,some,other\n1,2,3\n", "missing column"),
        ("Type,Name,Request Count\n\xff\xfe", "unreadable"),
    ],
)
def test_unreadable_inputs_exit_1(
    prefix: str, content: str, reason: str, capsys: pytest.CaptureFixture[str]
) -> None:
    Path(f"{prefix}_stats.csv").write_bytes(content.encode("latin-1"))
    assert main(["report", prefix]) == 1
    err = capsys.readouterr().err
    assert f"{prefix}_stats.csv" in err and reason in err


def test_exit_0_and_outputs(prefix: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["report", prefix]) == 0
    assert Path(f"{prefix}_report.html").is_file() and Path(f"{prefix}_junit.xml").is_file()
    assert "exit 0 (OK)" in capsys.readouterr().out


def test_exit_2_on_conformance_mismatches(tmp_path: Path) -> None:
    prefix = Run(mismatches=[mismatch("REV-1"), mismatch("MSG-3")]).write(tmp_path / "run")
    assert main(["report", prefix]) == 2
    # as the Locust option: up to N mismatches are tolerated, more fail the run with 2
    assert main(["report", prefix, "--max-conformance-failures", "2"]) == 0
    assert main(["report", prefix, "--max-conformance-failures", "1"]) == 2


def test_exit_1_on_harness_errors(tmp_path: Path) -> None:
    assert main(["report", Run(mismatches=[mismatch("", kind="harness")]).write(tmp_path / "a")]) == 1
    assert main(["report", Run(exceptions=2).write(tmp_path / "b")]) == 1


def test_exit_3_on_thresholds(prefix: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["report", prefix, "--max-p99-ms", "90"]) == 0  # p99 == 90 is within
    assert main(["report", prefix, "--max-p99-ms", "89.5"]) == 3
    assert "MISSED --max-p99-ms: total p99 90 ms > 89.5 ms" in capsys.readouterr().out
    assert main(["report", prefix, "--max-fail-ratio", "0.001"]) == 0  # 5 / 5940
    assert main(["report", prefix, "--max-fail-ratio", "0.0005"]) == 3


def test_conformance_beats_thresholds_and_harness_beats_both(tmp_path: Path) -> None:
    prefix = Run(mismatches=[mismatch("REV-1")]).write(tmp_path / "a")
    assert main(["report", prefix, "--max-p99-ms", "1"]) == 2
    prefix = Run(mismatches=[mismatch("REV-1"), mismatch("", kind="harness")]).write(tmp_path / "b")
    assert main(["report", prefix, "--max-p99-ms", "1"]) == 1


def test_threshold_checks(tmp_path: Path) -> None:
    run = load_run(Run(methods=[Method("TIM", "login", 100, 10)]).write(tmp_path / "run"))
    checks = check_thresholds(run, Limits(max_p99_ms=100, max_fail_ratio=0.05, max_conformance_failures=0))
    assert [(c.flag, c.passed) for c in checks] == [
        ("--max-p99-ms", True),
        ("--max-fail-ratio", False),
        ("--max-conformance-failures", True),
    ]
    assert checks[1].actual == pytest.approx(0.1)
    assert exit_code(run, Limits(100, 0.05, 0)) == 3
    assert check_thresholds(run) == []


def test_transport_failures_fail_the_report_as_they_fail_the_locust_run(tmp_path: Path) -> None:
    """One decision (simtim.verdict): 6010s without --max-fail-ratio miss the implicit zero threshold."""
    prefix = Run(mismatches=[mismatch("", kind="transport")]).write(tmp_path / "t")
    assert main(["report", prefix]) == 3
    assert main(["report", prefix, "--max-fail-ratio", "0.5"]) == 0


def test_report_or_compare_is_required(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["report"]) == 1
    assert "give PREFIX" in capsys.readouterr().err


def test_the_report_says_when_the_target_stopped_answering(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    late = mismatch(
        "", kind="transport", actual="POST http://h/login: connection refused", timestamp=f"{START + 7}.5"
    )
    early = mismatch(
        "", kind="transport", actual="GET http://h/sync: connection reset", timestamp=f"{START + 5}.0"
    )
    prefix = Run(mismatches=[mismatch(), late, early]).write(tmp_path / "k")
    assert load_run(prefix).first_transport_failure() == (START + 5.0, "GET http://h/sync: connection reset")
    assert main(["report", prefix]) == 3  # the target went away: ranks before the mismatch (simtim.verdict)
    out = capsys.readouterr().out
    assert "the target stopped answering at" in out and "first transport failure: GET http://h/sync" in out
    assert main(["report", prefix, "--max-fail-ratio", "0.9"]) == 2  # tolerated: conformance first again
    assert load_run(Run().write(tmp_path / "ok")).first_transport_failure() is None
