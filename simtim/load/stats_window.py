"""Locust's per-second request counts, kept for the seconds Locust still reads (issue 15: a soak's
Locust RSS flat after the warm-up).

Every ``StatsEntry`` (one per request name, ~20 in a chat run, plus the total) counts requests and
failures in a dict keyed by the second; Locust reads only the last ~12 seconds of them (the
current RPS) and never drops the rest in a single process, so a run's memory grows by ~1.5 kB a
second.  Every ``PRUNE_SECONDS`` the seconds older than ``KEEP_SECONDS`` are dropped: the totals,
percentiles and history Locust reports come from other fields.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable
from typing import Any, Protocol

KEEP_SECONDS = 60  # well past what ``current_rps``/``current_fail_per_sec`` read (12 s)
PRUNE_SECONDS = 30.0


class PerSecondCounts(Protocol):
    """What a Locust ``StatsEntry`` keeps per second (not imported here: it patches sockets)."""

    num_reqs_per_sec: dict[int, int]
    num_fail_per_sec: dict[int, int]


def entries_of(stats: Any) -> list[PerSecondCounts]:
    """A Locust ``RequestStats``'s entries and its total."""
    return [*stats.entries.values(), stats.total]


def forget_old_seconds(entries: Iterable[PerSecondCounts], now: float, keep: int = KEEP_SECONDS) -> int:
    """Drop per-second counts older than ``keep`` seconds; returns how many were dropped."""
    oldest = int(now) - keep
    dropped = 0
    for entry in entries:
        for per_second in (entry.num_reqs_per_sec, entry.num_fail_per_sec):
            old = [second for second in per_second if second < oldest]
            for second in old:
                del per_second[second]
            dropped += len(old)
    return dropped


def prune_forever(stats: Any, sleep: Callable[[float], object]) -> None:
    """Run ``forget_old_seconds`` on a ``RequestStats`` every ``PRUNE_SECONDS`` (a greenlet in a
    Locust process)."""
    while True:
        sleep(PRUNE_SECONDS)
        forget_old_seconds(entries_of(stats), time.time())
