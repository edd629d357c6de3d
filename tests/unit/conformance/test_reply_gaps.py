"""What a target declares it cannot carry in a reply is noted unsupported and left out of the
comparison; everything else in that reply is still compared (reply_gaps, cell._compare_reply)."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any, ClassVar

from simtim.conformance.reply_gaps import ReplyGaps
from simtim.conformance.runner import ScenarioResult
from simtim.driver.base import Call, Reply
from simtim.driver.inproc import InProcDriver
from tests.helpers import run_scenario_text

SYSTEM = "@TIM#SYSTEM"
SCENARIO = """\
name: reply_gaps
rules: [CONV-2]
setup:
  accounts: [alice, bob, carol]
steps:
  - {actor: alice, call: createGroup, args: {name: g, groupID: ~g, memberList: [{userID: ~bob}]}, expect: {code: 0}}
  - {actor: bob, call: quitGroup, args: {groupID: ~g}, expect: {code: 0}}
  - {actor: carol, call: sendMessage, args: {message: {to: ~bob, conversationType: C2C, type: TIMTextElem,
     payload: {text: hi}}}, expect: {code: 0}}
  - {actor: alice, call: deleteGroupMember, args: {groupID: ~g, userIDList: [~bob, ~carol]}, rule: CONV-2}
  - {actor: bob, call: getConversationList, expect: {code: 0}}
"""


class WebLike(InProcDriver):
    """A correct target, except that it never lists @TIM#SYSTEM and resolves deleteGroupMember with
    the IDs it was given, and says so; ``lose_c2c`` also drops the C2C conversation (a real bug)."""

    field_gaps: ClassVar[Mapping[str, str]] = {"deleteGroupMember.userIDList": "the reply names nobody"}
    conversation_gaps: ClassVar[Mapping[str, str]] = {SYSTEM: "built on the client"}

    def __init__(self, lose_c2c: bool = False) -> None:
        super().__init__(fake_clock=True, clock_start=1_600_000_000, seed=5)
        self.lose_c2c = lose_c2c

    def call(self, call: Call) -> Reply:
        reply = super().call(call)
        if call.method == "deleteGroupMember" and reply.ok:
            return Reply(0, "", {**reply.data, "userIDList": call.args["userIDList"]})
        if call.method == "getConversationList" and reply.ok:
            dropped = {
                SYSTEM,
                *([] if not self.lose_c2c else [c["conversationID"] for c in self._c2c(reply)]),
            }
            kept = [c for c in reply.data["conversationList"] if c["conversationID"] not in dropped]
            return Reply(0, "", {"conversationList": kept})
        return reply

    @staticmethod
    def _c2c(reply: Reply) -> list[dict[str, Any]]:
        return [c for c in reply.data["conversationList"] if c["type"] == "C2C"]


def run(tmp_path: Path, target: WebLike) -> ScenarioResult:
    return run_scenario_text(tmp_path, SCENARIO, target, sdkappid=1_500_000_009)


def test_declared_gaps_are_unsupported_notes_and_the_rest_still_passes(tmp_path: Path) -> None:
    evidence = run(tmp_path, WebLike()).ledger.rules["CONV-2"]
    assert evidence.failed == 0 and evidence.checks > 0
    assert evidence.unsupported == {
        "deleteGroupMember userIDList: the reply names nobody": 1,
        f"{SYSTEM}: built on the client": 1,
    }


def test_a_conversation_missing_for_another_reason_still_fails(tmp_path: Path) -> None:
    evidence = run(tmp_path, WebLike(lose_c2c=True)).ledger.rules["CONV-2"]
    assert evidence.failed == 1
    assert [m.path for m in evidence.mismatches] == ["data.conversationList.length"]


def test_strip_leaves_other_methods_and_keys_alone() -> None:
    gaps = ReplyGaps.of(
        {"sequence": "no counter", "deleteGroupMember.userIDList": "none"}, {SYSTEM: "client"}
    )
    assert gaps.fields == {"deleteGroupMember": {"userIDList": "none"}}  # a bare key is compare's job
    reply = {"userIDList": ["a"], "group": {"groupID": "g"}}
    assert gaps.strip("addGroupMember", reply, reply) == (reply, reply, [])
    listing = {"conversationList": [{"conversationID": SYSTEM}, {"conversationID": "C2Ca"}]}
    expected, actual, reasons = gaps.strip("getConversationList", listing, listing)
    assert expected == {"conversationList": [{"conversationID": "C2Ca"}]}
    assert actual == listing  # a target that lists it after all shows up as a difference
    assert reasons == [f"{SYSTEM}: client"]
    assert not ReplyGaps.of({}, {})
