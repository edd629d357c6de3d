"""A cell: a small namespaced universe driven on the target and on a shadow model in lockstep.

Each operation runs first on the shadow model (the oracle), then on the target
with the model's IDs translated through the bijection; the replies and every
pushed event are compared.  Late and lost events are different verdicts.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from simtim.conformance.check import IdMap, Mismatch, MismatchKind, compare
from simtim.driver.base import Call, Driver, PushedEvent, Reply
from simtim.driver.inproc import InProcDriver
from simtim.model.core import DEV_SDKAPPID, DEV_SECRET_KEY
from simtim.usersig import gen_usersig

REPLY_CODE = MismatchKind.REPLY_CODE
SIG_LIFETIME = 400 * 86400  # outlives any clock step a scenario makes


@dataclass
class TargetInfo:
    """What ``snapshot`` told us about the target (DESIGN: how conform detects a fake clock)."""

    admin: bool
    fake_clock: bool
    now: int


@dataclass
class StepResult:
    expected: Reply
    actual: Reply
    mismatches: list[Mismatch] = field(default_factory=list)
    model_events: dict[str, list[str]] = field(default_factory=dict)  # actor -> event names
    matched: list[tuple[str, PushedEvent]] = field(default_factory=list)  # (actor, target event) in order
    missing: list[tuple[str, str, MismatchKind]] = field(default_factory=list)  # (actor, event, lost/late)


def probe(target: Driver) -> TargetInfo:
    reply = target.admin("snapshot", {})
    if reply.ok:
        return TargetInfo(True, bool(reply.data.get("fakeClock")), int(reply.data.get("now", time.time())))
    return TargetInfo(False, False, int(time.time()))


class Cell:
    def __init__(
        self,
        target: Driver,
        info: TargetInfo,
        *,
        prefix: str,
        sdkappid: int | None = None,
        secret_key: str | None = None,
        config: Mapping[str, Any] | None = None,
        event_deadline: float = 2.0,
        settle: float = 0.0,
        time_tolerance: int = 2,
        seed: int = 0,
    ) -> None:
        self.target = target
        self.info = info
        self.prefix = prefix
        self.own_app = info.admin and sdkappid is not None
        self.sdkappid = sdkappid if self.own_app and sdkappid is not None else DEV_SDKAPPID
        self.secret_key = secret_key or ("k" + prefix).ljust(32, "0") if self.own_app else DEV_SECRET_KEY
        self.event_deadline = event_deadline
        self.settle = settle
        self.time_tolerance = time_tolerance if not info.fake_clock else 1
        self.ids = IdMap()
        self.sessions: dict[str, tuple[str, str]] = {}
        self.mismatches: list[Mismatch] = []
        # the shadow's clock is fake when the target's is (steps move both), real otherwise
        self.model = InProcDriver(fake_clock=info.fake_clock, clock_start=info.now, seed=seed)
        if self.own_app:
            body = {"SDKAppID": self.sdkappid, "secretKey": self.secret_key, **(config or {})}
            for driver in (self.model, self.target):
                reply = driver.admin("configureApp", body)
                if not reply.ok:
                    raise RuntimeError(f"configureApp failed: {reply}")
            now = target.admin("snapshot", {"SDKAppID": self.sdkappid})
            if now.ok:
                self._align_clock(int(now.data["now"]))

    def _align_clock(self, target_now: int) -> None:
        model_now = self.model.service.world.apps[self.sdkappid].clock.now()
        if target_now > model_now:
            self.model.admin("advanceClock", {"SDKAppID": self.sdkappid, "seconds": target_now - model_now})

    # --- names ----------------------------------------------------------------------------------
    def user(self, name: str) -> str:
        return f"{self.prefix}{name}"

    def sig(self, name: str, lifetime: int = SIG_LIFETIME) -> str:
        """A UserSig for account ``name`` of this cell's app, issued now."""
        return gen_usersig(self.sdkappid, self.secret_key, self.user(name), lifetime, now=self.now())

    def now(self) -> int:
        return self.model.service.world.apps[self.sdkappid].clock.now()

    # --- setup ----------------------------------------------------------------------------------
    def import_account(self, name: str, nick: str = "") -> None:
        if not self.info.admin:
            return  # AUTH-5: the account appears when it logs in
        body = {"SDKAppID": self.sdkappid, "userID": self.user(name), "nick": nick}
        self.model.admin("importAccount", body)
        self.target.admin("importAccount", body)

    def login(self, actor: str, platform: str = "web", rule: str = "INST-2", step: str = "") -> StepResult:
        user = self.user(actor.split("/", 1)[0])
        sig = gen_usersig(self.sdkappid, self.secret_key, user, SIG_LIFETIME, now=self.now())
        args = {"SDKAppID": self.sdkappid, "platform": platform, "userID": user, "userSig": sig}
        expected = self.model.call(Call("login", args))
        actual = self.target.call(Call("login", args))
        result = StepResult(expected, actual)
        if expected.code != actual.code:
            result.mismatches.append(
                Mismatch(rule, "login", "code", expected.code, actual.code, step, REPLY_CODE)
            )
        elif expected.ok:
            self.sessions[actor] = (expected.data["session"], actual.data["session"])
            result.mismatches += self._check_events(rule, "login", step, result)
        self.mismatches += result.mismatches
        return result

    # --- one operation --------------------------------------------------------------------------
    def do(
        self,
        actor: str,
        method: str,
        args: Mapping[str, Any],
        *,
        rule: str,
        step: str = "",
        check_events: bool = True,
    ) -> StepResult:
        model_session, target_session = self.sessions.get(actor, (None, None))
        expected = self.model.call(Call(method, args, model_session))
        actual = self.target.call(Call(method, self.ids.translate(dict(args)), target_session))
        result = StepResult(expected, actual)
        if expected.code != actual.code:
            result.mismatches.append(
                Mismatch(rule, method, "code", expected.code, actual.code, step, REPLY_CODE)
            )
        elif expected.ok:
            if "session" in expected.data and "session" in actual.data:  # create / login shortcut
                self.sessions[actor] = (expected.data["session"], actual.data["session"])
            result.mismatches += compare(
                expected.data,
                actual.data,
                self.ids,
                rule=rule,
                method=method,
                time_tolerance=self.time_tolerance,
                step=step,
            )
        result.mismatches += self._check_events(rule, method, step, result, check_events)
        self.mismatches += result.mismatches
        return result

    def admin(self, op: str, body: Mapping[str, Any], *, rule: str, step: str = "") -> StepResult:
        full = {"SDKAppID": self.sdkappid, **body}
        expected = self.model.admin(op, full)
        actual = self.target.admin(op, self.ids.translate(full))
        result = StepResult(expected, actual)
        if expected.code != actual.code:
            result.mismatches.append(
                Mismatch(rule, f"admin:{op}", "code", expected.code, actual.code, step, REPLY_CODE)
            )
        elif expected.ok and op not in ("snapshot", "advanceClock"):
            result.mismatches += compare(
                expected.data,
                actual.data,
                self.ids,
                rule=rule,
                method=f"admin:{op}",
                time_tolerance=self.time_tolerance,
                step=step,
            )
        result.mismatches += self._check_events(rule, f"admin:{op}", step, result)
        self.mismatches += result.mismatches
        return result

    def advance(self, seconds: int, *, rule: str, step: str = "") -> list[Mismatch]:
        """Time rules on a fake clock: both sides step the cell's own app (CLOCK-1)."""
        body = {"SDKAppID": self.sdkappid, "seconds": seconds}
        self.model.admin("advanceClock", body)
        reply = self.target.admin("advanceClock", body)
        found = (
            []
            if reply.ok
            else [Mismatch(rule, "admin:advanceClock", "code", 0, reply.code, step, REPLY_CODE)]
        )
        found += self._check_events(rule, "advanceClock", step)
        self.mismatches += found
        return found

    # --- events ---------------------------------------------------------------------------------
    def _check_events(
        self, rule: str, method: str, step: str, result: StepResult | None = None, compare_events: bool = True
    ) -> list[Mismatch]:
        """Every event the model pushed must reach the same instance, in order, before the deadline."""
        found: list[Mismatch] = []
        deadline = time.monotonic() + self.event_deadline
        for actor, (model_session, target_session) in self.sessions.items():
            stream = self.target.events(target_session)
            for event in self.model.events(model_session).drain():
                if result is not None:
                    result.model_events.setdefault(actor, []).append(event.name)
                if not compare_events:
                    continue
                remaining = max(0.0, deadline - time.monotonic())
                got = stream.wait_for(_named(event.name), remaining)
                if got is None:
                    late = stream.wait_for(_named(event.name), self.event_deadline)
                    verdict = "late" if late is not None else "lost"
                    kind = MismatchKind.EVENT_LATE if late is not None else MismatchKind.EVENT_LOST
                    found.append(
                        Mismatch(rule, method, f"event[{actor}].{event.name}", verdict, None, step, kind)
                    )
                    if result is not None:
                        result.missing.append((actor, event.name, kind))
                    continue
                if result is not None:
                    result.matched.append((actor, got))
                found += compare(
                    event.data,
                    got.data,
                    self.ids,
                    rule=rule,
                    method=method,
                    path=f"event[{actor}].{event.name}",
                    time_tolerance=self.time_tolerance,
                    step=step,
                    kind=MismatchKind.EVENT_DATA,
                )
        if not compare_events:  # sampled out: wait for as many pushes as the model made, compare nothing
            for actor, (_, target_session) in self.sessions.items():
                count = len(result.model_events.get(actor, [])) if result is not None else 0
                remaining = max(0.0, deadline - time.monotonic())
                arrived = self.target.events(target_session).wait_count(count, remaining) if count else []
                if result is not None:
                    result.matched.extend((actor, e) for e in arrived)
            return found
        if self.settle:
            time.sleep(self.settle)
        for actor, (_, target_session) in self.sessions.items():
            for extra in self.target.events(target_session).drain():
                found.append(
                    Mismatch(
                        rule,
                        method,
                        f"event[{actor}].{extra.name}",
                        "<no event>",
                        _brief(extra),
                        step,
                        MismatchKind.EVENT_UNEXPECTED,
                    )
                )
        return found

    def close(self) -> None:
        self.model.close()


def _named(name: str) -> Callable[[PushedEvent], bool]:
    return lambda event: event.name == name


def _brief(event: PushedEvent) -> str:
    return f"unexpected {event.name}"
