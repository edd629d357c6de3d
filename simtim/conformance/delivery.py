"""Delivery tracking: lost, duplicated and reordered messages, and end-to-end latency.

Every message the harness sends carries ``(worker, sender, per-sender seq,
send time)`` in ``cloudCustomData``; receivers decode it, so counting is cheap
and latency is measured on the sender's own process clock (Tsung's trick:
no clock skew between machines, because sender and receivers of a cell share
one process).
"""

from __future__ import annotations

import time
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

import orjson

from simtim.conformance.check import Mismatch, MismatchKind
from simtim.conformance.evidence import Ledger
from simtim.harness_stamp import STAMP_KEY, render

DELIVERY_RULE = "MSG-5"  # each online instance gets the message: once, in its sender's order
#: upper bounds (ms) of the E2E latency histogram columns in PREFIX_delivery.csv
HISTOGRAM_BOUNDS_MS = (1, 2, 5, 10, 20, 50, 100, 200, 500, 1000, 2000, 5000)
#: sequence numbers below the newest whose arrival is remembered per (receiver, sender), to tell a
#: duplicate: one bit each in one int (a dict of 64 seqs cost ~4 KB a pair, and a load run's
#: pairs filled them for minutes: the Locust process's RSS kept rising)
SEEN_WINDOW = 64
_WINDOW_MASK = (1 << SEEN_WINDOW) - 1


def stamp(worker: str, sender: str, seq: int, sent_at: float) -> str:
    return render(worker, sender, seq, round(sent_at, 6))


def read_stamp(cloud_custom_data: Any) -> tuple[str, str, int, float] | None:
    if not isinstance(cloud_custom_data, str) or STAMP_KEY not in cloud_custom_data:
        return None
    try:
        worker, sender, seq, sent_at = orjson.loads(cloud_custom_data)[STAMP_KEY]
        return str(worker), str(sender), int(seq), float(sent_at)
    except (ValueError, TypeError, KeyError):
        return None


@dataclass
class SecondBucket:
    sent: int = 0
    expected: int = 0
    delivered: int = 0
    lost: int = 0
    late: int = 0
    duplicated: int = 0
    reordered: int = 0
    cuts: int = 0  # connections cut (NET-1 faults)
    reconnects: int = 0
    replay_expected: int = 0  # messages the model replayed on those reconnects
    replay_delivered: int = 0
    replay_lost: int = 0
    replay_duplicated: int = 0
    replay_reordered: int = 0
    latencies_ms: list[float] = field(default_factory=list)

    def merge(self, other: SecondBucket) -> None:
        for name in _COUNTS:
            setattr(self, name, getattr(self, name) + getattr(other, name))
        self.latencies_ms.extend(other.latencies_ms)

    def histogram(self) -> list[int]:
        """Counts per HISTOGRAM_BOUNDS_MS bin, plus one for everything slower."""
        bins = [0] * (len(HISTOGRAM_BOUNDS_MS) + 1)
        for latency in self.latencies_ms:
            index = next(
                (i for i, bound in enumerate(HISTOGRAM_BOUNDS_MS) if latency <= bound),
                len(HISTOGRAM_BOUNDS_MS),
            )
            bins[index] += 1
        return bins

    def percentile(self, fraction: float) -> float | None:
        if not self.latencies_ms:
            return None
        ordered = sorted(self.latencies_ms)
        return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))]

    def to_dict(self) -> dict[str, Any]:
        return {**{name: getattr(self, name) for name in _COUNTS}, "latencies_ms": self.latencies_ms}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> SecondBucket:
        return cls(
            **{name: int(data.get(name, 0)) for name in _COUNTS},
            latencies_ms=list(data.get("latencies_ms", [])),
        )


_COUNTS = tuple(name for name in SecondBucket.__dataclass_fields__ if name != "latencies_ms")


class DeliveryTracker:
    """Counts per wall-clock second; one per process, shared by its cells."""

    def __init__(self, worker: str = "local", ledger: Ledger | None = None) -> None:
        self.worker = worker
        self.ledger = ledger  # each stamped arrival is one MSG-5 check: once, in the sender's order
        self._seq: dict[str, int] = defaultdict(int)
        #: (receiver, sender) -> the highest seq that arrived
        self._highest: dict[tuple[str, str], int] = {}
        #: (receiver, sender) -> which of the SEEN_WINDOW seqs up to the highest arrived: bit i is
        #: ``highest - i`` (an anti-replay window, as IPsec keeps one)
        self._seen: dict[tuple[str, str], int] = {}
        self.buckets: dict[int, SecondBucket] = defaultdict(SecondBucket)

    def next_stamp(self, sender: str) -> str:
        """The cloudCustomData for the next message of ``sender`` (per-sender sequence, send time)."""
        self._seq[sender] += 1
        return stamp(self.worker, sender, self._seq[sender], time.monotonic())

    def sent(self, recipients: int) -> None:
        """One message accepted, expected at ``recipients`` instances (the model says how many)."""
        bucket = self.buckets[int(time.time())]
        bucket.sent += 1
        bucket.expected += recipients

    def received(self, receiver: str, cloud_custom_data: Any, at: float | None = None) -> float | None:
        """Record one pushed message at instance ``receiver``; returns its E2E latency in ms."""
        fields = read_stamp(cloud_custom_data)
        if fields is None:
            return None
        worker, sender, seq, sent_at = fields
        if worker != self.worker:
            return None  # sent by another process: its clock is not ours
        key = (receiver, f"{sender}")
        bucket = self.buckets[int(time.time())]
        highest = self._highest.get(key)
        if highest is None or seq > highest:  # the next one (or one after a loss): in order
            ahead = seq - highest if highest is not None else SEEN_WINDOW
            seen = self._seen[key] << ahead & _WINDOW_MASK if ahead < SEEN_WINDOW else 0
            self._seen[key] = seen | 1
            self._highest[key] = seq
            self._check(receiver, None)
        else:
            behind = highest - seq
            seen = self._seen[key]
            if behind < SEEN_WINDOW and seen >> behind & 1:
                bucket.duplicated += 1
                self._check(receiver, MismatchKind.DELIVERY_DUPLICATED)
                return None
            if behind < SEEN_WINDOW:  # older than the window: a copy of it counts as reordered
                self._seen[key] = seen | 1 << behind
            bucket.reordered += 1
            self._check(receiver, MismatchKind.DELIVERY_REORDERED)
        latency = max(0.001, ((at if at is not None else time.monotonic()) - sent_at) * 1000.0)
        bucket.delivered += 1
        bucket.latencies_ms.append(latency)
        return latency

    def _check(self, receiver: str, problem: MismatchKind | None) -> None:
        """One MSG-5 check per stamped arrival; ``problem`` is the delivery kind that failed it."""
        if self.ledger is None:
            return
        found = []
        if problem is not None:
            what = problem.value.removeprefix("delivery_")  # "duplicated" / "reordered", for the reader
            found.append(
                Mismatch(DELIVERY_RULE, "push", f"delivery[{receiver}]", "once, in order", what, "", problem)
            )
        self.ledger.check(DELIVERY_RULE, found)

    def lost(self, count: int = 1, late: bool = False) -> None:
        bucket = self.buckets[int(time.time())]
        if late:
            bucket.late += count
        else:
            bucket.lost += count

    def cut(self, count: int = 1) -> None:
        self.buckets[int(time.time())].cuts += count

    def replayed(self, expected: int, delivered: int, lost: int, duplicated: int, reordered: int) -> None:
        """One reconnect's NET-1 replay: its messages join the run's expected/lost/duplicated/
        reordered totals (the model counted no recipient while the instance was away) and the
        replay columns. Delivered copies are counted by ``received`` as they are timed."""
        bucket = self.buckets[int(time.time())]
        bucket.reconnects += 1
        bucket.expected += expected
        bucket.lost += lost
        bucket.duplicated += duplicated
        bucket.reordered += reordered
        bucket.replay_expected += expected
        bucket.replay_delivered += delivered
        bucket.replay_lost += lost
        bucket.replay_duplicated += duplicated
        bucket.replay_reordered += reordered

    def forget(self, prefix: str) -> None:
        """Drop what is kept for the senders whose IDs start with ``prefix`` (a cell's accounts once
        the cell is gone): a long run builds new cells as old ones fail, and their state must not
        pile up in the Locust process."""
        if not prefix:
            return
        for sender in [sender for sender in self._seq if sender.startswith(prefix)]:
            del self._seq[sender]
        for key in [key for key in self._highest if key[1].startswith(prefix)]:
            del self._highest[key]
            del self._seen[key]

    def take(self) -> dict[int, SecondBucket]:
        """Hand the finished buckets over (for a report to the master or a CSV flush)."""
        now = int(time.time())
        done = {second: bucket for second, bucket in self.buckets.items() if second < now}
        for second in done:
            del self.buckets[second]
        return done

    def take_all(self) -> dict[int, SecondBucket]:
        done, self.buckets = dict(self.buckets), defaultdict(SecondBucket)
        return done
