"""Conformance scenarios: YAML files, one feature each, validated with errors naming file and step.

Format (see docs/conformance.md)::

    name: revoke
    rules: [REV-1, REV-3]
    requires: [fake_clock]            # optional: fake_clock, admin
    setup:
      app: {revokeWindowSeconds: 120} # camelCase AppConfig fields (needs admin, else skipped)
      accounts: [alice, bob, {name: carol, login: false, nick: Carol}]
    steps:
      - {actor: alice, call: sendMessage, args: {...}, save: m1, expect: {code: 0}}
      - {advance: 121, rule: REV-1}
      - {actor: alice, call: revokeMessage, args: {message: {ID: $m1.message.ID}}, expect: {code: 20016}}

In ``args``, ``~name`` becomes the cell's namespaced ID for ``name`` (accounts
and custom group IDs) and ``$var.path`` a value saved from an earlier reply;
``$app.SDKAppID`` is the cell's app, ``$sig.alice`` a valid UserSig for alice
and ``$sig60.alice`` one that expires in 60 s; ``$callback.url`` is a scripted
before-send callback endpoint (``requires: [callback]``) whose reply a
``callback:`` step sets (a JSON mapping, ``timeout``, ``garbage``, ``error``).  ``call: create`` (args
``{SDKAppID, platform}``) gives the actor a new, logged-out instance; a
``call: login`` on it (or on no instance, with ``SDKAppID``) logs in with
explicit arguments.  Actors ``alice/2`` are alice's further instances.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from simtim.model import METHODS
from simtim.protocol.service import ADMIN_OPS, CONFIG_FIELDS
from simtim.rules import RULE_IDS

STEP_KINDS = ("call", "login", "advance", "admin", "callback")
STEP_KEYS = {
    "actor",
    "call",
    "login",
    "advance",
    "admin",
    "callback",
    "args",
    "expect",
    "save",
    "rule",
    "platform",
    "expect_events",
    "note",
}
REQUIREMENTS = ("fake_clock", "admin", "callback")


class ScenarioError(ValueError):
    """A scenario file that does not follow the schema; the text names file and step."""


@dataclass
class Account:
    name: str
    nick: str = ""
    login: bool = True
    platform: str = "web"


@dataclass
class Step:
    index: int
    kind: str
    actor: str = ""
    method: str = ""
    args: dict[str, Any] = field(default_factory=dict)
    expect: dict[str, Any] = field(default_factory=dict)
    expect_events: dict[str, list[str]] = field(default_factory=dict)
    save: str = ""
    rule: str = ""
    platform: str = "web"
    seconds: int = 0

    @property
    def label(self) -> str:
        what = self.method or self.kind
        return f"step {self.index + 1} ({what}{' by ' + self.actor if self.actor else ''})"


@dataclass
class Scenario:
    name: str
    path: Path
    rules: list[str]
    requires: list[str]
    app: dict[str, Any]
    accounts: list[Account]
    steps: list[Step]


def _fail(path: Path, where: str, why: str) -> ScenarioError:
    return ScenarioError(f"{path.name}: {where}: {why}")


def _parse_step(path: Path, index: int, raw: object, accounts: set[str], rules: list[str]) -> Step:
    where = f"step {index + 1}"
    if not isinstance(raw, dict):
        raise _fail(path, where, "a step must be a mapping")
    unknown = set(raw) - STEP_KEYS
    if unknown:
        raise _fail(path, where, f"unknown keys {sorted(unknown)}")
    kinds = [k for k in STEP_KINDS if k in raw]
    if len(kinds) != 1:
        raise _fail(path, where, f"exactly one of {', '.join(STEP_KINDS)} is required")
    kind = kinds[0]
    step = Step(index, kind)
    rule = raw.get("rule", rules[0] if rules else "")
    if rule not in RULE_IDS:
        raise _fail(path, where, f"unknown rule {rule!r}")
    step.rule = rule
    if kind == "callback":
        behaviour = raw["callback"]
        if not (isinstance(behaviour, dict) or behaviour in ("timeout", "garbage", "error")):
            raise _fail(path, where, "callback takes a JSON reply mapping, timeout, garbage or error")
        step.args = {"behaviour": behaviour}
        return step
    if kind == "advance":
        seconds = raw["advance"]
        if not isinstance(seconds, int) or isinstance(seconds, bool) or seconds < 0:
            raise _fail(path, where, "advance takes a non-negative integer of seconds")
        step.seconds = seconds
        return step
    if kind == "login":
        step.actor = str(raw["login"])
    elif kind == "call":
        step.actor = str(raw.get("actor", ""))
        step.method = str(raw["call"])
        if step.method not in METHODS and step.method != "create":
            raise _fail(path, where, f"unknown method {step.method!r}")
    else:
        step.method = str(raw["admin"])
        if step.method not in ADMIN_OPS:
            raise _fail(path, where, f"unknown admin op {step.method!r}")
    if kind in ("call", "login") and step.actor.split("/", 1)[0] not in accounts:
        raise _fail(path, where, f"actor {step.actor!r} is not a declared account")
    args = raw.get("args", {})
    if not isinstance(args, dict):
        raise _fail(path, where, "args must be a mapping")
    step.args = args
    expect = raw.get("expect", {})
    if not isinstance(expect, dict) or not set(expect) <= {"code", "data"}:
        raise _fail(path, where, "expect takes {code: int, data: {path: value}}")
    if "code" in expect and not isinstance(expect["code"], int):
        raise _fail(path, where, "expect.code must be an integer")
    if "data" in expect and not isinstance(expect["data"], dict):
        raise _fail(path, where, "expect.data must map paths to values")
    step.expect = expect
    events = raw.get("expect_events", {})
    if not isinstance(events, dict) or not all(
        isinstance(v, list) and all(isinstance(n, str) for n in v) for v in events.values()
    ):
        raise _fail(path, where, "expect_events maps actors to lists of event names")
    for actor in events:
        if str(actor).split("/", 1)[0] not in accounts:
            raise _fail(path, where, f"expect_events names unknown actor {actor!r}")
    step.expect_events = {str(k): v for k, v in events.items()}
    save = raw.get("save", "")
    if not isinstance(save, str):
        raise _fail(path, where, "save takes a name")
    step.save = save
    platform = raw.get("platform", "web")
    step.platform = str(platform)
    return step


def load_scenario(path: Path) -> Scenario:
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as exc:
        raise ScenarioError(f"{path.name}: not valid YAML: {exc}") from None
    if not isinstance(raw, dict):
        raise _fail(path, "top level", "a scenario is a mapping")
    unknown = set(raw) - {"name", "rules", "requires", "setup", "steps", "description"}
    if unknown:
        raise _fail(path, "top level", f"unknown keys {sorted(unknown)}")
    name = raw.get("name")
    if not isinstance(name, str) or not name:
        raise _fail(path, "top level", "name is required")
    rules = raw.get("rules")
    if not isinstance(rules, list) or not rules or not all(r in RULE_IDS for r in rules):
        raise _fail(path, "rules", f"a non-empty list of SPEC rule IDs is required, got {rules!r}")
    requires = raw.get("requires", [])
    if not isinstance(requires, list) or not all(r in REQUIREMENTS for r in requires):
        raise _fail(path, "requires", f"only {REQUIREMENTS} are known")
    setup = raw.get("setup", {}) or {}
    if not isinstance(setup, dict) or not set(setup) <= {"app", "accounts"}:
        raise _fail(path, "setup", "setup takes app and accounts")
    app = setup.get("app", {}) or {}
    if not isinstance(app, dict) or not set(app) <= set(CONFIG_FIELDS):
        raise _fail(path, "setup.app", f"known fields: {sorted(CONFIG_FIELDS)}")
    accounts: list[Account] = []
    for entry in setup.get("accounts", []) or []:
        if isinstance(entry, str):
            accounts.append(Account(entry))
        elif isinstance(entry, dict) and isinstance(entry.get("name"), str):
            accounts.append(
                Account(
                    entry["name"],
                    str(entry.get("nick", "")),
                    bool(entry.get("login", True)),
                    str(entry.get("platform", "web")),
                )
            )
        else:
            raise _fail(path, "setup.accounts", f"bad account entry {entry!r}")
    names = {a.name for a in accounts}
    steps_raw = raw.get("steps")
    if not isinstance(steps_raw, list) or not steps_raw:
        raise _fail(path, "steps", "a non-empty list of steps is required")
    steps = [_parse_step(path, i, s, names, rules) for i, s in enumerate(steps_raw)]
    if any(s.kind == "advance" for s in steps) and "fake_clock" not in requires:
        raise _fail(path, "requires", "a scenario that advances the clock must require fake_clock")
    if any(s.kind == "callback" for s in steps) and "callback" not in requires:
        raise _fail(path, "requires", "a scenario with callback steps must require callback")
    if (app or any(s.kind == "admin" for s in steps)) and "admin" not in requires:
        raise _fail(path, "requires", "a scenario with app config or admin steps must require admin")
    return Scenario(name, path, list(rules), list(requires), app, accounts, steps)


def load_all(directory: Path) -> list[Scenario]:
    return [load_scenario(p) for p in sorted(directory.glob("*.yaml"))]
