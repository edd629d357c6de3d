"""``SimTimUser``: a Locust user that drives one cell and reports every call and push.

Each call fires ``events.request`` with request_type "TIM" and the method's
name; a code the model expected (an error included) is a success, anything
else is a failure carrying a readable diff.  Pushes are request_type "PUSH",
named by event, with the measured end-to-end latency.  A transport failure
(6010) desynchronises the cell from its shadow model, so the user drops the
cell and builds a fresh one; nothing a bad endpoint does escapes as an
exception.
"""

from __future__ import annotations

import logging
import random
import secrets
import time
from collections.abc import Mapping
from typing import Any, ClassVar

import gevent
import yaml
from locust import User, between, task

from simtim.conformance.cell import Cell, StepResult
from simtim.conformance.check import MismatchKind
from simtim.conformance.delivery import read_stamp
from simtim.conformance.replay import NET_RULE
from simtim.conformance.target import TargetProblem
from simtim.driver.base import Driver, Reply
from simtim.errors import Code
from simtim.load.direct import DirectCell
from simtim.load.faults import Faults
from simtim.load.harness import CONFORMANCE, HARNESS, TRANSPORT, Harness
from simtim.load.outcome import outcome_of
from simtim.model.events import MESSAGE_RECEIVED
from simtim.paths import scenarios_dir

log = logging.getLogger("simtim.load")
SAMPLE_EVERY = 10
#: message ID pairs a load cell remembers: far more than its users page back or revoke (a forgotten
#: pair seen again is bound again), few enough that a long run's memory stays flat
ID_LIMIT = 512
#: calls whose recipients count toward MSG-5 delivery (SDK sends and REST sends alike, REST-9)
SENDS = frozenset({"sendMessage", "sendmsg", "batchsendmsg", "send_group_msg"})
LOAD_SCENARIOS = scenarios_dir() / "load"


class TransportFailure(Exception):
    """The endpoint could not be reached or did not speak simtim/1 (6010)."""


class ConformanceFailure(Exception):
    """The endpoint answered differently from the reference model."""


class LostPush(Exception):
    """An event the model pushed did not arrive before the deadline."""


class Desync(Exception):
    """The cell no longer mirrors the target; it must be rebuilt."""


def load_weights(name: str, defaults: Mapping[str, int]) -> dict[str, int]:
    """``--scenario NAME``: scenarios/load/NAME.yaml ``actions`` override the locustfile's weights."""
    path = LOAD_SCENARIOS / f"{name}.yaml"
    if name == "default":
        return dict(defaults)
    if not path.exists():
        raise ValueError(f"--scenario {name}: no {path}")
    data = yaml.safe_load(path.read_text()) or {}
    overrides = data.get("actions", {})
    unknown = set(overrides) - set(defaults)
    if unknown:
        raise ValueError(f"{path}: unknown actions {sorted(unknown)}")
    return {**defaults, **{k: int(v) for k, v in overrides.items()}}


class SimTimUser(User):
    abstract = True
    wait_time = between(0.01, 0.05)
    #: action name (a method of the user) -> weight; each locustfile documents its sources
    actions: ClassVar[dict[str, int]] = {}
    #: AppConfig fields (camelCase) for the cell's own app
    app_config: ClassVar[dict[str, Any]] = {}

    def __init__(self, environment: Any) -> None:
        super().__init__(environment)
        self.harness = Harness.of(environment)
        seed = int(self.harness.option("seed", 0) or 0)
        self.rng = random.Random(f"{seed}-{type(self).__name__}-{id(self)}")
        self.cell: Cell | DirectCell | None = None
        self.driver: Driver | None = None
        self.names: list[str] = []
        self.calls = 0
        weights = load_weights(str(self.harness.option("scenario", "default")), self.actions)
        self._choices = [name for name, weight in weights.items() if weight > 0]
        self._weights = [weights[name] for name in self._choices]
        plan = self.harness.fault_plan()
        self.faults = Faults(plan, self.rng, self.harness.started) if plan.active else None

    # --- lifecycle -----------------------------------------------------------------------------
    def on_stop(self) -> None:
        self._drop_cell()

    def _drop_cell(self) -> None:
        if self.faults is not None:
            self.faults.forget()
        if self.cell is not None:
            self.harness.tracker.forget(self.cell.user(""))  # every account of the cell: its prefix
            self.cell.close()
        if self.driver is not None and not self.harness.target.in_process:  # the model is shared
            self.driver.close()
        self.cell = None
        self.driver = None

    def _build_cell(self) -> bool:
        size = max(2, int(self.harness.option("cell_size", 4) or 4))
        opened = self.harness.open()
        self.driver = opened.driver
        try:
            info = self.harness.target_info(self.driver, opened.rest)
        except TargetProblem as exc:  # down, garbage, or a key that does not fit: a transport failure
            self._fire("TIM", "setup", 0.0, TransportFailure(str(exc)[:200]))
            self.harness.record(TRANSPORT, detail=str(exc)[:200])
            self._drop_cell()
            return False
        prefix = f"u{secrets.token_hex(4)}_"
        sdkappid = 1_500_000_000 + secrets.randbelow(600_000_000)
        mode = self.harness.option("conformance", "full")
        try:
            if mode == "off":
                self.cell = DirectCell(
                    self.driver,
                    info,
                    prefix=prefix,
                    sdkappid=sdkappid,
                    config=self.app_config,
                    ledger=self.harness.ledger,
                )
            else:
                self.cell = Cell(
                    self.driver,
                    info,
                    prefix=prefix,
                    sdkappid=sdkappid,
                    config=self.app_config,
                    event_deadline=float(self.harness.option("event_deadline", 2.0)),
                    settle=0.0,
                    time_tolerance=opened.time_tolerance,
                    ledger=self.harness.ledger,
                    rest=opened.rest,
                    id_limit=ID_LIMIT,
                )
        except Exception as exc:  # target down or refusing admin: a transport failure, try later
            self._fire("TIM", "setup", 0.0, TransportFailure(str(exc)[:200]))
            self.harness.record(TRANSPORT, detail=str(exc)[:200])
            self._drop_cell()
            return False
        self.names = [f"a{i}" for i in range(size)]
        for name in self.names:
            self.cell.import_account(name)
        for name in self.names:
            start = time.perf_counter()
            result = self.cell.login(name)
            if not self._report("login", start, result):
                self._drop_cell()
                return False
        self.setup_cell()
        return self.cell is not None

    def setup_cell(self) -> None:
        """Hook: groups and the like, once per cell."""

    # --- the one task ----------------------------------------------------------------------------
    @task
    def step(self) -> None:
        try:
            if self.cell is None and not self._build_cell():
                gevent.sleep(1.0)
                return
            if self.faults is not None:
                self._faults(self.faults)
                if self.cell is None:
                    return
            action = self.rng.choices(self._choices, self._weights)[0]
            getattr(self, action)()
        except Desync:
            self._drop_cell()
        except gevent.GreenletExit:
            raise
        except Exception as exc:
            log.exception("simtim: harness error in %s", type(self).__name__)
            self.harness.record(HARNESS, detail=f"{type(exc).__name__}: {exc}"[:300])
            self._fire("TIM", "harness", 0.0, exc)
            self._drop_cell()
            gevent.sleep(0.5)  # a harness bug must not spin the process

    # --- faults (NET-1) ------------------------------------------------------------------------
    def _faults(self, faults: Faults) -> None:
        """Re-open the instances whose pause is over, then cut what the schedule says is due."""
        cell = self.cell
        if not isinstance(cell, Cell) or not cell.can_reconnect():
            if cell is not None:  # no model to say what must be replayed: NET-1 is not checked
                self.harness.ledger.skip(NET_RULE, "faults need --conformance full or sample")
            self.faults = None
            return
        due = faults.due(self.names)
        for name in due.reconnect:
            start = time.perf_counter()
            replay = cell.reconnect(name)
            elapsed = (time.perf_counter() - start) * 1000.0
            tracker = self.harness.tracker
            tracker.replayed(
                replay.expected, replay.delivered, replay.lost, replay.duplicated, replay.reordered
            )
            for event in replay.matched:
                latency = None
                if event.name == MESSAGE_RECEIVED and isinstance(event.data, list) and event.data:
                    latency = tracker.received(name, event.data[0].get("cloudCustomData"), event.received_at)
                self._fire("PUSH", event.name, latency if latency is not None else elapsed, None)
            if replay.mismatches:
                self.harness.record(CONFORMANCE, replay.mismatches)
                first = replay.mismatches[0]
                failure = ConformanceFailure(
                    f"[{first.rule}] {first.path}: {first.expected!r:.60} got {first.actual!r:.60}"
                )
                self._fire("NET", "reconnect", elapsed, failure)
            else:
                self._fire("NET", "reconnect", elapsed, None)
        for name in due.cut:
            if cell.disconnect(name):
                self.harness.tracker.cut()
                self._fire("NET", "storm cut" if due.storm else "cut", 0.0, None)

    # --- calling and reporting -------------------------------------------------------------------
    def call(self, actor: str, method: str, args: Mapping[str, Any], rule: str) -> Reply:
        """One checked call; returns the reply in the cell's (model's) ID space."""
        assert self.cell is not None
        self.calls += 1
        mode = self.harness.option("conformance", "full")
        check_events = mode == "full" or (mode == "sample" and self.calls % SAMPLE_EVERY == 0)
        start = time.perf_counter()
        result = self.cell.do(actor, method, args, rule=rule, check_events=check_events)
        if not self._report(method, start, result):
            raise Desync
        return result.expected

    def admin_call(self, op: str, body: Mapping[str, Any], rule: str) -> Reply:
        """An admin op through the cell (both sides), reported like a call."""
        cell = self.cell
        if not isinstance(cell, Cell):
            return Reply(int(Code.UNKNOWN_METHOD), "no admin in this mode")
        if not cell.info.admin:  # evidence that needs the admin API is skipped, never faked
            self.harness.ledger.skip(rule, "needs admin")
            return Reply(int(Code.UNKNOWN_METHOD), "the target has no admin API")
        start = time.perf_counter()
        result = cell.admin(op, body, rule=rule)
        if not self._report(f"admin:{op}", start, result):
            raise Desync
        return result.expected

    def rest_call(self, command: str, body: Mapping[str, Any], rule: str) -> Reply:
        """A REST v4 call as the App admin, checked against the model's REST face and timed as
        request type REST; the pushes it causes to the cell's online users are checked and timed
        like any other (REST-9). Skipped (never faked) on a target without REST."""
        cell = self.cell
        if not isinstance(cell, Cell) or cell.target_rest is None:
            self.harness.ledger.skip(rule, "needs rest")
            return Reply(int(Code.UNKNOWN_METHOD), "the target has no REST v4 face")
        start = time.perf_counter()
        result = cell.rest(command, body, rule=rule)
        if not self._report(command, start, result, request_type="REST"):
            raise Desync
        return result.expected

    def advance_clock(self, seconds: int, rule: str = "CLOCK-1") -> None:
        """Step the cell's own app clock on fake-clock targets (MSG-7's per-second window moves on)."""
        cell = self.cell
        if not isinstance(cell, Cell) or not cell.info.fake_clock or not cell.own_app:
            return
        start = time.perf_counter()
        mismatches = cell.advance(seconds, rule=rule)
        elapsed = (time.perf_counter() - start) * 1000.0
        if mismatches:
            self.harness.record(CONFORMANCE, mismatches)
            self._fire("TIM", "advanceClock", elapsed, ConformanceFailure(mismatches[0].describe()[:200]))
        else:
            self._fire("TIM", "advanceClock", elapsed, None)

    def user_id(self, name: str) -> str:
        assert self.cell is not None
        return self.cell.user(name)

    def stamp(self, sender: str) -> str:
        return self.harness.tracker.next_stamp(sender)

    def _fire(
        self,
        request_type: str,
        name: str,
        response_time: float,
        exception: BaseException | None,
        length: int = 0,
    ) -> None:
        self.environment.events.request.fire(
            request_type=request_type,
            name=name,
            response_time=response_time,
            response_length=length,
            exception=exception,
            context={},
        )

    def _report(self, method: str, start: float, result: StepResult, request_type: str = "TIM") -> bool:
        """Fire the call's and its pushes' request events; False when the cell is desynchronised."""
        elapsed = (time.perf_counter() - start) * 1000.0
        expected, actual = result.expected, result.actual
        if result.unsupported:
            return True  # recorded as unsupported evidence by the cell; nothing to time or compare
        outcome = outcome_of(result.mismatches)
        if outcome.transport:
            self.harness.record(TRANSPORT, detail=actual.message[:200])
            self._fire(
                request_type, method, elapsed, TransportFailure(f"{actual.code} {actual.message[:120]}")
            )
            return False
        if outcome.reply:
            self.harness.record(CONFORMANCE, outcome.reply)
            first = outcome.reply[0]
            self._fire(
                request_type,
                method,
                elapsed,
                ConformanceFailure(
                    f"[{first.rule}] {first.path}: expected {first.expected!r:.60} got {first.actual!r:.60}"
                ),
            )
        else:
            self._fire(request_type, method, elapsed, None)
        if method in SENDS and expected.ok:
            recipients = sum(names.count(MESSAGE_RECEIVED) for names in result.model_events.values())
            if recipients:
                self.harness.tracker.sent(recipients)
        start_mono = time.monotonic() - elapsed / 1000.0
        for actor, event in result.matched:
            latency = None
            if event.name == MESSAGE_RECEIVED and isinstance(event.data, list) and event.data:
                latency = self.harness.tracker.received(
                    actor, event.data[0].get("cloudCustomData"), event.received_at
                )
            if latency is None:
                latency = max(0.001, (event.received_at - start_mono) * 1000.0)
            self._fire("PUSH", event.name, latency, None)
        deadline_ms = self.harness.option("event_deadline", 2.0) * 1000.0
        for m in outcome.missing:
            late = m.kind is MismatchKind.EVENT_LATE
            self.harness.tracker.lost(late=late)
            self._fire("PUSH", m.event, deadline_ms, LostPush("late" if late else "lost"))
        if outcome.pushes:
            self.harness.record(CONFORMANCE, outcome.pushes)
            for m in outcome.pushes:
                self._fire(
                    "PUSH",
                    m.event,
                    0.001,
                    ConformanceFailure(
                        f"[{m.rule}] {m.path}: expected {m.expected!r:.60} got {m.actual!r:.60}"
                    ),
                )
        if outcome.missing:
            self.harness.record(CONFORMANCE, outcome.missing)
        return True


__all__ = ["SimTimUser", "read_stamp"]
