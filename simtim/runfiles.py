"""The files a load run leaves, as one schema both the writer (simtim/load) and the reader
(simtim/report) use, so the two cannot disagree about a column.

``PREFIX_conformance.csv`` has one row per recorded failure; ``kind`` is the failure category
(what the exit code is decided by) and ``check`` the mismatch kind (what was compared).
``PREFIX_delivery.csv`` has one row per second of delivery counts and E2E latency.
``PREFIX_evidence.csv`` has one row per rule: how many checks it rests on, how many failed, and
the reasons evidence was skipped or unsupported (rewritten whole at every flush).
"""

from __future__ import annotations

from enum import StrEnum


class FailureCategory(StrEnum):
    CONFORMANCE = "conformance"  # the target answered or pushed differently from the model
    TRANSPORT = "transport"  # the target could not be reached or did not speak its protocol (6010)
    HARNESS = "harness"  # simtim itself failed (a bug or a bad option), never the target's fault


CONFORMANCE_COLUMNS: tuple[str, ...] = (
    "timestamp",
    "worker",
    "kind",
    "rule",
    "method",
    "path",
    "expected",
    "actual",
    "step",
    "check",
)
#: columns a reader may find missing in files of older runs (filled with "")
OPTIONAL_CONFORMANCE_COLUMNS: frozenset[str] = frozenset({"check"})
DELIVERY_COUNTS: tuple[str, ...] = (
    "sent",
    "expected",
    "delivered",
    "lost",
    "late",
    "duplicated",
    "reordered",
)
#: faults under load (NET-1), per second: connections cut, re-opened, and what the re-opened ones
#: replayed. The replay counts are a subset of the columns above (a lost replay is also ``lost``).
FAULT_COUNTS: tuple[str, ...] = (
    "cuts",
    "reconnects",
    "replay_expected",
    "replay_delivered",
    "replay_lost",
    "replay_duplicated",
    "replay_reordered",
)
EVIDENCE_COLUMNS: tuple[str, ...] = ("rule", "checks", "failed", "skipped", "unsupported")
