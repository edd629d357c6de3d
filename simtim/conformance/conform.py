"""``simtim conform``: run every scenario and a seeded random phase against a target.

The target's capabilities are probed at start and printed; scenarios run concurrently (each on
its own driver and cell, so a real-clock run takes about its longest wait, not the sum); every
rule ends with one outcome and the check count it rests on.

Exit codes (DESIGN "Reports"): 0 every rule passed, was skipped/unsupported with a reason, or is
a listed divergence; 2 conformance failures (the failing rule IDs are printed); 1 the run could
not be made (bad arguments, unreachable target, a secret key that does not match, harness error).
"""

from __future__ import annotations

import argparse
import os
import secrets
import sys
import time
import traceback
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from simtim.conformance import compat
from simtim.conformance.evidence import Ledger
from simtim.conformance.progress import Progress
from simtim.conformance.report import ConformReport, Divergence, load_divergences
from simtim.conformance.runner import (
    RunSettings,
    ScenarioResult,
    fresh_app_ids,
    run_random_phase,
    run_scenario,
    select,
)
from simtim.conformance.scenario import Scenario, ScenarioError, load_all
from simtim.conformance.target import CAPABILITY_NAMES, AppCredentials, TargetInfo, TargetProblem, probe
from simtim.driver.base import conversation_gaps_of, field_gaps_of
from simtim.driver.matrix_client import ENV_SECRET as MATRIX_SECRET_ENV
from simtim.driver.targets import (
    MATRIX_SECRET,
    TargetOptions,
    UnknownTarget,
    help_text,
    kind_of,
    open_target,
)
from simtim.driver.timrest import DEFAULT_ADMIN, rest_url_of
from simtim.model.core import DEV_SDKAPPID, DEV_SECRET_KEY
from simtim.paths import scenarios_dir

DEFAULT_SCENARIOS = scenarios_dir() / "conformance"
PROBE_TIMEOUT = 5.0  # an unreachable target is reported within ~2 of these


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--target", default="inproc://", help=f"the endpoint to check (default inproc://): {help_text()}"
    )
    parser.add_argument(
        "--admin-key",
        default=os.environ.get("SIMTIM_ADMIN_KEY"),
        help="the target's simtim admin key (env SIMTIM_ADMIN_KEY): own apps per scenario, app config, fake clock",
    )
    parser.add_argument(
        "--sdkappid",
        type=int,
        default=int(os.environ.get("SIMTIM_SDKAPPID") or DEV_SDKAPPID),
        help=f"the target's app when there is no admin API (env SIMTIM_SDKAPPID; default the dev app {DEV_SDKAPPID})",
    )
    parser.add_argument(
        "--secret-key",
        default=os.environ.get("SIMTIM_SECRET_KEY") or DEV_SECRET_KEY,
        help="that app's secret key; UserSigs are made locally (env SIMTIM_SECRET_KEY; default the dev key)",
    )
    parser.add_argument(
        "--rest",
        default=os.environ.get("SIMTIM_REST"),
        metavar="timrest+http://HOST:PORT",
        help="TIM's REST API v4 of the target as the App admin (env SIMTIM_REST): REST rules, account "
        "import, kick and recall without the simtim admin API (a timrest+http:// target has it already)",
    )
    parser.add_argument(
        "--matrix-registration-secret",
        default=os.environ.get(MATRIX_SECRET_ENV),
        help=f"a matrix+http(s):// target's registration_shared_secret (env {MATRIX_SECRET_ENV}); "
        "`simtim peer synapse` prints it",
    )
    parser.add_argument(
        "--admin-identifier",
        default=os.environ.get("SIMTIM_ADMIN_IDENTIFIER") or DEFAULT_ADMIN,
        help=f"the App admin REST calls act as (env SIMTIM_ADMIN_IDENTIFIER; default {DEFAULT_ADMIN})",
    )
    parser.add_argument(
        "--max-wait",
        type=float,
        default=150.0,
        help="real seconds one scenario may wait on a target without a fake clock (default 150, so the "
        "120 s revoke window runs); evidence needing more is skipped with the reason",
    )
    parser.add_argument("--jobs", type=int, default=8, help="scenarios run at once (default 8)")
    parser.add_argument(
        "--without",
        action="append",
        default=[],
        metavar="CAPABILITY",
        choices=CAPABILITY_NAMES,
        help=f"act as if the target lacked this capability ({', '.join(CAPABILITY_NAMES)}; repeatable)",
    )
    parser.add_argument(
        "--rules",
        action="append",
        default=[],
        metavar="GLOB",
        help="only scenarios covering these rule IDs, e.g. 'REV-*' (repeatable)",
    )
    parser.add_argument(
        "--scenarios", type=Path, default=DEFAULT_SCENARIOS, help="directory of *.yaml scenarios"
    )
    parser.add_argument("--seed", type=int, default=1, help="seed of the random phase (reproducible)")
    parser.add_argument(
        "--random-steps", type=int, default=200, help="operations in the random phase (0 = off)"
    )
    parser.add_argument("--event-deadline", type=float, default=2.0, help="seconds a pushed event may take")
    parser.add_argument("--junit", type=Path, default=None, help="write JUnit XML here")
    parser.add_argument("--csv", type=Path, default=None, help="write one row per mismatch here")
    parser.add_argument("--html", type=Path, default=None, help="write an HTML summary here")
    parser.add_argument("--json", type=Path, default=None, help="write the per-rule outcomes as JSON here")
    parser.add_argument(
        "--compat",
        type=Path,
        default=None,
        metavar="FILE",
        help="write the compatibility matrix (rule, outcome, checks, reason, server version) into FILE's "
        "generated section, e.g. docs/compat/synapse.md",
    )
    parser.add_argument(
        "--compat-check",
        type=Path,
        default=None,
        metavar="FILE",
        help="exit 2 when FILE's committed matrix states another outcome for any rule than this run",
    )
    parser.add_argument(
        "--known-divergences",
        type=Path,
        default=None,
        help="YAML list of {rule, reason} (or a target expectation file): reported as expected "
        "divergences; one that starts passing fails the run",
    )


def conform(args: argparse.Namespace) -> int:
    try:
        if not args.scenarios.is_dir():
            raise ValueError(f"no scenario directory at {args.scenarios}")
        scenarios = select(load_all(args.scenarios), args.rules)
        if not scenarios and (args.random_steps <= 0 or args.rules):
            raise ValueError(f"no scenarios in {args.scenarios} match {args.rules or 'anything'}")
        divergences = load_divergences(args.known_divergences) if args.known_divergences else []
        if args.rest is not None:
            rest_url_of(args.rest)  # a ValueError names a malformed --rest here, once
        options = _options(args, timeout=PROBE_TIMEOUT)
        opened = open_target(args.target, options)
    except (ScenarioError, ValueError, UnknownTarget, OSError) as exc:
        print(f"simtim conform: {exc}", file=sys.stderr)
        return 1
    app = AppCredentials(args.sdkappid, args.secret_key)
    try:
        info = probe(
            opened.driver,
            loopback=opened.loopback,
            app=app,
            without=args.without,
            rest=opened.rest,
            admin_identifier=args.admin_identifier,
        )
    except TargetProblem as exc:
        print(f"simtim conform: {args.target}: {exc}", file=sys.stderr)
        return 1
    finally:
        fields = field_gaps_of(opened.driver)
        unlisted = conversation_gaps_of(opened.driver)
        opened.driver.close()
    header = _describe(args.target, info, len(scenarios), args)
    header += [f"  not compared (the target has no counterpart): {key}: {why}" for key, why in fields.items()]
    header += [f"  not listed by the target (unsupported): {key}: {why}" for key, why in unlisted.items()]
    for line in header:
        print(line, flush=True)
    settings = RunSettings(
        args.event_deadline,
        opened.settle,
        args.max_wait,
        opened.loopback,
        args.admin_identifier,
        opened.time_tolerance,
    )
    try:
        results = _run_all(args, scenarios, info, settings)
    except Exception:
        traceback.print_exc()
        print("simtim conform: harness error", file=sys.stderr)
        return 1
    ledger = Ledger()
    for result in results:
        ledger.merge(result.ledger)
    report = ConformReport(ledger, divergences, args.target, header)
    print(report.matrix())
    for line in report.mismatch_lines():
        print("  " + line)
    for path, writer in (
        (args.junit, report.write_junit),
        (args.csv, report.write_csv),
        (args.html, report.write_html),
    ):
        if path is not None:
            path.parent.mkdir(parents=True, exist_ok=True)
            writer(path)
    if args.json is not None:
        import json

        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(report.to_json(), indent=1), encoding="utf-8")
    notes = _compat_notes(args, info, divergences)
    if args.compat is not None:
        compat.write(args.compat, report, f"Compatibility of {info.server or args.target}", notes)
    stale = compat.stale(args.compat_check, report) if args.compat_check is not None else []
    for line in stale:
        print(f"STALE {args.compat_check}: {line}")
    failing = report.failing_rules()
    if failing:
        print("FAILING RULES: " + " ".join(failing))
        return 2
    return 2 if stale else 0


def _compat_notes(args: argparse.Namespace, info: TargetInfo, divergences: list[Divergence]) -> list[str]:
    """What produced the matrix, without anything that changes from run to run (ports, skew)."""
    kind = kind_of(args.target)
    lines = [
        f"- server: {info.server or 'not reported'}; target `{kind.scheme}://` ({kind.speaks})",
        f"- capabilities: {info.capabilities.describe()}",
        f"- run: `simtim conform --target {kind.scheme}://HOST:PORT --random-steps {args.random_steps} "
        f"--seed {args.seed} --max-wait {args.max_wait:g}"
        + (f" --known-divergences {args.known_divergences}" if args.known_divergences else "")
        + f" --compat FILE`; {len(divergences)} listed divergences",
    ]
    if kind.config_note:
        lines.append(f"- config: {kind.config_note}")
    return lines


def _options(args: argparse.Namespace, timeout: float = 5.0) -> TargetOptions:
    extra = {MATRIX_SECRET: args.matrix_registration_secret} if args.matrix_registration_secret else {}
    return TargetOptions(admin_key=args.admin_key, timeout=timeout, rest_url=args.rest, extra=extra)


def _describe(target: str, info: TargetInfo, count: int, args: argparse.Namespace) -> list[str]:
    caps = info.capabilities
    clock = "fake clock" if caps.fake_clock else f"real clock, skew {info.skew:+.1f} s"
    app = (
        "own app per scenario (admin API)"
        if caps.app_config
        else f"app {info.app.sdkappid} (UserSigs made here)"
    )
    lines = [
        f"target {target}: {caps.describe()}",
        f"  {app}; {clock}; {count} scenarios, {args.jobs} at once",
    ]
    if not caps.fake_clock:
        lines.append(f"  time steps are real waits, at most {args.max_wait:g} s per scenario (--max-wait)")
    return lines


def _run_all(
    args: argparse.Namespace, scenarios: list[Scenario], info: TargetInfo, settings: RunSettings
) -> list[ScenarioResult]:
    run_id = secrets.token_hex(2)  # user IDs and group IDs unique to this run: servers keep state
    app_ids = fresh_app_ids(len(scenarios) + 1)
    progress = Progress(len(scenarios) + (1 if args.random_steps > 0 and not args.rules else 0))

    def one(index: int) -> ScenarioResult:
        opened = open_target(args.target, _options(args))
        try:
            if index < len(scenarios):
                scenario = scenarios[index]
                result = run_scenario(
                    scenario,
                    opened.driver,
                    info,
                    prefix=f"c{run_id}s{index}_",
                    sdkappid=app_ids[index],
                    settings=settings,
                    progress=progress,
                    rest=opened.rest,
                )
            else:
                result = run_random_phase(
                    opened.driver,
                    info,
                    seed=args.seed,
                    steps=args.random_steps,
                    prefix=f"c{run_id}r_",
                    sdkappid=app_ids[-1],
                    settings=settings,
                )
        finally:
            opened.driver.close()
        checks = sum(e.checks for e in result.ledger.rules.values())
        failed = sum(e.failed for e in result.ledger.rules.values())
        note = f"; skipped from there: {result.skipped_from}" if result.skipped_from else ""
        progress.finished(result.scenario, f"{checks} checks, {failed} failed{note}")
        return result

    count = len(scenarios) + (1 if args.random_steps > 0 and not args.rules else 0)
    started = time.monotonic()
    try:
        with ThreadPoolExecutor(max_workers=max(1, args.jobs), thread_name_prefix="simtim-conform") as pool:
            results = list(pool.map(one, range(count)))
    finally:
        progress.close()
    print(f"ran {count} scenario runs in {time.monotonic() - started:.0f} s", flush=True)
    return results
