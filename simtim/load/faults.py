"""Faults under load (NET-1): connections cut abruptly and re-opened, flapping and a storm.

Each Locust user owns a ``Faults`` schedule. ``--flap-rate R`` cuts one of the user's instances
about R times a minute per user (exponential gaps, so cuts do not line up); ``--storm-at T
--storm-share S`` cuts every instance of S of the users at once, T seconds into the run. A cut
instance is re-opened after a pause drawn from 0.2..``--flap-pause`` s; meanwhile the rest of
the cell keeps sending, so messages are stored for it. The user calls ``due`` before each action
and does the cutting and re-opening itself (the cell is not thread-safe: only its own greenlet
may touch it).
"""

from __future__ import annotations

import random
import threading
import time
from dataclasses import dataclass, field

MIN_PAUSE = 0.2


@dataclass
class StormDraw:
    """Which users join the storm: exactly ``share`` of those that reach it (one per process)."""

    share: float
    drawn: int = 0
    joined: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock)

    def join(self) -> bool:
        with self.lock:
            self.drawn += 1
            take = int(self.drawn * self.share + 1e-9) > self.joined
            self.joined += take
            return take


@dataclass
class Plan:
    """The run's fault options (``None``/0 = that fault is off)."""

    flap_rate: float = 0.0
    flap_pause: float = 3.0
    storm_at: float | None = None
    storm: StormDraw | None = None

    @property
    def active(self) -> bool:
        return self.flap_rate > 0 or self.storm_at is not None


@dataclass
class Due:
    cut: list[str] = field(default_factory=list)  # instances to cut now
    reconnect: list[str] = field(default_factory=list)  # instances to re-open now
    storm: bool = False  # this cut is the storm


class Faults:
    """One user's schedule: when to cut which of its instances, and when to re-open them."""

    def __init__(self, plan: Plan, rng: random.Random, started: float) -> None:
        self.plan = plan
        self.rng = rng
        self.started = started
        self.away: dict[str, float] = {}  # instance name -> when to re-open it (monotonic)
        self.stormed = plan.storm_at is None
        self.next_flap = self._next_flap(time.monotonic())

    def _next_flap(self, now: float) -> float:
        rate = self.plan.flap_rate
        return now + self.rng.expovariate(rate / 60.0) if rate > 0 else float("inf")

    def _pause(self) -> float:
        return self.rng.uniform(MIN_PAUSE, max(MIN_PAUSE, self.plan.flap_pause))

    def due(self, names: list[str]) -> Due:
        now = time.monotonic()
        due = Due(reconnect=[name for name, at in self.away.items() if at <= now])
        for name in due.reconnect:
            del self.away[name]
        present = [name for name in names if name not in self.away and name not in due.reconnect]
        storm_at = self.plan.storm_at
        if not self.stormed and storm_at is not None and now - self.started >= storm_at:
            self.stormed = True
            if self.plan.storm is not None and self.plan.storm.join():
                due.storm = True
                due.cut = present
        elif now >= self.next_flap:
            self.next_flap = self._next_flap(now)
            if present:
                due.cut = [self.rng.choice(present)]
        back = now + self._pause()
        for name in due.cut:
            self.away[name] = back
        return due

    def forget(self) -> None:
        """The cell was dropped: nothing of it is away any more."""
        self.away.clear()


__all__ = ["Due", "Faults", "Plan", "StormDraw"]
