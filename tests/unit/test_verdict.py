"""simtim.verdict: the one decision of a run's exit code (DESIGN "Reports")."""

from __future__ import annotations

import argparse
import math

import simtim.report as simtim_report
from simtim.verdict import (
    THRESHOLD_OPTIONS,
    ExitCode,
    Limits,
    RunCounts,
    add_threshold_arguments,
    exit_code,
    threshold_checks,
)


def counts(**changes: float) -> RunCounts:
    base = {"requests": 100, "failures": 0, "conformance": 0, "transport": 0, "harness": 0, "p99_ms": 50.0}
    base.update(changes)
    return RunCounts(**base)  # type: ignore[arg-type]


def test_a_clean_run_passes() -> None:
    assert exit_code(counts(), Limits()) is ExitCode.OK
    assert threshold_checks(counts(), Limits()) == []


def test_harness_beats_conformance_beats_thresholds() -> None:
    limits = Limits(max_p99_ms=10)
    assert exit_code(counts(p99_ms=99), limits) is ExitCode.THRESHOLD_MISSED
    assert exit_code(counts(p99_ms=99, conformance=1), limits) is ExitCode.CONFORMANCE_FAILED
    assert exit_code(counts(p99_ms=99, conformance=1, harness=1), limits) is ExitCode.HARNESS_ERROR


def test_transport_failures_need_a_tolerated_failure_ratio() -> None:
    run = counts(transport=3, failures=3)
    assert exit_code(run, Limits()) is ExitCode.THRESHOLD_MISSED
    (check,) = threshold_checks(run, Limits())
    assert check.flag == "transport failures" and not check.passed and "3 transport failures" in check.text
    assert exit_code(run, Limits(max_fail_ratio=0.05)) is ExitCode.OK
    assert exit_code(run, Limits(max_fail_ratio=0.01)) is ExitCode.THRESHOLD_MISSED


def test_a_target_that_stopped_answering_ranks_before_conformance() -> None:
    """A target killed mid-run after divergences were seen: the user hears "it went away" (3), since
    the mismatches around the kill (pushes in flight counted lost) are no evidence about it."""
    gone = counts(transport=5, failures=8, conformance=3)
    assert exit_code(gone, Limits()) is ExitCode.THRESHOLD_MISSED
    assert [c.flag for c in threshold_checks(gone, Limits()) if not c.passed] == ["transport failures"]
    # a harness error still beats it: then no number of the run is trustworthy
    assert exit_code(counts(transport=5, conformance=3, harness=1), Limits()) is ExitCode.HARNESS_ERROR


def test_tolerated_transport_failures_leave_conformance_first() -> None:
    """With --max-fail-ratio the user declared transport failures acceptable up to a ratio: they are
    a threshold again, and a wrong answer ranks before it, exceeded or not."""
    run = counts(transport=5, failures=8, conformance=3)
    assert exit_code(run, Limits(max_fail_ratio=0.5)) is ExitCode.CONFORMANCE_FAILED
    assert exit_code(run, Limits(max_fail_ratio=0.01)) is ExitCode.CONFORMANCE_FAILED
    assert exit_code(counts(conformance=3), Limits()) is ExitCode.CONFORMANCE_FAILED  # no transport: 2


def test_conformance_tolerance_is_a_count() -> None:
    assert exit_code(counts(conformance=2), Limits(max_conformance_failures=2)) is ExitCode.OK
    assert exit_code(counts(conformance=3), Limits(max_conformance_failures=2)) is ExitCode.CONFORMANCE_FAILED


def test_no_requests_means_no_p99_verdict() -> None:
    assert exit_code(counts(requests=0, p99_ms=math.nan), Limits(max_p99_ms=1)) is ExitCode.OK


def test_both_command_lines_take_the_same_threshold_flags() -> None:
    """simtim report and the Locust run add the flags from one table and read them back as Limits."""
    assert [o.flag for o in THRESHOLD_OPTIONS] == [
        "--max-p99-ms",
        "--max-fail-ratio",
        "--max-conformance-failures",
    ]
    parser = argparse.ArgumentParser()
    add_threshold_arguments(parser)
    flags = ["--max-p99-ms", "250", "--max-fail-ratio", "0.01", "--max-conformance-failures", "3"]
    assert Limits.of(parser.parse_args(flags)) == Limits(250.0, 0.01, 3)
    assert Limits.of(parser.parse_args([])) == Limits()
    report_parser = argparse.ArgumentParser()
    simtim_report.add_arguments(report_parser)
    assert Limits.of(report_parser.parse_args(["run", *flags])) == Limits(250.0, 0.01, 3)
    # the Locust side: tests/integration/test_locust.py passes these flags to real runs
