"""``simtim.load.outcome``: what a checked step means for a load run, decided by mismatch kind.

The steps run through a real ``Cell`` against an in-process target with one defect each, so the
kinds are the ones the cell really produces; ``DirectCell`` (``--conformance off``) is covered too.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

import pytest

from simtim.conformance.cell import Cell, probe
from simtim.conformance.check import MismatchKind
from simtim.driver.base import Call, EventStream, Reply
from simtim.driver.inproc import InProcDriver
from simtim.load.direct import DirectCell
from simtim.load.outcome import outcome_of

RECEIVED = "onMessageReceived"


class _Stream(EventStream):
    def __init__(self, session: str, edit: Callable[[str, Any], list[tuple[str, Any]]]) -> None:
        super().__init__(session)
        self._edit = edit

    def put(self, name: str, data: Any) -> None:
        for new_name, new_data in self._edit(name, data):
            super().put(new_name, new_data)


class Defective(InProcDriver):
    """A correct in-process target with one switchable defect."""

    def __init__(self) -> None:
        super().__init__(fake_clock=True, clock_start=1_600_000_000, seed=5)
        self.defect = ""

    def call(self, call: Call) -> Reply:
        if self.defect == "unreachable":
            return Reply.transport_failure("connection refused")
        reply = super().call(call)
        if self.defect == "wrong code" and call.method == "sendMessage":
            return Reply(20009, "not friends", {})
        return reply

    def _edit(self, name: str, data: Any) -> list[tuple[str, Any]]:
        if name != RECEIVED or not self.defect:
            return [(name, data)]
        if self.defect == "lost push":
            return []
        if self.defect == "changed push":
            return [(name, [{**data[0], "payload": {"text": "changed"}}])]
        if self.defect == "extra push":
            return [(name, data), ("onKickedOut", {"type": 1})]
        return [(name, data)]

    def events(self, session: str) -> EventStream:
        stream = self._streams.get(session)
        if stream is None:
            stream = self._streams[session] = _Stream(session, self._edit)
        return stream


def send(cell: Cell | DirectCell) -> Any:
    args: Mapping[str, Any] = {
        "message": {
            "to": cell.user("bob"),
            "conversationType": "C2C",
            "type": "TIMTextElem",
            "payload": {"text": "hi"},
        }
    }
    return cell.do("alice", "sendMessage", args, rule="MSG-4")


@pytest.fixture
def target() -> Defective:
    return Defective()


def cell_on(target: Defective) -> Cell:
    cell = Cell(target, probe(target), prefix="o_", sdkappid=1400000777, event_deadline=0.05)
    for name in ("alice", "bob"):
        cell.import_account(name)
        cell.login(name)
    return cell


def test_a_clean_step_is_nothing_to_report(target: Defective) -> None:
    outcome = outcome_of(send(cell_on(target)).mismatches)
    assert (outcome.transport, outcome.reply, outcome.missing, outcome.pushes) == (False, [], [], [])


def test_a_call_without_an_answer_is_a_transport_failure(target: Defective) -> None:
    cell = cell_on(target)
    target.defect = "unreachable"
    result = send(cell)
    assert result.mismatches[0].kind is MismatchKind.TRANSPORT  # then the model's pushes never came
    assert outcome_of(result.mismatches).transport


def test_another_code_fails_the_call_not_the_transport(target: Defective) -> None:
    cell = cell_on(target)
    target.defect = "wrong code"
    outcome = outcome_of(send(cell).mismatches)
    assert not outcome.transport
    assert [(m.kind, m.expected, m.actual) for m in outcome.reply] == [(MismatchKind.REPLY_CODE, 0, 20009)]


def test_a_lost_push_is_missing_and_named_by_its_event(target: Defective) -> None:
    cell = cell_on(target)
    target.defect = "lost push"
    outcome = outcome_of(send(cell).mismatches)
    assert outcome.reply == [] and outcome.pushes == []
    assert [(m.kind, m.event) for m in outcome.missing] == [(MismatchKind.EVENT_LOST, RECEIVED)]


def test_a_changed_push_is_named_by_its_event_not_by_the_field_that_differs(target: Defective) -> None:
    cell = cell_on(target)
    target.defect = "changed push"
    outcome = outcome_of(send(cell).mismatches)
    assert outcome.pushes, "the changed text must be found"
    assert {(m.kind, m.event) for m in outcome.pushes} == {(MismatchKind.EVENT_DATA, RECEIVED)}
    assert any(m.path.endswith(".text") for m in outcome.pushes)  # the path still says where


def test_an_unexpected_push_is_reported_by_its_own_name(target: Defective) -> None:
    cell = cell_on(target)
    target.defect = "extra push"
    outcome = outcome_of(send(cell).mismatches)
    assert [(m.kind, m.event) for m in outcome.pushes] == [(MismatchKind.EVENT_UNEXPECTED, "onKickedOut")]


def test_without_a_model_a_call_without_an_answer_is_still_a_transport_failure(target: Defective) -> None:
    cell = DirectCell(target, probe(target), prefix="d_", sdkappid=1400000778)
    for name in ("alice", "bob"):
        cell.import_account(name)
        assert outcome_of(cell.login(name).mismatches).transport is False
    assert outcome_of(send(cell).mismatches).transport is False
    target.defect = "unreachable"
    assert outcome_of(send(cell).mismatches).transport
    assert outcome_of(cell.login("alice").mismatches).transport
