"""``simtim report``: one run's CSVs -> ``PREFIX_report.html`` + ``PREFIX_junit.xml``; or compare two runs.

Modules: ``data`` (pandas: load the CSVs, derive metrics, thresholds, exit code), ``svg`` (inline
charts), ``html`` (the page), ``junit`` (CI), ``compare`` (two runs, noise floor).  This module
holds only the command line and imports pandas lazily, so ``simtim --help`` stays fast.

Exit codes (DESIGN "Reports"; decided by ``simtim.verdict``, the Locust run's own function): 0 ok;
1 an input file missing/unreadable, or the run recorded harness errors; 2 conformance mismatches
(more than ``--max-conformance-failures``, default 0); 3 the ``--max-p99-ms`` / ``--max-fail-ratio``
thresholds missed, or transport failures without a ``--max-fail-ratio`` that tolerates them (the
target stopped answering: that 3 ranks before conformance).
``--compare`` exits 0 (1 on bad input).
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

from simtim.verdict import Limits, add_threshold_arguments

NOISE_FLOOR_HELP = (
    "with --compare: changes within PCT%% are shown as '~ same' (default 10). This machine is "
    "shared and noisy (two identical back-to-back 15 s runs differed by 25-30%% in aggregated "
    "p95/p99) and Locust rounds percentiles to two significant digits: raise it for short runs"
)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "prefix",
        nargs="?",
        metavar="PREFIX",
        help="the --csv PREFIX of a Locust run of simtim (reads PREFIX_stats.csv, "
        "PREFIX_stats_history.csv, PREFIX_conformance.csv, PREFIX_delivery.csv, and "
        "PREFIX_failures.csv / PREFIX_exceptions.csv when present)",
    )
    parser.add_argument(
        "--compare",
        nargs=2,
        metavar=("A", "B"),
        default=None,
        help="compare two runs' PREFIX_stats.csv per method; writes B_compare.html",
    )
    parser.add_argument("--noise-floor", type=float, default=10.0, metavar="PCT", help=NOISE_FLOOR_HELP)
    add_threshold_arguments(parser)  # the same flags as the Locust run's (simtim.verdict)


def run(args: argparse.Namespace) -> int:
    from simtim.report.data import ReportInputError

    try:
        if args.compare is not None:
            if args.prefix is not None:
                print("simtim report: give either PREFIX or --compare A B, not both", file=sys.stderr)
                return 1
            return _compare(args.compare[0], args.compare[1], args.noise_floor)
        if args.prefix is None:
            print("simtim report: give PREFIX (the --csv PREFIX of a run) or --compare A B", file=sys.stderr)
            return 1
        return report(args.prefix, Limits.of(args))
    except ReportInputError as exc:
        print(f"simtim report: cannot read input file {exc}", file=sys.stderr)
        return 1


def report(prefix: str, limits: Limits | None = None) -> int:
    """Write the run's HTML and JUnit reports; the exit code is ``simtim.verdict``'s, as the
    Locust run that wrote the CSVs decided it with the same limits."""
    from simtim.report.data import check_thresholds, exit_code, load_run
    from simtim.report.html import render_report
    from simtim.report.junit import write_junit
    from simtim.verdict import VERDICTS

    limits = limits or Limits()
    run_data = load_run(prefix)
    checks = check_thresholds(run_data, limits)
    code = exit_code(run_data, limits)
    html_path, junit_path = Path(f"{prefix}_report.html"), Path(f"{prefix}_junit.xml")
    html_path.write_text(render_report(run_data, checks, code), encoding="utf-8")
    write_junit(run_data, checks, junit_path)
    totals = run_data.totals
    assert totals is not None
    categories = run_data.categories()
    print(
        f"simtim report: {totals.requests} requests, {totals.failures} failures (totals from "
        f"{prefix}_{totals.source}.csv); conformance mismatches {categories['conformance']}, transport "
        f"{categories['transport']}, harness {categories['harness']}"
    )
    went_away = run_data.first_transport_failure()
    if went_away is not None:
        at, detail = went_away
        into = f", {at - run_data.start:.0f} s into the run" if run_data.start is not None else ""
        print(
            f"simtim report: the target stopped answering at "
            f"{time.strftime('%H:%M:%S', time.gmtime(at))} UTC{into} (first transport failure: {detail[:200]})"
        )
    for check in checks:
        print(f"simtim report: {'met' if check.passed else 'MISSED'} {check.flag}: {check.text}")
    print(f"simtim report: wrote {html_path} and {junit_path}; exit {code} ({VERDICTS.get(code, '?')})")
    return code


def _compare(a: str, b: str, noise_floor: float) -> int:
    from simtim.report.compare import compare_path, compare_runs, format_table, render_compare_html

    comparison = compare_runs(a, b, noise_floor)
    print(format_table(comparison))
    path = compare_path(b)
    path.write_text(render_compare_html(comparison), encoding="utf-8")
    print(f"simtim report: wrote {path}")
    return 0
