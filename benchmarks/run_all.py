#!/usr/bin/env python3
"""Every benchmark, one table: metric, simtim, the baseline measured in the same run, ratio, goal.

    python benchmarks/run_all.py            # the full set (~10 minutes on 2 cores)
    python benchmarks/run_all.py --quick    # seconds per bench: CI runs it to keep them working
    python benchmarks/run_all.py --write docs/performance.md   # also replace the table there

Each bench runs as its own process (they pin cores, start servers, and Locust monkey-patches the
process it runs in) with ``--json``, which writes its headline metrics; this script collects them.
A bench that fails or is skipped (wrk missing) shows as "not measured" with the reason, never as a
number. ``--quick`` figures only prove the benches run: their windows are too short to quote.
Exit 0 whatever the numbers (a benchmark reports, it does not gate), 1 if every bench failed.
"""

from __future__ import annotations

import argparse
import math
import re
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from benchlib import Metric, machine_note, ratio_table, read_metrics

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
TABLE_BEGIN, TABLE_END = "<!-- run_all:begin -->", "<!-- run_all:end -->"


@dataclass(frozen=True)
class Bench:
    script: str
    full: tuple[str, ...]
    quick: tuple[str, ...] | None  # None: not run with --quick
    needs: str = ""  # a program on PATH
    expects: tuple[str, ...] = ()  # metric names it reports (shown as "not measured" when it fails)


BENCHES = (
    Bench(
        "model_bench.py",
        ("--seconds", "1", "--repeat", "5"),
        (
            "--seconds",
            "0.2",
            "--repeat",
            "1",
            "--only",
            "send_c2c",
            "group_fanout",
            "page_newest",
            "page_scattered",
        ),
        expects=(
            "model C2C send+deliver ops/s, one core",
            "model 500-member fan-out deliveries/s",
            "model history page (15) per s, 100k-message conversation",
        ),
    ),
    Bench(
        "server_bench.py",
        ("--duration", "8", "--repeat", "3", "--no-ws"),
        ("--duration", "2", "--check-seconds", "1", "--repeat", "1", "--no-ws"),
        needs="wrk",
        expects=(
            "server sendMessage req/s ÷ uvicorn echo, same wrk",
            "server getMessageList (15 msgs) req/s ÷ uvicorn echo, same wrk",
        ),
    ),
    Bench(
        "group_push_bench.py",
        ("--repeat", "3", "--seconds", "8"),
        ("--repeat", "1", "--seconds", "1", "--warmup", "0.5"),
        expects=("500 online WebSocket members, group send over the wire: deliveries/s received",),
    ),
    Bench(
        "rest_bench.py",
        ("--duration", "6", "--repeat", "3"),
        ("--duration", "2", "--check-seconds", "1", "--repeat", "1"),
        needs="wrk",
        expects=("REST sendmsg req/s ÷ uvicorn echo, same wrk",),
    ),
    Bench(
        "journal_bench.py",
        ("--duration", "8", "--repeat", "5"),
        ("--duration", "2", "--check-seconds", "1", "--repeat", "1", "--restart-messages", "10000"),
        needs="wrk",
        expects=(
            "journaled sendMessage req/s ÷ in-memory, same wrk",
            "start-up of a journal, whole replay",
            "start-up of a journal, from a snapshot",
        ),
    ),
    Bench(
        "harness_bench.py",
        # one process may hold 20,000 descriptors here (hard limit, not raisable in this container) and
        # each driver keeps an HTTP connection: with the harness's 4 sessions per driver 15,000 fit
        # (18,000 ran out); with 100 per driver 19,700 sockets + 197 connections + the process's own
        # descriptors stay under 20,000.  The goal's 20,000 cannot fit in one process here.
        ("--rounds", "3", "--idle-clients", "19700", "--idle-cell-size", "100"),
        None,
        expects=(
            "Locust chat mix, full conformance ÷ same-I/O baseline (calls/s)",
            "push receive per worker ÷ bare websocket-client loop",
            "idle WebSocket clients per Locust worker (KB each)",
        ),
    ),
)


def run_bench(bench: Bench, quick: bool, out_dir: Path, timeout: float) -> tuple[list[Metric], str]:
    args = bench.quick if quick else bench.full
    if args is None:
        return [], "not run with --quick"
    if bench.needs and shutil.which(bench.needs) is None:
        return [], f"{bench.needs} not installed"
    json_path = out_dir / f"{bench.script}.json"
    log_path = out_dir / f"{bench.script}.log"
    cmd = [sys.executable, str(HERE / bench.script), *args, "--json", str(json_path)]
    started = time.monotonic()
    with open(log_path, "wb") as log:
        try:
            proc = subprocess.run(
                cmd, stdout=log, stderr=subprocess.STDOUT, cwd=HERE, timeout=timeout, check=False
            )
        except subprocess.TimeoutExpired:
            return [], f"timed out after {timeout:g} s (log {log_path})"
    took = time.monotonic() - started
    print(f"  {bench.script:<18} exit {proc.returncode} in {took:5.0f} s  (log {log_path})", flush=True)
    if not json_path.exists():
        return [], f"exit {proc.returncode}: {_error_line(log_path)}"
    return read_metrics(
        json_path
    ), "" if proc.returncode == 0 else f"exit {proc.returncode}: {_error_line(log_path)}"


def _error_line(log_path: Path) -> str:
    """The bench's own error line (``…: harness error: …``), else its last line."""
    lines = log_path.read_text(errors="replace").strip().splitlines() or [""]
    found = [line for line in lines if "error" in line.lower()]
    return (found[0] if found else lines[-1])[:140]


def markdown(metrics: list[Metric], command: str) -> str:
    lines = [
        TABLE_BEGIN,
        f"Measured {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())} with `{command}`; {machine_note()}.",
        "",
        "| metric | simtim | baseline (same run) | ratio | goal | | note |",
        "|---|---:|---:|---:|---|---|---|",
    ]
    for m in metrics:
        ratio = m.ratio
        lines.append(
            "| "
            + " | ".join(
                (
                    m.name,
                    "not measured" if math.isnan(m.simtim) else f"{m.simtim:,.2f} {m.unit}".strip(),
                    "" if m.baseline is None else f"{m.baseline:,.2f} {m.unit}".strip(),
                    "" if ratio is None else f"{ratio:.2f}",
                    m.goal,
                    {True: "met", False: "**missed**", None: ""}[m.met],
                    m.note.replace("|", "/"),
                )
            )
            + " |"
        )
    lines.append(TABLE_END)
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="a few seconds per bench (CI)")
    parser.add_argument("--only", nargs="+", choices=[b.script for b in BENCHES], default=None)
    parser.add_argument(
        "--timeout", type=float, default=1800.0, help="seconds per bench before it is stopped"
    )
    parser.add_argument(
        "--write", type=Path, default=None, help="replace the run_all table in this Markdown file"
    )
    args = parser.parse_args(argv)
    out_dir = Path(tempfile.mkdtemp(prefix="run_all-"))
    print(
        f"run_all: {machine_note()}; {'quick' if args.quick else 'full'} run; logs in {out_dir}", flush=True
    )
    metrics: list[Metric] = []
    measured = 0
    for bench in BENCHES:
        if args.only and bench.script not in args.only:
            continue
        got, why = run_bench(bench, args.quick, out_dir, args.timeout)
        measured += bool(got)
        names = {m.name for m in got}
        metrics += got
        metrics += [
            Metric(name, math.nan, note=why or "the bench did not report it")
            for name in bench.expects
            if name not in names
        ]
    print()
    ratio_table(metrics)
    if args.quick:
        print("(--quick: windows too short to quote; they prove the benches run)")
    if args.write is not None:
        command = "python benchmarks/run_all.py" + (" --quick" if args.quick else "")
        text = args.write.read_text(encoding="utf-8") if args.write.exists() else ""
        block = markdown(metrics, command)
        pattern = re.compile(re.escape(TABLE_BEGIN) + ".*?" + re.escape(TABLE_END), re.S)
        text = pattern.sub(lambda _m: block, text) if pattern.search(text) else text + "\n" + block + "\n"
        args.write.write_text(text, encoding="utf-8")
        print(f"wrote the table into {args.write}")
    return 0 if measured else 1


if __name__ == "__main__":
    sys.exit(main())
