"""simtim.verdict: the one decision of a run's exit code (DESIGN "Reports")."""

from __future__ import annotations

import math

from simtim.verdict import ExitCode, Limits, RunCounts, exit_code, threshold_checks


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


def test_conformance_tolerance_is_a_count() -> None:
    assert exit_code(counts(conformance=2), Limits(max_conformance_failures=2)) is ExitCode.OK
    assert exit_code(counts(conformance=3), Limits(max_conformance_failures=2)) is ExitCode.CONFORMANCE_FAILED


def test_no_requests_means_no_p99_verdict() -> None:
    assert exit_code(counts(requests=0, p99_ms=math.nan), Limits(max_p99_ms=1)) is ExitCode.OK
