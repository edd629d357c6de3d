"""Incremental CSVs of a load run: ``PREFIX_conformance.csv`` and ``PREFIX_delivery.csv``.

Written by the master (or local runner) from its own cells and from worker
reports, flushed every second, so a run killed mid-way still leaves usable
files (at most a few seconds short).
"""

from __future__ import annotations

import csv
import time
from pathlib import Path
from typing import Any

from simtim.conformance.delivery import HISTOGRAM_BOUNDS_MS, SecondBucket
from simtim.conformance.evidence import Ledger
from simtim.rules import RULE_IDS
from simtim.runfiles import CONFORMANCE_COLUMNS, EVIDENCE_COLUMNS, FAULT_COUNTS

DELIVERY_COLUMNS = (
    [
        "timestamp",
        "sent",
        "expected",
        "delivered",
        "lost",
        "late",
        "duplicated",
        "reordered",
        "e2e_p50_ms",
        "e2e_p95_ms",
        "e2e_p99_ms",
        "e2e_max_ms",
    ]
    + [f"e2e_le_{bound}ms" for bound in HISTOGRAM_BOUNDS_MS]
    + ["e2e_gt_max"]
    + list(FAULT_COUNTS)
)
DELIVERY_HOLD_SECONDS = 5  # workers report every ~3 s: wait before a second is final


class ResultWriter:
    def __init__(self, prefix: str) -> None:
        self.conformance_path = Path(f"{prefix}_conformance.csv")
        self.evidence_path = Path(f"{prefix}_evidence.csv")
        self.delivery_path = Path(f"{prefix}_delivery.csv")
        for path, columns in (
            (self.conformance_path, CONFORMANCE_COLUMNS),
            (self.delivery_path, DELIVERY_COLUMNS),
        ):
            path.parent.mkdir(parents=True, exist_ok=True)
            with path.open("w", newline="") as handle:
                csv.writer(handle).writerow(columns)
        self.pending: dict[int, SecondBucket] = {}
        self.written_up_to = 0
        self.write_evidence(Ledger())  # the file exists from the start, every rule at 0 checks

    def add_mismatches(self, rows: list[dict[str, Any]]) -> None:
        if not rows:
            return
        with self.conformance_path.open("a", newline="") as handle:
            writer = csv.DictWriter(handle, CONFORMANCE_COLUMNS, extrasaction="ignore")
            writer.writerows(rows)

    def add_delivery(self, buckets: dict[int, SecondBucket]) -> None:
        for second, bucket in buckets.items():
            second = max(second, self.written_up_to + 1)  # a straggler joins the first open second
            self.pending.setdefault(second, SecondBucket()).merge(bucket)

    def flush(self, final: bool = False) -> None:
        limit = float("inf") if final else time.time() - DELIVERY_HOLD_SECONDS
        ready = sorted(s for s in self.pending if s <= limit)
        if not ready:
            return
        with self.delivery_path.open("a", newline="") as handle:
            writer = csv.writer(handle)
            for second in ready:
                bucket = self.pending.pop(second)
                row: list[Any] = [
                    second,
                    bucket.sent,
                    bucket.expected,
                    bucket.delivered,
                    bucket.lost,
                    bucket.late,
                    bucket.duplicated,
                    bucket.reordered,
                ]
                row += [_ms(bucket.percentile(f)) for f in (0.5, 0.95, 0.99)]
                row.append(_ms(max(bucket.latencies_ms)) if bucket.latencies_ms else "")
                row += bucket.histogram()
                row += [getattr(bucket, name) for name in FAULT_COUNTS]
                writer.writerow(row)
                self.written_up_to = max(self.written_up_to, second)

    def write_evidence(self, ledger: Ledger) -> None:
        """Every rule of the catalogue with its checks so far (0 is written too: it is evidence)."""
        temporary = self.evidence_path.with_suffix(".csv.tmp")
        with temporary.open("w", newline="") as handle:
            writer = csv.writer(handle)
            writer.writerow(EVIDENCE_COLUMNS)
            extra = [rule for rule in ledger.rules if rule not in RULE_IDS]
            for rule in (*RULE_IDS, *extra):
                evidence = ledger.rules.get(rule)
                if evidence is None:
                    writer.writerow([rule, 0, 0, "", ""])
                    continue
                writer.writerow(
                    [
                        rule,
                        evidence.checks,
                        evidence.failed,
                        "; ".join(evidence.skipped),
                        "; ".join(evidence.unsupported),
                    ]
                )
        temporary.replace(self.evidence_path)  # a reader never sees half a file


def _ms(value: float | None) -> str:
    return "" if value is None else f"{value:.3f}"
