"""A cell: a small namespaced universe driven on the target and on a shadow model in lockstep.

Each operation runs first on the shadow model (the oracle), then on the target
with the model's IDs translated through the bijection; the replies and every
pushed event are compared.  Late and lost events are different verdicts.  Every
comparison is one check of its rule in the cell's ``Ledger`` (``evidence.py``).

The shadow follows the target's clock: a fake clock stepped with the target's
(``advanceClock`` on the cell's own app), or the wall clock shifted by the skew
the probe measured, with ``advance`` then a real wait.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from simtim.clock import OffsetClock
from simtim.conformance.check import IGNORED_KEYS, IdMap, Mismatch, MismatchKind, code_mismatch, compare
from simtim.conformance.evidence import Ledger
from simtim.conformance.replay import NET_RULE, ReplayCheck, check_replay
from simtim.conformance.reply_gaps import ReplyGaps
from simtim.conformance.target import AppCredentials, Capabilities, TargetInfo, probe
from simtim.driver.base import (
    Call,
    Driver,
    PushedEvent,
    Reply,
    conversation_gaps_of,
    field_gaps_of,
    gaps_of,
    reconnectable,
)
from simtim.driver.inproc import InProcDriver
from simtim.driver.timrest import DEFAULT_ADMIN, InProcRest, RestCaller, RestFactory
from simtim.limits import DAY_SECONDS
from simtim.protocol.service import Service
from simtim.usersig import gen_usersig

SIG_LIFETIME = 400 * DAY_SECONDS  # outlives any clock step a scenario makes
#: app settings a target may give new apps by default that change what the model keeps (PAGE-2)
MIRRORED_CONFIG = ("maxMessagesPerConversation", "maxMessages", "retentionSeconds")
#: the fewest message ID pairs a bounded map keeps, however small the app's cap: a step refers back
#: to the IDs of the last few replies only (a cursor, a message to revoke or resend)
MIN_MESSAGE_ID_PAIRS = 64

__all__ = ["SIG_LIFETIME", "AppCredentials", "Capabilities", "Cell", "StepResult", "TargetInfo", "probe"]


@dataclass
class StepResult:
    expected: Reply
    actual: Reply
    mismatches: list[Mismatch] = field(default_factory=list)
    model_events: dict[str, list[str]] = field(default_factory=dict)  # actor -> event names
    matched: list[tuple[str, PushedEvent]] = field(default_factory=list)  # (actor, target event) in order
    unsupported: str = ""  # the target has no counterpart: nothing was compared


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
        ledger: Ledger | None = None,
        rest: RestFactory | None = None,
        admin_identifier: str = DEFAULT_ADMIN,
        id_limit: int = 0,
    ) -> None:
        """``id_limit``: message ID pairs the cell remembers (0 = all; a load cell bounds it)."""
        self.target = target
        self.info = info
        self.prefix = prefix
        caps = info.capabilities
        self.own_app = caps.app_config and sdkappid is not None
        if self.own_app and sdkappid is not None:
            self.sdkappid = sdkappid
            self.secret_key = secret_key or ("k" + prefix).ljust(32, "0")
        else:
            self.sdkappid, self.secret_key = info.app.sdkappid, info.app.secret_key
        self.event_deadline = event_deadline
        self.settle = settle
        self.base_tolerance = time_tolerance if not caps.fake_clock else 1
        self.time_tolerance = self.base_tolerance
        self.ids = IdMap(message_limit=id_limit)
        self.sessions: dict[str, tuple[str, str]] = {}
        self.mismatches: list[Mismatch] = []
        self.ledger = ledger if ledger is not None else Ledger()
        self.scenario = ""
        self.gaps = gaps_of(target)
        fields = field_gaps_of(target)
        self.ignored = IGNORED_KEYS | frozenset(k for k in fields if "." not in k)
        self.reply_gaps = ReplyGaps.of(fields, conversation_gaps_of(target))
        # the shadow's clock is fake when the target's is (steps move both), else it follows the target's
        if caps.fake_clock:
            self.model = InProcDriver(fake_clock=True, clock_start=info.now, seed=seed)
        else:
            self.model = InProcDriver(service=Service(seed=seed, real_clock=OffsetClock(info.skew)))
        admins = {} if admin_identifier == DEFAULT_ADMIN else {"restAdmins": [admin_identifier]}
        self.model_rest: RestCaller | None = None
        self.target_rest: RestCaller | None = None
        if rest is not None and caps.rest:
            self.model_rest = InProcRest(
                self.model, self.sdkappid, self.secret_key, admin_identifier, now=self.now
            )
            self.target_rest = rest(self.sdkappid, self.secret_key, admin_identifier, self.now)
        if not self.own_app:
            self.model.admin(
                "configureApp", {"SDKAppID": self.sdkappid, "secretKey": self.secret_key, **admins}
            )
            return
        body = {"SDKAppID": self.sdkappid, "secretKey": self.secret_key, **admins, **(config or {})}
        reply = self.target.admin("configureApp", body)
        if not reply.ok:
            raise RuntimeError(f"configureApp failed: {reply}")
        # the shadow keeps the store bounds the target gives new apps (simtim serve --max-messages...)
        reported = reply.data.get("app")
        app: dict[str, Any] = reported if isinstance(reported, dict) else {}
        mirrored = {k: app[k] for k in MIRRORED_CONFIG if k in app and k not in body}
        reply = self.model.admin("configureApp", {**body, **mirrored})
        if not reply.ok:
            raise RuntimeError(f"configureApp failed on the model: {reply}")
        self._bound_ids_by_cap({**body, **mirrored}.get("maxMessages"))
        now = target.admin("snapshot", {"SDKAppID": self.sdkappid})
        if now.ok and caps.fake_clock:
            self._align_clock(int(now.data["now"]))

    def _widen_tolerance(self, took: float) -> None:
        """On a real clock the model stamps a call's times once, before the target runs it, while
        the target stamps them anywhere during the call: one TIM call can be many target writes (a
        createGroup of 100 members is 101 Matrix joins, over 30 s on a loaded machine). So the times
        a cell compares are known only to within its slowest call so far (decision d-time-tolerance)."""
        if not self.info.fake_clock:
            self.time_tolerance = max(self.time_tolerance, self.base_tolerance + math.ceil(took))

    def _align_clock(self, target_now: int) -> None:
        model_now = self.model.service.world.apps[self.sdkappid].clock.now()
        if target_now > model_now:
            self.model.admin("advanceClock", {"SDKAppID": self.sdkappid, "seconds": target_now - model_now})

    # --- names ----------------------------------------------------------------------------------
    def user(self, name: str) -> str:
        return f"{self.prefix}{name}"

    def sig(self, name: str, lifetime: int = SIG_LIFETIME) -> str:
        """A UserSig for account ``name`` of this cell's app, issued at the target's now."""
        return gen_usersig(self.sdkappid, self.secret_key, self.user(name), lifetime, now=self.now())

    def now(self) -> int:
        return self.model.service.world.apps[self.sdkappid].clock.now()

    # --- setup ----------------------------------------------------------------------------------
    def import_account(self, name: str, nick: str = "") -> None:
        """AUTH-5: with the admin API, import it; else through REST ``account_import`` (compared,
        a REST-3 check); with neither, the account appears when it logs in."""
        if self.info.admin:
            body = {"SDKAppID": self.sdkappid, "userID": self.user(name), "nick": nick}
            self.model.admin("importAccount", body)
            self.target.admin("importAccount", body)
        elif self.target_rest is not None:
            body = {"UserID": self.user(name), **({"Nick": nick} if nick else {})}
            self.rest("account_import", body, rule="REST-3", step="setup: account_import")

    def provision(self, name: str, nick: str = "", rule: str = "AUTH-5") -> StepResult:
        """Make an account exist without the admin API, the way a TIM app does: log it in once
        (AUTH-5), set its nick (PROF-1), log out and drop the instance. Both sides, compared."""
        actor = f"{name}/provision"
        result = self.login(actor, rule=rule, step="setup: provision")
        if result.expected.ok and result.actual.ok:
            if nick:
                self.do(actor, "updateMyProfile", {"nick": nick}, rule="PROF-1", step="setup: nick")
            self.do(actor, "destroy", {}, rule=rule, step="setup: provision")
            self.sessions.pop(actor, None)
        return result

    def login(self, actor: str, platform: str = "web", rule: str = "INST-2", step: str = "") -> StepResult:
        user = self.user(actor.split("/", 1)[0])
        sig = gen_usersig(self.sdkappid, self.secret_key, user, SIG_LIFETIME, now=self.now())
        args = {"SDKAppID": self.sdkappid, "platform": platform, "userID": user, "userSig": sig}
        expected = self.model.call(Call("login", args))
        actual = self.target.call(Call("login", args))
        result = StepResult(expected, actual)
        if actual.unsupported:  # e.g. a Web SDK target asked for an iOS instance: nothing to compare
            result.unsupported = actual.message
            self.ledger.unsupported(rule, actual.message, self.scenario)
            self._drain_model_events()
            return result
        if expected.code != actual.code:
            result.mismatches.append(code_mismatch(rule, "login", "code", expected.code, actual.code, step))
        self.ledger.check(rule, result.mismatches, self.scenario)
        if expected.ok and actual.ok:
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
        pushes_rule: str = "",
    ) -> StepResult:
        """``pushes_rule``: the rule the pushes this call causes count for, when not ``rule``."""
        model_session, target_session = self.sessions.get(actor, (None, None))
        gap = self.gaps.get(method)
        if gap is not None:  # the target has no counterpart: nothing runs, on either side
            self.ledger.unsupported(rule, gap, self.scenario)
            unsupported = Reply.not_supported(gap)
            return StepResult(unsupported, unsupported, unsupported=gap)
        expected = self.model.call(Call(method, args, model_session))
        started = time.monotonic()
        actual = self.target.call(Call(method, self.ids.translate(dict(args)), target_session))
        self._widen_tolerance(time.monotonic() - started)
        result = StepResult(expected, actual)
        if actual.unsupported:
            result.unsupported = actual.message
            self.ledger.unsupported(rule, actual.message, self.scenario)
            self._drain_model_events()
            return result
        if expected.ok and actual.ok and "session" in expected.data and "session" in actual.data:
            self.sessions[actor] = (expected.data["session"], actual.data["session"])  # create / login
        if expected.code != actual.code or expected.ok:
            result.mismatches += self._compare_reply(rule, method, step, expected, actual)
        self.ledger.check(rule, result.mismatches, self.scenario)
        result.mismatches += self._check_events(pushes_rule or rule, method, step, result, check_events)
        self.mismatches += result.mismatches
        return result

    def admin(self, op: str, body: Mapping[str, Any], *, rule: str, step: str = "") -> StepResult:
        full = {"SDKAppID": self.sdkappid, **body}
        expected = self.model.admin(op, full)
        started = time.monotonic()
        actual = self.target.admin(op, self.ids.translate(full))
        self._widen_tolerance(time.monotonic() - started)
        result = StepResult(expected, actual)
        if actual.unsupported:
            result.unsupported = actual.message
            self.ledger.unsupported(rule, actual.message, self.scenario)
            self._drain_model_events()
            return result
        if expected.code != actual.code:
            result.mismatches.append(
                code_mismatch(rule, f"admin:{op}", "code", expected.code, actual.code, step)
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
                ignored=self.ignored,
            )
        self.ledger.check(rule, result.mismatches, self.scenario)
        result.mismatches += self._check_events(rule, f"admin:{op}", step, result)
        self.mismatches += result.mismatches
        return result

    def rest(
        self,
        command: str,
        body: Mapping[str, Any],
        *,
        rule: str,
        step: str = "",
        identifier: str | None = None,
    ) -> StepResult:
        """One REST v4 call as the App admin on the shadow's REST face and on the target's, compared
        like an SDK reply (REST-9: the SDK users' events are checked too)."""
        if self.model_rest is None or self.target_rest is None:
            why = "the target has no REST v4 channel"
            self.ledger.unsupported(rule, why, self.scenario)
            unsupported = Reply.not_supported(why)
            return StepResult(unsupported, unsupported, unsupported=why)
        method = f"rest:{command}"
        expected = self.model_rest.call(command, body, identifier)
        started = time.monotonic()
        actual = self.target_rest.call(command, self.ids.translate(dict(body)), identifier)
        self._widen_tolerance(time.monotonic() - started)
        result = StepResult(expected, actual)
        result.mismatches += self._compare_reply(rule, method, step, expected, actual, "ErrorCode")
        self.ledger.check(rule, result.mismatches, self.scenario)
        result.mismatches += self._check_events(rule, method, step, result)
        self.mismatches += result.mismatches
        return result

    def _compare_reply(
        self, rule: str, method: str, step: str, expected: Reply, actual: Reply, code_field: str = "code"
    ) -> list[Mismatch]:
        """The code, then (when the model answered the same) the data, IDs mapped, times within tolerance."""
        if expected.code != actual.code:
            return [code_mismatch(rule, method, code_field, expected.code, actual.code, step)]
        data, got = expected.data, actual.data
        if self.reply_gaps and expected.ok:  # what the target's reply cannot carry: unsupported
            data, got, reasons = self.reply_gaps.strip(method, data, got)
            for reason in reasons:
                self.ledger.unsupported(rule, reason, self.scenario)
        return compare(
            data,
            got,
            self.ids,
            rule=rule,
            method=method,
            time_tolerance=self.time_tolerance,
            step=step,
            ignored=self.ignored,
        )

    def advance(self, seconds: int, *, rule: str, step: str = "") -> list[Mismatch]:
        """Time passes (CLOCK-1): both fake clocks step the cell's own app, or real time goes by
        and the shadow sweeps expiries (INST-5) as the target's own ticker does."""
        if self.info.fake_clock:
            body = {"SDKAppID": self.sdkappid, "seconds": seconds}
            self.model.admin("advanceClock", body)
            reply = self.target.admin("advanceClock", body)
            found = (
                [] if reply.ok else [code_mismatch(rule, "admin:advanceClock", "code", 0, reply.code, step)]
            )
            self.ledger.check(rule, found, self.scenario)
        else:
            time.sleep(seconds)
            self.model.service.tick()
            found = []
        found += self._check_events(rule, "advanceClock", step)
        self.mismatches += found
        return found

    # --- events ---------------------------------------------------------------------------------
    def _drain_model_events(self) -> None:
        for model_session, _ in self.sessions.values():
            self.model.events(model_session).drain()

    def _check_events(
        self,
        rule: str,
        method: str,
        step: str,
        result: StepResult | None = None,
        compare_events: bool = True,
    ) -> list[Mismatch]:
        """Every event the model pushed must reach the same instance, in order, before the deadline.

        One deadline for the step, then one grace period shared by every event still missing:
        a target that never sends some event costs a step at most two deadlines, however many
        events it drops (an event arriving in the grace period is late, else lost).
        """
        found: list[Mismatch] = []
        deadline = time.monotonic() + self.event_deadline
        grace_until = deadline + self.event_deadline
        scenario = self.scenario
        for actor, (model_session, target_session) in self.sessions.items():
            stream = self.target.events(target_session)
            for event in self.model.events(model_session).drain():
                if result is not None:
                    result.model_events.setdefault(actor, []).append(event.name)
                if not compare_events:
                    continue
                gap = self.gaps.get(event.name) or _gap_of_elements(self.gaps, event)
                if gap is not None:
                    self.ledger.unsupported(rule, gap, scenario)
                    continue
                got = stream.wait_for(_named(event.name), max(0.0, deadline - time.monotonic()))
                if got is None:
                    late = stream.wait_for(_named(event.name), max(0.0, grace_until - time.monotonic()))
                    kind = MismatchKind.EVENT_LATE if late is not None else MismatchKind.EVENT_LOST
                    verdict = "late" if late is not None else "lost"  # for the reader; kind decides
                    where = f"event[{actor}].{event.name}"
                    lost = Mismatch(rule, method, where, verdict, None, step, kind, event.name)
                    found.append(lost)
                    self.ledger.check(rule, [lost], scenario)
                    continue
                if result is not None:
                    result.matched.append((actor, got))
                diff = compare(
                    event.data,
                    got.data,
                    self.ids,
                    rule=rule,
                    method=method,
                    path=f"event[{actor}].{event.name}",
                    time_tolerance=self.time_tolerance,
                    step=step,
                    kind=MismatchKind.EVENT_DATA,
                    ignored=self.ignored,
                    event=event.name,
                )
                self.ledger.check(rule, diff, scenario)
                found += diff
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
        stray: list[Mismatch] = []
        for actor, (_, target_session) in self.sessions.items():
            for extra in self.target.events(target_session).drain():
                if extra.name in self.gaps or _gap_of_elements(self.gaps, extra):
                    continue
                stray.append(
                    Mismatch(
                        rule,
                        method,
                        f"event[{actor}].{extra.name}",
                        "<no event>",
                        _brief(extra),
                        step,
                        MismatchKind.EVENT_UNEXPECTED,
                        extra.name,
                    )
                )
        self.ledger.check(rule, stray, scenario)  # "nothing else was pushed" is a check too
        return found + stray

    # --- faults: connections cut and re-opened (NET-1) ---------------------------------------------
    def can_reconnect(self) -> bool:
        return reconnectable(self.target) is not None

    def disconnect(self, actor: str) -> bool:
        """Cut ``actor``'s connection abruptly on the target and take its network away in the shadow
        (the model then defers its events, NET-1). False when the target has no connection to cut."""
        target = reconnectable(self.target)
        if target is None or actor not in self.sessions:
            self.ledger.unsupported(NET_RULE, "the target's driver cannot cut a connection", self.scenario)
            return False
        model_session, target_session = self.sessions[actor]
        self.model.cut(model_session)
        target.cut(target_session)
        return True

    def reconnect(self, actor: str, *, step: str = "", replay_grace: float = 0.1) -> ReplayCheck:
        """Re-open ``actor``'s connection; what the model replays must arrive once, in order (NET-1).

        Waits up to the event deadline for as many events as the model replayed, then
        ``replay_grace`` seconds more, so an extra copy right behind them is seen and counted.
        """
        target = reconnectable(self.target)
        model_session, target_session = self.sessions[actor]
        self.model.reconnect(model_session)
        expected = [(event.name, event.data) for event in self.model.events(model_session).drain()]
        stream = self.target.events(target_session)
        if target is not None:
            target.reconnect(target_session)
        arrived = stream.wait_count(len(expected), self.event_deadline)
        arrived += stream.wait_count(len(expected) + 1 - len(arrived), replay_grace)
        found = check_replay(
            expected, arrived, self.ids, actor=actor, step=step, time_tolerance=self.time_tolerance
        )
        for _ in range(found.checks - 1):
            self.ledger.check(NET_RULE, (), self.scenario)
        self.ledger.check(NET_RULE, found.mismatches, self.scenario)
        self.mismatches += found.mismatches
        return found

    def _bound_ids_by_cap(self, cap: object) -> None:
        """A bounded ID map keeps no more message pairs than the app holds messages (PAGE-2: the
        target evicts the oldest past its ``maxMessages``): an older pair names a message gone on
        both sides.  A soak's cap of 200 then costs each cell ~60 kB instead of ~150 kB, and the
        map is full within the warm-up, so the Locust process's RSS is flat after it."""
        if self.ids.message_limit and isinstance(cap, int) and not isinstance(cap, bool) and cap > 0:
            self.ids.message_limit = min(self.ids.message_limit, max(cap, MIN_MESSAGE_ID_PAIRS))

    def close(self) -> None:
        self.model.close()
        if self.target_rest is not None:
            self.target_rest.close()


def _named(name: str) -> Callable[[PushedEvent], bool]:
    return lambda event: event.name == name


def _brief(event: PushedEvent) -> str:
    return f"unexpected {event.name}"


def _gap_of_elements(gaps: Mapping[str, str], event: PushedEvent) -> str | None:
    """A driver may lack one kind of message only: ``"onMessageReceived:TIMGroupSystemNoticeElem"``
    in its gaps makes a push of only such messages unsupported evidence (Matrix has no system notices)."""
    if not gaps:  # most targets lack nothing: no per-event work
        return None
    data = event.data
    if not isinstance(data, list) or not data or not all(isinstance(m, Mapping) for m in data):
        return None
    kinds = {str(m.get("type", "")) for m in data}
    return gaps.get(f"{event.name}:{kinds.pop()}") if len(kinds) == 1 else None
