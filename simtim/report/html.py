"""``PREFIX_report.html``: one self-contained page (inline CSS, inline SVG, a few lines of inline script).

Sections carry stable ids (``SECTION_IDS``) that tests and links rely on.  Nothing on the page
refers to anything outside it: no stylesheet, script, font or image is fetched.
"""

from __future__ import annotations

import contextlib
import math
from collections import defaultdict
from collections.abc import Iterable, Sequence
from datetime import UTC, datetime
from html import escape

from simtim.report.data import OUTAGE_GAP_S, MethodStats, RunData
from simtim.report.svg import bar_chart, line_chart
from simtim.rules import RULE_IDS, area
from simtim.runfiles import CONFORMANCE_COLUMNS, DELIVERY_COUNTS
from simtim.verdict import VERDICTS, ThresholdCheck

SECTION_IDS = (
    "run-metadata",
    "throughput",
    "latency",
    "methods",
    "e2e",
    "delivery",
    "faults",
    "conformance",
    "mismatches",
)
MISMATCH_ROWS = 500

CSS = """
body{font:14px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;margin:0;color:#1d2330;background:#f5f6f8}
header{background:#1d2330;color:#fff;padding:14px 24px}header h1{margin:0;font-size:20px}
nav a{color:#cfd8ff;margin-right:14px;text-decoration:none;font-size:13px}
main{padding:8px 24px 40px;max-width:1200px}
section{background:#fff;border:1px solid #dde1e8;border-radius:6px;margin:16px 0;padding:8px 18px 16px}
h2{font-size:17px;margin:10px 0}h3{font-size:14px;margin:14px 0 6px}
table{border-collapse:collapse;margin:6px 0}th,td{padding:3px 9px;border-bottom:1px solid #e4e7ec;text-align:left;
vertical-align:top}th{background:#f0f2f5;font-weight:600}td.n,th.n{text-align:right;font-variant-numeric:tabular-nums}
table.sortable th{cursor:pointer}.note{color:#5b6474;font-size:12.5px}
.badge{display:inline-block;padding:2px 10px;border-radius:10px;font-weight:600;margin-left:10px;font-size:13px}
.v0{background:#2e7d32;color:#fff}.v1{background:#6a1b9a;color:#fff}.v2{background:#c62828;color:#fff}
.v3{background:#ef6c00;color:#fff}.ok{background:#e8f5e9}.bad{background:#ffebee;color:#b71c1c}.skip{background:#f1f1f1;color:#616161}
.pass{color:#2e7d32;font-weight:600}.fail{color:#c62828;font-weight:600}
.matrix td{font-size:12px;min-width:74px;border:1px solid #fff}.matrix td b{display:block}
.mismatches td{font-size:12px}.mismatches td:nth-child(-n+5){white-space:nowrap}
.mismatches code{white-space:pre-wrap;overflow-wrap:anywhere}
svg.chart{display:block;max-width:100%;height:auto;background:#fff}
svg .axis{stroke:#555}svg .grid{stroke:#e8e8e8}svg .tick,svg .legend{font-size:11px;fill:#444}
svg .axis-label{font-size:12px;fill:#333}svg .chart-title{font-size:13px;font-weight:600;fill:#1d2330}
svg .no-data{font-size:16px;fill:#999}svg .bar-value{font-size:10px;fill:#333}
"""

SCRIPT = """
document.querySelectorAll("table.sortable th").forEach(function (th) {
  th.addEventListener("click", function () {
    var body = th.closest("table").tBodies[0], i = Array.prototype.indexOf.call(th.parentNode.children, th);
    var asc = th.getAttribute("data-dir") !== "asc";
    th.setAttribute("data-dir", asc ? "asc" : "desc");
    Array.prototype.slice.call(body.rows).sort(function (a, b) {
      var x = a.cells[i].textContent, y = b.cells[i].textContent, nx = parseFloat(x), ny = parseFloat(y);
      var c = (!isNaN(nx) && !isNaN(ny)) ? nx - ny : x.localeCompare(y);
      return asc ? c : -c;
    }).forEach(function (row) { body.appendChild(row); });
  });
});
"""


# --- small formatting helpers ------------------------------------------------------------------------
def ms(value: float | None) -> str:
    if value is None or math.isnan(value):
        return "–"
    return f"{value:.0f}" if value >= 10 else f"{value:.1f}"


def when(epoch: float | None) -> str:
    if epoch is None:
        return "–"
    return datetime.fromtimestamp(epoch, tz=UTC).strftime("%Y-%m-%d %H:%M:%S UTC")


def table(
    headers: Sequence[str],
    rows: Iterable[Sequence[str]],
    *,
    numeric: Sequence[int] = (),
    cls: str = "",
    escaped: bool = False,
) -> str:
    """A table; cells are escaped unless ``escaped`` says they already are markup."""
    head = (
        "".join(
            f'<th class="n">{escape(h)}</th>' if i in numeric else f"<th>{escape(h)}</th>"
            for i, h in enumerate(headers)
        )
        if any(headers)
        else ""
    )
    body = []
    for row in rows:
        cells = "".join(
            f"<td{' class=n' if i in numeric else ''}>{cell if escaped else escape(cell)}</td>"
            for i, cell in enumerate(row)
        )
        body.append(f"<tr>{cells}</tr>")
    attr = f' class="{cls}"' if cls else ""
    thead = f"<thead><tr>{head}</tr></thead>" if head else ""
    return f"<table{attr}>{thead}<tbody>{''.join(body)}</tbody></table>"


def section(section_id: str, title: str, *content: str) -> str:
    return f'<section id="{section_id}"><h2>{escape(title)}</h2>{"".join(content)}</section>'


def note(text: str) -> str:
    return f'<p class="note">{escape(text)}</p>'


# --- sections ----------------------------------------------------------------------------------------
def _metadata(run: RunData, checks: Sequence[ThresholdCheck], code: int) -> str:
    totals = run.totals
    assert totals is not None
    if totals.source == "stats_history":
        source = (
            f"Totals from the last Aggregated row of {run.prefix}_stats_history.csv "
            f"({totals.history_requests} requests): the Aggregated row of {run.prefix}_stats.csv counted "
            f"{totals.stats_requests}, so Locust's final stats write missed the last flush."
        )
    else:
        source = (
            f"Totals from the Aggregated row of {run.prefix}_stats.csv ({totals.stats_requests} requests; "
            f"the last history row counted {totals.history_requests})."
        )
    rows = [
        ("prefix", run.prefix),
        ("start", when(run.start)),
        ("end", when(run.end)),
        ("duration", f"{run.duration_s:.0f} s"),
        ("peak users", str(run.users)),
        ("requests", str(totals.requests)),
        ("failures", str(totals.failures)),
        ("failure ratio", f"{totals.fail_ratio:.4%}"),
        (
            "response time p50 / p95 / p99 / avg (ms)",
            " / ".join(ms(v) for v in (totals.p50_ms, totals.p95_ms, totals.p99_ms, totals.avg_ms)),
        ),
        ("conformance mismatches", str(run.conformance_mismatches)),
        ("Locust exceptions", str(run.exceptions)),
        ("exit code", f"{code} ({VERDICTS.get(code, '?')})"),
    ]
    parts = [table(("", ""), rows), f'<p id="totals-source">{escape(source)}</p>']
    if checks:
        parts.append("<h3>Thresholds</h3>")
        parts.append(
            table(
                ("flag", "limit", "actual", "result"),
                [
                    (
                        escape(c.flag),
                        escape(f"{c.limit:g}"),
                        escape(f"{c.actual:.4g}"),
                        f'<span class="{"pass" if c.passed else "fail"}">'
                        f"{'met' if c.passed else 'missed'}</span>: {escape(c.text)}",
                    )
                    for c in checks
                ],
                escaped=True,
            )
        )
    parts.append("<h3>Files used</h3>")
    parts.append(
        table(
            ("input", "file", "rows"),
            [
                (f.role, str(f.path), "absent (optional)" if f.rows is None else str(f.rows))
                for f in run.files
            ],
            numeric=(2,),
        )
    )
    return section("run-metadata", "Run metadata", *parts)


def _x_range(run: RunData) -> tuple[float, float] | None:
    """The run's span in seconds since start, shared by the time charts so they line up."""
    seconds = [x for x, _ in run.delivery_series("sent")]
    start, end = min([0.0, *seconds]), max([run.duration_s, *seconds])
    return (start, end) if end > start else None


def _throughput(run: RunData) -> str:
    chart = line_chart(
        [("requests/s", run.history_series("Requests/s")), ("failures/s", run.history_series("Failures/s"))],
        title="Throughput (all requests and pushes)",
        x_label="seconds since start",
        y_label="per second",
        chart_id="chart-throughput",
        x_range=_x_range(run),
    )
    return section(
        "throughput",
        "Throughput",
        chart,
        note(f"From {run.prefix}_stats_history.csv, Aggregated rows (Locust's rolling rate)."),
    )


def _latency(run: RunData) -> str:
    chart = line_chart(
        [
            (label, run.latency_series(column))
            for label, column in (("p50", "50%"), ("p95", "95%"), ("p99", "99%"))
        ],
        title="Response time percentiles over time",
        x_label="seconds since start",
        y_label="ms",
        chart_id="chart-latency",
        x_range=_x_range(run),
    )
    return section(
        "latency",
        "Latency",
        chart,
        note(
            "Locust's current-window percentiles per history row (rows where all three are 0, an empty "
            "window, are left out); PUSH rows count E2E latency."
        ),
    )


def _method_rows(methods: Sequence[MethodStats]) -> list[tuple[str, ...]]:
    return [
        (
            m.name,
            str(m.count),
            str(m.failures),
            f"{m.failure_ratio:.2%}",
            ms(m.median_ms),
            ms(m.p95_ms),
            ms(m.p99_ms),
            ms(m.avg_ms),
            f"{m.rps:.1f}",
        )
        for m in sorted(methods, key=lambda m: -m.count)
    ]


def _methods(run: RunData) -> str:
    headers = ("method", "count", "failures", "fail %", "median ms", "p95 ms", "p99 ms", "avg ms", "per s")
    groups: dict[str, list[MethodStats]] = defaultdict(list)
    for method in run.methods:
        groups[method.type].append(method)
    parts = []
    titles = {"TIM": "TIM calls (response time)", "PUSH": "PUSH events (E2E latency: send to delivery)"}
    for kind in ["TIM", "PUSH", *sorted(k for k in groups if k not in ("TIM", "PUSH"))]:
        methods = groups.get(kind, [])
        parts.append(
            f'<h3 id="methods-{escape(kind.lower() or "other")}">{escape(titles.get(kind, kind))}</h3>'
        )
        parts.append(
            table(headers, _method_rows(methods), numeric=range(1, 9), cls="sortable")
            if methods
            else note("none")
        )
    if run.aggregated is not None:
        parts.append("<h3>All</h3>")
        parts.append(table(headers, _method_rows([run.aggregated]), numeric=range(1, 9)))
    parts.append(
        note(
            f"From {run.prefix}_stats.csv (Locust rounds percentiles to 2 significant digits); "
            "click a column to sort."
        )
    )
    if len(run.failures):
        columns = [c for c in ("Method", "Name", "Error", "Occurrences") if c in run.failures.columns]
        rows = [tuple(str(v) for v in row) for row in run.failures[columns].head(50).itertuples(index=False)]
        parts.append(f"<h3>Locust failures ({len(run.failures)} distinct)</h3>")
        parts.append(table(columns, rows, numeric=(3,) if "Occurrences" in columns else ()))
    return section("methods", "Per method", *parts)


def _e2e(run: RunData) -> str:
    summary = run.e2e()
    histogram = bar_chart(
        summary.labels,
        summary.counts,
        title="E2E latency histogram (messages delivered)",
        x_label="end-to-end latency bin (ms)",
        y_label="messages",
        chart_id="chart-e2e-histogram",
    )
    rows = [
        ("estimated p50", ms(summary.p50_ms)),
        ("estimated p95", ms(summary.p95_ms)),
        ("estimated p99", ms(summary.p99_ms)),
        ("max (exact)", ms(summary.max_ms)),
        ("samples", str(summary.total)),
    ]
    over_time = line_chart(
        [("p50", run.delivery_series("e2e_p50_ms")), ("p99", run.delivery_series("e2e_p99_ms"))],
        title="E2E latency per second",
        x_label="seconds since start",
        y_label="ms",
        chart_id="chart-e2e-time",
        x_range=_x_range(run),
    )
    return section(
        "e2e",
        "End-to-end latency",
        histogram,
        table(("overall", "ms"), rows, numeric=(1,)),
        note(
            "Overall percentiles are estimated from the histogram bins of "
            f"{run.prefix}_delivery.csv (linear within a bin); per-second values are exact."
        ),
        over_time,
    )


def _delivery(run: RunData) -> str:
    totals = run.delivery_totals()
    ratio = totals["delivered"] / totals["expected"] if totals["expected"] else float("nan")
    rows = [(name, str(totals[name])) for name in DELIVERY_COUNTS]
    rows.append(("delivered / expected", "–" if math.isnan(ratio) else f"{ratio:.4%}"))
    chart = line_chart(
        [(name, run.delivery_series(name)) for name in ("sent", "delivered", "lost", "duplicated")],
        title="Messages per second",
        x_label="seconds since start",
        y_label="messages",
        chart_id="chart-delivery",
        x_range=_x_range(run),
    )
    return section(
        "delivery",
        "Delivery",
        table(("", "total"), rows, numeric=(1,)),
        chart,
        note(
            "sent = messages accepted; expected = deliveries the model expected (one per receiving "
            "online instance); late = arrived after --event-deadline."
        ),
    )


def _faults(run: RunData) -> str:
    """Connections cut and re-opened (NET-1), and outages of the target, on the run's timeline."""
    totals = run.fault_totals()
    outages = run.outages()
    chart = line_chart(
        [
            ("cuts", run.delivery_series("cuts")),
            ("reconnects", run.delivery_series("reconnects")),
            ("transport failures", run.transport_series()),
        ],
        title="Connections per second",
        x_label="seconds since start",
        y_label="per second",
        chart_id="chart-faults",
        x_range=_x_range(run),
    )
    replay_chart = line_chart(
        [
            ("replayed", run.delivery_series("replay_expected")),
            ("replay lost", run.delivery_series("replay_lost")),
            ("replay duplicated", run.delivery_series("replay_duplicated")),
        ],
        title="NET-1 replays per second",
        x_label="seconds since start",
        y_label="messages",
        chart_id="chart-replay",
        x_range=_x_range(run),
    )
    rows = [(name.replace("_", " "), str(totals[name])) for name in totals]
    gap_rows = [
        (f"{o.first:.1f}", f"{o.last:.1f}", f"{o.last - o.first:.1f}", str(o.failures)) for o in outages
    ]
    gaps = (
        table(("from s", "to s", "lasted s", "transport failures"), gap_rows, numeric=(0, 1, 2, 3))
        if gap_rows
        else note("No outage: no transport failure (6010) was recorded.")
    )
    return section(
        "faults",
        "Faults",
        table(("", "total"), rows, numeric=(1,)),
        chart,
        replay_chart,
        "<h3>Outages of the target</h3>",
        gaps,
        note(
            "cuts = connections the users cut abruptly (--flap-rate, --storm-at); each reconnect checks "
            "NET-1: every message stored while the instance was away arrives once, in order. Replay "
            "lost/duplicated/reordered are also in the delivery totals. An outage is a run of transport "
            f"failures less than {OUTAGE_GAP_S:g} s apart (the users retry every second)."
        ),
    )


def _conformance(run: RunData) -> str:
    counts = run.rule_counts()
    by_area: dict[str, list[str]] = defaultdict(list)
    for rule in RULE_IDS:
        by_area[area(rule)].append(rule)
    rows = []
    for name, rules in by_area.items():
        cells = []
        passed = 0
        for rule in rules:
            found = counts[rule]
            evidence = run.evidence.get(rule) if run.evidence is not None else None
            checks = evidence.checks if evidence is not None else 0
            if found:
                css, state = "bad", f"mismatch ×{found} of {checks} checks"
            elif checks:
                css, state = "ok", f"{checks:,} checks"
                passed += 1
            else:
                reason = evidence.reason if evidence is not None else "no evidence file"
                css, state = "skip", f"0 checks: {escape(reason)}"
            cells.append(f'<td class="{css}" id="rule-{rule}"><b>{rule}</b>{state}</td>')
        rows.append(f"<tr><th>{escape(name)}</th><td class=n>{passed}/{len(rules)}</td>{''.join(cells)}</tr>")
    matrix = f'<table class="matrix"><tbody>{"".join(rows)}</tbody></table>'
    categories = run.categories()
    parts = [
        "<h3>Failure categories</h3>",
        table(("category", "rows"), [(k, str(v)) for k, v in categories.items()], numeric=(1,)),
        note(
            f"From the kind column of {run.prefix}_conformance.csv: conformance = a reply or push differed "
            "from the model; transport = the call failed on the wire (6010); harness = simtim itself failed."
        ),
        "<h3>Rules</h3>",
        matrix,
        note(
            f"Per rule: the checks it rests on in this run ({run.prefix}_evidence.csv: every compared reply, "
            "pushed event and delivery counts once) and the mismatches among them; a rule with 0 checks "
            "was not exercised by this load mix and is not counted as passed."
        ),
    ]
    unattributed = run.unattributed()
    if unattributed:
        parts.append(f'<p class="fail">{unattributed} conformance mismatch(es) name no known SPEC rule.</p>')
    return section("conformance", "Conformance", *parts)


def _mismatches(run: RunData) -> str:
    frame = run.conformance
    shown = frame.head(MISMATCH_ROWS)
    rows = []
    for record in shown.itertuples(index=False):
        values = [str(v) for v in record]
        with contextlib.suppress(ValueError, OverflowError, OSError):
            values[0] = when(float(values[0]))
        rows.append([f"<code>{escape(v)}</code>" if i >= 5 else escape(v) for i, v in enumerate(values)])
    header = f"{len(shown)} of {len(frame)} row(s) of {run.prefix}_conformance.csv"
    body = table(list(CONFORMANCE_COLUMNS), rows, cls="mismatches sortable", escaped=True) if rows else ""
    return section("mismatches", "Mismatches", note(header + ("" if rows else ": none")), body)


def render_report(run: RunData, checks: Sequence[ThresholdCheck], code: int) -> str:
    nav = "".join(f'<a href="#{sid}">{sid.replace("-", " ")}</a>' for sid in SECTION_IDS)
    badge = f'<span class="badge v{code}" id="verdict">{escape(VERDICTS.get(code, str(code)))}</span>'
    body = "".join(
        (
            _metadata(run, checks, code),
            _throughput(run),
            _latency(run),
            _methods(run),
            _e2e(run),
            _delivery(run),
            _faults(run),
            _conformance(run),
            _mismatches(run),
        )
    )
    return (
        '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>simtim report: {escape(run.prefix)}</title><style>{CSS}</style></head><body>"
        f"<header><h1>simtim report: {escape(run.prefix)}{badge}</h1><nav>{nav}</nav></header>"
        f"<main>{body}</main><script>{SCRIPT}</script></body></html>\n"
    )
