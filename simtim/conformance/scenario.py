"""Conformance scenarios: YAML files, one feature each, validated with errors naming file and step.

Format (see docs/conformance.md)::

    name: revoke
    rules: [REV-1, REV-3]
    setup:
      app: {revokeWindowSeconds: 60}  # camelCase AppConfig fields; other than the defaults: app_config
      accounts: [alice, bob, {name: carol, login: false, nick: Carol}]
    steps:
      - {actor: alice, call: sendMessage, args: {...}, save: m1, expect: {code: 0}}
      - {advance: 61, rule: REV-1, only: fake_clock}       # exact boundaries on a fake clock ...
      - {advance: 70, rule: REV-1, only: real_clock}       # ... margins on a real one (a real wait)
      - {actor: alice, call: revokeMessage, args: {message: {ID: $m1.message.ID}}, expect: {code: 20016}}
      - requires: [admin]                                   # a group of steps that run together
        steps:
          - {admin: recallMessage, args: {message: {ID: $m1.message.ID}}, rule: REV-4}

Capabilities (``simtim/conformance/target.py``) are needed per step: ``admin:`` steps need
``admin``, ``callback:`` steps and ``$callback.url`` need ``callback``, ``requires:`` adds more
(on a step or a group). A step whose capability the target lacks is skipped with that reason,
and so is every later step of the scenario (they may depend on it): put what needs a capability
last, or in its own file. ``only: fake_clock`` / ``only: real_clock`` steps run only on such a
target and are no loss elsewhere (the other variant checks the same rule). ``advance: N`` steps
the fake clock, or waits N real seconds (within ``--max-wait``).

In ``args``, ``~name`` becomes the cell's namespaced ID for ``name`` (accounts
and custom group IDs) and ``$var.path`` a value saved from an earlier reply;
``$app.SDKAppID`` is the cell's app, ``$sig.alice`` a valid UserSig for alice
and ``$sig60.alice`` one that expires in 60 s (any ``$sigN``), ``$foreign.alice`` one issued for
another SDKAppID; ``$callback.url`` is a scripted
before-send callback endpoint (``requires: [callback]``) whose reply a
``callback:`` step sets (a JSON mapping, ``timeout``, ``garbage``, ``error``).  ``call: create`` (args
``{SDKAppID, platform}``) gives the actor a new, logged-out instance; a
``call: login`` on it (or on no instance, with ``SDKAppID``) logs in with
explicit arguments.  Actors ``alice/2`` are alice's further instances.

``setup: {logins: optional}`` lets such a scenario run where there is no client side.
``rest: COMMAND`` steps (``{rest: sendmsg, args: {To_Account: ~bob, ...}}``) call TIM's REST API v4
as the App admin on the shadow and on the target and compare the replies (``expect.code`` is the
``ErrorCode``, ``expect.data`` paths are in the reply's fields); they need ``rest``. ``call`` and
``login`` steps, and accounts that log in at setup, need ``sdk``.

``rule:`` names the rule a step's checks count for (default the scenario's first). ``pushes_rule:``
names another one for the pushes the step causes (and its ``expect_events``), for a scenario whose
rule is about replies only (REPLY-1): an unmute's tip 7 is MUTE-1's clause, not a reply shape.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from simtim.conformance.target import CAPABILITY_NAMES
from simtim.driver.timrest import SERVICE_OF
from simtim.model import METHODS
from simtim.protocol.service import ADMIN_OPS, CONFIG_FIELDS
from simtim.rules import RULE_IDS

STEP_KINDS = ("call", "login", "advance", "admin", "callback", "rest")
STEP_KEYS = {
    "actor",
    "call",
    "login",
    "advance",
    "admin",
    "callback",
    "rest",
    "args",
    "expect",
    "save",
    "rule",
    "pushes_rule",
    "platform",
    "expect_events",
    "note",
    "requires",
    "only",
    "as",
}
REQUIREMENTS = CAPABILITY_NAMES
CLOCK_VARIANTS = ("fake_clock", "real_clock")


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
    pushes_rule: str = ""  # the rule the step's pushes count for, when not ``rule`` (a reply-only rule)
    platform: str = "web"
    seconds: int = 0
    requires: frozenset[str] = frozenset()
    only: str = ""  # "", "fake_clock" or "real_clock"
    identifier: str = ""  # rest steps: who calls (default the App admin)

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
    #: ``setup.logins: optional``: on a target without a client side (REST only) the accounts are
    #: imported, not logged in, and SDK steps are skipped one by one (both sides skip them, so the
    #: shadow stays in step); ``expect_events`` of actors that are not online are not pinned
    logins_optional: bool = False


def _fail(path: Path, where: str, why: str) -> ScenarioError:
    return ScenarioError(f"{path.name}: {where}: {why}")


def _requirements(path: Path, where: str, raw: object) -> frozenset[str]:
    if raw is None:
        return frozenset()
    if not isinstance(raw, list) or not all(r in REQUIREMENTS for r in raw):
        raise _fail(path, where, f"requires takes a list of {', '.join(REQUIREMENTS)}")
    return frozenset(raw)


def _only(path: Path, where: str, raw: object) -> str:
    if raw in (None, ""):
        return ""
    if raw not in CLOCK_VARIANTS:
        raise _fail(path, where, f"only takes one of {', '.join(CLOCK_VARIANTS)}")
    return str(raw)


def _mentions_callback(value: Any) -> bool:
    if isinstance(value, dict):
        return any(_mentions_callback(v) for v in value.values())
    if isinstance(value, list):
        return any(_mentions_callback(v) for v in value)
    return isinstance(value, str) and value.startswith("$callback.")


def _flatten(path: Path, raw_steps: list[Any]) -> list[tuple[Any, frozenset[str], str]]:
    """Steps and groups (``{requires, only?, steps}``) as (raw step, group requirements, group only)."""
    flat: list[tuple[Any, frozenset[str], str]] = []
    for position, raw in enumerate(raw_steps):
        if isinstance(raw, dict) and "steps" in raw:
            where = f"group at item {position + 1}"
            unknown = set(raw) - {"steps", "requires", "only", "note"}
            if unknown:
                raise _fail(path, where, f"unknown keys {sorted(unknown)}")
            inner = raw["steps"]
            if not isinstance(inner, list) or not inner:
                raise _fail(path, where, "a group needs a non-empty list of steps")
            needs, only = _requirements(path, where, raw.get("requires")), _only(path, where, raw.get("only"))
            flat.extend((step, needs, only) for step in inner)
        else:
            flat.append((raw, frozenset(), ""))
    return flat


def _parse_step(
    path: Path,
    index: int,
    raw: object,
    accounts: set[str],
    rules: list[str],
    group_requires: frozenset[str] = frozenset(),
    group_only: str = "",
) -> Step:
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
    step.only = _only(path, where, raw.get("only")) or group_only
    step.requires = _requirements(path, where, raw.get("requires")) | group_requires
    if kind == "admin":
        step.requires |= {"admin", "app_config"} if raw["admin"] == "configureApp" else {"admin"}
    if kind == "callback" or _mentions_callback(raw.get("args")):
        step.requires |= {"callback"}
    if kind in ("call", "login"):
        step.requires |= {"sdk"}
    if kind == "rest":
        step.requires |= {"rest"}
    elif "as" in raw:
        raise _fail(path, where, "as: names the caller of a rest step")
    rule = raw.get("rule", rules[0] if rules else "")
    if rule not in RULE_IDS:
        raise _fail(path, where, f"unknown rule {rule!r}")
    step.rule = rule
    pushes_rule = raw.get("pushes_rule", "")
    if pushes_rule and pushes_rule not in RULE_IDS:
        raise _fail(path, where, f"unknown pushes_rule {pushes_rule!r}")
    step.pushes_rule = pushes_rule
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
    elif kind == "rest":
        step.method = str(raw["rest"])
        if step.method not in SERVICE_OF and step.method.count("/") != 1:
            raise _fail(path, where, f"unknown REST v4 command {step.method!r} (or give service/command)")
        step.identifier = str(raw.get("as", ""))
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
        raise _fail(
            path, "requires", f"only {REQUIREMENTS} are known (a scenario-level list applies to every step)"
        )
    setup = raw.get("setup", {}) or {}
    if not isinstance(setup, dict) or not set(setup) <= {"app", "accounts", "logins"}:
        raise _fail(path, "setup", "setup takes app, accounts and logins")
    if setup.get("logins", "required") not in ("required", "optional"):
        raise _fail(path, "setup.logins", "logins is required (the default) or optional")
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
    steps = [
        _parse_step(path, i, raw_step, names, rules, needs, only)
        for i, (raw_step, needs, only) in enumerate(_flatten(path, steps_raw))
    ]
    scenario = Scenario(name, path, list(rules), list(requires), app, accounts, steps)
    scenario.logins_optional = setup.get("logins") == "optional"
    return scenario


def load_all(directory: Path) -> list[Scenario]:
    return [load_scenario(p) for p in sorted(directory.glob("*.yaml"))]
