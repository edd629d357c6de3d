"""``simtim report --compare A B``: per-method deltas between two runs, with a noise floor.

Why a noise floor: this machine (and CI's) is shared and noisy, and Locust rounds percentiles to
two significant digits (11 vs 12 ms is already 9 %).  Measured here: two identical back-to-back
runs (``locustfiles/chat.py``, 10 users, 15 s, embedded server) differed by 25-30 % in the
aggregated p95/p99 and by up to 47 % in one method's p99; counts of rare methods moved by up to
38 %.  A change within ``--noise-floor PCT`` (default 10 %) or within the resolution of the number
(1 ms for latencies, 0.1 percentage point for the failure ratio) is shown as ``~ same``, so only
larger changes stand out; on a busy machine short runs need a higher floor (30-50) or longer runs
to say anything.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from html import escape
from pathlib import Path

from simtim.report.data import MethodStats, load_methods

DEFAULT_NOISE_FLOOR_PCT = 10.0
SAME = "~ same"
#: metric -> (read it, absolute resolution below which a change is noise, higher is worse?)
METRICS: dict[str, tuple[Callable[[MethodStats], float], float, bool | None]] = {
    "count": (lambda m: float(m.count), 0.0, None),
    "median ms": (lambda m: m.median_ms, 1.0, True),
    "p95 ms": (lambda m: m.p95_ms, 1.0, True),
    "p99 ms": (lambda m: m.p99_ms, 1.0, True),
    "fail ratio": (lambda m: m.failure_ratio, 0.001, True),
}


@dataclass(frozen=True)
class Delta:
    metric: str
    a: float | None
    b: float | None
    verdict: str  # "~ same", "+12.5%", "-8.0%", "new", "gone", "only in A", "only in B", "n/a"
    change: str  # "same", "worse", "better", "up", "down" (no better/worse for counts), "missing"

    def cell(self) -> str:
        return f"{_value(self.metric, self.a)} → {_value(self.metric, self.b)} {self.verdict}"


@dataclass(frozen=True)
class MethodComparison:
    type: str
    name: str
    deltas: tuple[Delta, ...]

    @property
    def changed(self) -> bool:
        return any(d.change != "same" for d in self.deltas)


@dataclass
class Comparison:
    a: str
    b: str
    noise_floor_pct: float
    rows: list[MethodComparison] = field(default_factory=list)


def delta(metric: str, a: float | None, b: float | None, noise_floor_pct: float) -> Delta:
    _, resolution, worse_when_higher = METRICS[metric]
    if a is None or b is None:
        return Delta(metric, a, b, "only in B" if a is None else "only in A", "missing")
    if math.isnan(a) or math.isnan(b):
        return Delta(metric, a, b, "n/a", "same")
    diff = b - a
    if abs(diff) <= resolution or (a != 0 and abs(diff) / abs(a) * 100.0 <= noise_floor_pct):
        return Delta(metric, a, b, SAME, "same")
    if worse_when_higher is None:
        change = "up" if diff > 0 else "down"
    else:
        change = "worse" if (diff > 0) == worse_when_higher else "better"
    if a == 0:
        return Delta(metric, a, b, "new", change)
    if b == 0 and metric == "count":
        return Delta(metric, a, b, "gone", change)
    return Delta(metric, a, b, f"{diff / abs(a) * 100.0:+.1f}%", change)


def compare_methods(
    a: Sequence[MethodStats],
    b: Sequence[MethodStats],
    noise_floor_pct: float,
    a_total: MethodStats | None = None,
    b_total: MethodStats | None = None,
) -> list[MethodComparison]:
    by_a = {(m.type, m.name): m for m in a}
    by_b = {(m.type, m.name): m for m in b}
    order = {"TIM": 0, "PUSH": 1}
    keys = sorted(set(by_a) | set(by_b), key=lambda k: (order.get(k[0], 2), k[0], k[1]))
    pairs: list[tuple[str, str, MethodStats | None, MethodStats | None]] = [
        (kind, name, by_a.get((kind, name)), by_b.get((kind, name))) for kind, name in keys
    ]
    if a_total is not None or b_total is not None:
        pairs.append(("", "Aggregated", a_total, b_total))
    rows = []
    for kind, name, ma, mb in pairs:
        deltas = tuple(
            delta(metric, read(ma) if ma else None, read(mb) if mb else None, noise_floor_pct)
            for metric, (read, _, _) in METRICS.items()
        )
        rows.append(MethodComparison(kind, name, deltas))
    return rows


def compare_runs(a: str, b: str, noise_floor_pct: float = DEFAULT_NOISE_FLOOR_PCT) -> Comparison:
    """Raises data.ReportInputError when either run's ``PREFIX_stats.csv`` is missing or bad."""
    a_methods, a_total = load_methods(a)
    b_methods, b_total = load_methods(b)
    return Comparison(
        a, b, noise_floor_pct, compare_methods(a_methods, b_methods, noise_floor_pct, a_total, b_total)
    )


def _value(metric: str, value: float | None) -> str:
    if value is None:
        return "–"
    if math.isnan(value):
        return "n/a"
    if metric == "fail ratio":
        return f"{value:.2%}"
    return f"{value:.0f}" if value >= 10 or value == int(value) else f"{value:.1f}"


def format_table(comparison: Comparison) -> str:
    header = ["type", "name", *METRICS]
    lines = [[row.type, row.name, *(d.cell() for d in row.deltas)] for row in comparison.rows]
    widths = [max(len(str(cells[i])) for cells in [header, *lines]) for i in range(len(header))]
    out = [
        f"compare A={comparison.a} B={comparison.b} (noise floor {comparison.noise_floor_pct:g}%: "
        f"changes within it show as '{SAME}')"
    ]
    for cells in [header, *lines]:
        out.append("  ".join(str(c).ljust(w) for c, w in zip(cells, widths, strict=True)).rstrip())
    changed = sum(1 for row in comparison.rows if row.changed)
    out.append(f"{changed} of {len(comparison.rows)} row(s) changed beyond the noise floor")
    return "\n".join(out)


CSS = """
body{font:14px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;margin:24px;color:#1d2330}
table{border-collapse:collapse}th,td{padding:3px 10px;border-bottom:1px solid #e4e7ec;text-align:left}
th{background:#f0f2f5}td.m{font-variant-numeric:tabular-nums;white-space:nowrap}
.worse{background:#ffebee;color:#b71c1c}.better{background:#e8f5e9;color:#1b5e20}.up,.down{background:#e3f2fd}
.missing{background:#fff8e1}.note{color:#5b6474;font-size:12.5px;max-width:900px}
"""


def render_compare_html(comparison: Comparison) -> str:
    head = "".join(f"<th>{escape(h)}</th>" for h in ("type", "name", *METRICS))
    body = []
    for row in comparison.rows:
        cells = "".join(f'<td class="m {d.change}">{escape(d.cell())}</td>' for d in row.deltas)
        body.append(f"<tr><td>{escape(row.type)}</td><td>{escape(row.name)}</td>{cells}</tr>")
    title = f"simtim compare: {comparison.a} → {comparison.b}"
    return (
        '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
        f"<title>{escape(title)}</title><style>{CSS}</style></head><body>"
        f"<h1>{escape(title)}</h1>"
        f'<section id="compare"><table><thead><tr>{head}</tr></thead><tbody>{"".join(body)}</tbody></table>'
        f'<p class="note">Each cell: A → B and the change. Noise floor {comparison.noise_floor_pct:g}%: '
        f"a change within it (or within the resolution of the number: 1 ms for latencies, 0.1 percentage "
        f"point for the failure ratio) shows as &quot;{escape(SAME)}&quot;. This machine is shared and noisy: "
        "two identical back-to-back 15 s runs differed by 25-30 % in aggregated p95/p99 and by up to 47 % in "
        "one method's p99, and Locust rounds percentiles to two significant digits; raise the floor or run "
        "longer before reading much into a change. Red = worse, green = better, blue = count up/down, "
        "yellow = method in one run only.</p></section></body></html>\n"
    )


def compare_path(b: str) -> Path:
    return Path(f"{b}_compare.html")
