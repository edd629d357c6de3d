"""Running scenarios and the seeded random phase against a target, gathering per-rule evidence.

A scenario runs every step the target can take: a step needing a capability the target lacks
is skipped with that reason, and so is the rest of the scenario (later steps may depend on it);
waits beyond ``max_wait`` real seconds are skipped the same way.  A step the target answers
``unsupported`` ends the scenario too, unless it is a read (``READ_ONLY_METHODS``) whose result no
later step uses: a read changes nothing on either side.  The evidence lands in a
``Ledger``; ``report.py`` turns it into one outcome per rule.
"""

from __future__ import annotations

import fnmatch
import random
import re
import secrets
from dataclasses import dataclass, field
from typing import Any

from simtim.conformance.callback_server import CallbackServer
from simtim.conformance.cell import Cell
from simtim.conformance.check import Mismatch, MismatchKind
from simtim.conformance.evidence import Ledger
from simtim.conformance.history_rules import HistoryRules, key_of_conversation
from simtim.conformance.progress import Progress
from simtim.conformance.scenario import Scenario, ScenarioError, Step
from simtim.conformance.target import TargetInfo
from simtim.driver.base import Driver, Reply
from simtim.driver.timrest import DEFAULT_ADMIN, RestFactory
from simtim.limits import DAY_SECONDS, AppConfig
from simtim.model.world import READ_ONLY_METHODS
from simtim.protocol.service import CONFIG_FIELDS
from simtim.usersig import gen_usersig

MODEL = MismatchKind.MODEL
FOREIGN_SDKAPPID, FOREIGN_KEY = 1234567, "a-key-of-some-other-app"
_SAVED = re.compile(r"^\$([A-Za-z_]\w*)((?:\.[\w-]+|\[\d+\])*)$")
_SIG = re.compile(r"^sig(\d*)$")


@dataclass
class RunSettings:
    """How a run may use the target: event deadline, settle time, real-time budget."""

    event_deadline: float = 2.0
    settle: float = 0.0
    max_wait: float = 150.0  # real seconds one scenario may wait on a real clock
    loopback: bool = True  # a scripted callback on 127.0.0.1 reaches the target
    admin_identifier: str = DEFAULT_ADMIN  # who REST steps act as (REST-2)
    time_tolerance: int = 2  # seconds server times may differ on a real clock (the target row's)


@dataclass
class ScenarioResult:
    scenario: str
    ledger: Ledger
    waited: float = 0.0  # real seconds spent in ``advance`` steps
    skipped_from: str = ""  # the first skip reason, if any
    mismatches: list[Mismatch] = field(default_factory=list)


def _get_path(value: Any, path: str) -> Any:
    """``messageList[0].payload.text`` / ``messageList.length`` inside a reply's data."""
    for part in re.findall(r"[^.\[\]]+|\[\d+\]", path):
        if part.startswith("["):
            value = value[int(part[1:-1])]
        elif part == "length" and isinstance(value, list):
            value = len(value)
        else:
            value = value[part]
    return value


class _Sigs(dict[str, str]):
    """``$sig.alice`` (valid 400 days) and ``$sigN.alice`` (valid N s), issued at the cell's now."""

    def __init__(self, cell: Cell, lifetime: int | None) -> None:
        super().__init__()
        self.cell = cell
        self.lifetime = lifetime

    def __missing__(self, name: str) -> str:
        # issued once per run, at first use: `$sig60.x`, then advance 61, is an expired sig (INST-5)
        sig = self[name] = (
            self.cell.sig(name) if self.lifetime is None else self.cell.sig(name, self.lifetime)
        )
        return sig


class _ForeignSigs(dict[str, str]):
    """``$foreign.alice``: a well-formed UserSig issued for another SDKAppID (AUTH-2's 70014),
    whatever app the cell runs on."""

    def __init__(self, cell: Cell) -> None:
        super().__init__()
        self.cell = cell

    def __missing__(self, name: str) -> str:
        other = FOREIGN_SDKAPPID if self.cell.sdkappid != FOREIGN_SDKAPPID else FOREIGN_SDKAPPID + 1
        sig = self[name] = gen_usersig(
            other, FOREIGN_KEY, self.cell.user(name), DAY_SECONDS, now=self.cell.now()
        )
        return sig


class _SigTable(dict[str, _Sigs]):
    def __init__(self, cell: Cell) -> None:
        super().__init__()
        self.cell = cell

    def __missing__(self, key: str) -> _Sigs:
        match = _SIG.match(key)
        if match is None:
            raise KeyError(key)
        sigs = self[key] = _Sigs(self.cell, int(match.group(1)) if match.group(1) else None)
        return sigs


def app_needs_config(app: dict[str, Any]) -> bool:
    """A scenario's ``setup.app`` needs ``app_config`` only where it differs from the defaults."""
    defaults = AppConfig()
    for name, value in app.items():
        current = getattr(defaults, CONFIG_FIELDS[name])
        if isinstance(current, dict) and isinstance(value, dict):
            if any(current.get(k) != v for k, v in value.items()):
                return True
        elif current != value:
            return True
    return False


class ScenarioRun:
    def __init__(
        self,
        scenario: Scenario,
        cell: Cell,
        settings: RunSettings,
        callback: CallbackServer | None,
        progress: Progress | None = None,
    ) -> None:
        self.scenario = scenario
        self.progress = progress
        self.cell = cell
        self.settings = settings
        self.callback = callback
        self.sigs = _SigTable(cell)
        self.saved: dict[str, Any] = {
            "app": {"SDKAppID": cell.sdkappid},
            "callback": {"url": callback.url if callback else ""},
            "foreign": _ForeignSigs(cell),
        }
        self.ledger = cell.ledger
        self.waited = 0.0
        self.skip_reason = ""
        self.offline = False  # accounts stay offline: the target has no client side

    def resolve(self, value: Any) -> Any:
        if isinstance(value, dict):
            return {self.resolve(k): self.resolve(v) for k, v in value.items()}
        if isinstance(value, list):
            return [self.resolve(v) for v in value]
        if isinstance(value, str):
            match = _SAVED.match(value)
            if match:
                name, path = match.group(1), match.group(2).lstrip(".")
                if _SIG.match(name):
                    return self.sigs[name][path]
                if name not in self.saved:
                    raise ScenarioError(f"{self.scenario.path.name}: ${name} is used before a step saves it")
                try:
                    return _get_path(self.saved[name], path)
                except (KeyError, IndexError, TypeError):
                    raise ScenarioError(
                        f"{self.scenario.path.name}: {value} is not in the saved reply"
                    ) from None
            return re.sub(r"~([A-Za-z0-9_]+)", lambda m: self.cell.user(m.group(1)), value)
        return value

    def _model_expectations(self, step: Step, reply: Reply, events: dict[str, list[str]]) -> None:
        """``expect`` pins the model itself to the catalogue: a model that drifts fails here.
        Each pin is a check of the step's rule (the target was compared with this model)."""
        method = f"model:{step.method or step.kind}"
        name = self.scenario.name
        if "code" in step.expect:
            found = (
                []
                if reply.code == step.expect["code"]
                else [Mismatch(step.rule, method, "code", step.expect["code"], reply.code, step.label, MODEL)]
            )
            self.ledger.check(step.rule, found, name)
        for path, wanted in step.expect.get("data", {}).items():
            try:
                got = _get_path(reply.data, path)
            except (KeyError, IndexError, TypeError):
                got = "<missing>"
            resolved = self.resolve(wanted)
            found = (
                []
                if got == resolved
                else [Mismatch(step.rule, method, f"data.{path}", resolved, got, step.label, MODEL)]
            )
            self.ledger.check(step.rule, found, name)
        pushes_rule = step.pushes_rule or step.rule
        for actor, names in step.expect_events.items():
            if actor not in self.cell.sessions:
                continue  # not online in this run (setup.logins: optional): nothing to pin
            got_names = events.get(actor, [])
            found = (
                []
                if got_names == names
                else [Mismatch(pushes_rule, method, f"events[{actor}]", names, got_names, step.label, MODEL)]
            )
            self.ledger.check(pushes_rule, found, name)

    def _applies(self, step: Step) -> bool:
        fake = self.cell.info.fake_clock
        return not ((step.only == "fake_clock" and not fake) or (step.only == "real_clock" and fake))

    def _real_wait_total(self, steps: list[Step]) -> int:
        if self.cell.info.fake_clock:
            return 0
        return sum(s.seconds for s in steps if s.kind == "advance")

    def _skip(self, step: Step, reason: str) -> None:
        """Skip ``step``; the first skip also skips the rest (it may depend on the skipped one)."""
        if not self.skip_reason:
            self.skip_reason = reason
        self.ledger.skip(step.rule, reason, self.scenario.name)

    def run(self) -> None:
        cell, scenario = self.cell, self.scenario
        caps = cell.info.capabilities
        for rule in scenario.rules:
            self.ledger.mention(rule, scenario.name)
        steps = [s for s in scenario.steps if self._applies(s)]
        whole = set(scenario.requires)
        if scenario.app and app_needs_config(scenario.app):
            whole.add("app_config")
        self.offline = scenario.logins_optional and not caps.sdk
        if any(account.login for account in scenario.accounts) and not self.offline:
            whole.add("sdk")  # the setup logs them in
        missing = caps.missing(sorted(whole))
        if missing:
            for step in steps:
                self._skip(step, f"needs {' and '.join(missing)}")
            return
        real_total = self._real_wait_total(steps)
        self._set_up()
        for step in steps:
            missing = caps.missing(sorted(step.requires))
            if "callback" in step.requires and not self.settings.loopback:
                missing.append("a callback endpoint it can reach (the target is not on this machine)")
            if missing == ["sdk"] and self.offline:
                self.ledger.skip(step.rule, "needs sdk", scenario.name)  # skipped on both sides alike
                continue
            if missing:
                self._skip(step, f"needs {' and '.join(dict.fromkeys(missing))}")
                continue
            if self.skip_reason:
                self._skip(step, f"follows a skipped step ({self.skip_reason})")
                continue
            if (
                step.kind == "advance"
                and not caps.fake_clock
                and self.waited + step.seconds > self.settings.max_wait
            ):
                self._skip(step, f"needs {real_total} s of real time (--max-wait {self.settings.max_wait:g})")
                continue
            self._step(step)

    def _set_up(self) -> None:
        """Accounts and logins. Their checks count for the rules they exercise (INST-2 login,
        AUTH-5 accounts, PROF-1 nicks), never for the scenario's own rules: a scenario whose
        steps were all skipped must not read as passed on its setup."""
        cell, scenario = self.cell, self.scenario
        cell.scenario = scenario.name
        for account in scenario.accounts:
            cell.import_account(account.name, account.nick)
        if not cell.info.admin and cell.target_rest is None:  # AUTH-5: it exists once it logged in
            for account in scenario.accounts:
                if not account.login:
                    cell.provision(account.name, account.nick, rule="AUTH-5")
        for account in scenario.accounts:
            if account.login and not self.offline:
                login = cell.login(account.name, account.platform, rule="INST-2", step="setup: login")
                if login.unsupported and not self.skip_reason:  # every step may need this instance
                    self.skip_reason = f"the target cannot log {account.name} in: {login.unsupported}"
                if account.nick and not cell.info.admin and cell.target_rest is None:
                    cell.do(
                        account.name,
                        "updateMyProfile",
                        {"nick": account.nick},
                        rule="PROF-1",
                        step="setup: nick",
                    )

    def _step(self, step: Step) -> None:
        cell = self.cell
        if step.kind == "advance":
            real = not cell.info.fake_clock
            if real:
                self.waited += step.seconds
                if self.progress is not None:
                    self.progress.waiting(self.scenario.name, step.rule, step.seconds)
            cell.advance(step.seconds, rule=step.rule, step=step.label)
            if real and self.progress is not None:
                self.progress.stopped_waiting(self.scenario.name)
            return
        if step.kind == "callback":
            if self.callback is not None:
                self.callback.behaviour = step.args["behaviour"]
            return
        if step.kind == "login":
            result = cell.login(step.actor, step.platform, rule=step.rule, step=step.label)
        elif step.kind == "admin":
            result = cell.admin(step.method, self.resolve(step.args), rule=step.rule, step=step.label)
        elif step.kind == "rest":
            result = cell.rest(
                step.method,
                self.resolve(step.args),
                rule=step.rule,
                step=step.label,
                identifier=self.resolve(step.identifier) or None,
            )
        else:
            result = cell.do(
                step.actor,
                step.method,
                self.resolve(step.args),
                rule=step.rule,
                step=step.label,
                pushes_rule=step.pushes_rule,
            )
        if result.unsupported:
            # a read the target cannot answer changed nothing on either side, so the rest of the
            # scenario still proves something (unless a later step uses what it would have saved);
            # anything else may leave the shadow ahead of the target: the rest proves nothing
            if step.method not in READ_ONLY_METHODS or step.save:
                self.skip_reason = f"the target cannot {step.method or step.kind}: {result.unsupported}"
            return
        self._model_expectations(step, result.expected, result.model_events)
        if step.save:
            self.saved[step.save] = result.expected.data


def run_scenario(
    scenario: Scenario,
    target: Driver,
    info: TargetInfo,
    *,
    prefix: str,
    sdkappid: int,
    settings: RunSettings,
    progress: Progress | None = None,
    rest: RestFactory | None = None,
) -> ScenarioResult:
    cell = Cell(
        target,
        info,
        prefix=prefix,
        sdkappid=sdkappid,
        config=scenario.app,
        event_deadline=settings.event_deadline,
        settle=settings.settle,
        time_tolerance=settings.time_tolerance,
        rest=rest,
        admin_identifier=settings.admin_identifier,
    )
    wants_callback = any(s.kind == "callback" or "callback" in s.requires for s in scenario.steps)
    callback = CallbackServer() if wants_callback and info.capabilities.callback else None
    run = ScenarioRun(scenario, cell, settings, callback, progress)
    try:
        run.run()
    finally:
        cell.close()
        if callback is not None:
            callback.close()
    return ScenarioResult(scenario.name, run.ledger, run.waited, run.skip_reason, cell.mismatches)


# --- the seeded random phase ------------------------------------------------------------------------
#: method -> the rule a mismatch on it is counted against
METHOD_RULES = {
    "sendMessage": "MSG-5",
    "getMessageList": "PAGE-1",
    "setMessageRead": "UNREAD-1",
    "getConversationList": "CONV-2",
    "revokeMessage": "REV-2",
    "deleteMessage": "MSG-9",
    "updateMyProfile": "PROF-1",
    "getGroupMemberList": "MBR-3",
    "getConversationProfile": "CONV-2",
}
RANDOM_PHASE = "random"


def run_random_phase(
    target: Driver,
    info: TargetInfo,
    *,
    seed: int,
    steps: int,
    prefix: str,
    sdkappid: int,
    settings: RunSettings,
) -> ScenarioResult:
    """Random (seeded, reproducible) operations in one cell, each compared with the model."""
    rng = random.Random(seed)
    if not info.capabilities.sdk:
        ledger = Ledger()
        for rule in set(METHOD_RULES.values()):
            ledger.skip(rule, "the random phase needs sdk", RANDOM_PHASE)
        return ScenarioResult(RANDOM_PHASE, ledger, 0.0, "the random phase needs sdk")
    cell = Cell(
        target,
        info,
        prefix=prefix,
        sdkappid=sdkappid,
        event_deadline=settings.event_deadline,
        settle=settings.settle,
        time_tolerance=settings.time_tolerance,
        seed=seed,
    )
    cell.scenario = f"{RANDOM_PHASE}(seed={seed})"
    users = ["a", "b", "c", "d"]
    try:
        for user in users:
            cell.import_account(user)
        for user in users:
            cell.login(user)
        group = cell.do(
            "a",
            "createGroup",
            {"name": "random", "type": "Public", "memberList": [{"userID": cell.user(u)} for u in users[1:]]},
            rule="GRP-1",
        )
        group_id = group.expected.data.get("group", {}).get("groupID", "")
        sent: dict[str, list[dict[str, Any]]] = {u: [] for u in users}
        history = HistoryRules()  # which rule each history read checks (PAGE-1, REV-2, PROF-1)
        for index in range(steps):
            actor = rng.choice(users)
            peer = rng.choice([u for u in users if u != actor])
            roll = rng.random()
            conversation = rng.choice([f"C2C{cell.user(peer)}", f"GROUP{group_id}"])
            args: dict[str, Any]
            if roll < 0.35:
                to, kind = (cell.user(peer), "C2C") if rng.random() < 0.6 else (group_id, "GROUP")
                method, args = (
                    "sendMessage",
                    {
                        "message": {
                            "to": to,
                            "conversationType": kind,
                            "type": "TIMTextElem",
                            "payload": {"text": f"r{seed}-{index}-{rng.getrandbits(20)}"},
                        }
                    },
                )
            elif roll < 0.5:
                method, args = "getMessageList", {"conversationID": conversation, "count": rng.randint(1, 20)}
            elif roll < 0.6:
                method, args = "setMessageRead", {"conversationID": conversation}
            elif roll < 0.7:
                method, args = "getConversationList", {}
            elif roll < 0.8 and sent[actor]:
                method, args = "revokeMessage", {"message": rng.choice(sent[actor])}
            elif roll < 0.85 and sent[actor]:
                method, args = "deleteMessage", {"messageList": [rng.choice(sent[actor])]}
            elif roll < 0.9:
                method, args = "updateMyProfile", {"nick": f"n{rng.getrandbits(16)}"}
            elif roll < 0.95:
                method, args = "getGroupMemberList", {"groupID": group_id, "count": rng.randint(1, 3)}
            else:
                method, args = "getConversationProfile", {"conversationID": conversation}
            rule = METHOD_RULES[method]
            if method == "getMessageList":
                rule = history.rule_of_read(key_of_conversation(cell.user(actor), conversation))
            result = cell.do(actor, method, args, rule=rule, step=f"random {index + 1}")
            if result.unsupported or not result.expected.ok:
                continue
            if method == "sendMessage":
                sent[actor].append(result.expected.data["message"])
                history.sent(cell.user(actor), result.expected.data["message"])
            elif method == "revokeMessage":
                history.revoked(cell.user(actor), args["message"])
            elif method == "updateMyProfile":
                history.renamed(cell.user(actor))
    finally:
        cell.close()
    return ScenarioResult(cell.scenario, cell.ledger, 0.0, "", cell.mismatches)


def select(scenarios: list[Scenario], patterns: list[str]) -> list[Scenario]:
    if not patterns:
        return scenarios
    return [s for s in scenarios if any(fnmatch.fnmatch(r, p) for r in s.rules for p in patterns)]


def fresh_app_ids(count: int) -> list[int]:
    """Distinct SDKAppIDs for cells, away from the dev app."""
    base = 1_500_000_000 + secrets.randbelow(400_000_000)
    return [base + i for i in range(count)]
