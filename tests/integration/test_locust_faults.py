"""Faults under load, as a user runs them (Locust subprocesses): a reconnect storm and flapping
users are checked for NET-1 and counted in the delivery CSV; a target that goes away and comes
back is an outage of transport failures the users ride out, and the report shows both."""

from __future__ import annotations

import threading
from pathlib import Path

from tests.integration.server_process import ServerProcess
from tests.integration.test_locust import (
    assert_no_user_crash,
    assert_report_agrees,
    rows,
    run_locust,
    summary,
)


def totals(prefix: Path, *columns: str) -> dict[str, int]:
    found = rows(Path(f"{prefix}_delivery.csv"))
    return {column: sum(int(row[column]) for row in found) for column in columns}


def evidence(prefix: Path, rule: str) -> tuple[int, int]:
    (row,) = [r for r in rows(Path(f"{prefix}_evidence.csv")) if r["rule"] == rule]
    return int(row["checks"]), int(row["failed"])


def test_net_1_a_reconnect_storm_and_flapping_users_lose_nothing(tmp_path: Path) -> None:
    code, output, prefix = run_locust(
        tmp_path,
        *("-u", "8", "-r", "8", "--storm-at", "3s", "--storm-share", "0.5", "--flap-rate", "6"),
        *("--flap-pause", "1"),
        seconds=9,
    )
    assert code == 0, output[-3000:]
    assert_no_user_crash(output)
    counts = summary(output)
    assert counts["conformance"] == 0 and counts["transport"] == 0
    found = totals(
        prefix,
        "cuts",
        "reconnects",
        "replay_expected",
        "replay_delivered",
        "replay_lost",
        "replay_duplicated",
    )
    assert found["cuts"] >= 16  # the storm alone cuts 4 users x 4 instances
    assert found["reconnects"] > 0 and found["replay_expected"] > 0
    assert found["replay_delivered"] == found["replay_expected"]
    assert found["replay_lost"] == found["replay_duplicated"] == 0
    checks, failed = evidence(prefix, "NET-1")
    assert checks >= found["reconnects"] and failed == 0
    assert_report_agrees(code, prefix)
    assert 'id="chart-faults"' in Path(f"{prefix}_report.html").read_text()


def test_a_target_that_goes_away_and_comes_back_is_an_outage_the_users_ride_out(tmp_path: Path) -> None:
    server = ServerProcess()
    port = server.url.rsplit(":", 1)[1]
    revived: list[ServerProcess] = []

    def revive() -> None:
        revived.append(ServerProcess("--port", port))  # same address, empty state: cells are rebuilt

    killer = threading.Timer(3.0, server.proc.kill)
    reviver = threading.Timer(5.0, revive)
    killer.start()
    reviver.start()
    try:
        code, output, prefix = run_locust(
            tmp_path,
            *("--host", server.url, "--simtim-admin-key", server.admin_key or ""),
            *("-u", "4", "-r", "4"),
            seconds=11,
        )
    finally:
        killer.cancel()
        reviver.cancel()
        reviver.join()
        server.stop()
        for proc in revived:
            proc.stop()
    assert_no_user_crash(output)
    assert summary(output)["transport"] > 0
    failures = [r for r in rows(Path(f"{prefix}_conformance.csv")) if r["kind"] == "transport"]
    last_failure = max(float(r["timestamp"]) for r in failures)
    delivered_after = [
        r
        for r in rows(Path(f"{prefix}_delivery.csv"))
        if int(r["timestamp"]) > last_failure and int(r["delivered"])
    ]
    assert delivered_after, "the users did not resume once the target was back"
    assert_report_agrees(code, prefix)
    html = Path(f"{prefix}_report.html").read_text()
    assert "Outages of the target" in html and "No outage" not in html
