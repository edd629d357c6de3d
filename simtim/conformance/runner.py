"""Running scenarios and the seeded random phase against a target; per-rule verdicts.

A rule passes when every step attributed to it matched on a run that could
check it; it is skipped (never passed) when the target could not check it
(no fake clock, no admin API), and fails on any mismatch.
"""

from __future__ import annotations

import fnmatch
import random
import re
import secrets
from dataclasses import dataclass, field
from typing import Any

from simtim.conformance.callback_server import CallbackServer
from simtim.conformance.cell import Cell, TargetInfo
from simtim.conformance.check import Mismatch, MismatchKind
from simtim.conformance.scenario import Scenario, ScenarioError, Step
from simtim.driver.base import Driver, Reply

PASS, FAIL, SKIP = "pass", "fail", "skip"
MODEL = MismatchKind.MODEL
_SAVED = re.compile(r"^\$([A-Za-z_]\w*)((?:\.[\w-]+|\[\d+\])*)$")


@dataclass
class RuleCheck:
    """One rule as checked by one scenario (a JUnit testcase)."""

    rule: str
    scenario: str
    verdict: str
    mismatches: list[Mismatch] = field(default_factory=list)
    reason: str = ""


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
    """``$sig.alice`` (valid 400 days) and ``$sig60.alice`` (valid 60 s), issued at the cell's now."""

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


class ScenarioRun:
    def __init__(self, scenario: Scenario, cell: Cell, callback: CallbackServer | None = None) -> None:
        self.scenario = scenario
        self.cell = cell
        self.callback = callback
        self.saved: dict[str, Any] = {
            "app": {"SDKAppID": cell.sdkappid},
            "sig": _Sigs(cell, None),
            "sig60": _Sigs(cell, 60),
            "callback": {"url": callback.url if callback else ""},
        }
        self.by_rule: dict[str, list[Mismatch]] = {r: [] for r in scenario.rules}

    def resolve(self, value: Any) -> Any:
        if isinstance(value, dict):
            return {self.resolve(k): self.resolve(v) for k, v in value.items()}
        if isinstance(value, list):
            return [self.resolve(v) for v in value]
        if isinstance(value, str):
            match = _SAVED.match(value)
            if match:
                if match.group(1) not in self.saved:
                    raise ScenarioError(
                        f"{self.scenario.path.name}: ${match.group(1)} is used before a step saves it"
                    )
                try:
                    return _get_path(self.saved[match.group(1)], match.group(2).lstrip("."))
                except (KeyError, IndexError, TypeError):
                    raise ScenarioError(
                        f"{self.scenario.path.name}: {value} is not in the saved reply"
                    ) from None
            return re.sub(r"~([A-Za-z0-9_]+)", lambda m: self.cell.user(m.group(1)), value)
        return value

    def _model_expectations(self, step: Step, reply: Reply, events: dict[str, list[str]]) -> list[Mismatch]:
        """``expect`` pins the model itself to SPEC: a model that drifts fails here."""
        found: list[Mismatch] = []
        method = f"model:{step.method or step.kind}"
        if "code" in step.expect and reply.code != step.expect["code"]:
            found.append(
                Mismatch(step.rule, method, "code", step.expect["code"], reply.code, step.label, MODEL)
            )
        for path, wanted in step.expect.get("data", {}).items():
            try:
                got = _get_path(reply.data, path)
            except (KeyError, IndexError, TypeError):
                got = "<missing>"
            if got != self.resolve(wanted):
                found.append(Mismatch(step.rule, method, f"data.{path}", wanted, got, step.label, MODEL))
        for actor, names in step.expect_events.items():
            got_names = events.get(actor, [])
            if got_names != names:
                found.append(
                    Mismatch(step.rule, method, f"events[{actor}]", names, got_names, step.label, MODEL)
                )
        return found

    def run(self) -> None:
        cell = self.cell
        for account in self.scenario.accounts:
            cell.import_account(account.name, account.nick)
        for account in self.scenario.accounts:
            if account.login:
                self._record(self.scenario.rules[0], cell.login(account.name, account.platform).mismatches)
        for step in self.scenario.steps:
            self._record(step.rule, [])
            if step.kind == "advance":
                self._record(step.rule, cell.advance(step.seconds, rule=step.rule, step=step.label))
                continue
            if step.kind == "callback":
                if self.callback is not None:
                    self.callback.behaviour = step.args["behaviour"]
                continue
            if step.kind == "login":
                result = cell.login(step.actor, step.platform, rule=step.rule, step=step.label)
            elif step.kind == "admin":
                result = cell.admin(step.method, self.resolve(step.args), rule=step.rule, step=step.label)
            else:
                result = cell.do(
                    step.actor, step.method, self.resolve(step.args), rule=step.rule, step=step.label
                )
            self._record(step.rule, result.mismatches)
            self._record(step.rule, self._model_expectations(step, result.expected, result.model_events))
            if step.save:
                self.saved[step.save] = result.expected.data

    def _record(self, rule: str, mismatches: list[Mismatch]) -> None:
        self.by_rule.setdefault(rule, [])
        for mismatch in mismatches:
            self.by_rule.setdefault(mismatch.rule, []).append(mismatch)


def run_scenario(
    scenario: Scenario,
    target: Driver,
    info: TargetInfo,
    *,
    prefix: str,
    sdkappid: int,
    event_deadline: float,
    settle: float,
    local_target: bool = True,
) -> list[RuleCheck]:
    missing = [
        r
        for r in scenario.requires
        if (r == "fake_clock" and not info.fake_clock)
        or (r == "admin" and not info.admin)
        or (r == "callback" and not local_target)
    ]
    if missing:
        reason = f"target has no {' and no '.join(missing)}"
        return [RuleCheck(rule, scenario.name, SKIP, reason=reason) for rule in scenario.rules]
    cell = Cell(
        target,
        info,
        prefix=prefix,
        sdkappid=sdkappid,
        config=scenario.app,
        event_deadline=event_deadline,
        settle=settle,
    )
    callback = CallbackServer() if "callback" in scenario.requires else None
    run = ScenarioRun(scenario, cell, callback)
    try:
        run.run()
    finally:
        cell.close()
        if callback is not None:
            callback.close()
    return [
        RuleCheck(rule, scenario.name, FAIL if found else PASS, found) for rule, found in run.by_rule.items()
    ]


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


def run_random_phase(
    target: Driver,
    info: TargetInfo,
    *,
    seed: int,
    steps: int,
    prefix: str,
    sdkappid: int,
    event_deadline: float,
    settle: float,
) -> list[RuleCheck]:
    """Random (seeded, reproducible) operations in one cell, each compared with the model."""
    rng = random.Random(seed)
    cell = Cell(
        target,
        info,
        prefix=prefix,
        sdkappid=sdkappid,
        event_deadline=event_deadline,
        settle=settle,
        seed=seed,
    )
    users = ["a", "b", "c", "d"]
    checks: dict[str, list[Mismatch]] = {}
    try:
        for user in users:
            cell.import_account(user)
        for user in users:
            checks.setdefault("INST-2", []).extend(cell.login(user).mismatches)
        group = cell.do(
            "a",
            "createGroup",
            {"name": "random", "type": "Public", "memberList": [{"userID": cell.user(u)} for u in users[1:]]},
            rule="GRP-1",
        )
        checks.setdefault("GRP-1", []).extend(group.mismatches)
        group_id = group.expected.data.get("group", {}).get("groupID", "")
        sent: dict[str, list[dict[str, Any]]] = {u: [] for u in users}
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
            result = cell.do(actor, method, args, rule=rule, step=f"random {index + 1}")
            checks.setdefault(rule, []).extend(result.mismatches)
            if method == "sendMessage" and result.expected.ok:
                sent[actor].append(result.expected.data["message"])
    finally:
        cell.close()
    return [
        RuleCheck(rule, f"random(seed={seed})", FAIL if found else PASS, found)
        for rule, found in checks.items()
    ]


def select(scenarios: list[Scenario], patterns: list[str]) -> list[Scenario]:
    if not patterns:
        return scenarios
    return [s for s in scenarios if any(fnmatch.fnmatch(r, p) for r in s.rules for p in patterns)]


def fresh_app_ids(count: int) -> list[int]:
    """Distinct SDKAppIDs for cells, away from the dev app."""
    base = 1_500_000_000 + secrets.randbelow(400_000_000)
    return [base + i for i in range(count)]
