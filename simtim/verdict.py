"""What counts as a failed run: one function, used by the Locust harness and by ``simtim report``.

Exit codes (DESIGN "Reports"): 0 ok; 1 harness error; 2 conformance failures; 3 performance
thresholds missed or the target stopped answering.  Precedence: harness error > target stopped
answering > conformance > other thresholds.  A harness bug makes every other number
untrustworthy; a target that stopped answering (transport failures, 6010, that no
``--max-fail-ratio`` tolerates) makes the evidence gathered after it unreliable -- pushes in
flight count as lost, cells lose their shadow state -- so "the target went away" is what the user
must hear first, not a conformance verdict built partly on its debris; and a wrong answer matters
more than a slow one.  Transport failures miss an implicit zero threshold: an unreachable endpoint
is never a pass.  With ``--max-fail-ratio`` the user declared them tolerable up to a ratio, so
they rank as a threshold again, after conformance [decision, docs/decisions.md "exit codes" and
"a target that went away ranks first"].
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from enum import IntEnum
from typing import Any


class ExitCode(IntEnum):
    OK = 0
    HARNESS_ERROR = 1
    CONFORMANCE_FAILED = 2
    THRESHOLD_MISSED = 3


VERDICTS: dict[int, str] = {
    ExitCode.OK: "OK",
    ExitCode.HARNESS_ERROR: "harness errors",
    ExitCode.CONFORMANCE_FAILED: "conformance mismatches",
    ExitCode.THRESHOLD_MISSED: "thresholds missed",  # or the target stopped answering
}


TRANSPORT_CHECK = "transport failures"  # the implicit threshold's name in reports


@dataclass(frozen=True)
class RunCounts:
    """The numbers a verdict needs, however they were collected (live counters or CSVs)."""

    requests: int
    failures: int
    conformance: int
    transport: int
    harness: int
    p99_ms: float = math.nan

    @property
    def fail_ratio(self) -> float:
        return self.failures / self.requests if self.requests else 0.0


@dataclass(frozen=True)
class Limits:
    max_p99_ms: float | None = None
    max_fail_ratio: float | None = None
    max_conformance_failures: int | None = None

    @classmethod
    def of(cls, options: Any) -> Limits:
        """From parsed options of either command line (``THRESHOLD_OPTIONS`` added them)."""
        return cls(**{o.dest: getattr(options, o.dest, None) for o in THRESHOLD_OPTIONS})


@dataclass(frozen=True)
class ThresholdOption:
    """One threshold flag, defined once for the Locust command line and ``simtim report``."""

    flag: str
    type: Callable[[str], Any]
    help: str

    @property
    def dest(self) -> str:
        return self.flag.lstrip("-").replace("-", "_")


THRESHOLD_OPTIONS: tuple[ThresholdOption, ...] = (  # each flag's dest is a field of Limits
    ThresholdOption("--max-p99-ms", float, "exit 3 when the total p99 response time exceeds this (ms)"),
    ThresholdOption(
        "--max-fail-ratio",
        float,
        "exit 3 when failed requests / requests exceeds this (0..1); without it, any transport "
        "failure (6010) exits 3",
    ),
    ThresholdOption(
        "--max-conformance-failures",
        int,
        "exit 2 only when more conformance mismatches than this were seen (default 0)",
    ),
)


def add_threshold_arguments(parser: Any) -> None:
    """The threshold flags on an argparse (or Locust) parser; ``Limits.of`` reads them back."""
    for option in THRESHOLD_OPTIONS:
        parser.add_argument(option.flag, type=option.type, default=None, help=option.help)


@dataclass(frozen=True)
class ThresholdCheck:
    flag: str  # the command-line flag (the same names for Locust and simtim report)
    limit: float
    actual: float
    passed: bool
    text: str


def threshold_checks(counts: RunCounts, limits: Limits) -> list[ThresholdCheck]:
    """One check per threshold given, plus the implicit zero for transport failures."""
    checks: list[ThresholdCheck] = []
    if limits.max_p99_ms is not None:
        p99 = counts.p99_ms
        ok = not (counts.requests and not math.isnan(p99) and p99 > limits.max_p99_ms)
        checks.append(
            ThresholdCheck(
                "--max-p99-ms",
                limits.max_p99_ms,
                p99,
                ok,
                f"total p99 {_plain(p99)} ms {'<=' if ok else '>'} {_plain(limits.max_p99_ms)} ms",
            )
        )
    if limits.max_fail_ratio is not None:
        ratio = counts.fail_ratio
        ok = ratio <= limits.max_fail_ratio
        checks.append(
            ThresholdCheck(
                "--max-fail-ratio",
                limits.max_fail_ratio,
                ratio,
                ok,
                f"failure ratio {ratio:.4f} {'<=' if ok else '>'} {limits.max_fail_ratio} "
                f"({counts.failures} of {counts.requests} requests)",
            )
        )
    elif target_stopped_answering(counts, limits):
        checks.append(
            ThresholdCheck(
                TRANSPORT_CHECK,
                0,
                counts.transport,
                False,
                f"{counts.transport} transport failures (6010) and no --max-fail-ratio to tolerate them",
            )
        )
    if limits.max_conformance_failures is not None:
        found = counts.conformance
        ok = found <= limits.max_conformance_failures
        checks.append(
            ThresholdCheck(
                "--max-conformance-failures",
                limits.max_conformance_failures,
                found,
                ok,
                f"conformance mismatches {found} {'<=' if ok else '>'} {limits.max_conformance_failures}",
            )
        )
    return checks


def exit_code(counts: RunCounts, limits: Limits) -> ExitCode:
    """The run's exit code; ``threshold_checks`` says why."""
    if counts.harness:
        return ExitCode.HARNESS_ERROR
    if target_stopped_answering(counts, limits):
        return ExitCode.THRESHOLD_MISSED
    if counts.conformance > (limits.max_conformance_failures or 0):
        return ExitCode.CONFORMANCE_FAILED
    if any(not c.passed and c.flag != "--max-conformance-failures" for c in threshold_checks(counts, limits)):
        return ExitCode.THRESHOLD_MISSED
    return ExitCode.OK


def target_stopped_answering(counts: RunCounts, limits: Limits) -> bool:
    """Transport failures nobody tolerated: the implicit zero threshold failed.  It ranks before
    conformance in ``exit_code`` because the evidence gathered while the target is gone is not
    evidence about the target."""
    return counts.transport > 0 and limits.max_fail_ratio is None


def _plain(value: float) -> str:
    if math.isnan(value):
        return "n/a"
    return str(int(value)) if float(value).is_integer() else f"{value:.1f}"
