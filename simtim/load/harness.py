"""Process-wide harness state and the Locust event listeners.

One ``Harness`` per Locust process: the target (embedded server, URL or
in-process model), the delivery tracker, counters by failure category
(conformance, transport 6010, harness) and, on the master or local runner,
the CSV writer.  Workers ship their mismatch rows and delivery buckets to the
master through ``report_to_master``/``worker_report``.
"""

from __future__ import annotations

import logging
import math
import os
import socket
import time
from collections import Counter
from typing import Any, ClassVar

import gevent
from locust import events
from locust.env import Environment
from locust.runners import MasterRunner, WorkerRunner

from simtim.conformance.check import Mismatch, MismatchKind
from simtim.conformance.delivery import DeliveryTracker, SecondBucket
from simtim.conformance.evidence import Ledger
from simtim.conformance.target import AppCredentials, TargetInfo, probe
from simtim.driver.base import Driver
from simtim.driver.targets import (
    MATRIX_SECRET,
    Opened,
    TargetKind,
    TargetOptions,
    UnknownTarget,
    kind_of,
    open_target,
)
from simtim.driver.timrest import RestFactory
from simtim.gc_policy import collect_forever, keep_long_lived_state_cheap
from simtim.heap_probe import install_from_env as install_heap_probe
from simtim.load.embedded import EmbeddedServer
from simtim.load.faults import Plan, StormDraw
from simtim.load.options import add_arguments
from simtim.load.results import ResultWriter
from simtim.load.stats_window import prune_forever
from simtim.load.transport import GeventTransport
from simtim.paths import scenarios_dir
from simtim.rules import RULE_IDS
from simtim.runfiles import FailureCategory
from simtim.verdict import Limits, RunCounts, exit_code, threshold_checks

log = logging.getLogger("simtim.load")

CONFORMANCE = FailureCategory.CONFORMANCE
TRANSPORT = FailureCategory.TRANSPORT
HARNESS = FailureCategory.HARNESS


class Harness:
    current: ClassVar[Harness | None] = None

    def __init__(self, environment: Environment) -> None:
        self.environment = environment
        self.pid = os.getpid()
        self.worker = f"{socket.gethostname()}-{self.pid}"
        self.counts: Counter[str] = Counter()
        self.ledger = Ledger(keep_mismatches=False)  # this process's checks per rule since the last report
        self.evidence = Ledger(keep_mismatches=False)  # master: every worker's, cumulative
        self.tracker = DeliveryTracker(self.worker, self.ledger)
        self.rows: list[dict[str, Any]] = []
        self.writer: ResultWriter | None = None
        self.embedded: EmbeddedServer | None = None
        self._inproc: Opened | None = None
        self._info: TargetInfo | None = None
        self._flusher: gevent.Greenlet | None = None
        self.worker_counts: dict[str, Counter[str]] = {}
        self.started = time.monotonic()  # the test's start (reset at test_start): --storm-at counts from it
        self._plan: Plan | None = None

    @classmethod
    def of(cls, environment: Environment) -> Harness:
        # a worker forked by --processes inherits the master's harness: each process needs its own
        if (
            cls.current is None
            or cls.current.environment is not environment
            or cls.current.pid != os.getpid()
        ):
            cls.current = Harness(environment)
        return cls.current

    # --- options --------------------------------------------------------------------------------
    def option(self, name: str, default: Any = None) -> Any:
        options = self.environment.parsed_options
        return getattr(options, name, default) if options is not None else default

    def fault_plan(self) -> Plan:
        """The run's faults (--flap-rate, --flap-pause, --storm-at, --storm-share), built once."""
        if self._plan is None:
            storm_at = self.option("storm_at")
            share = min(1.0, max(0.0, float(self.option("storm_share", 0.5))))
            self._plan = Plan(
                flap_rate=max(0.0, float(self.option("flap_rate", 0.0) or 0.0)),
                flap_pause=float(self.option("flap_pause", 3.0)),
                storm_at=None if storm_at is None else float(storm_at),
                storm=None if storm_at is None else StormDraw(share),
            )
        return self._plan

    # --- target ---------------------------------------------------------------------------------
    @property
    def host(self) -> str:
        return self.environment.host or ""

    @property
    def target(self) -> TargetKind:
        """The target table's row for ``--host`` (checked at init: an unknown scheme stops the run)."""
        return kind_of(self.host)

    def driver(self) -> Driver:
        """A driver for one cell: shared in-process model, or a gevent HTTP driver of its own."""
        return self.open().driver

    def open(self) -> Opened:
        """The target for one cell. An ``http://`` host's REST v4 face is tried at the same address
        (``simtim serve`` has one; the probe says ``rest no`` where there is none)."""
        target = self.target
        if target.in_process:
            if self._inproc is None:  # one model for every cell of the process: its own clock per app
                self._inproc = open_target(self.host)
            return self._inproc
        options = TargetOptions(
            admin_key=self.option("simtim_admin_key") or None,
            timeout=float(self.option("request_timeout", 5.0)),
            transport=GeventTransport,
            rest_url=f"timrest+{self.host}" if target.rest_beside else None,
            extra={MATRIX_SECRET: self.option("matrix_registration_secret") or None},
        )
        return open_target(self.host, options)

    def app(self) -> AppCredentials:
        return AppCredentials(int(self.option("sdkappid")), str(self.option("secret_key")))

    def target_info(self, driver: Driver, rest: RestFactory | None = None) -> TargetInfo:
        """Probed once per process (per cell in-process): capabilities, clock skew, the app."""
        inproc = self.target.in_process
        if self._info is None or inproc:
            info = probe(driver, app=self.app(), rest=rest)
            if inproc or info.admin or self._info is None:
                self._info = info
            return info
        return self._info

    # --- recording --------------------------------------------------------------------------------
    def record(
        self, kind: FailureCategory, mismatches: list[Mismatch] | None = None, detail: str = ""
    ) -> None:
        self.counts[kind] += max(1, len(mismatches or []))
        # a failure with no comparison behind it is one row with the detail; a transport failure
        # still says so in ``check`` (a harness error is no mismatch of any kind)
        bare = MismatchKind.TRANSPORT if kind is TRANSPORT else ""
        for m in mismatches or [Mismatch("", "", "", "", detail)]:
            self.rows.append(
                {
                    "timestamp": f"{time.time():.3f}",
                    "worker": self.worker,
                    "kind": kind,
                    "rule": m.rule,
                    "method": m.method,
                    "path": m.path,
                    "expected": _text(m.expected),
                    "actual": _text(m.actual),
                    "step": m.step,
                    "check": m.kind if mismatches else bare,
                }
            )

    def take_evidence(self) -> Ledger:
        return self.ledger.take()  # in place: every cell of the process holds this ledger

    def take_report(self) -> dict[str, Any]:
        rows, self.rows = self.rows, []
        return {
            "rows": rows,
            "evidence": self.take_evidence().to_json(),
            "delivery": {str(s): b.to_dict() for s, b in self.tracker.take().items()},
            "counts": dict(self.counts),
        }

    def merge_report(self, data: dict[str, Any]) -> None:
        """Master side: a worker's rows and buckets join ours; counts are cumulative per worker."""
        if self.writer is not None:
            self.writer.add_mismatches(data.get("rows", []))
            self.writer.add_delivery(
                {int(s): SecondBucket.from_dict(b) for s, b in data.get("delivery", {}).items()}
            )
        self.evidence.merge(Ledger.from_json(data.get("evidence", [])))
        self.worker_counts[data.get("worker", "?")] = Counter(data.get("counts", {}))

    def total_counts(self) -> Counter[str]:
        total = Counter(self.counts)
        for counts in self.worker_counts.values():
            total.update(counts)
        return total

    def flush_local(self, final: bool = False) -> None:
        if self.writer is None:
            return
        rows, self.rows = self.rows, []
        self.writer.add_mismatches(rows)
        self.evidence.merge(self.take_evidence())
        self.writer.write_evidence(self.evidence)
        self.writer.add_delivery(self.tracker.take_all() if final else self.tracker.take())
        self.writer.flush(final)

    def start_flusher(self) -> None:
        def loop() -> None:
            while True:
                gevent.sleep(1.0)
                try:
                    self.flush_local()
                except Exception:
                    log.exception("simtim: writing the CSV reports failed")

        self._flusher = gevent.spawn(loop)


def _text(value: Any) -> str:
    return value if isinstance(value, str) else repr(value)


# --- Locust wiring ---------------------------------------------------------------------------------
_registered = False


def register() -> None:
    """Add simtim's listeners; call once from a locustfile at import (starting nothing)."""
    global _registered
    if _registered:
        return
    _registered = True
    events.init_command_line_parser.add_listener(add_arguments)
    events.init.add_listener(_on_init)
    events.test_start.add_listener(_on_test_start)
    events.report_to_master.add_listener(_on_report_to_master)
    events.worker_report.add_listener(_on_worker_report)
    events.quitting.add_listener(_on_quitting)


def _on_init(environment: Environment, **_: Any) -> None:
    keep_long_lived_state_cheap()  # every process holds shadow models whose history only grows
    gevent.spawn(collect_forever, gevent.sleep)  # closed connections are cycles (simtim/gc_policy.py)
    gevent.spawn(prune_forever, environment.stats, gevent.sleep)  # Locust's per-second counts
    install_heap_probe()  # SIMTIM_HEAP_PROBE: heap reports on SIGUSR1 (benchmarks/soak.py), else nothing
    harness = Harness.of(environment)
    runner = environment.runner
    scenario = harness.option("scenario", "default")
    if scenario != "default" and not (scenarios_dir() / "load" / f"{scenario}.yaml").exists():
        raise SystemExit(f"simtim: --scenario {scenario}: no {scenarios_dir() / 'load' / scenario}.yaml")
    if environment.host:
        try:
            kind_of(environment.host)
        except UnknownTarget as exc:
            raise SystemExit(f"simtim: --host {exc}") from None
    if isinstance(runner, WorkerRunner):
        return
    if not environment.host:
        # the embedded default target: master or local runner only, as a subprocess (DESIGN)
        harness.embedded = EmbeddedServer()
        environment.host = harness.embedded.url
        if environment.parsed_options is not None:
            environment.parsed_options.host = harness.embedded.url
            environment.parsed_options.simtim_admin_key = harness.embedded.admin_key
        log.info(
            "simtim: embedded reference server at %s (log %s)",
            harness.embedded.url,
            harness.embedded.log_path,
        )
    prefix = harness.option("csv_prefix")
    if prefix:
        harness.writer = ResultWriter(prefix)
        harness.start_flusher()


def _on_test_start(environment: Environment, **_: Any) -> None:
    Harness.of(environment).started = time.monotonic()


def _on_report_to_master(client_id: str, data: dict[str, Any]) -> None:
    harness = Harness.current
    if harness is not None:
        report = harness.take_report()
        report["worker"] = client_id
        data["simtim"] = report


def _on_worker_report(client_id: str, data: dict[str, Any]) -> None:
    harness = Harness.current
    if harness is not None and "simtim" in data:
        harness.merge_report(data["simtim"])


def _on_quitting(environment: Environment, **_: Any) -> None:
    harness = Harness.of(environment)
    if isinstance(environment.runner, WorkerRunner):
        return
    harness.flush_local(final=True)
    if harness.writer is not None:
        harness.writer.flush(final=True)
    else:
        harness.evidence.merge(harness.take_evidence())
    if harness.embedded is not None:
        harness.embedded.stop()
    counts = harness.total_counts()
    total = environment.stats.total
    print(
        f"simtim: {total.num_requests} requests, {total.num_failures} failures; conformance mismatches "
        f"{counts[CONFORMANCE]}, transport failures (6010) {counts[TRANSPORT]}, harness errors {counts[HARNESS]}",
        flush=True,
    )
    checked = {rule: e.checks for rule, e in harness.evidence.rules.items() if e.checks}
    print(
        f"simtim: {len(checked)} of {len(RULE_IDS)} rules checked ({sum(checked.values())} checks); "
        f"not exercised by this mix: {' '.join(r for r in RULE_IDS if r not in checked) or 'none'}",
        flush=True,
    )
    limits = Limits.of(environment.parsed_options)
    # the same numbers simtim report reads back from the CSVs (exceptions: PREFIX_exceptions.csv's Count)
    exceptions = environment.runner.exceptions.values() if environment.runner is not None else ()
    run = RunCounts(
        requests=total.num_requests,
        failures=total.num_failures,
        conformance=counts[CONFORMANCE],
        transport=counts[TRANSPORT],
        harness=counts[HARNESS] + sum(int(e["count"]) for e in exceptions),
        p99_ms=float(total.get_response_time_percentile(0.99)) if total.num_requests else math.nan,
    )
    for check in threshold_checks(run, limits):
        if not check.passed:
            print(f"simtim: MISSED {check.flag}: {check.text}", flush=True)
    code = int(exit_code(run, limits))
    environment.process_exit_code = code  # our categories replace Locust's "1 on any failure"


__all__ = ["Harness", "MasterRunner", "register"]
