"""An unsupported step ends its scenario, except a read whose result no later step uses: a read
changes nothing on either side, so what follows still proves something (runner.ScenarioRun)."""

from __future__ import annotations

from pathlib import Path

from simtim.conformance.runner import ScenarioResult
from simtim.driver.base import Call, Reply
from simtim.driver.inproc import InProcDriver
from tests.helpers import run_scenario_text

SCENARIO = """\
name: unsupported_read
rules: [GRP-1]
setup:
  accounts: [alice, bob]
steps:
  - {actor: alice, call: createGroup, args: {name: g, groupID: ~g, memberList: [{userID: ~bob}]},
     expect: {code: 0}}
  - {actor: bob, call: %s, args: %s}
  - {actor: bob, call: getGroupProfile, args: {groupID: ~g},
     expect: {code: 0, data: {group.name: g, group.memberNum: 2}}}
"""


class WithoutOneMethod(InProcDriver):
    """A correct target that has no counterpart for one method."""

    def __init__(self, missing: str) -> None:
        super().__init__(fake_clock=True, clock_start=1_600_000_000, seed=5)
        self.missing = missing

    def call(self, call: Call) -> Reply:
        if call.method == self.missing:
            return Reply.not_supported(f"{self.missing}: no counterpart here")
        return super().call(call)


def run(tmp_path: Path, method: str, args: str) -> ScenarioResult:
    return run_scenario_text(
        tmp_path, SCENARIO % (method, args), WithoutOneMethod(method), sdkappid=1_500_000_007
    )


def test_an_unsupported_read_is_recorded_and_the_scenario_goes_on(tmp_path: Path) -> None:
    result = run(tmp_path, "getMessageList", "{conversationID: GROUP~g}")
    evidence = result.ledger.rules["GRP-1"]
    assert result.skipped_from == ""
    assert evidence.unsupported == {"getMessageList: no counterpart here": 1}
    assert evidence.skipped == {}
    assert evidence.checks > 2 and evidence.failed == 0  # the profile read after it was checked


def test_an_unsupported_write_ends_the_scenario(tmp_path: Path) -> None:
    result = run(tmp_path, "updateGroupProfile", "{groupID: ~g, name: renamed}")
    evidence = result.ledger.rules["GRP-1"]
    assert result.skipped_from.startswith("the target cannot updateGroupProfile")
    assert sum(evidence.skipped.values()) == 1  # the profile read after it
