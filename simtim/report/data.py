"""Load one run's CSVs (Locust's and simtim's) with pandas and derive the report's numbers.

Inputs for ``PREFIX`` (DESIGN "Reports"):

- Locust: ``PREFIX_stats.csv`` (per name + an ``Aggregated`` row), ``PREFIX_stats_history.csv``
  (one ``Aggregated`` row per second; per-name rows too with ``--csv-full-history``; its
  percentiles are the *current window's*, its ``Total ...`` columns cumulative),
  ``PREFIX_failures.csv`` and ``PREFIX_exceptions.csv`` (optional here).
- simtim (``simtim/load/results.py``): ``PREFIX_conformance.csv`` (one row per recorded failure,
  ``kind`` = conformance / transport / harness) and ``PREFIX_delivery.csv`` (per second:
  sent/expected/delivered/lost/late/duplicated/reordered, E2E percentiles, histogram bins
  ``e2e_le_<bound>ms`` ... ``e2e_gt_max``).

Locust's final write of ``PREFIX_stats.csv`` can miss the last flush, so the run totals come from
whichever of the stats ``Aggregated`` row and the history's last ``Aggregated`` row counted more
requests; ``Totals.source`` says which one was used.
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from simtim.rules import RULE_IDS
from simtim.runfiles import (
    CONFORMANCE_COLUMNS,
    DELIVERY_COUNTS,
    EVIDENCE_COLUMNS,
    FAULT_COUNTS,
    OPTIONAL_CONFORMANCE_COLUMNS,
    FailureCategory,
)
from simtim.verdict import Limits, RunCounts, ThresholdCheck, threshold_checks
from simtim.verdict import exit_code as verdict_exit_code

CONFORMANCE_KINDS = tuple(FailureCategory)
STATS_COLUMNS = (
    "Type",
    "Name",
    "Request Count",
    "Failure Count",
    "Median Response Time",
    "Average Response Time",
    "Requests/s",
    "95%",
    "99%",
)
HISTORY_COLUMNS = (
    "Timestamp",
    "User Count",
    "Type",
    "Name",
    "Requests/s",
    "Failures/s",
    "50%",
    "95%",
    "99%",
    "Total Request Count",
    "Total Failure Count",
)
_BIN_COLUMN = re.compile(r"^e2e_le_(\d+(?:\.\d+)?)ms$")
OVERFLOW_COLUMN = "e2e_gt_max"
OUTAGE_GAP_S = 3.0  # transport failures closer than this are one outage (users retry every second)

#: role -> (file suffix, required)
INPUTS: dict[str, tuple[str, bool]] = {
    "stats": ("_stats.csv", True),
    "stats_history": ("_stats_history.csv", True),
    "failures": ("_failures.csv", False),
    "exceptions": ("_exceptions.csv", False),
    "conformance": ("_conformance.csv", True),
    "delivery": ("_delivery.csv", True),
    "evidence": ("_evidence.csv", False),  # per-rule check counts (runs before it existed lack it)
}


class ReportInputError(Exception):
    """An input file is missing or unreadable; the message names it."""

    def __init__(self, path: Path, reason: str) -> None:
        super().__init__(f"{path}: {reason}")
        self.path = path
        self.reason = reason


@dataclass(frozen=True)
class FileInfo:
    role: str
    path: Path
    rows: int | None  # None: absent (optional files only)


@dataclass(frozen=True)
class MethodStats:
    type: str
    name: str
    count: int
    failures: int
    median_ms: float
    p95_ms: float
    p99_ms: float
    avg_ms: float
    rps: float

    @property
    def failure_ratio(self) -> float:
        return self.failures / self.count if self.count else 0.0


@dataclass(frozen=True)
class Totals:
    requests: int
    failures: int
    source: str  # the input role whose count was used: "stats" or "stats_history"
    stats_requests: int
    history_requests: int
    p50_ms: float  # from the stats Aggregated row (the history's percentiles are per window)
    p95_ms: float
    p99_ms: float
    avg_ms: float

    @property
    def fail_ratio(self) -> float:
        return self.failures / self.requests if self.requests else 0.0


@dataclass(frozen=True)
class E2ESummary:
    labels: list[str]  # one per bin, in ms: "≤1", ..., ">5000"
    counts: list[int]
    p50_ms: float | None  # estimated from the bins (linear within a bin)
    p95_ms: float | None
    p99_ms: float | None
    max_ms: float | None  # exact: the largest per-second max

    @property
    def total(self) -> int:
        return sum(self.counts)


Point = tuple[float, float]


@dataclass(frozen=True)
class RuleChecks:
    """One row of ``PREFIX_evidence.csv``: the checks a rule rests on in this run."""

    checks: int
    failed: int
    skipped: str = ""
    unsupported: str = ""

    @property
    def reason(self) -> str:
        """Why a rule has no checks (as the load harness recorded it)."""
        return self.unsupported or self.skipped or "not exercised by this load mix"


@dataclass
class RunData:
    prefix: str
    files: list[FileInfo]
    stats: pd.DataFrame
    history: pd.DataFrame  # Aggregated rows only, in time order
    conformance: pd.DataFrame
    delivery: pd.DataFrame
    failures: pd.DataFrame = field(default_factory=pd.DataFrame)
    exceptions: int = 0
    methods: list[MethodStats] = field(default_factory=list)
    aggregated: MethodStats | None = None
    totals: Totals | None = None
    evidence: dict[str, RuleChecks] | None = None  # None: the run left no PREFIX_evidence.csv

    # --- run metadata ---------------------------------------------------------------------------
    @property
    def start(self) -> float | None:
        return _first_float(self.history["Timestamp"]) if len(self.history) else None

    @property
    def end(self) -> float | None:
        return _first_float(self.history["Timestamp"].iloc[::-1]) if len(self.history) else None

    @property
    def duration_s(self) -> float:
        return (self.end or 0.0) - (self.start or 0.0)

    @property
    def users(self) -> int:
        if not len(self.history):
            return 0
        peak = self.history["User Count"].max()
        return 0 if pd.isna(peak) else int(peak)

    # --- time series (x = seconds since the run's first history row) ---------------------------
    def history_series(self, column: str) -> list[Point]:
        return _series(self.history, "Timestamp", column, self.start)

    def latency_series(self, column: str) -> list[Point]:
        """A percentile column of the history; rows whose 50/95/99% are all 0 (empty window) are gaps."""
        empty = (self.history[["50%", "95%", "99%"]].fillna(0) == 0).all(axis=1)
        return _series(
            self.history.assign(**{column: self.history[column].mask(empty)}), "Timestamp", column, self.start
        )

    def delivery_series(self, column: str) -> list[Point]:
        origin = self.start if self.start is not None else _first_float(self.delivery["timestamp"])
        return _series(self.delivery, "timestamp", column, origin)

    def transport_series(self) -> list[Point]:
        """Transport failures (6010) per second of the run, from the conformance CSV's rows."""
        rows = self.conformance[self.conformance["kind"] == FailureCategory.TRANSPORT]
        seconds = pd.to_numeric(rows["timestamp"], errors="coerce").dropna().astype(float).floordiv(1)
        counts = {int(float(str(s))): int(n) for s, n in seconds.value_counts().items()}
        timeline = pd.to_numeric(self.delivery["timestamp"], errors="coerce").dropna().astype(int).tolist()
        origin = self.start or 0.0
        # every second of the run, 0 where nothing failed: separate outages stay separate on the chart
        return [(second - origin, float(counts.get(second, 0))) for second in sorted({*timeline, *counts})]

    def outages(self, gap: float = OUTAGE_GAP_S) -> list[Outage]:
        """Spans of transport failures (a target that went away): failures less than ``gap`` s
        apart belong to one outage. Times are seconds since the run's start."""
        rows = self.conformance[self.conformance["kind"] == FailureCategory.TRANSPORT]
        times = sorted(pd.to_numeric(rows["timestamp"], errors="coerce").dropna().astype(float))
        origin = self.start or 0.0
        spans: list[Outage] = []
        for at in times:
            if spans and at - spans[-1].last <= gap:
                spans[-1].last = at
                spans[-1].failures += 1
            else:
                spans.append(Outage(at, at, 1))
        return [Outage(o.first - origin, o.last - origin, o.failures) for o in spans]

    def fault_totals(self) -> dict[str, int]:
        """Cuts, reconnects and NET-1 replay counts (0 for runs written before the columns)."""
        return {name: int(self.delivery[name].sum()) if name in self.delivery else 0 for name in FAULT_COUNTS}

    # --- delivery and E2E -----------------------------------------------------------------------
    def delivery_totals(self) -> dict[str, int]:
        return {name: int(self.delivery[name].sum()) for name in DELIVERY_COUNTS}

    def e2e(self) -> E2ESummary:
        bounds = histogram_bounds(list(self.delivery.columns))
        columns = [f"e2e_le_{_fmt_bound(b)}ms" for b in bounds] + [OVERFLOW_COLUMN]
        counts = [int(self.delivery[c].sum()) if c in self.delivery else 0 for c in columns]
        maximum = self.delivery["e2e_max_ms"].max() if "e2e_max_ms" in self.delivery else float("nan")
        max_ms = None if pd.isna(maximum) else float(maximum)
        labels = [f"≤{_fmt_bound(b)}" for b in bounds] + [f">{_fmt_bound(bounds[-1])}" if bounds else "all"]
        p50, p95, p99 = (estimate_percentile(bounds, counts, f, max_ms) for f in (0.5, 0.95, 0.99))
        return E2ESummary(labels, counts, p50, p95, p99, max_ms)

    # --- conformance ----------------------------------------------------------------------------
    def categories(self) -> dict[str, int]:
        """Rows per failure category (the ``kind`` column): the three known ones first, always."""
        counts: dict[str, int] = {str(kind): 0 for kind in CONFORMANCE_KINDS}
        for kind, number in self.conformance["kind"].value_counts(sort=False).items():
            counts[str(kind) or "(empty)"] = counts.get(str(kind) or "(empty)", 0) + int(number)
        return counts

    def conformance_rows(self) -> pd.DataFrame:
        return self.conformance[self.conformance["kind"] == FailureCategory.CONFORMANCE]

    def rule_counts(self) -> dict[str, int]:
        """Conformance mismatches per SPEC rule, every RULE_ID present (0 when none)."""
        counts = {rule: 0 for rule in RULE_IDS}
        for rule, number in self.conformance_rows()["rule"].value_counts(sort=False).items():
            if rule in counts:
                counts[str(rule)] = int(number)
        return counts

    def unattributed(self) -> int:
        """Conformance mismatches whose rule is not a known SPEC rule ID (or empty)."""
        return int((~self.conformance_rows()["rule"].isin(RULE_IDS)).sum())

    @property
    def conformance_mismatches(self) -> int:
        return len(self.conformance_rows())

    def first_transport_failure(self) -> tuple[float, str] | None:
        """When the target stopped answering: the first transport failure's time and detail (None:
        every call got an answer). A killed server shows as the moment its failures begin."""
        rows = self.conformance[self.conformance["kind"] == FailureCategory.TRANSPORT]
        if not len(rows):
            return None
        first = rows.iloc[
            int(pd.to_numeric(rows["timestamp"], errors="coerce").fillna(float("inf")).argmin())
        ]
        return float(first["timestamp"]), str(first.get("actual", "") or first.get("path", ""))

    @property
    def harness_errors(self) -> int:
        return int((self.conformance["kind"] == FailureCategory.HARNESS).sum()) + self.exceptions


# --- loading ---------------------------------------------------------------------------------------
def input_paths(prefix: str) -> dict[str, Path]:
    return {role: Path(f"{prefix}{suffix}") for role, (suffix, _) in INPUTS.items()}


@dataclass
class Outage:
    first: float
    last: float
    failures: int


def load_run(prefix: str) -> RunData:
    """Read every input of ``prefix``; raises ReportInputError naming the first missing/bad file."""
    paths = input_paths(prefix)
    frames: dict[str, pd.DataFrame | None] = {}
    for role, (_, required) in INPUTS.items():
        path = paths[role]
        if not path.is_file():
            if required:
                raise ReportInputError(path, "missing" if not path.exists() else "not a regular file")
            frames[role] = None
            continue
        frames[role] = read_csv(path)
    stats = _stats_frame(_need(frames["stats"], paths["stats"], STATS_COLUMNS), paths["stats"])
    history_all = _history_frame(_need(frames["stats_history"], paths["stats_history"], HISTORY_COLUMNS))
    conformance = _need(
        frames["conformance"],
        paths["conformance"],
        tuple(c for c in CONFORMANCE_COLUMNS if c not in OPTIONAL_CONFORMANCE_COLUMNS),
    )
    for column in OPTIONAL_CONFORMANCE_COLUMNS - set(conformance.columns):
        conformance[column] = ""  # a file written before the column existed
    conformance = conformance.astype(str)
    delivery = _numeric(_need(frames["delivery"], paths["delivery"], ("timestamp", *DELIVERY_COUNTS)))
    delivery = delivery.sort_values("timestamp", kind="stable").reset_index(drop=True)
    history = history_all[(history_all["Name"] == "Aggregated") & (history_all["Type"] == "")]
    history = history.sort_values("Timestamp", kind="stable").reset_index(drop=True)
    failures = frames["failures"] if frames["failures"] is not None else pd.DataFrame()
    exceptions_frame = frames["exceptions"]
    exceptions = 0
    if exceptions_frame is not None and "Count" in exceptions_frame:
        exceptions = int(pd.to_numeric(exceptions_frame["Count"], errors="coerce").fillna(0).sum())
    run = RunData(
        prefix=prefix,
        stats=stats,
        history=history,
        conformance=conformance,
        delivery=delivery,
        failures=failures,
        exceptions=exceptions,
        files=[
            FileInfo(role, paths[role], None if frames[role] is None else len(_df(frames[role])))
            for role in INPUTS
        ],
    )
    if frames["evidence"] is not None:
        run.evidence = _evidence(_need(frames["evidence"], paths["evidence"], EVIDENCE_COLUMNS))
    run.methods = [_method(row) for row in _records(stats[stats["Name"] != "Aggregated"])]
    aggregated_rows = _records(stats[(stats["Name"] == "Aggregated") & (stats["Type"] == "")])
    run.aggregated = _method(aggregated_rows[-1]) if aggregated_rows else None
    run.totals = _totals(run.aggregated, history)
    return run


def _evidence(frame: pd.DataFrame) -> dict[str, RuleChecks]:
    out: dict[str, RuleChecks] = {}
    numbers = _numeric(frame[["checks", "failed"]])
    for row, counts in zip(_records(frame), _records(numbers), strict=True):
        out[str(row["rule"])] = RuleChecks(
            _count(counts["checks"]), _count(counts["failed"]), str(row["skipped"]), str(row["unsupported"])
        )
    return out


def load_methods(prefix: str) -> tuple[list[MethodStats], MethodStats | None]:
    """Only ``PREFIX_stats.csv``: the per-method rows and the Aggregated row (for ``--compare``)."""
    path = input_paths(prefix)["stats"]
    if not path.is_file():
        raise ReportInputError(path, "missing" if not path.exists() else "not a regular file")
    stats = _stats_frame(_need(read_csv(path), path, STATS_COLUMNS), path)
    aggregated = _records(stats[(stats["Name"] == "Aggregated") & (stats["Type"] == "")])
    return (
        [_method(row) for row in _records(stats[stats["Name"] != "Aggregated"])],
        _method(aggregated[-1]) if aggregated else None,
    )


def read_csv(path: Path) -> pd.DataFrame:
    """A CSV as strings ("" for empty cells); unreadable or empty files raise ReportInputError."""
    try:
        frame = pd.read_csv(path, dtype=str, keep_default_na=False, encoding="utf-8")
    except pd.errors.EmptyDataError:
        raise ReportInputError(path, "empty (not even a header row)") from None
    except (OSError, UnicodeDecodeError, pd.errors.ParserError) as exc:
        raise ReportInputError(path, f"unreadable ({exc})") from None
    return frame


def _need(frame: pd.DataFrame | None, path: Path, columns: Sequence[str]) -> pd.DataFrame:
    got = _df(frame)
    missing = [c for c in columns if c not in got.columns]
    if missing:
        raise ReportInputError(path, f"not the expected format: missing column(s) {', '.join(missing)}")
    return got


def _df(frame: pd.DataFrame | None) -> pd.DataFrame:
    assert frame is not None
    return frame


def _numeric(frame: pd.DataFrame, keep: Sequence[str] = ()) -> pd.DataFrame:
    out = frame.copy()
    for column in out.columns:
        if column not in keep:
            out[column] = pd.to_numeric(out[column], errors="coerce")  # "N/A", "" -> NaN
    return out


def _stats_frame(frame: pd.DataFrame, path: Path) -> pd.DataFrame:
    out = _numeric(frame, keep=("Type", "Name"))
    if out["Request Count"].isna().any():
        raise ReportInputError(path, "not the expected format: a non-numeric Request Count")
    return out


def _history_frame(frame: pd.DataFrame) -> pd.DataFrame:
    return _numeric(frame, keep=("Type", "Name"))


def _records(frame: pd.DataFrame) -> list[dict[str, object]]:
    return [{str(k): v for k, v in row.items()} for row in frame.to_dict(orient="records")]


def _num(value: object) -> float:
    if value is None or isinstance(value, str):
        return math.nan
    try:
        return float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return math.nan


def _count(value: object) -> int:
    number = _num(value)
    return 0 if math.isnan(number) else int(number)


def _method(row: dict[str, object]) -> MethodStats:
    return MethodStats(
        type=str(row["Type"]),
        name=str(row["Name"]),
        count=_count(row["Request Count"]),
        failures=_count(row["Failure Count"]),
        median_ms=_num(row["Median Response Time"]),
        p95_ms=_num(row["95%"]),
        p99_ms=_num(row["99%"]),
        avg_ms=_num(row["Average Response Time"]),
        rps=_num(row["Requests/s"]),
    )


def _totals(aggregated: MethodStats | None, history: pd.DataFrame) -> Totals:
    stats_requests = aggregated.count if aggregated else 0
    stats_failures = aggregated.failures if aggregated else 0
    history_requests = history_failures = 0
    if len(history):
        last = history.iloc[-1]
        history_requests = _count(last["Total Request Count"])
        history_failures = _count(last["Total Failure Count"])
    use_history = history_requests > stats_requests or aggregated is None
    nan = math.nan
    return Totals(
        requests=history_requests if use_history else stats_requests,
        failures=history_failures if use_history else stats_failures,
        source="stats_history" if use_history else "stats",
        stats_requests=stats_requests,
        history_requests=history_requests,
        p50_ms=aggregated.median_ms if aggregated else nan,
        p95_ms=aggregated.p95_ms if aggregated else nan,
        p99_ms=aggregated.p99_ms if aggregated else nan,
        avg_ms=aggregated.avg_ms if aggregated else nan,
    )


def _first_float(column: pd.Series) -> float | None:
    values = pd.to_numeric(column, errors="coerce").dropna()
    return float(values.iloc[0]) if len(values) else None


def _series(frame: pd.DataFrame, x: str, y: str, origin: float | None) -> list[Point]:
    if y not in frame or not len(frame):
        return []
    base = origin or 0.0
    xs = pd.to_numeric(frame[x], errors="coerce")
    ys = pd.to_numeric(frame[y], errors="coerce")
    return [(float(a) - base, float(b)) for a, b in zip(xs, ys, strict=True) if not pd.isna(a)]


# --- E2E histogram -----------------------------------------------------------------------------------
def histogram_bounds(columns: Sequence[str]) -> list[float]:
    """The upper bounds (ms) of the ``e2e_le_<bound>ms`` columns, ascending."""
    return sorted(float(m.group(1)) for c in columns if (m := _BIN_COLUMN.match(c)))


def _fmt_bound(bound: float) -> str:
    return str(int(bound)) if float(bound).is_integer() else str(bound)


def estimate_percentile(
    bounds: Sequence[float], counts: Sequence[int], fraction: float, max_ms: float | None = None
) -> float | None:
    """A percentile from histogram bins, linear within the bin that holds it.

    ``counts`` has one more entry than ``bounds`` (the overflow bin); bins are ``(0, b0]``,
    ``(b0, b1]``, ..., ``(b_last, max_ms]``.  None when there are no samples.
    """
    total = sum(counts)
    if total <= 0:
        return None
    top = max(max_ms if max_ms is not None and not math.isnan(max_ms) else 0.0, bounds[-1] if bounds else 0.0)
    edges = [0.0, *bounds, top]
    target = fraction * total
    cumulative = 0
    for index, count in enumerate(counts):
        if count and cumulative + count >= target:
            low, high = edges[index], edges[index + 1]
            return low + (high - low) * (target - cumulative) / count
        cumulative += count
    return edges[-1]


# --- thresholds and the exit code (decided in simtim.verdict, shared with the Locust harness) -------
def run_counts(run: RunData) -> RunCounts:
    totals = run.totals
    assert totals is not None
    categories = run.categories()
    return RunCounts(
        requests=totals.requests,
        failures=totals.failures,
        conformance=categories[FailureCategory.CONFORMANCE],
        transport=categories[FailureCategory.TRANSPORT],
        harness=run.harness_errors,
        p99_ms=totals.p99_ms,
    )


def check_thresholds(run: RunData, limits: Limits | None = None) -> list[ThresholdCheck]:
    """One check per threshold given, plus the implicit one for transport failures."""
    return threshold_checks(run_counts(run), limits or Limits())


def exit_code(run: RunData, limits: Limits) -> int:
    """As simtim's Locust harness decides it (the same function: ``simtim.verdict.exit_code``)."""
    return int(verdict_exit_code(run_counts(run), limits))
