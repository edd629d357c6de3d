"""NET-1's replay check: lost, duplicated, reordered and unexpected replays are told apart."""

from __future__ import annotations

from typing import Any

from simtim.conformance.check import IdMap, MismatchKind
from simtim.conformance.evidence import Ledger
from simtim.conformance.replay import check_replay
from simtim.driver.base import PushedEvent

NET = ("netStateChange", {"state": "connected"})


def msg(message_id: str) -> tuple[str, Any]:
    return "onMessageReceived", [{"ID": message_id, "text": message_id}]


def pushed(name: str, data: Any) -> PushedEvent:
    return PushedEvent("s", name, data, 0.0)


def ids() -> IdMap:
    mapping = IdMap()
    for n in range(1, 5):
        mapping.bind(f"m{n}", f"t{n}")
    return mapping


def arrived(*names: str) -> list[PushedEvent]:
    events = [pushed(*NET)]
    for name in names:
        events.append(pushed("onMessageReceived", [{"ID": name, "text": "m" + name[1:]}]))
    return events


EXPECTED = [NET, msg("m1"), msg("m2"), msg("m3")]


def test_net_1_an_exact_replay_passes() -> None:
    result = check_replay(EXPECTED, arrived("t1", "t2", "t3"), ids(), actor="b")
    assert (result.expected, result.delivered, result.lost, result.duplicated, result.reordered) == (
        3,
        3,
        0,
        0,
        0,
    )
    assert result.mismatches == [] and result.checks == 5 and len(result.matched) == 4


def test_net_1_lost_duplicated_and_reordered_are_counted_apart() -> None:
    lost = check_replay(EXPECTED, arrived("t1", "t3"), ids(), actor="b")
    assert (lost.lost, lost.duplicated, lost.reordered) == (1, 0, 0)
    assert [m.kind for m in lost.mismatches] == [MismatchKind.EVENT_LOST]
    twice = check_replay(EXPECTED, arrived("t1", "t2", "t2", "t3"), ids(), actor="b")
    assert (twice.lost, twice.duplicated, twice.reordered) == (0, 1, 0)
    swapped = check_replay(EXPECTED, arrived("t2", "t1", "t3"), ids(), actor="b")
    assert (swapped.lost, swapped.duplicated, swapped.reordered) == (0, 0, 1)
    stale = check_replay(EXPECTED, arrived("t1", "t2", "t3", "t4"), ids(), actor="b")  # seen before the cut
    assert stale.duplicated == 1
    assert all(m.rule == "NET-1" for r in (lost, twice, swapped, stale) for m in r.mismatches)


def test_net_1_other_events_are_matched_by_name_and_extras_fail() -> None:
    no_handshake = check_replay(EXPECTED, arrived("t1", "t2", "t3")[1:], ids(), actor="b")
    assert [m.kind for m in no_handshake.mismatches] == [MismatchKind.EVENT_LOST]
    extra = [*arrived("t1", "t2", "t3"), pushed("kickedOut", {"type": "x"})]
    assert [m.kind for m in check_replay(EXPECTED, extra, ids(), actor="b").mismatches] == [
        MismatchKind.EVENT_UNEXPECTED
    ]


def test_ledger_take_keeps_the_object_its_holders_record_into() -> None:
    """A load run takes evidence every second while cells keep recording into the same ledger."""
    ledger = Ledger(keep_mismatches=False)
    ledger.check("NET-1")
    taken = ledger.take()
    ledger.check("NET-1")
    assert taken.rules["NET-1"].checks == 1 and ledger.rules["NET-1"].checks == 1
