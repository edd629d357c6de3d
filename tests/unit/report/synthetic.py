"""Synthetic run files for the report tests: Locust's CSV layouts, simtim's through its own ResultWriter."""

from __future__ import annotations

import csv
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from simtim.conformance.delivery import SecondBucket
from simtim.conformance.evidence import Ledger
from simtim.load.results import ResultWriter
from simtim.rules import RULE_IDS

STATS_HEADER = [
    "Type",
    "Name",
    "Request Count",
    "Failure Count",
    "Median Response Time",
    "Average Response Time",
    "Min Response Time",
    "Max Response Time",
    "Average Content Size",
    "Requests/s",
    "Failures/s",
    "50%",
    "66%",
    "75%",
    "80%",
    "90%",
    "95%",
    "98%",
    "99%",
    "99.9%",
    "99.99%",
    "100%",
]
HISTORY_HEADER = [
    "Timestamp",
    "User Count",
    "Type",
    "Name",
    "Requests/s",
    "Failures/s",
    "50%",
    "66%",
    "75%",
    "80%",
    "90%",
    "95%",
    "98%",
    "99%",
    "99.9%",
    "99.99%",
    "100%",
    "Total Request Count",
    "Total Failure Count",
    "Total Median Response Time",
    "Total Average Response Time",
    "Total Min Response Time",
    "Total Max Response Time",
    "Total Average Content Size",
]
START = 1_700_000_000


@dataclass
class Method:
    type: str
    name: str
    count: int
    failures: int = 0
    median: float = 10
    p95: float = 40
    p99: float = 80
    avg: float = 15


DEFAULT_METHODS = [
    Method("TIM", "sendMessage", 1000, 5, 20, 50, 90, 24),
    Method("TIM", "getMessageList", 400, 0, 12, 40, 64, 15),
    Method("TIM", "login", 40, 0, 74, 230, 270, 85),
    Method("PUSH", "onMessageReceived", 1500, 0, 13, 46, 77, 17),
    Method("PUSH", "onConversationListUpdated", 3000, 0, 13, 46, 69, 18),
]


def mismatch(
    rule: str = "REV-1", kind: str = "conformance", actual: str = "0", **extra: Any
) -> dict[str, Any]:
    row = {
        "timestamp": f"{START + 3}.250",
        "worker": "vm-1",
        "kind": kind,
        "rule": rule,
        "method": "revokeMessage",
        "path": "code",
        "expected": "20016",
        "actual": actual,
        "step": "cell 1 alice revokeMessage",
    }
    row.update(extra)
    return row


@dataclass
class Run:
    methods: list[Method] = field(default_factory=lambda: list(DEFAULT_METHODS))
    seconds: int = 10
    users: int = 10
    history_extra: int = 0  # the history's last row counted this many more requests than stats.csv
    mismatches: list[dict[str, Any]] = field(default_factory=list)
    latencies_ms: list[float] = field(default_factory=lambda: [3.0] * 10 + [15.0] * 80 + [70.0] * 10)
    lost: int = 0
    duplicated: int = 0
    exceptions: int = 0
    failures_rows: list[list[str]] = field(default_factory=list)
    aggregated_p99: float = 90
    #: checks per rule in PREFIX_evidence.csv (default: every rule 10); None writes no evidence file
    checks: dict[str, int] | None = field(default_factory=lambda: dict.fromkeys(RULE_IDS, 10))

    def total(self) -> tuple[int, int]:
        return sum(m.count for m in self.methods), sum(m.failures for m in self.methods)

    def write(self, prefix: Path) -> str:
        """Write all six files of a run at ``prefix``; returns the prefix as a string."""
        prefix.parent.mkdir(parents=True, exist_ok=True)
        requests, failures = self.total()
        with Path(f"{prefix}_stats.csv").open("w", newline="") as handle:
            writer = csv.writer(handle)
            writer.writerow(STATS_HEADER)
            for m in self.methods:
                writer.writerow(
                    _stats_row(
                        m.type, m.name, m.count, m.failures, m.median, m.avg, m.p95, m.p99, self.seconds
                    )
                )
            writer.writerow(
                _stats_row(
                    "", "Aggregated", requests, failures, 14, 19, 51, self.aggregated_p99, self.seconds
                )
            )
        with Path(f"{prefix}_stats_history.csv").open("w", newline="") as handle:
            writer = csv.writer(handle)
            writer.writerow(HISTORY_HEADER)
            writer.writerow(
                [START, 0, "", "Aggregated", "0.000000", "0.000000", *["N/A"] * 11, 0, 0, 0, 0.0, 0, 0, 0]
            )
            final = requests + self.history_extra
            for second in range(1, self.seconds + 1):
                done = final * second // self.seconds
                failed = failures * second // self.seconds
                rate = final / self.seconds
                p50, p95, p99 = 10 + second, 40 + second, 80 + 2 * second
                for m in self.methods:  # --csv-full-history: per-name rows too
                    writer.writerow(
                        [
                            START + second,
                            self.users,
                            m.type,
                            m.name,
                            f"{m.count / self.seconds:.6f}",
                            "0.000000",
                            m.median,
                            0,
                            0,
                            0,
                            0,
                            m.p95,
                            0,
                            m.p99,
                            0,
                            0,
                            0,
                            m.count * second // self.seconds,
                            0,
                            m.median,
                            m.avg,
                            1,
                            100,
                            0.0,
                        ]
                    )
                writer.writerow(
                    [
                        START + second,
                        self.users,
                        "",
                        "Aggregated",
                        f"{rate:.6f}",
                        f"{failures / self.seconds:.6f}",
                        p50,
                        0,
                        0,
                        0,
                        0,
                        p95,
                        0,
                        p99,
                        0,
                        0,
                        0,
                        done,
                        failed,
                        14,
                        19.0,
                        1,
                        300,
                        0.0,
                    ]
                )
        with Path(f"{prefix}_failures.csv").open("w", newline="") as handle:
            writer = csv.writer(handle)
            writer.writerow(["Method", "Name", "Error", "Occurrences"])
            writer.writerows(self.failures_rows)
        with Path(f"{prefix}_exceptions.csv").open("w", newline="") as handle:
            writer = csv.writer(handle)
            writer.writerow(["Count", "Message", "Traceback", "Nodes"])
            if self.exceptions:
                writer.writerow([self.exceptions, "ZeroDivisionError", "Traceback ...", "local"])
        results = ResultWriter(str(prefix))  # simtim's own writer: the real column layout
        results.add_mismatches(self.mismatches)
        buckets = {}
        per_second = max(1, len(self.latencies_ms) // self.seconds)
        for index in range(self.seconds):
            chunk = self.latencies_ms[index * per_second : (index + 1) * per_second]
            buckets[START + 1 + index] = SecondBucket(
                sent=len(chunk),
                expected=len(chunk) + (self.lost if index == 0 else 0),
                delivered=len(chunk),
                lost=self.lost if index == 0 else 0,
                duplicated=self.duplicated if index == 0 else 0,
                latencies_ms=list(chunk),
            )
        results.add_delivery(buckets)
        results.flush(final=True)
        if self.checks is None:
            Path(f"{prefix}_evidence.csv").unlink()
        else:
            ledger = Ledger()
            for rule, count in self.checks.items():
                for _ in range(count):
                    ledger.check(rule)
            results.write_evidence(ledger)
        return str(prefix)


def _stats_row(
    kind: str,
    name: str,
    count: int,
    failures: int,
    median: float,
    avg: float,
    p95: float,
    p99: float,
    seconds: int,
) -> list[Any]:
    return [
        kind,
        name,
        count,
        failures,
        median,
        avg,
        0.5,
        p99 * 1.2,
        0.0,
        count / seconds,
        failures / seconds,
        median,
        median,
        median,
        median,
        p95,
        p95,
        p99,
        p99,
        p99,
        p99,
        p99,
    ]
