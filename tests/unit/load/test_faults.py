"""The fault schedule of a load user (no locust or gevent imported: simtim.load.faults is plain)."""

from __future__ import annotations

import random

import pytest

from simtim.load.faults import Faults, Plan, StormDraw
from simtim.load.options import duration_seconds


@pytest.mark.parametrize(
    ("share", "users", "joined"), [(0.5, 200, 100), (0.25, 10, 2), (1.0, 7, 7), (0.0, 9, 0)]
)
def test_the_storm_takes_exactly_its_share_of_the_users(share: float, users: int, joined: int) -> None:
    draw = StormDraw(share)
    assert sum(draw.join() for _ in range(users)) == joined


def test_a_storm_cuts_every_instance_of_a_joining_user_once_and_brings_them_back() -> None:
    plan = Plan(flap_pause=0.2, storm_at=0.0, storm=StormDraw(1.0))
    faults = Faults(plan, random.Random(1), started=0.0)
    first = faults.due(["a0", "a1", "a2"])
    assert first.storm and first.cut == ["a0", "a1", "a2"] and first.reconnect == []
    assert faults.due(["a0", "a1", "a2"]).cut == []  # one shot
    for name in faults.away:
        faults.away[name] = 0.0  # the pause is over
    assert sorted(faults.due(["a0", "a1", "a2"]).reconnect) == ["a0", "a1", "a2"]


def test_without_flap_rate_or_storm_nothing_is_cut() -> None:
    faults = Faults(Plan(), random.Random(1), started=0.0)
    assert not Plan().active
    assert faults.due(["a0", "a1"]).cut == []


def test_flapping_cuts_one_present_instance_when_due() -> None:
    faults = Faults(Plan(flap_rate=60.0), random.Random(2), started=0.0)
    faults.next_flap = 0.0
    due = faults.due(["a0", "a1"])
    assert len(due.cut) == 1 and not due.storm and due.cut[0] in faults.away


@pytest.mark.parametrize(("text", "seconds"), [("30", 30.0), ("30s", 30.0), ("2m", 120.0), ("1h", 3600.0)])
def test_storm_at_takes_locust_style_durations(text: str, seconds: float) -> None:
    assert duration_seconds(text) == seconds


@pytest.mark.parametrize("text", ["soon", "-3s", ""])
def test_a_bad_duration_is_refused(text: str) -> None:
    with pytest.raises(ValueError):
        duration_seconds(text)
