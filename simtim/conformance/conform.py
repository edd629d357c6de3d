"""``simtim conform``: run every scenario and a seeded random phase against a target.

Exit codes (DESIGN "Reports"): 0 all checked rules pass, 2 conformance
failures (the failing rule IDs are printed), 1 harness error.
"""

from __future__ import annotations

import argparse
import sys
import traceback
from pathlib import Path

from simtim.conformance.cell import probe
from simtim.conformance.report import ConformReport, load_divergences
from simtim.conformance.runner import RuleCheck, fresh_app_ids, run_random_phase, run_scenario, select
from simtim.conformance.scenario import ScenarioError, load_all
from simtim.driver.targets import TargetOptions, UnknownTarget, help_text, open_target
from simtim.paths import scenarios_dir

DEFAULT_SCENARIOS = scenarios_dir() / "conformance"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--target", default="inproc://", help=f"the endpoint to check (default inproc://): {help_text()}"
    )
    parser.add_argument(
        "--admin-key", default=None, help="the target's admin key (needed for app config and clock)"
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
    parser.add_argument(
        "--known-divergences",
        type=Path,
        default=None,
        help="YAML list of {rule|scenario, reason}: run anyway, fail if they start passing",
    )


def conform(args: argparse.Namespace) -> int:
    try:
        if not args.scenarios.is_dir():
            raise ValueError(f"no scenario directory at {args.scenarios}")
        scenarios = select(load_all(args.scenarios), args.rules)
        if not scenarios and (args.random_steps <= 0 or args.rules):
            raise ValueError(f"no scenarios in {args.scenarios} match {args.rules or 'anything'}")
        divergences = load_divergences(args.known_divergences) if args.known_divergences else []
        opened = open_target(args.target, TargetOptions(admin_key=args.admin_key))
        driver, settle = opened.driver, opened.settle
    except (ScenarioError, ValueError, UnknownTarget, OSError) as exc:
        print(f"simtim conform: {exc}", file=sys.stderr)
        return 1
    checks: list[RuleCheck] = []
    try:
        info = probe(driver)
        print(
            f"target {args.target}: admin API {'yes' if info.admin else 'no'}, "
            f"fake clock {'yes' if info.fake_clock else 'no'}; {len(scenarios)} scenarios",
            flush=True,
        )
        app_ids = fresh_app_ids(len(scenarios) + 1)
        for index, scenario in enumerate(scenarios):
            checks += run_scenario(
                scenario,
                driver,
                info,
                prefix=f"s{index}x{app_ids[0] % 9973}_",
                sdkappid=app_ids[index],
                event_deadline=args.event_deadline,
                settle=settle,
                local_target=opened.loopback,
            )
        if args.random_steps > 0 and not args.rules:
            checks += run_random_phase(
                driver,
                info,
                seed=args.seed,
                steps=args.random_steps,
                prefix=f"r{args.seed}x{app_ids[-1] % 9973}_",
                sdkappid=app_ids[-1],
                event_deadline=args.event_deadline,
                settle=settle,
            )
    except Exception:
        traceback.print_exc()
        print("simtim conform: harness error", file=sys.stderr)
        return 1
    finally:
        driver.close()
    report = ConformReport(checks, divergences, args.target)
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
    failing = report.failing_rules()
    if failing:
        print("FAILING RULES: " + " ".join(failing))
        return 2
    return 0
