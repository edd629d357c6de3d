"""On a real clock a target stamps a call's times while it runs, the model just before: a slow call
widens the time tolerance of the cell by its duration (decision d-time-tolerance, MBR-3 on Synapse)."""

from __future__ import annotations

import time

from simtim.conformance.cell import Cell, probe
from simtim.driver.base import Call, Reply
from simtim.driver.inproc import InProcDriver

DELAY = 1.2  # seconds: the target's times land at least one whole second after the model's


class SlowCreate(InProcDriver):
    """A correct real-clock target whose createGroup runs its writes a second late (one TIM call
    that is many target writes, like a Matrix createRoom and its joins)."""

    def call(self, call: Call) -> Reply:
        if call.method == "createGroup":
            time.sleep(DELAY)
        return super().call(call)


def test_times_stamped_during_a_slow_call_are_compared_within_its_duration() -> None:
    target = SlowCreate(fake_clock=False, clock_start=None, seed=3)
    cell = Cell(target, probe(target), prefix="t_", sdkappid=1_400_000_931, time_tolerance=0)
    for name in ("alice", "bob"):
        cell.import_account(name)
        cell.login(name)
    created = cell.do(
        "alice",
        "createGroup",
        {
            "name": "g",
            "type": "Public",
            "groupID": cell.user("g"),
            "memberList": [{"userID": cell.user("bob")}],
        },
        rule="GRP-1",
    )
    assert created.actual.ok and created.mismatches == []
    assert cell.time_tolerance == 2  # 0 + the call's 1.2 s rounded up
    listed = cell.do("bob", "getGroupMemberList", {"groupID": cell.user("g")}, rule="MBR-3")
    assert listed.actual.data["memberList"][1]["joinTime"] > listed.expected.data["memberList"][1]["joinTime"]
    assert listed.mismatches == []  # the joinTime set during the slow call is still within it


def test_a_fake_clock_target_keeps_its_one_second() -> None:
    target = SlowCreate(fake_clock=True, clock_start=1_600_000_000, seed=3)
    cell = Cell(target, probe(target), prefix="f_", sdkappid=1_400_000_932)
    cell.import_account("alice")
    cell.login("alice")
    cell.do("alice", "createGroup", {"name": "g", "type": "Public"}, rule="GRP-1")
    assert cell.time_tolerance == 1
