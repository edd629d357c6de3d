"""Scenario files: every shipped file validates, broken ones say which file and step, SPEC coverage."""

from __future__ import annotations

import functools
import textwrap
from pathlib import Path

import pytest

from simtim.conformance.scenario import Scenario, ScenarioError, load_all, load_scenario
from simtim.rules import RULE_IDS

ROOT = Path(__file__).resolve().parents[3]
SCENARIOS = ROOT / "scenarios" / "conformance"
SCENARIO_FILES = sorted(SCENARIOS.glob("*.yaml"))


# --- every shipped scenario -----------------------------------------------------------------
@functools.cache
def shipped() -> list[Scenario]:
    return load_all(SCENARIOS)


def test_the_scenario_directory_is_not_empty() -> None:
    assert SCENARIO_FILES, f"no scenarios in {SCENARIOS}"
    assert not list(SCENARIOS.glob("*.yml")), "scenario files must end in .yaml (load_all reads *.yaml)"


@pytest.mark.parametrize("path", SCENARIO_FILES, ids=[p.name for p in SCENARIO_FILES])
def test_shipped_scenario_validates(path: Path) -> None:
    scenario = load_scenario(path)
    assert scenario.path == path
    assert scenario.steps and scenario.rules
    for step in scenario.steps:
        assert step.rule in RULE_IDS, step.label


def test_scenario_names_are_unique() -> None:
    """Known divergences and reports name scenarios, so two files must not share a name."""
    seen: dict[str, str] = {}
    for scenario in shipped():
        assert scenario.name not in seen, (
            f"{scenario.path.name} and {seen[scenario.name]} share {scenario.name!r}"
        )
        seen[scenario.name] = scenario.path.name


def test_every_catalogue_rule_is_covered_by_some_scenario() -> None:
    covered = {rule for scenario in shipped() for rule in scenario.rules}
    missing = [rule for rule in RULE_IDS if rule not in covered]
    assert not missing, f"SPEC rules in no scenario's `rules`: {' '.join(missing)}"


# --- broken files ---------------------------------------------------------------------------
GOOD = """\
name: tiny
rules: [REV-1]
setup:
  accounts: [alice, bob]
steps:
  - {actor: alice, call: sendMessage, save: m1,
     args: {message: {to: ~bob, conversationType: C2C, type: TIMTextElem, payload: {text: hi}}}}
"""


def write(tmp_path: Path, text: str, name: str = "broken.yaml") -> Path:
    path = tmp_path / name
    path.write_text(textwrap.dedent(text), encoding="utf-8")
    return path


def error_of(path: Path) -> str:
    with pytest.raises(ScenarioError) as info:
        load_scenario(path)
    return str(info.value)


def with_steps(steps: str, *, head: str = "") -> str:
    return (
        "name: broken\nrules: [REV-1]\n"
        + head
        + "setup:\n  accounts: [alice, bob]\nsteps:\n"
        + textwrap.indent(textwrap.dedent(steps), "  ")
    )


def test_a_good_file_loads(tmp_path: Path) -> None:
    scenario = load_scenario(write(tmp_path, GOOD, "tiny.yaml"))
    assert scenario.name == "tiny" and scenario.rules == ["REV-1"]
    step = scenario.steps[0]
    assert (step.kind, step.actor, step.method, step.rule, step.save) == (
        "call",
        "alice",
        "sendMessage",
        "REV-1",
        "m1",
    )
    assert step.label == "step 1 (sendMessage by alice)"


STEP_ERRORS = {
    "unknown method": ("- {actor: alice, call: sendMesage}\n", "step 1", "unknown method 'sendMesage'"),
    "unknown admin op": ("- {admin: nuke}\n", "step 1", "unknown admin op 'nuke'"),
    "unknown step rule": (
        "- {actor: alice, call: getMyProfile}\n- {actor: alice, call: getMyProfile, rule: REV-9}\n",
        "step 2",
        "unknown rule 'REV-9'",
    ),
    "unknown pushes rule": (
        "- {actor: alice, call: getMyProfile, pushes_rule: MSG-99}\n",
        "step 1",
        "unknown pushes_rule 'MSG-99'",
    ),
    "undeclared actor": (
        "- {actor: alice, call: getMyProfile}\n- {actor: mallory, call: getMyProfile}\n",
        "step 2",
        "actor 'mallory' is not a declared account",
    ),
    "undeclared second instance": ("- {login: eve/2}\n", "step 1", "actor 'eve/2' is not a declared account"),
    "two kinds in a step": ("- {actor: alice, call: getMyProfile, advance: 3}\n", "step 1", "exactly one of"),
    "no kind": ("- {actor: alice}\n", "step 1", "exactly one of"),
    "unknown step key": (
        "- {actor: alice, call: getMyProfile, expects: {code: 0}}\n",
        "step 1",
        "unknown keys ['expects']",
    ),
    "step not a mapping": ("- getMyProfile\n", "step 1", "a step must be a mapping"),
    "negative advance": ("- {advance: -5}\n", "step 1", "non-negative integer"),
    "advance not a number": ("- {advance: soon}\n", "step 1", "non-negative integer"),
    "expect unknown key": (
        "- {actor: alice, call: getMyProfile, expect: {status: ok}}\n",
        "step 1",
        "expect takes",
    ),
    "expect code not an int": (
        "- {actor: alice, call: getMyProfile, expect: {code: zero}}\n",
        "step 1",
        "expect.code must be an integer",
    ),
    "expect data not a mapping": (
        "- {actor: alice, call: getMyProfile, expect: {data: [1]}}\n",
        "step 1",
        "expect.data must map paths",
    ),
    "expect not a mapping": ("- {actor: alice, call: getMyProfile, expect: 0}\n", "step 1", "expect takes"),
    "args not a mapping": (
        "- {actor: alice, call: getMyProfile, args: [1]}\n",
        "step 1",
        "args must be a mapping",
    ),
    "expect_events unknown actor": (
        "- {actor: alice, call: getMyProfile, expect_events: {zed: [x]}}\n",
        "step 1",
        "unknown actor 'zed'",
    ),
    "expect_events not lists": (
        "- {actor: alice, call: getMyProfile, expect_events: {bob: onMessageReceived}}\n",
        "step 1",
        "expect_events maps actors",
    ),
    "save not a name": ("- {actor: alice, call: getMyProfile, save: [a]}\n", "step 1", "save takes a name"),
}


@pytest.mark.parametrize("case", sorted(STEP_ERRORS))
def test_a_broken_step_names_file_and_step(tmp_path: Path, case: str) -> None:
    steps, where, why = STEP_ERRORS[case]
    message = error_of(write(tmp_path, with_steps(steps), "bad_step.yaml"))
    assert message.startswith(f"bad_step.yaml: {where}:"), message
    assert why in message, message


FILE_ERRORS = {
    "not yaml": ("name: [unclosed\n", "not valid YAML"),
    "not a mapping": ("- just\n- a list\n", "top level"),
    "unknown top key": (GOOD + "extra: 1\n", "unknown keys ['extra']"),
    "no name": (GOOD.replace("name: tiny\n", ""), "name is required"),
    "unknown top-level rule": (GOOD.replace("[REV-1]", "[REV-1, NOPE-1]"), "rules"),
    "empty rules": (GOOD.replace("[REV-1]", "[]"), "rules"),
    "unknown requirement": (GOOD + "requires: [time_machine]\n", "requires"),
    "bad setup key": (GOOD.replace("setup:\n", "setup:\n  groups: [g]\n"), "setup"),
    "unknown app field": (
        GOOD.replace("setup:\n", "setup:\n  app: {revokeWindow: 5}\n") + "requires: [admin]\n",
        "setup.app",
    ),
    "bad account": (GOOD.replace("[alice, bob]", "[alice, {nick: B}]"), "setup.accounts"),
    "no steps": (GOOD.split("steps:")[0] + "steps: []\n", "steps"),
    "unknown step requirement": (with_steps("- {advance: 1, requires: [root]}\n"), "requires takes a list"),
    "unknown clock variant": (with_steps("- {advance: 1, only: sundial}\n"), "only takes one of"),
    "empty group": (with_steps("- {requires: [admin], steps: []}\n"), "non-empty list of steps"),
    "unknown REST command": (with_steps("- {rest: no_such_thing, args: {}}\n"), "unknown REST v4 command"),
    "as on an SDK call": (
        with_steps("- {actor: alice, call: getMyProfile, as: ~bob}\n"),
        "as: names the caller of a rest step",
    ),
    "group with junk": (
        with_steps("- {requires: [admin], steps: [{advance: 1}], when: now}\n"),
        "unknown keys",
    ),
}


def test_steps_carry_their_requirements(tmp_path: Path) -> None:
    path = tmp_path / "needs.yaml"
    path.write_text(
        with_steps(
            "- {advance: 61, only: fake_clock}\n"
            "- {admin: kick, args: {userID: ~bob}}\n"
            "- requires: [app_config]\n"
            "  only: real_clock\n"
            "  steps:\n"
            "    - {actor: alice, call: getMyProfile, args: {}, requires: [fake_clock]}\n"
            "    - {actor: alice, call: sendMessage, args: {message: {to: $callback.url}}}\n"
            "- {rest: kick, args: {UserID: ~bob}, as: ~alice}\n"
        ),
        encoding="utf-8",
    )
    steps = load_scenario(path).steps
    added = steps[-5:]
    assert [s.only for s in added] == ["fake_clock", "", "real_clock", "real_clock", ""]
    assert [sorted(s.requires) for s in added] == [
        [],
        ["admin"],
        ["app_config", "fake_clock", "sdk"],
        ["app_config", "callback", "sdk"],
        ["rest"],
    ]
    assert (added[-1].method, added[-1].identifier) == ("kick", "~alice")


@pytest.mark.parametrize("case", sorted(FILE_ERRORS))
def test_a_broken_file_names_file_and_place(tmp_path: Path, case: str) -> None:
    text, why = FILE_ERRORS[case]
    message = error_of(write(tmp_path, text, "bad_file.yaml"))
    assert message.startswith("bad_file.yaml: "), message
    assert why in message, message


def test_requirements_satisfied_make_the_same_steps_valid(tmp_path: Path) -> None:
    text = with_steps(
        "- {advance: 121}\n- {admin: kick, args: {userID: ~bob}, rule: INST-6}\n",
        head="requires: [fake_clock, admin]\n",
    )
    scenario = load_scenario(write(tmp_path, text, "ok.yaml"))
    assert [s.kind for s in scenario.steps] == ["advance", "admin"]
    assert scenario.steps[0].seconds == 121 and scenario.steps[1].rule == "INST-6"


def test_load_all_stops_at_the_first_broken_file_and_names_it(tmp_path: Path) -> None:
    write(tmp_path, GOOD, "a_good.yaml")
    write(
        tmp_path,
        with_steps("- {actor: alice, call: getMyProfile}\n- {actor: ghost, call: getMyProfile}\n"),
        "b_bad.yaml",
    )
    with pytest.raises(ScenarioError, match=r"^b_bad\.yaml: step 2: actor 'ghost'"):
        load_all(tmp_path)
