"""The checker must be able to fail: deliberately wrong targets fail the right SPEC rules.

Each mutant is a correct in-process target with one defect: a shorter revoke
window (REV-1), a lost push and a duplicated push (MSG-5), a mute refusal
answered as success (MUTE-2), and history pages capped at 20 instead of 15
(PAGE-1).  The scenarios they run are tiny files written into ``tmp_path``, so
these tests do not depend on the shipped scenarios; the same scenarios pass
on the correct target.  Some cases also go through ``simtim conform`` itself
(``simtim.cli.main``) and check exit code 2 and the printed failing rules.
"""

from __future__ import annotations

import re
import textwrap
import xml.etree.ElementTree as ET
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import pytest

import simtim.conformance.conform as conform_module
from simtim.cli import main
from simtim.conformance.cell import probe
from simtim.conformance.check import Mismatch
from simtim.conformance.evidence import Outcome as RuleOutcome
from simtim.conformance.report import ConformReport
from simtim.conformance.runner import RunSettings, ScenarioResult, run_random_phase, run_scenario
from simtim.conformance.scenario import load_scenario
from simtim.driver.base import Call, Driver, EventStream, Reply
from simtim.driver.inproc import InProcDriver
from simtim.driver.targets import Opened
from simtim.errors import Code
from simtim.ids import IdSource
from simtim.model import Outcome, World
from simtim.model.conversations import Conversations
from simtim.model.entities import Instance
from simtim.protocol.service import Service

CLOCK_START = 1_600_000_000
DEADLINE = 0.1  # in-process pushes are synchronous: a short deadline keeps "lost" verdicts fast
MESSAGE_RECEIVED = "onMessageReceived"


# --- mutant targets -----------------------------------------------------------------------------
def correct_target() -> InProcDriver:
    return InProcDriver(fake_clock=True, clock_start=CLOCK_START, seed=99)


class ShortRevokeWindow(Service):
    """(a) Whatever the app config says, the revoke window is 60 s (SPEC: 120 s, REV-1)."""

    def _admin_configureApp(self, body: dict[str, Any]) -> dict[str, Any]:
        return super()._admin_configureApp({**body, "revokeWindowSeconds": 60})


class _TamperedStream(EventStream):
    """An event stream that puts each pushed event ``copies(name)`` times (0 = lost, 2 = duplicated)."""

    def __init__(self, session: str, copies: Callable[[str], int]) -> None:
        super().__init__(session)
        self._copies = copies

    def put(self, name: str, data: Any) -> None:
        for _ in range(self._copies(name)):
            super().put(name, data)


class PushTampering(InProcDriver):
    """(b)/(c) Every ``every``-th ``onMessageReceived`` push arrives ``copies`` times."""

    def __init__(self, *, every: int, copies: int, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.every = every
        self.copies = copies
        self.pushes = 0
        self.tampered = 0

    def _copies_of(self, name: str) -> int:
        if name != MESSAGE_RECEIVED:
            return 1
        self.pushes += 1
        if self.pushes % self.every:
            return 1
        self.tampered += 1
        return self.copies

    def events(self, session: str) -> EventStream:
        stream = self._streams.get(session)
        if stream is None:
            stream = self._streams[session] = _TamperedStream(session, self._copies_of)
        return stream


class MuteAnsweredAsSuccess:
    """(d) A driver wrapper that turns 10017 (muted) into success."""

    def __init__(self, inner: Driver) -> None:
        self.inner = inner
        self.rewritten = 0

    def call(self, call: Call) -> Reply:
        reply = self.inner.call(call)
        if reply.code == Code.GROUP_MEMBER_MUTED:
            self.rewritten += 1
            return Reply(0, "", {})
        return reply

    def events(self, session: str) -> EventStream:
        return self.inner.events(session)

    def admin(self, op: str, body: Mapping[str, Any]) -> Reply:
        return self.inner.admin(op, body)

    def close(self) -> None:
        self.inner.close()


class PagesOfTwenty(Conversations):
    """(e) getMessageList caps ``count`` at 20 instead of 15 (PAGE-1).

    It is the correct pager run twice: the newest 15, then the next ``count - 15``
    older ones, merged into one ascending page.
    """

    def get_message_list(self, inst: Instance, opts: Any) -> Outcome:
        count = opts.get("count") if isinstance(opts, dict) else None
        first = super().get_message_list(inst, opts)
        if not isinstance(count, int) or count <= 15 or first.data["isCompleted"]:
            return first
        more = super().get_message_list(
            inst, {**opts, "count": min(count, 20) - 15, "nextReqMessageID": first.data["nextReqMessageID"]}
        )
        return Outcome({**more.data, "messageList": more.data["messageList"] + first.data["messageList"]}, [])


class PagesOfTwentyWorld(World):
    conversations_class = PagesOfTwenty


def pages_of_twenty_target() -> InProcDriver:
    service = Service(fake_clock=True, clock_start=CLOCK_START, seed=99)
    service.world = PagesOfTwentyWorld(service.base_clock, IdSource(99))
    return InProcDriver(service=service)


# --- tiny scenarios (in tmp_path, independent of scenarios/conformance/) -------------------------
def c2c(to: str, text: str) -> str:
    return f"{{message: {{to: ~{to}, conversationType: C2C, type: TIMTextElem, payload: {{text: {text}}}}}}}"


REVOKE = """\
name: mutant_revoke_window
rules: [REV-1]
requires: [fake_clock, admin]
setup:
  app: {revokeWindowSeconds: 120}
  accounts: [alice, bob]
steps:
  - {actor: alice, call: sendMessage, save: m1,
     args: {message: {to: ~bob, conversationType: C2C, type: TIMTextElem, payload: {text: one}}}}
  - {advance: 90}
  - {actor: alice, call: revokeMessage, args: {message: {ID: $m1.message.ID}},
     expect: {code: 0, data: {message.isRevoked: true}}}
"""

MUTE = """\
name: mutant_mute
rules: [MUTE-2]
setup:
  accounts: [owner, bob]
steps:
  - {actor: owner, call: createGroup, save: g, rule: GRP-1,
     args: {name: g, type: Public, memberList: [{userID: ~bob}]}, expect: {code: 0}}
  - {actor: owner, call: setGroupMemberMuteTime, rule: MUTE-1,
     args: {groupID: $g.group.groupID, userID: ~bob, muteTime: 600}, expect: {code: 0}}
  - {actor: bob, call: sendMessage, expect: {code: 10017},
     args: {message: {to: $g.group.groupID, conversationType: GROUP, type: TIMTextElem, payload: {text: hi}}}}
"""


def deliveries(count: int) -> str:
    """``count`` C2C messages alice -> bob: one ``onMessageReceived`` push each (MSG-5)."""
    steps = "".join(
        f"  - {{actor: alice, call: sendMessage, args: {c2c('bob', f'n{i}')}}}\n" for i in range(count)
    )
    return f"name: mutant_deliveries\nrules: [MSG-5]\nsetup:\n  accounts: [alice, bob]\nsteps:\n{steps}"


def paging(count: int) -> str:
    """``count`` messages, then one page of 20: SPEC gives the newest 15 (PAGE-1)."""
    sends = "".join(
        f"  - {{actor: alice, call: sendMessage, rule: MSG-5, args: {c2c('bob', f'p{i}')}}}\n"
        for i in range(count)
    )
    page = (
        "  - {actor: bob, call: getMessageList, args: {conversationID: C2C~alice, count: 20},\n"
        "     expect: {code: 0, data: {messageList.length: 15, isCompleted: false}}}\n"
    )
    return f"name: mutant_paging\nrules: [PAGE-1]\nsetup:\n  accounts: [alice, bob]\nsteps:\n{sends}{page}"


def write(directory: Path, name: str, text: str) -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / name
    path.write_text(textwrap.dedent(text), encoding="utf-8")
    load_scenario(path)  # the scenario itself is valid
    return path


PASS, FAIL = RuleOutcome.PASSED, RuleOutcome.FAILED
SETTINGS = RunSettings(event_deadline=DEADLINE, settle=0.0)


def run(path: Path, target: Driver, sdkappid: int = 1_500_000_001) -> ScenarioResult:
    try:
        return run_scenario(
            load_scenario(path), target, probe(target), prefix="mut_", sdkappid=sdkappid, settings=SETTINGS
        )
    finally:
        target.close()


SETUP_RULES = {"INST-2"}  # every scenario's setup logins are INST-2 checks


def verdicts(result: ScenarioResult) -> dict[str, RuleOutcome]:
    """The outcome of every rule the run gathered evidence for (setup logins aside)."""
    all_rules = ConformReport(result.ledger).verdicts()
    return {rule: all_rules[rule].outcome for rule in result.ledger.rules if rule not in SETUP_RULES}


def mismatches_of(result: ScenarioResult, rule: str) -> list[Mismatch]:
    evidence = result.ledger.rules.get(rule)
    return evidence.mismatches if evidence is not None else []


def explain(result: ScenarioResult) -> str:
    return "\n".join(
        f"{rule} {e.checks} checks, {e.failed} failed: " + "; ".join(m.describe() for m in e.mismatches)
        for rule, e in result.ledger.rules.items()
    )


# --- (a) revoke window ----------------------------------------------------------------------------
def test_rev_1_passes_on_the_correct_target(tmp_path: Path) -> None:
    checks = run(write(tmp_path, "revoke.yaml", REVOKE), correct_target())
    assert verdicts(checks) == {"REV-1": PASS}, explain(checks)


def test_rev_1_fails_when_the_revoke_window_is_60_seconds(tmp_path: Path) -> None:
    target = InProcDriver(service=ShortRevokeWindow(fake_clock=True, clock_start=CLOCK_START, seed=99))
    checks = run(write(tmp_path, "revoke.yaml", REVOKE), target)
    assert verdicts(checks)["REV-1"] == FAIL
    found = mismatches_of(checks, "REV-1")
    assert (found[0].method, found[0].path, found[0].expected, found[0].actual) == (
        "revokeMessage",
        "code",
        0,
        int(Code.C2C_REVOKE_TIME_LIMIT),
    ), explain(checks)
    # the pushes a successful revoke makes (REV-2) never came either
    assert {(m.path, m.expected) for m in found[1:]} == {
        ("event[bob].onMessageRevoked", "lost"),
        ("event[bob].onConversationListUpdated", "lost"),
        ("event[alice].onConversationListUpdated", "lost"),
    }, explain(checks)
    assert {m.step for m in found} == {"step 3 (revokeMessage by alice)"}


# --- (b) a lost push, (c) a duplicated push ----------------------------------------------------------
def test_msg_5_passes_when_every_push_arrives_once(tmp_path: Path) -> None:
    target = PushTampering(every=50, copies=1, fake_clock=True, clock_start=CLOCK_START, seed=99)
    checks = run(write(tmp_path, "deliveries.yaml", deliveries(60)), target)
    assert target.pushes == 60
    assert verdicts(checks) == {"MSG-5": PASS}, explain(checks)


def test_msg_5_fails_when_one_push_in_50_is_lost(tmp_path: Path) -> None:
    target = PushTampering(every=50, copies=0, fake_clock=True, clock_start=CLOCK_START, seed=99)
    checks = run(write(tmp_path, "deliveries.yaml", deliveries(60)), target)
    assert target.tampered == 1
    assert verdicts(checks)["MSG-5"] == FAIL
    found = mismatches_of(checks, "MSG-5")
    assert [(m.path, m.expected, m.actual, m.step) for m in found] == [
        ("event[bob].onMessageReceived", "lost", None, "step 50 (sendMessage by alice)")
    ], explain(checks)


def test_msg_5_fails_when_a_push_is_duplicated(tmp_path: Path) -> None:
    target = PushTampering(every=10, copies=2, fake_clock=True, clock_start=CLOCK_START, seed=99)
    checks = run(write(tmp_path, "deliveries.yaml", deliveries(12)), target)
    assert target.tampered == 1
    assert verdicts(checks)["MSG-5"] == FAIL
    found = mismatches_of(checks, "MSG-5")
    assert [(m.path, m.expected, m.actual, m.step) for m in found] == [
        (
            "event[bob].onMessageReceived",
            "<no event>",
            "unexpected onMessageReceived",
            "step 10 (sendMessage by alice)",
        )
    ], explain(checks)


def test_the_random_phase_catches_a_lost_push() -> None:
    target = PushTampering(every=50, copies=0, fake_clock=True, clock_start=CLOCK_START, seed=99)
    try:
        checks = run_random_phase(
            target,
            probe(target),
            seed=3,
            steps=200,
            prefix="rnd_",
            sdkappid=1_500_000_003,
            settings=SETTINGS,
        )
    finally:
        target.close()
    assert target.tampered >= 1, "the random phase made fewer than 50 deliveries"
    assert verdicts(checks)["MSG-5"] == FAIL
    lost = [m for m in mismatches_of(checks, "MSG-5") if m.expected == "lost"]
    assert len(lost) == target.tampered, explain(checks)
    assert all(m.path.endswith(".onMessageReceived") and m.method == "sendMessage" for m in lost)
    assert [r for r, v in verdicts(checks).items() if v == FAIL] == ["MSG-5"], explain(checks)


def test_the_random_phase_passes_on_the_correct_target() -> None:
    target = correct_target()
    try:
        checks = run_random_phase(
            target,
            probe(target),
            seed=3,
            steps=200,
            prefix="rnd_",
            sdkappid=1_500_000_003,
            settings=SETTINGS,
        )
    finally:
        target.close()
    assert checks.ledger.rules and all(v is PASS for v in verdicts(checks).values()), explain(checks)


# --- (d) a mute refusal answered as success -----------------------------------------------------------
def test_mute_2_passes_on_the_correct_target(tmp_path: Path) -> None:
    checks = run(write(tmp_path, "mute.yaml", MUTE), correct_target())
    assert verdicts(checks) == {"GRP-1": PASS, "MUTE-1": PASS, "MUTE-2": PASS}, explain(checks)


def test_mute_2_fails_when_10017_becomes_success(tmp_path: Path) -> None:
    target = MuteAnsweredAsSuccess(correct_target())
    checks = run(write(tmp_path, "mute.yaml", MUTE), target)
    assert target.rewritten == 1
    assert verdicts(checks) == {"GRP-1": PASS, "MUTE-1": PASS, "MUTE-2": FAIL}, explain(checks)
    found = mismatches_of(checks, "MUTE-2")
    assert [(m.method, m.path, m.expected, m.actual) for m in found] == [("sendMessage", "code", 10017, 0)]


# --- (e) pages capped at 20 instead of 15 -------------------------------------------------------------
def test_page_1_passes_on_the_correct_target(tmp_path: Path) -> None:
    checks = run(write(tmp_path, "paging.yaml", paging(22)), correct_target())
    assert verdicts(checks) == {"PAGE-1": PASS, "MSG-5": PASS}, explain(checks)


def test_page_1_fails_when_pages_hold_20(tmp_path: Path) -> None:
    checks = run(write(tmp_path, "paging.yaml", paging(22)), pages_of_twenty_target())
    assert verdicts(checks) == {"PAGE-1": FAIL, "MSG-5": PASS}, explain(checks)
    paths = {m.path: (m.expected, m.actual) for m in mismatches_of(checks, "PAGE-1")}
    assert paths["data.messageList.length"] == (15, 20)


def test_the_paging_mutant_agrees_up_to_15(tmp_path: Path) -> None:
    """The mutant differs only above 15: the check must not cry wolf."""
    text = paging(22).replace("count: 20", "count: 15")
    checks = run(write(tmp_path, "paging.yaml", text), pages_of_twenty_target())
    assert verdicts(checks) == {"PAGE-1": PASS, "MSG-5": PASS}, explain(checks)


# --- through the command line: exit codes, printed rules, JUnit ----------------------------------------
@pytest.fixture
def scenario_dir(tmp_path: Path) -> Path:
    directory = tmp_path / "scenarios"
    write(directory, "revoke.yaml", REVOKE)
    write(directory, "mute.yaml", MUTE)
    write(directory, "paging.yaml", paging(22))
    write(directory, "deliveries.yaml", deliveries(55))
    return directory


def conform(monkeypatch: pytest.MonkeyPatch, target: Driver, *args: str) -> int:
    """``simtim conform --target inproc://`` with the in-process target swapped for ``target``."""
    monkeypatch.setattr(conform_module, "open_target", lambda _target, _options: Opened(target, 0.0, True))
    return main(["conform", "--target", "inproc://", "--event-deadline", str(DEADLINE), "--jobs", "1", *args])


def failing_line(output: str) -> list[str]:
    lines = [line for line in output.splitlines() if line.startswith("FAILING RULES: ")]
    assert len(lines) == 1, output
    return lines[0].removeprefix("FAILING RULES: ").split()


def test_cli_exits_0_on_the_correct_target(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], scenario_dir: Path
) -> None:
    code = conform(monkeypatch, correct_target(), "--scenarios", str(scenario_dir), "--random-steps", "50")
    out = capsys.readouterr().out
    assert code == 0, out
    assert "FAILING RULES" not in out and " 0 failed," in out


@pytest.mark.parametrize(
    ("name", "make_target", "rule"),
    [
        (
            "revoke window 60 s",
            lambda: InProcDriver(
                service=ShortRevokeWindow(fake_clock=True, clock_start=CLOCK_START, seed=99)
            ),
            "REV-1",
        ),
        (
            "lost push",
            lambda: PushTampering(every=50, copies=0, fake_clock=True, clock_start=CLOCK_START, seed=99),
            "MSG-5",
        ),
        (
            "duplicated push",
            lambda: PushTampering(every=20, copies=2, fake_clock=True, clock_start=CLOCK_START, seed=99),
            "MSG-5",
        ),
        ("10017 as success", lambda: MuteAnsweredAsSuccess(correct_target()), "MUTE-2"),
        ("pages of 20", pages_of_twenty_target, "PAGE-1"),
    ],
)
def test_cli_exits_2_and_names_the_failing_rule(
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    scenario_dir: Path,
    tmp_path: Path,
    name: str,
    make_target: Callable[[], Driver],
    rule: str,
) -> None:
    junit = tmp_path / "reports" / "junit.xml"
    code = conform(
        monkeypatch,
        make_target(),
        "--scenarios",
        str(scenario_dir),
        "--random-steps",
        "0",
        "--junit",
        str(junit),
    )
    out = capsys.readouterr().out
    assert code == 2, out
    assert failing_line(out) == [rule], out
    assert re.search(rf"{rule}\s+failed \(\d+ of \d+\)", out), out
    failed_cases = [
        case.get("name", "")
        for case in ET.parse(junit).getroot().iter("testcase")
        if case.find("failure") is not None
    ]
    assert failed_cases and all(case.startswith(f"{rule}: ") for case in failed_cases), failed_cases


def test_cli_random_phase_catches_a_lost_push(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    empty = tmp_path / "none"
    empty.mkdir()
    target = PushTampering(every=50, copies=0, fake_clock=True, clock_start=CLOCK_START, seed=99)
    code = conform(monkeypatch, target, "--scenarios", str(empty), "--random-steps", "200", "--seed", "3")
    out = capsys.readouterr().out
    assert code == 2, out
    assert failing_line(out) == ["MSG-5"]
    assert "onMessageReceived: expected 'lost', got None" in out


# --- known divergences: a known mutant passes the run, a fixed one fails it (strict) -------------------
def test_a_known_divergence_lets_the_mutant_pass_the_run(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], scenario_dir: Path, tmp_path: Path
) -> None:
    known = tmp_path / "known.yaml"
    known.write_text("- {rule: PAGE-1, reason: pages hold up to 20}\n", encoding="utf-8")
    code = conform(
        monkeypatch,
        pages_of_twenty_target(),
        "--scenarios",
        str(scenario_dir),
        "--random-steps",
        "0",
        "--known-divergences",
        str(known),
    )
    out = capsys.readouterr().out
    assert code == 0, out
    assert "PAGE-1    expected divergence (pages hold up to 20)" in out


def test_a_known_divergence_that_now_passes_fails_the_run(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], scenario_dir: Path, tmp_path: Path
) -> None:
    known = tmp_path / "known.yaml"
    known.write_text("- {rule: PAGE-1, reason: pages hold up to 20}\n", encoding="utf-8")
    code = conform(
        monkeypatch,
        correct_target(),
        "--scenarios",
        str(scenario_dir),
        "--random-steps",
        "0",
        "--known-divergences",
        str(known),
    )
    out = capsys.readouterr().out
    assert code == 2, out
    assert failing_line(out) == ["PAGE-1"]
    assert "listed as a known divergence (pages hold up to 20) but all" in out


def test_cli_rule_filter_runs_only_matching_scenarios(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], scenario_dir: Path
) -> None:
    """``--rules REV-*`` on the MUTE mutant: the MUTE scenario is not run, so nothing fails."""
    code = conform(
        monkeypatch,
        MuteAnsweredAsSuccess(correct_target()),
        "--scenarios",
        str(scenario_dir),
        "--rules",
        "REV-*",
    )
    out = capsys.readouterr().out
    assert code == 0, out
    assert "1 scenarios" in out and re.search(r"MUTE-2\s+skipped \(not exercised\)", out), out
