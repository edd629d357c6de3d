"""``pushes_rule``: a step's pushes (and its expect_events) count for another rule than its reply,
so a rule about replies only (REPLY-1) does not rest on, or fail for, another rule's pushes."""

from __future__ import annotations

from pathlib import Path

from simtim.conformance.runner import ScenarioResult
from simtim.driver.base import EventStream
from simtim.driver.inproc import InProcDriver
from tests.helpers import run_scenario_text

SCENARIO = """\
name: replies_and_pushes
rules: [REPLY-1]
setup:
  accounts: [alice, bob]
steps:
  - {actor: alice, call: sendMessage, pushes_rule: MSG-5, expect: {code: 0},
     expect_events: {bob: [onMessageReceived, onConversationListUpdated]},
     args: {message: {to: ~bob, conversationType: C2C, type: TIMTextElem, payload: {text: hi}}}}
"""


class DropsPushes(InProcDriver):
    """Answers every call right and delivers no push at all (each session reads an empty stream)."""

    def __init__(self) -> None:
        super().__init__(fake_clock=True, clock_start=1_600_000_000, seed=5)

    def events(self, session: str) -> EventStream:
        return EventStream(session)


def run(tmp_path: Path, driver: InProcDriver) -> ScenarioResult:
    return run_scenario_text(tmp_path, SCENARIO, driver, sdkappid=1_500_000_008)


def test_pushes_count_for_the_named_rule_and_the_reply_for_the_steps_rule(tmp_path: Path) -> None:
    result = run(tmp_path, InProcDriver(fake_clock=True, clock_start=1_600_000_000, seed=5))
    reply, pushes = result.ledger.rules["REPLY-1"], result.ledger.rules["MSG-5"]
    assert reply.checks >= 1 and reply.failed == 0
    assert pushes.checks >= 2 and pushes.failed == 0  # bob's two pushes, the pin of their names


def test_a_lost_push_fails_the_pushes_rule_not_the_replies(tmp_path: Path) -> None:
    result = run(tmp_path, DropsPushes())
    assert result.ledger.rules["REPLY-1"].failed == 0
    assert result.ledger.rules["MSG-5"].failed >= 1
