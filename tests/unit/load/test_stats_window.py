"""Locust's per-second counts stay bounded in a long run (Locust itself is not imported in pytest:
it patches sockets; its ``StatsEntry`` keeps these two dicts)."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field

from simtim.load.stats_window import KEEP_SECONDS, forget_old_seconds


@dataclass
class Entry:
    num_reqs_per_sec: dict[int, int] = field(default_factory=lambda: defaultdict(int))
    num_fail_per_sec: dict[int, int] = field(default_factory=lambda: defaultdict(int))


def test_seconds_older_than_the_window_are_dropped_and_recent_ones_kept() -> None:
    entries = [Entry(), Entry()]
    start = 1_000_000
    for second in range(start, start + 600):  # ten minutes
        for entry in entries:
            entry.num_reqs_per_sec[second] += 3
            if second % 10 == 0:
                entry.num_fail_per_sec[second] += 1
    now = start + 599.5
    recent = [dict(e.num_reqs_per_sec) for e in entries]
    assert forget_old_seconds(entries, now) == 2 * ((600 - KEEP_SECONDS - 1) + 54)
    for entry, before in zip(entries, recent, strict=True):
        assert entry.num_reqs_per_sec == {s: n for s, n in before.items() if s >= int(now) - KEEP_SECONDS}
        assert min(entry.num_fail_per_sec) >= int(now) - KEEP_SECONDS
    assert forget_old_seconds(entries, now) == 0
