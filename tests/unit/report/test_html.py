"""``simtim.report.html`` and ``svg``: the sections, charts, escaping, and a page that fetches nothing."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from simtim.cli import main
from simtim.report.data import load_run
from simtim.report.html import MISMATCH_ROWS, SECTION_IDS, render_report
from simtim.report.svg import bar_chart, line_chart, nice_ticks
from simtim.rules import RULE_IDS
from tests.unit.report.synthetic import START, Run, mismatch

EVIL = '<script>alert("x")</script><img src=x onerror=alert(1)>&amp;'


def page(tmp_path: Path, run: Run | None = None, *extra: str, name: str = "run") -> str:
    prefix = (run or Run()).write(tmp_path / name)
    main(["report", prefix, *extra])
    return Path(f"{prefix}_report.html").read_text(encoding="utf-8")


def section_of(html: str, section_id: str) -> str:
    match = re.search(rf'<section id="{section_id}">(.*?)</section>', html, re.S)
    assert match, section_id
    return match.group(1)


def test_every_section_in_order(tmp_path: Path) -> None:
    html = page(tmp_path)
    positions = [html.index(f'<section id="{sid}">') for sid in SECTION_IDS]
    assert positions == sorted(positions)
    assert SECTION_IDS == (
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


def test_faults_section_shows_each_outage_of_the_target_on_the_timeline(tmp_path: Path) -> None:
    """Transport failures less than 3 s apart are one outage; a quiet run says it had none."""
    failures = [
        mismatch(kind="transport", rule="", timestamp=f"{START + at}.5", check="transport")
        for at in (2, 3, 4, 8)
    ]
    faults = section_of(page(tmp_path, Run(mismatches=failures)), "faults")
    assert 'id="chart-faults"' in faults
    outages = re.findall(r"<tr><td class=n>([\d.]+)</td><td class=n>([\d.]+)</td>", faults)
    assert outages == [("2.5", "4.5"), ("8.5", "8.5")], faults
    assert "No outage" in section_of(page(tmp_path, Run(), name="quiet"), "faults")


def test_charts_are_inline_svg(tmp_path: Path) -> None:
    html = page(tmp_path)
    for chart_id, section_id in (
        ("chart-throughput", "throughput"),
        ("chart-latency", "latency"),
        ("chart-e2e-histogram", "e2e"),
        ("chart-e2e-time", "e2e"),
        ("chart-delivery", "delivery"),
        ("chart-faults", "faults"),
        ("chart-replay", "faults"),
    ):
        assert f'id="{chart_id}"' in section_of(html, section_id)
    assert html.count("<svg ") == 7
    assert section_of(html, "throughput").count("<polyline") == 2  # requests/s and failures/s
    assert section_of(html, "e2e").count('class="bar"') == 13


def test_nothing_external(tmp_path: Path) -> None:
    html = page(tmp_path, Run(mismatches=[mismatch("REV-1")]))
    lowered = html.lower()
    for needle in (
        'src="http',
        "src='http",
        'href="http',
        "href='http",
        "<link",
        "cdn",
        "@import",
        "url(",
        "http://",
        "https://",
        "<iframe",
        "<img",
    ):
        assert needle not in lowered, needle
    assert html.startswith("<!DOCTYPE html>") and "<script>" in html and "<style>" in html


def test_metadata(tmp_path: Path) -> None:
    meta = section_of(page(tmp_path), "run-metadata")
    for text in (
        "2023-11-14 22:13:20 UTC",
        "10 s",
        "5940",
        "0.0842%",
        "14 / 51 / 90 / 19",
        "Totals from the Aggregated row of",
        "_stats.csv (5940 requests; the last history row counted 5940)",
    ):
        assert text in meta, text
    for role in ("stats", "stats_history", "failures", "exceptions", "conformance", "delivery"):
        assert f"<td>{role}</td>" in meta


def test_metadata_says_when_the_history_was_used(tmp_path: Path) -> None:
    meta = section_of(page(tmp_path, Run(history_extra=7)), "run-metadata")
    assert "Totals from the last Aggregated row of" in meta
    assert "(5947 requests)" in meta and "counted 5940" in meta and "missed the last flush" in meta


def test_methods_split_tim_and_push(tmp_path: Path) -> None:
    methods = section_of(page(tmp_path), "methods")
    tim = methods[methods.index('id="methods-tim"') : methods.index('id="methods-push"')]
    push = methods[methods.index('id="methods-push"') :]
    assert "sendMessage" in tim and "onMessageReceived" not in tim
    assert "onMessageReceived" in push and "sendMessage" not in push
    assert (
        "<td>sendMessage</td><td class=n>1000</td><td class=n>5</td><td class=n>0.50%</td>"
        "<td class=n>20</td><td class=n>50</td><td class=n>90</td><td class=n>24</td>" in tim
    )


def test_e2e_and_delivery_numbers(tmp_path: Path) -> None:
    html = page(tmp_path, Run(lost=4, duplicated=1))
    e2e = section_of(html, "e2e")
    assert "<td>estimated p50</td><td class=n>15</td>" in e2e
    assert "<td>max (exact)</td><td class=n>70</td>" in e2e
    delivery = section_of(html, "delivery")
    assert (
        "<td>lost</td><td class=n>4</td>" in delivery and "<td>duplicated</td><td class=n>1</td>" in delivery
    )
    assert "<td>delivered / expected</td><td class=n>96.1538%</td>" in delivery


def test_conformance_matrix_and_categories(tmp_path: Path) -> None:
    rows = [mismatch("REV-1"), mismatch("REV-1"), mismatch("GRP-4"), mismatch("", kind="transport")]
    conformance = section_of(page(tmp_path, Run(mismatches=rows)), "conformance")
    for rule in RULE_IDS:
        assert f'id="rule-{rule}"' in conformance
    assert '<td class="bad" id="rule-REV-1"><b>REV-1</b>mismatch ×2 of 10 checks</td>' in conformance
    assert '<td class="ok" id="rule-REV-2"><b>REV-2</b>10 checks</td>' in conformance
    assert "<tr><th>REV</th><td class=n>3/4</td>" in conformance
    for kind, count in (("conformance", 3), ("transport", 1), ("harness", 0)):
        assert f"<td>{kind}</td><td class=n>{count}</td>" in conformance


def test_rules_without_checks_are_shown_as_such(tmp_path: Path) -> None:
    counts = dict.fromkeys(RULE_IDS, 0) | {"REV-1": 7}
    conformance = section_of(page(tmp_path, Run(checks=counts)), "conformance")
    assert '<td class="ok" id="rule-REV-1"><b>REV-1</b>7 checks</td>' in conformance
    assert (
        '<td class="skip" id="rule-REV-2"><b>REV-2</b>0 checks: not exercised by this load mix</td>'
        in conformance
    )
    assert "<tr><th>REV</th><td class=n>1/4</td>" in conformance


def test_mismatches_are_escaped(tmp_path: Path) -> None:
    html = page(tmp_path, Run(mismatches=[mismatch("REV-1", actual=EVIL, step="a & b")]))
    table = section_of(html, "mismatches")
    assert "<script>alert" not in html and "<img" not in html
    assert (
        "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;&lt;img src=x onerror=alert(1)&gt;&amp;amp;"
        in table
    )
    assert "a &amp; b" in table and "2023-11-14 22:13:23 UTC" in table


def test_the_prefix_is_escaped(tmp_path: Path) -> None:
    html = page(tmp_path, name="<b>run</b>")
    assert "<b>run</b>" not in html and "&lt;b&gt;run&lt;/b&gt;" in html


def test_mismatch_table_is_capped(tmp_path: Path) -> None:
    rows = [mismatch("MSG-1", step=f"step {i}") for i in range(MISMATCH_ROWS + 100)]
    table = section_of(page(tmp_path, Run(mismatches=rows)), "mismatches")
    assert f"{MISMATCH_ROWS} of {MISMATCH_ROWS + 100} row(s)" in table
    assert table.count("<tr>") == MISMATCH_ROWS + 1  # + the header
    assert "step 499<" in table and "step 500<" not in table


def test_thresholds_and_verdict_on_the_page(tmp_path: Path) -> None:
    html = page(tmp_path, Run(), "--max-p99-ms", "50")
    assert '<span class="badge v3" id="verdict">thresholds missed</span>' in html
    assert "missed</span>: total p99 90 ms &gt; 50 ms" in section_of(html, "run-metadata")


def test_render_report_directly(tmp_path: Path) -> None:
    run = load_run(Run().write(tmp_path / "run"))
    html = render_report(run, [], 0)
    assert '<span class="badge v0" id="verdict">OK</span>' in html


# --- svg ---------------------------------------------------------------------------------------------
def test_line_chart_breaks_at_nan_and_escapes() -> None:
    nan = float("nan")
    svg = line_chart(
        [("a<b", [(0, 1), (1, 2), (2, nan), (3, 4), (4, 5)]), ("single", [(0, 3)])],
        title="t & u",
        x_label="x",
        y_label="y",
        chart_id="c1",
    )
    assert svg.count("<polyline") == 2 and svg.count("<circle") == 1
    assert "a&lt;b" in svg and "t &amp; u" in svg and "a<b" not in svg


def test_empty_charts_say_no_data() -> None:
    assert "no data" in line_chart([("a", [])], title="t", x_label="x", y_label="y", chart_id="c")
    assert "no data" in bar_chart(["a"], [0], title="t", x_label="x", y_label="y", chart_id="c")


def test_bar_chart_bars_and_labels() -> None:
    svg = bar_chart(["≤1", "<2"], [3, 7], title="h", x_label="x", y_label="y", chart_id="c")
    assert svg.count('class="bar"') == 2 and "&lt;2: 7" in svg


@pytest.mark.parametrize(("low", "high"), [(0, 1), (0, 115.6), (0, 524.9), (3, 16), (0, 0.3), (0, 7)])
def test_nice_ticks_cover_the_range(low: float, high: float) -> None:
    ticks = nice_ticks(low, high)
    assert ticks[0] <= low and ticks[-1] >= high and len(ticks) <= 8


def test_a_run_killed_at_once_still_gives_a_page(tmp_path: Path) -> None:
    """Only headers (and Locust's first history row): every section renders, charts say "no data"."""
    prefix = Run(methods=[], seconds=1, latencies_ms=[]).write(tmp_path / "run")
    history = Path(f"{prefix}_stats_history.csv")
    history.write_text("\n".join(history.read_text().splitlines()[:2]) + "\n")
    Path(f"{prefix}_delivery.csv").write_text(
        Path(f"{prefix}_delivery.csv").read_text().splitlines()[0] + "\n"
    )
    assert main(["report", prefix]) == 0
    html = Path(f"{prefix}_report.html").read_text(encoding="utf-8")
    for section_id in SECTION_IDS:
        assert f'<section id="{section_id}">' in html
    for section_id in ("latency", "e2e", "delivery", "faults"):  # throughput has Locust's 0/s first row
        assert ">no data</text>" in section_of(html, section_id)
    assert html.count(">no data</text>") == 6
