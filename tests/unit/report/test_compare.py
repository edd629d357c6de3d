"""``simtim report --compare A B``: per-method deltas with a noise floor."""

from __future__ import annotations

from pathlib import Path

import pytest

from simtim.cli import main
from simtim.report.compare import SAME, compare_methods, delta
from simtim.report.data import MethodStats
from tests.unit.report.synthetic import Method, Run


def stats(
    name: str,
    count: int = 1000,
    failures: int = 0,
    median: float = 20,
    p95: float = 50,
    p99: float = 90,
    kind: str = "TIM",
) -> MethodStats:
    return MethodStats(kind, name, count, failures, median, p95, p99, avg_ms=25, rps=100)


@pytest.mark.parametrize(
    ("metric", "a", "b", "floor", "verdict", "change"),
    [
        ("p99 ms", 100, 109, 10, SAME, "same"),
        ("p99 ms", 100, 110, 10, SAME, "same"),  # exactly at the floor is noise
        ("p99 ms", 100, 111, 10, "+11.0%", "worse"),
        ("p99 ms", 100, 80, 10, "-20.0%", "better"),
        ("p99 ms", 100, 109, 5, "+9.0%", "worse"),
        ("median ms", 5, 6, 10, SAME, "same"),  # +20 %, but within Locust's 1 ms resolution
        ("median ms", 5, 7, 10, "+40.0%", "worse"),
        ("count", 1000, 1200, 10, "+20.0%", "up"),
        ("count", 1000, 850, 10, "-15.0%", "down"),
        ("count", 1000, 0, 10, "gone", "down"),
        ("fail ratio", 0.0, 0.0005, 10, SAME, "same"),  # below 0.1 percentage point
        ("fail ratio", 0.0, 0.02, 10, "new", "worse"),
        ("fail ratio", 0.02, 0.01, 10, "-50.0%", "better"),
        ("p95 ms", None, 10, 10, "only in B", "missing"),
        ("p95 ms", 10, None, 10, "only in A", "missing"),
        ("p95 ms", float("nan"), 10, 10, "n/a", "same"),
    ],
)
def test_delta(
    metric: str, a: float | None, b: float | None, floor: float, verdict: str, change: str
) -> None:
    result = delta(metric, a, b, floor)
    assert (result.verdict, result.change) == (verdict, change)


def test_compare_methods_union_and_order() -> None:
    a = [stats("sendMessage"), stats("login"), stats("onMessageReceived", kind="PUSH")]
    b = [stats("sendMessage", p99=200, failures=30), stats("onMessageReceived", kind="PUSH"), stats("logout")]
    rows = compare_methods(a, b, 10.0, stats("Aggregated", kind=""), stats("Aggregated", kind=""))
    assert [(r.type, r.name) for r in rows] == [
        ("TIM", "login"),
        ("TIM", "logout"),
        ("TIM", "sendMessage"),
        ("PUSH", "onMessageReceived"),
        ("", "Aggregated"),
    ]
    by_name = {r.name: r for r in rows}
    send = {d.metric: d for d in by_name["sendMessage"].deltas}
    assert send["p99 ms"].verdict == "+122.2%" and send["p99 ms"].change == "worse"
    assert send["fail ratio"].verdict == "new" and send["count"].verdict == SAME
    assert (
        by_name["login"].deltas[0].verdict == "only in A"
        and by_name["logout"].deltas[0].verdict == "only in B"
    )
    assert not by_name["onMessageReceived"].changed and by_name["sendMessage"].changed


def runs(tmp_path: Path) -> tuple[str, str]:
    a = Run(
        methods=[
            Method("TIM", "sendMessage", 1000, 0, 20, 50, 90),
            Method("TIM", "login", 40, 0, 74, 230, 270),
            Method("PUSH", "onMessageReceived", 1500, 0, 13, 46, 77),
        ]
    ).write(tmp_path / "a")
    b = Run(
        methods=[
            Method("TIM", "sendMessage", 1040, 0, 21, 52, 130),
            Method("TIM", "login", 40, 0, 74, 230, 270),
            Method("PUSH", "onMessageReceived", 1500, 0, 13, 46, 77),
        ]
    ).write(tmp_path / "b")
    return a, b


def test_cli_compare_prints_and_writes_html(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    a, b = runs(tmp_path)
    assert main(["report", "--compare", a, b]) == 0
    out = capsys.readouterr().out
    line = next(line for line in out.splitlines() if "sendMessage" in line)
    assert "1000 → 1040 ~ same" in line and "20 → 21 ~ same" in line and "90 → 130 +44.4%" in line
    assert "login" in out and "1 of 4 row(s) changed beyond the noise floor" in out
    page = Path(f"{b}_compare.html").read_text(encoding="utf-8")
    assert page.startswith("<!DOCTYPE html>") and '<section id="compare">' in page
    assert '<td class="m worse">90 → 130 +44.4%</td>' in page and "shared and noisy" in page
    lowered = page.lower()
    for needle in ('src="http', 'href="http', "<link", "cdn", "http://", "https://"):
        assert needle not in lowered


def test_noise_floor_flag(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    a, b = runs(tmp_path)
    assert main(["report", "--compare", a, b, "--noise-floor", "50"]) == 0
    assert "0 of 4 row(s) changed" in capsys.readouterr().out
    assert main(["report", "--compare", a, b, "--noise-floor", "1"]) == 0
    line = next(line for line in capsys.readouterr().out.splitlines() if "sendMessage" in line)
    assert "1000 → 1040 +4.0%" in line and "50 → 52 +4.0%" in line and "20 → 21 ~ same" in line


def test_compare_missing_input_exits_1(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    a, _ = runs(tmp_path)
    missing = str(tmp_path / "nope")
    assert main(["report", "--compare", a, missing]) == 1
    assert f"{missing}_stats.csv" in capsys.readouterr().err
    assert not Path(f"{missing}_compare.html").exists()


def test_compare_and_prefix_together_is_an_error(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    a, b = runs(tmp_path)
    assert main(["report", a, "--compare", a, b]) == 1
    assert "not both" in capsys.readouterr().err
