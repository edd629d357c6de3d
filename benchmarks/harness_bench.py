#!/usr/bin/env python3
"""What the Locust harness costs: checking, pushes per worker, idle sockets per worker.

    python benchmarks/harness_bench.py                       # all three parts, ~4 minutes
    python benchmarks/harness_bench.py --only checking --seconds 8 --rounds 5
    python benchmarks/harness_bench.py --only checking --what-if   # + both sides without the UTF-8 check
    python benchmarks/harness_bench.py --only pushes --push-members 200 --push-rate 40000
    python benchmarks/harness_bench.py --only idle --idle-clients 5000
    python benchmarks/harness_bench.py --profile 3           # + py-spy of the Locust process

Every Locust runs as a subprocess (Locust monkey-patches the process it runs in), pinned to
``--client-core`` with taskset; every ``simtim serve --port 0 --fake-clock --admin-key K`` is a
fresh subprocess pinned to ``--server-core``, and this process (senders, samplers, py-spy) sits
with the server, so the Locust core holds Locust alone (and whatever else the machine runs).
Each Locust loads ``benchmarks/locust/probe.py`` beside its locustfile, which writes the exact
time, its CPU time and its request counts four times a second; rates are taken over a window
inside the run (after the users are up and warm), never from Locust's whole-second CSV history.

1. Cost of checking: calls/s of ``locustfiles/chat.py`` (the real harness) with ``--conformance
   full`` against ``benchmarks/locust/baseline_chat.py``, a FastHttpUser with the same setup calls,
   action table and wait time and bare websocket-client readers that do nothing with the pushes;
   ``--conformance sample`` and ``off`` run beside them for context, and with ``--what-if`` the
   baseline and full again with websocket-client's UTF-8 check off (``locust/skip_utf8.py``).  Same
   user count, a fresh server per run, the order rotates every round.  Target: full / baseline
   calls/s >= 0.8 (median of per-round ratios); the CPU ratio (Locust CPU µs per call, baseline over
   full) is printed beside it.  Calls are every request row except PUSH (and the baseline's
   ``setup:`` rows, admin calls the harness does not report either); the probe's final count is
   checked against Locust's CSV (whose last write can come too early) and its printed summary.
2. Pushes per second per worker: one Locust process holds ``--push-members`` event sockets in an
   AVChatRoom; sender threads here post to the room at ``--push-rate`` / members messages per
   second, so the server offers ``--push-rate`` frames per second.  ``simtim`` reads them through
   HttpDriver + GeventTransport + EventStream + DeliveryTracker and fires one PUSH event each;
   ``bare`` is a websocket-client greenlet that parses each frame (orjson) and fires one PUSH
   event.  Target: simtim / bare >= 0.8, on push/s when both readers had their core (Locust CPU >=
   85%), else on pushes per Locust CPU-second.  Two what-ifs run once: ``simtim-noutf8`` (the simtim
   path with websocket-client's pure-Python UTF-8 check off) and ``bare-utf8`` (the bare loop with
   it on, as GeventTransport opens its sockets).
3. Idle sockets per worker: one Locust process opens ``--idle-clients`` sessions (shortcut login,
   then ``/v1/events``) through HttpDriver + GeventTransport, a driver per 4 sessions as the
   harness does; reported: how many opened, VmRSS per connection (target >= 5000 at <= 50 KB
   each), whether they are still connected after ``--idle-hold`` s (live sockets, and a message to
   a sample of them), and what the server holds (RSS, descriptors).

The machine is shared: compare ratios and CPU-normalised figures (CPU µs per call, pushes per CPU
second) between runs, absolute rates only on a quiet machine; the load average is printed before
and after, and each run shows how much of its core Locust got (``loc CPU``) and how long it waited
for one (``loc wait``).  The script reports, it does not gate: exit 0 whatever the numbers, 1 when
the harness itself fails (a server or Locust that does not start, no samples).
"""

from __future__ import annotations

import argparse
import contextlib
import http.client
import itertools
import math
import os
import platform
import random
import re
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import orjson

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))  # benchmark this checkout, not some installed copy

from benchlib import (  # noqa: E402  (benchmarks/ is the script directory)
    BenchError,
    Metric,
    Pinning,
    ServerProcess,
    load_average,
    pin,
    proc_cpu,
    proc_wait,
    raise_nofile,
    simtim_serve,
    status_kb,
    table,
    write_metrics,
)
from pyspy_stacks import read_stacks  # noqa: E402

from simtim.conformance.delivery import stamp  # noqa: E402
from simtim.usersig import gen_usersig  # noqa: E402

HERE = Path(__file__).resolve().parent
CHAT = ROOT / "locustfiles" / "chat.py"
BASELINE = HERE / "locust" / "baseline_chat.py"
PROBE = HERE / "locust" / "probe.py"
SINK = HERE / "locust" / "push_sink.py"
IDLE = HERE / "locust" / "idle_clients.py"
SKIP_UTF8 = HERE / "locust" / "skip_utf8.py"
ADMIN_KEY = "harness-bench"
CHECK_TARGET = 0.9  # issue 16 (was 0.8)
PUSH_TARGET = 0.9  # issue 16 (was 0.8)
IDLE_TARGET = 20_000  # issue 16 (was 5000 at 50 KB)
IDLE_KB_TARGET = 16.0
#: each part's headline figure, written by --json for run_all.py
METRICS: list[Metric] = []
SATURATED = 0.85  # a process using this share of its core (or more) sets the pace
PUSH_APP, PUSH_KEY = 1_600_000_001, "harness-bench-push-key".ljust(32, "0")


def Server(pinning: Pinning, log_path: Path) -> ServerProcess:
    """A fresh ``simtim serve --port 0 --fake-clock --admin-key K``, output to a log file."""
    return simtim_serve(pinning, log_path, admin_key=ADMIN_KEY, fake_clock=True)


class Sampler:
    """A thread reading CPU and run-queue wait of some processes every 0.2 s, with the wall time."""

    def __init__(self, pids: dict[str, int]) -> None:
        self.pids = pids
        self.rows: list[dict[str, float]] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="sampler", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while True:
            row = {"t": time.time()}
            for name, pid in self.pids.items():
                row[f"{name}_cpu"] = proc_cpu(pid)
                row[f"{name}_wait"] = proc_wait(pid)
            self.rows.append(row)
            if self._stop.wait(0.2):
                return

    def stop(self) -> list[dict[str, float]]:
        self._stop.set()
        self._thread.join()
        return self.rows


def at(rows: list[dict[str, Any]], t: float, key: str) -> float:
    """``key`` at wall time ``t``, linearly between the two samples around it (clamped at the ends)."""
    points = [(r["t"], float(r[key])) for r in rows if key in r]
    if not points:
        return math.nan
    if t <= points[0][0]:
        return points[0][1]
    for (t0, v0), (t1, v1) in itertools.pairwise(points):
        if t0 <= t <= t1:
            return v0 if t1 == t0 else v0 + (v1 - v0) * (t - t0) / (t1 - t0)
    return points[-1][1]


def per_second(rows: list[dict[str, Any]], key: str, t0: float, t1: float) -> float:
    return (at(rows, t1, key) - at(rows, t0, key)) / (t1 - t0) if t1 > t0 else math.nan


@dataclass
class LocustRun:
    rc: int
    wall: float
    log: Path
    probe: list[dict[str, Any]]
    system: list[dict[str, float]]  # Sampler rows: server_cpu/_wait, locust_cpu/_wait

    def event_time(self, name: str) -> float | None:
        return next((r["t"] for r in self.probe if r.get("event") == name), None)

    def final(self) -> dict[str, Any]:
        return self.probe[-1] if self.probe else {}


def read_probe(path: Path) -> list[dict[str, Any]]:
    rows = []
    if path.exists():
        for line in path.read_bytes().splitlines():
            with contextlib.suppress(orjson.JSONDecodeError):  # a line being written
                rows.append(orjson.loads(line))
    return rows


def run_locust(
    pinning: Pinning,
    files: list[Path],
    extra: list[str],
    server: Server,
    log_dir: Path,
    label: str,
    timeout: float,
    during: Callable[[subprocess.Popen[bytes], Path], None] | None = None,
) -> LocustRun:
    """One headless Locust subprocess with the probe; ``during(proc, probe_path)`` runs while it does."""
    probe_path = log_dir / f"{label}-probe.jsonl"
    log_path = log_dir / f"{label}-locust.log"
    locust = shutil.which("locust", path=str(Path(sys.executable).parent)) or "locust"
    cmd = [
        *pinning.client,
        locust,
        "-f",
        ",".join(str(f) for f in [*files, PROBE]),
        "--headless",
        "--host",
        server.url,
        "--only-summary",
        *extra,
    ]
    env = {**os.environ, "SIMTIM_BENCH_PROBE": str(probe_path), "PYTHONUNBUFFERED": "1"}
    started = time.monotonic()
    with open(log_path, "wb") as log:
        proc = subprocess.Popen(
            cmd,
            stdout=log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            cwd=ROOT,
            env=env,
            preexec_fn=raise_nofile,
        )
    sampler = Sampler({"server": server.pid, "locust": proc.pid})
    try:
        if during is not None:
            during(proc, probe_path)
        proc.wait(timeout=max(1.0, timeout - (time.monotonic() - started)))
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()
        raise BenchError(
            f"{label}: Locust did not finish within {timeout:.0f} s (killed); log {log_path}"
        ) from None
    except BaseException:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        raise
    finally:
        system = sampler.stop()
    run = LocustRun(proc.returncode, time.monotonic() - started, log_path, read_probe(probe_path), system)
    if not run.probe:
        raise BenchError(
            f"{label}: the probe wrote nothing (Locust exit {proc.returncode}); log {log_path}:\n"
            + log_path.read_text(errors="replace")[-2000:]
        )
    return run


def wait_for_file(path: Path, proc: subprocess.Popen[bytes], timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not path.exists():
        if proc.poll() is not None:
            raise BenchError(f"Locust exited ({proc.returncode}) before {what}")
        if time.monotonic() > deadline:
            raise BenchError(f"no {what} within {timeout:.0f} s")
        time.sleep(0.05)
    time.sleep(0.05)  # written in one call, but let it land


# --- reading Locust's own numbers -------------------------------------------------------------------------
SUMMARY_ROW = re.compile(r"^(\S+)\s+(\S+)\s+(\d+)\s+\d+\(")
HARNESS_LINE = re.compile(
    r"simtim: (\d+) requests, (\d+) failures; conformance mismatches (\d+), "
    r"transport failures \(6010\) (\d+), harness errors (\d+)"
)


def summary_calls(log: Path) -> int | None:
    """Calls in Locust's printed final table (the first table: counts), PUSH and setup: rows left out."""
    total, seen = 0, False
    for line in log.read_text(errors="replace").splitlines():
        if "Aggregated" in line and seen:
            return total
        match = SUMMARY_ROW.match(line)
        if match and match.group(1) not in ("Type", "--------|"):
            seen = True
            if match.group(1) != "PUSH" and not match.group(2).startswith("setup:"):
                total += int(match.group(3))
    return total if seen else None


def csv_calls(prefix: Path) -> int | None:
    path = Path(f"{prefix}_stats.csv")
    if not path.exists():
        return None
    import csv

    with path.open(newline="") as handle:
        return sum(
            int(row["Request Count"])
            for row in csv.DictReader(handle)
            if row["Name"] != "Aggregated" and row["Type"] != "PUSH" and not row["Name"].startswith("setup:")
        )


# --- part 1: the cost of checking --------------------------------------------------------------------------
CHECK_VARIANTS = ("baseline", "full", "sample", "off")
CHECK_WHAT_IFS = ("baseline-noutf8", "full-noutf8")  # --what-if: websocket-client's UTF-8 check off
#: variant -> the variant its ratios are taken against (same transport settings)
CHECK_REFERENCE = {
    "baseline": "baseline",
    "full": "baseline",
    "sample": "baseline",
    "off": "baseline",
    "baseline-noutf8": "baseline",
    "full-noutf8": "baseline-noutf8",
}


@dataclass
class CheckRun:
    variant: str
    calls_per_s: float
    pushes_per_s: float  # PUSH events fired (harness) or frames read (baseline)
    locust_cpu: float  # share of one core over the window
    locust_wait: float
    server_cpu: float
    server_wait: float
    us_per_call: float  # Locust CPU microseconds per call
    counts: str
    notes: list[str] = field(default_factory=list)


def profile_during(
    args: argparse.Namespace,
    pinning: Pinning,
    log_dir: Path,
    label: str,
    start_at: Callable[[], float | None],
) -> Callable[[subprocess.Popen[bytes], Path], None]:
    """A ``during`` hook that py-spy records the Locust process once ``start_at()`` (wall time) has passed."""

    def hook(proc: subprocess.Popen[bytes], _probe: Path) -> None:
        py_spy = shutil.which("py-spy", path=str(Path(sys.executable).parent)) or shutil.which("py-spy")
        if py_spy is None:
            print("  py-spy not found: pip install py-spy (it needs ptrace rights)")
            return
        while proc.poll() is None:
            when = start_at()
            if when is not None and time.time() >= when:
                break
            time.sleep(0.05)
        out = log_dir / f"{label}-pyspy.txt"
        # --gil: only samples holding the GIL, i.e. the gevent hub thread running Python; gevent's
        # thread-pool workers wait in a way py-spy does not count as idle and would fill the profile
        record = subprocess.run(
            [
                *pinning.server,
                py_spy,
                "record",
                "--pid",
                str(proc.pid),
                "--duration",
                str(max(1, round(args.profile))),
                "--rate",
                "200",
                "--gil",
                "--format",
                "raw",
                "--output",
                str(out),
            ],
            capture_output=True,
            text=True,
            check=False,
            timeout=60,
        )
        if record.returncode != 0 or not out.exists():
            print(f"  py-spy failed (exit {record.returncode}): {(record.stderr or record.stdout)[-400:]}")
            return
        print(
            f"\n  -- py-spy of the Locust process ({label}), {args.profile:g} s, samples holding the GIL --"
        )
        summarise_profile(out, args.top)

    return hook


def summarise_profile(path: Path, top: int) -> None:
    """py-spy's raw stacks by own (innermost frame) and inclusive time, shares of all samples."""
    total, own, inclusive = read_stacks(path, ROOT)
    if not total:
        print("  py-spy recorded no samples")
        return
    print(f"  {total} samples; raw stacks in {path}")
    for title, counts in (
        ("own time (innermost Python frame; C code counts for its caller)", own),
        ("inclusive time", inclusive),
    ):
        print(f"  top {top} by {title}:")
        for name, n in sorted(counts.items(), key=lambda item: -item[1])[:top]:
            print(f"    {100 * n / total:5.1f}%  {name}")


def check_run(
    args: argparse.Namespace, pinning: Pinning, log_dir: Path, variant: str, label: str, profile: bool = False
) -> CheckRun:
    server = Server(pinning, log_dir / f"{label}-server.log")
    try:
        run_seconds = math.ceil(args.warmup + args.seconds + 1)  # users all start in the first second
        users = str(args.users)
        extra = [
            "-u",
            users,
            "-r",
            users,
            "-t",
            f"{run_seconds}s",
            "--simtim-admin-key",
            ADMIN_KEY,
            "--cell-size",
            str(args.cell_size),
            "--csv",
            str(log_dir / label),
        ]
        mode, _, what_if = variant.partition("-")
        files = [BASELINE] if mode == "baseline" else [CHAT]
        if mode != "baseline":
            extra += ["--conformance", mode]
        if what_if == "noutf8":
            files.append(SKIP_UTF8)
        during = None
        if profile:
            probe_path = log_dir / f"{label}-probe.jsonl"

            def window_start() -> float | None:
                spawned = next((r["t"] for r in read_probe(probe_path) if r.get("event") == "spawned"), None)
                return None if spawned is None else spawned + args.warmup

            during = profile_during(args, pinning, log_dir, label, window_start)
        run = run_locust(
            pinning, files, extra, server, log_dir, label, timeout=run_seconds + 90, during=during
        )
    finally:
        server.stop()
    spawned = run.event_time("spawned")
    if spawned is None:
        raise BenchError(f"{label}: the users never finished spawning; log {run.log}")
    quit_at = run.event_time("quit") or run.probe[-1]["t"]
    t0 = spawned + args.warmup
    t1 = min(t0 + args.seconds, quit_at - 0.3)
    notes = []
    if t1 - t0 < 0.5 * args.seconds:
        notes.append(f"short window {t1 - t0:.1f} s")
    calls = per_second(run.probe, "calls", t0, t1)
    pushes = per_second(run.probe, "frames" if variant.startswith("baseline") else "pushes", t0, t1)
    locust_cpu = per_second(run.probe, "cpu", t0, t1)
    final = run.final()
    from_csv, from_summary = csv_calls(log_dir / label), summary_calls(run.log)
    counts = f"probe {final.get('calls')}, csv {from_csv}, summary {from_summary}"
    if from_summary is not None and from_summary != final.get("calls"):
        notes.append("probe and printed summary differ")
    text = run.log.read_text(errors="replace")
    harness = HARNESS_LINE.search(text)
    if harness:
        mismatches, transport, errors = (int(harness.group(i)) for i in (3, 4, 5))
        if mismatches or transport or errors:
            notes.append(f"mismatches {mismatches}, 6010 {transport}, harness errors {errors}")
    elif not variant.startswith("baseline"):
        notes.append("no simtim summary line")
    if final.get("failures"):
        notes.append(f"{final['failures']} failures")
    if "Traceback" in text:
        notes.append(f"traceback in {run.log.name}")
    return CheckRun(
        variant,
        calls,
        pushes,
        locust_cpu,
        per_second(run.system, "locust_wait", t0, t1),
        per_second(run.system, "server_cpu", t0, t1),
        per_second(run.system, "server_wait", t0, t1),
        1e6 * locust_cpu / calls if calls else math.nan,
        counts,
        notes,
    )


def pct(x: float) -> str:
    return "-" if math.isnan(x) else f"{100 * x:.0f}%"


def checking_part(args: argparse.Namespace, pinning: Pinning, log_dir: Path) -> None:
    variants = CHECK_VARIANTS + (CHECK_WHAT_IFS if args.what_if else ())
    print(
        f"\n== 1. cost of checking: locustfiles/chat.py (--conformance full|sample|off) vs baseline_chat.py, "
        f"-u {args.users} -r {args.users}, cell size {args.cell_size}, window {args.seconds:g} s after "
        f"{args.warmup:g} s warm-up, {args.rounds} rounds =="
    )
    print(
        f"{'round':>5}  {'variant':<15} {'calls/s':>8} {'push/s':>7} {'loc CPU':>7} {'loc wait':>8} "
        f"{'µs/call':>7} {'srv CPU':>7} {'srv wait':>8}  final calls (probe, csv, summary); notes"
    )
    runs: dict[str, list[CheckRun]] = {v: [] for v in variants}
    ratios: dict[str, list[float]] = {v: [] for v in variants}
    cpu_ratios: dict[str, list[float]] = {v: [] for v in variants}
    for round_no in range(args.rounds):
        shift = round_no % len(variants)
        order = variants[shift:] + variants[:shift]  # rotate: no variant always gets the same slot
        this: dict[str, CheckRun] = {}
        for variant in order:
            run = check_run(args, pinning, log_dir, variant, f"check-r{round_no + 1}-{variant}")
            this[variant] = run
            runs[variant].append(run)
            saturated = []
            if run.locust_cpu >= SATURATED:
                saturated.append("Locust saturated")
            if run.server_cpu >= SATURATED:
                saturated.append("server saturated")
            print(
                f"{round_no + 1:>5}  {variant:<15} {run.calls_per_s:>8.0f} {run.pushes_per_s:>7.0f} "
                f"{pct(run.locust_cpu):>7} {pct(run.locust_wait):>8} {run.us_per_call:>7.0f} "
                f"{pct(run.server_cpu):>7} {pct(run.server_wait):>8}  {run.counts}"
                + ("; " + "; ".join(saturated + run.notes) if saturated or run.notes else ""),
                flush=True,
            )
        for variant, run in this.items():
            ref = this[CHECK_REFERENCE[variant]]
            if ref.calls_per_s:
                ratios[variant].append(run.calls_per_s / ref.calls_per_s)
            if run.us_per_call:
                cpu_ratios[variant].append(ref.us_per_call / run.us_per_call)

    print(f"\nmedians over {args.rounds} rounds:")
    header = (
        "variant",
        "calls/s",
        "min",
        "max",
        "vs",
        "ratio",
        "CPU µs/call",
        "CPU ratio",
        "Locust CPU",
        "srv CPU",
        "target",
        "status",
    )
    rows = []
    for variant in variants:
        rs = runs[variant]
        rates = [r.calls_per_s for r in rs]
        ratio = statistics.median(ratios[variant])
        target, status = "-", "-"
        if variant == "full":
            target = f">= {CHECK_TARGET:g}"
            status = "PASS" if ratio >= CHECK_TARGET else "MISS"
        rows.append(
            (
                variant,
                f"{statistics.median(rates):,.0f}",
                f"{min(rates):,.0f}",
                f"{max(rates):,.0f}",
                CHECK_REFERENCE[variant],
                f"{ratio:.2f}",
                f"{statistics.median(r.us_per_call for r in rs):,.0f}",
                f"{statistics.median(cpu_ratios[variant]):.2f}",
                pct(statistics.median(r.locust_cpu for r in rs)),
                pct(statistics.median(r.server_cpu for r in rs)),
                target,
                status,
            )
        )
    table(header, rows, right={1, 2, 3, 5, 6, 7, 8, 9})
    full_cpu = statistics.median(cpu_ratios["full"])
    METRICS.append(
        Metric(
            "Locust chat mix, full conformance ÷ same-I/O baseline (calls/s)",
            statistics.median(r.calls_per_s for r in runs["full"]),
            statistics.median(r.calls_per_s for r in runs["baseline"]),
            f">= {CHECK_TARGET:g}",
            "calls/s",
            f"ratio = median of per-round ratios; CPU ratio {full_cpu:.2f}",
            statistics.median(ratios["full"]),
        )
    )
    busy = {v: sum(r.locust_cpu >= SATURATED for r in runs[v]) for v in ("baseline", "full")}
    print(
        f"full vs baseline: calls/s ratio {statistics.median(ratios['full']):.2f} "
        f"[{', '.join(f'{r:.2f}' for r in ratios['full'])}] (target >= {CHECK_TARGET:g}, the status above); CPU ratio "
        f"{full_cpu:.2f} [{', '.join(f'{r:.2f}' for r in cpu_ratios['full'])}] "
        f"({'would pass' if full_cpu >= CHECK_TARGET else 'would miss'} on CPU); Locust saturated in "
        f"{busy['full']}/{args.rounds} full and {busy['baseline']}/{args.rounds} baseline runs"
    )
    print(
        "ratio = median over rounds of (variant calls/s / the 'vs' variant's calls/s of the same round); CPU ratio "
        "= the 'vs' variant's Locust CPU µs per call / this variant's (0.5: a call costs the Locust process twice "
        "as much). calls/s is a throughput ceiling only when Locust CPU is near 100% of its core; below that the "
        "users' think time, the reply latency or neighbours on the core set it, and the CPU ratio is the steadier "
        "figure."
    )


# --- part 2: pushes per second per worker --------------------------------------------------------------------
PUSH_VARIANTS = ("simtim", "bare")
PUSH_CONTEXT = ("simtim-noutf8", "bare-utf8")  # what-ifs, run once (in the last round)
#: variant -> (the sink's --sink, extra locustfiles)
PUSH_SINKS: dict[str, tuple[str, list[Path]]] = {
    "simtim": ("simtim", []),
    "bare": ("bare", []),
    "simtim-noutf8": ("simtim", [SKIP_UTF8]),
    "bare-utf8": ("bare-utf8", []),
}


@dataclass
class PushRun:
    variant: str
    pushes_per_s: float
    offered_per_s: float
    sent: int
    refused: int
    locust_cpu: float
    locust_wait: float
    server_cpu: float
    server_wait: float
    notes: list[str]

    @property
    def per_cpu_second(self) -> float:
        return self.pushes_per_s / self.locust_cpu if self.locust_cpu > 0 else math.nan


def push_run(
    args: argparse.Namespace, pinning: Pinning, log_dir: Path, variant: str, label: str, profile: bool = False
) -> PushRun:
    server = Server(pinning, log_dir / f"{label}-server.log")
    sender_stats: dict[str, Any] = {}
    try:
        server.post(
            "/admin/v1/configureApp",
            {"SDKAppID": PUSH_APP, "secretKey": PUSH_KEY, "groupMessageRatePerSecond": 1_000_000_000},
        )
        now = server.now()
        sig = gen_usersig(PUSH_APP, PUSH_KEY, "host", 86400, now=now)
        host_token = server.post("/v1/login", {"SDKAppID": PUSH_APP, "userID": "host", "userSig": sig})[
            "token"
        ]
        group = server.post("/v1/createGroup", {"name": "push", "type": "AVChatRoom"}, host_token)["group"][
            "groupID"
        ]
        server.post("/v1/joinGroup", {"groupID": group, "type": "AVChatRoom"}, host_token)
        # The members join here, before any socket is open: every join pushes a tip to every member
        # already in the room (n² frames in all), which would otherwise swamp the sink's set-up.  The
        # sink logs each in again (this instance is kicked; AVChatRoom membership stays with the account).
        conn = http.client.HTTPConnection(server.host, server.port, timeout=10)
        try:
            for index in range(args.push_members):
                user = f"sink{index}"
                token = server.post(
                    "/v1/login",
                    {
                        "SDKAppID": PUSH_APP,
                        "userID": user,
                        "userSig": gen_usersig(PUSH_APP, PUSH_KEY, user, 86400, now=now),
                    },
                    conn=conn,
                )["token"]
                server.post("/v1/joinGroup", {"groupID": group, "type": "AVChatRoom"}, token, conn=conn)
        finally:
            conn.close()
        ready, stop = log_dir / f"{label}-ready.json", log_dir / f"{label}-stop.flag"
        extra = [
            "-u",
            "1",
            "-r",
            "1",
            "-t",
            f"{math.ceil(args.seconds + args.push_warmup + 90)}s",
            "--sink",
            PUSH_SINKS[variant][0],
            "--sink-app",
            str(PUSH_APP),
            "--sink-key",
            PUSH_KEY,
            "--sink-now",
            str(now),
            "--sink-members",
            str(args.push_members),
            "--bench-ready",
            str(ready),
            "--bench-stop",
            str(stop),
        ]
        window: dict[str, float] = {}

        def during(proc: subprocess.Popen[bytes], _probe: Path) -> None:
            wait_for_file(ready, proc, 60, "the sink's ready file")
            info = orjson.loads(ready.read_bytes())
            if info.get("failed"):
                raise BenchError(f"{label}: {info['failed']} members failed to join: {info.get('errors')}")
            profiler = None
            if profile:
                hook = profile_during(args, pinning, log_dir, label, lambda: window.get("t0"))
                profiler = threading.Thread(target=hook, args=(proc, _probe), daemon=True)
                profiler.start()
            sender_stats.update(send(server, host_token, group, str(info["worker"]), args, window))
            stop.touch()
            if profiler is not None:
                profiler.join()

        run = run_locust(
            pinning,
            [SINK, *PUSH_SINKS[variant][1]],
            extra,
            server,
            log_dir,
            label,
            timeout=args.seconds + args.push_warmup + 120,
            during=during,
        )
    finally:
        server.stop()
    t0, t1 = window["t0"], window["t1"]
    pushes = per_second(run.probe, "pushes", t0, t1)
    offered = sender_stats["sent_in_window"] * args.push_members / (t1 - t0)
    notes = []
    if sender_stats["refused"]:
        notes.append(f"{sender_stats['refused']} sends refused, e.g. {sender_stats['first_refusal']}")
    if sender_stats["behind_ms"] > 100:
        notes.append(f"senders {sender_stats['behind_ms']:.0f} ms behind schedule")
    if "Traceback" in run.log.read_text(errors="replace"):
        notes.append(f"traceback in {run.log.name}")
    return PushRun(
        variant,
        pushes,
        offered,
        sender_stats["sent"],
        sender_stats["refused"],
        per_second(run.probe, "cpu", t0, t1),
        per_second(run.system, "locust_wait", t0, t1),
        per_second(run.system, "server_cpu", t0, t1),
        per_second(run.system, "server_wait", t0, t1),
        notes,
    )


def send(
    server: Server, token: str, group: str, worker: str, args: argparse.Namespace, window: dict[str, float]
) -> dict[str, Any]:
    """Sender threads posting to the room at push_rate / members messages per second in total."""
    rate = args.push_rate / args.push_members
    duration = args.push_warmup + args.seconds
    total = max(1, int(rate * duration))
    start = time.perf_counter() + 0.05
    wall_start = time.time() + 0.05
    sent_at: list[float] = []
    refused: list[str] = []
    behind: list[float] = []
    lock = threading.Lock()

    def sender(k: int) -> None:
        rng = random.Random(k)
        conn = http.client.HTTPConnection(server.host, server.port, timeout=10)
        headers = {"Content-Type": "application/json", "Authorization": f"Bearer {token}"}
        seq = 0
        try:
            for i in range(k, total, args.senders):
                due = start + i / rate
                delay = due - time.perf_counter()
                if delay > 0:
                    time.sleep(delay)
                else:
                    behind.append(-delay)
                seq += 1
                message = {
                    "to": group,
                    "conversationType": "GROUP",
                    "type": "TIMTextElem",
                    "payload": {"text": "push bench: one message, many members"},
                    "random": rng.getrandbits(32),
                    "cloudCustomData": stamp(worker, f"sender{k}", seq, time.monotonic()),
                }
                conn.request("POST", "/v1/sendMessage", orjson.dumps({"message": message}), headers)
                raw = conn.getresponse().read()
                with lock:
                    if raw.startswith(b'{"code":0'):
                        sent_at.append(time.time())
                    elif len(refused) < 1000:
                        refused.append(raw[:120].decode(errors="replace"))
        finally:
            conn.close()

    threads = [threading.Thread(target=sender, args=(k,), name=f"sender-{k}") for k in range(args.senders)]
    for thread in threads:
        thread.start()
    window["t0"] = wall_start + args.push_warmup
    for thread in threads:
        thread.join()
    window["t1"] = time.time()
    return {
        "sent": len(sent_at),
        "sent_in_window": sum(1 for t in sent_at if t >= window["t0"]),
        "refused": len(refused),
        "first_refusal": refused[0] if refused else "",
        "behind_ms": 1000 * max(behind, default=0.0),
    }


def pushes_part(args: argparse.Namespace, pinning: Pinning, log_dir: Path) -> None:
    print(
        f"\n== 2. pushes received per second by one Locust process: {args.push_members} members of an "
        f"AVChatRoom, {args.senders} sender threads offering {args.push_rate:,.0f} frames/s "
        f"({args.push_rate / args.push_members:,.0f} msg/s), window {args.seconds:g} s after "
        f"{args.push_warmup:g} s, {args.rounds} rounds (+ what-ifs once) =="
    )
    print(
        f"{'round':>5}  {'variant':<14} {'push/s':>7} {'offered':>7} {'loc CPU':>7} {'loc wait':>8} "
        f"{'push/CPU-s':>10} {'srv CPU':>7} {'srv wait':>8}  notes"
    )
    runs: dict[str, list[PushRun]] = {v: [] for v in PUSH_VARIANTS + PUSH_CONTEXT}
    ratios: list[float] = []
    cpu_ratios: list[float] = []
    capacity: list[float] = []
    for round_no in range(args.rounds):
        order = list(PUSH_VARIANTS if round_no % 2 == 0 else reversed(PUSH_VARIANTS))
        if round_no == args.rounds - 1:
            order += list(PUSH_CONTEXT)
        this: dict[str, PushRun] = {}
        for variant in order:
            run = push_run(args, pinning, log_dir, variant, f"push-r{round_no + 1}-{variant}")
            this[variant] = run
            runs[variant].append(run)
            flags = []
            if run.locust_cpu >= SATURATED:
                flags.append("Locust saturated")
            if run.server_cpu >= SATURATED:
                flags.append("server saturated")
            if run.pushes_per_s < 0.9 * run.offered_per_s and run.locust_cpu < SATURATED:
                flags.append("behind the offer without a busy Locust: starved by neighbours?")
            print(
                f"{round_no + 1:>5}  {variant:<14} {run.pushes_per_s:>7.0f} {run.offered_per_s:>7.0f} "
                f"{pct(run.locust_cpu):>7} {pct(run.locust_wait):>8} {run.per_cpu_second:>10,.0f} "
                f"{pct(run.server_cpu):>7} {pct(run.server_wait):>8}"
                + ("  " + "; ".join(flags + run.notes) if flags or run.notes else ""),
                flush=True,
            )
        simtim, bare = this["simtim"], this["bare"]
        rate_ratio = simtim.pushes_per_s / bare.pushes_per_s
        cpu_ratio = simtim.per_cpu_second / bare.per_cpu_second
        both = simtim.locust_cpu >= SATURATED and bare.locust_cpu >= SATURATED
        ratios.append(rate_ratio)
        cpu_ratios.append(cpu_ratio)
        capacity.append(rate_ratio if both else cpu_ratio)
        print(
            f"       simtim/bare: push/s {rate_ratio:.2f}, per CPU-second {cpu_ratio:.2f}; capacity ratio "
            f"{capacity[-1]:.2f} ({'push/s: both saturated' if both else 'per CPU-second: not both saturated'})"
        )

    print("\nmedians over rounds (what-ifs: one round):")
    header = (
        "variant",
        "push/s",
        "min",
        "max",
        "push/CPU-s",
        "Locust CPU",
        "srv CPU",
        "vs bare",
        "target",
        "status",
    )
    rows = []
    bare_rate = statistics.median(r.pushes_per_s for r in runs["bare"])
    bare_cpu = statistics.median(r.per_cpu_second for r in runs["bare"])
    for variant, rs in runs.items():
        if not rs:
            continue
        rates = [r.pushes_per_s for r in rs]
        ratio, target, status = "-", "-", "-"
        if variant == "simtim":
            value = statistics.median(capacity)
            ratio, target = f"{value:.2f}", f">= {PUSH_TARGET:g}"
            status = "PASS" if value >= PUSH_TARGET else "MISS"
        elif variant != "bare":
            ratio = (
                f"{statistics.median(rates) / bare_rate:.2f} / "
                f"{statistics.median(r.per_cpu_second for r in rs) / bare_cpu:.2f}"
            )
        rows.append(
            (
                variant,
                f"{statistics.median(rates):,.0f}",
                f"{min(rates):,.0f}",
                f"{max(rates):,.0f}",
                f"{statistics.median(r.per_cpu_second for r in rs):,.0f}",
                pct(statistics.median(r.locust_cpu for r in rs)),
                pct(statistics.median(r.server_cpu for r in rs)),
                ratio,
                target,
                status,
            )
        )
    table(header, rows, right={1, 2, 3, 4, 5, 6, 7})
    METRICS.append(
        Metric(
            "push receive per worker ÷ bare websocket-client loop",
            statistics.median(capacity),
            1.0,
            f">= {PUSH_TARGET:g}",
            "",
            f"capacity ratio (push/s when both readers had their core, else per CPU-second); bare {bare_rate:,.0f} push/s",
        )
    )
    print(
        f"simtim/bare per round: push/s [{', '.join(f'{r:.2f}' for r in ratios)}], per Locust CPU-second "
        f"[{', '.join(f'{r:.2f}' for r in cpu_ratios)}]. 'vs bare' for simtim is the median capacity ratio: push/s "
        f"when both readers were saturated (Locust CPU >= {SATURATED:.0%} of its core: push/s is then what one "
        f"worker core takes), else pushes per Locust CPU-second (a reader kept off its core by neighbours shows a low "
        f"push/s that says nothing about the reader). What-ifs: push/s / per CPU-second, each over bare's median."
    )


# --- part 3: idle sockets ----------------------------------------------------------------------------------
def idle_part(args: argparse.Namespace, pinning: Pinning, log_dir: Path) -> None:
    print(
        f"\n== 3. idle event sockets held by one Locust process: {args.idle_clients} sessions through "
        f"HttpDriver + GeventTransport (a driver per {args.idle_cell_size} sessions), held {args.idle_hold:g} s =="
    )
    server = Server(pinning, log_dir / "idle-server.log")
    out = log_dir / "idle.json"
    server_rss0 = status_kb(server.pid)
    try:
        extra = [
            "-u",
            "1",
            "-r",
            "1",
            "-t",
            f"{math.ceil(args.idle_hold + 240)}s",
            "--idle-clients",
            str(args.idle_clients),
            "--idle-hold",
            str(args.idle_hold),
            "--idle-cell-size",
            str(args.idle_cell_size),
            "--idle-server-pid",
            str(server.pid),
            "--idle-now",
            str(server.now()),
            "--bench-out",
            str(out),
        ]
        run = run_locust(pinning, [IDLE], extra, server, log_dir, "idle", timeout=args.idle_hold + 300)
    finally:
        server.stop()
    if not out.exists():
        raise BenchError(
            f"idle: no result file; log {run.log}:\n{run.log.read_text(errors='replace')[-2000:]}"
        )
    r = orjson.loads(out.read_bytes())
    opened, warm = r["opened"], r["warm"]
    per_kb = (r["rss_after_kb"] - r["rss_before_kb"]) / max(1, opened - warm)
    srv_before, srv_after = r["server_before"], r["server_after"]
    srv_kb = (srv_after.get("rss_kb", 0) - srv_before.get("rss_kb", server_rss0)) / max(1, opened - warm)
    sample = r["sample"]
    print(f"descriptor limit (soft, hard) in the Locust process: {tuple(r['nofile'])}")
    print(
        f"opened {opened} of {r['target']} sessions in {r['open_seconds']:.1f} s "
        f"({(opened - warm) / max(r['open_seconds'], 1e-9):,.0f}/s), {r['failed']} failed"
        + (f"; first failures: {r['first_failures']}" if r["failed"] else "")
    )
    print(
        f"Locust process: VmRSS {r['rss_before_kb'] / 1024:.1f} MB -> {r['rss_after_kb'] / 1024:.1f} MB = "
        f"{per_kb:.1f} KB per connection ({r['drivers']} drivers, {r['fds_after']} descriptors); "
        f"{r['rss_end_kb'] / 1024:.1f} MB at the end"
    )
    print(
        f"server: VmRSS {srv_before.get('rss_kb', 0) / 1024:.1f} MB -> {srv_after.get('rss_kb', 0) / 1024:.1f} MB "
        f"({srv_kb:.1f} KB per connection), descriptors {srv_before.get('fds')} -> {srv_after.get('fds')}"
        f" -> {r['server_after_hold'].get('fds')} after the hold"
    )
    print(
        f"still connected after {args.idle_hold:g} s idle: {r['live_after_hold']} of {opened}; a message to "
        f"{sample['sent']} sampled sessions arrived at {sample['arrived']}"
        + (
            f" (p50 {sample['p50_ms']:.1f} ms, max {sample['max_ms']:.1f} ms)"
            if sample.get("arrived")
            else ""
        )
    )
    ok = (
        opened >= min(IDLE_TARGET, args.idle_clients)
        and per_kb <= IDLE_KB_TARGET
        and r["live_after_hold"] == opened
        and sample["arrived"] == sample["sent"]
    )
    hard = r["nofile"][1]
    if not ok:
        verdict = "MISS"
    elif args.idle_clients >= IDLE_TARGET:
        verdict = "PASS"
    elif hard < IDLE_TARGET + math.ceil(IDLE_TARGET / max(1, args.idle_cell_size)):
        verdict = (
            f"PASS for the {opened:,} asked; {IDLE_TARGET:,} sockets plus their drivers' connections do not fit "
            f"in this machine's hard descriptor limit ({hard:,}) in one process: not measurable here"
        )
    else:
        verdict = f"PASS for the {opened:,} asked (below the goal's {IDLE_TARGET:,})"
    print(f"target >= {IDLE_TARGET} sockets at <= {IDLE_KB_TARGET:g} KB each, all still connected: {verdict}")
    METRICS.append(
        Metric(
            "idle WebSocket clients per Locust worker (KB each)",
            per_kb,
            None,
            f"<= {IDLE_KB_TARGET:g}",
            "KB",
            f"{opened:,} of {args.idle_clients:,} opened, {r['live_after_hold']:,} live after {args.idle_hold:g} s "
            f"(goal: >= {IDLE_TARGET:,})",
        )
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__.split("\n\n")[0], formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--only",
        nargs="+",
        choices=("checking", "pushes", "idle"),
        default=None,
        help="parts to run (default: all three)",
    )
    parser.add_argument(
        "--seconds", type=float, default=4.0, help="measured window per run, parts 1 and 2 (default 4)"
    )
    parser.add_argument("--rounds", type=int, default=3, help="rounds, parts 1 and 2 (default 3)")
    parser.add_argument(
        "--users", type=int, default=50, help="part 1: Locust users, one cell each (default 50)"
    )
    parser.add_argument("--cell-size", type=int, default=4, help="part 1: accounts per cell (default 4)")
    parser.add_argument(
        "--warmup",
        type=float,
        default=2.0,
        help="part 1: seconds after all users started before the window (default 2)",
    )
    parser.add_argument(
        "--what-if",
        action="store_true",
        help="part 1: also run baseline and full with websocket-client's UTF-8 check off",
    )
    parser.add_argument(
        "--push-members", type=int, default=200, help="part 2: sockets in the room (default 200)"
    )
    parser.add_argument(
        "--push-rate",
        type=float,
        default=40_000.0,
        help="part 2: frames/s the senders make the server offer (default 40000)",
    )
    parser.add_argument(
        "--push-warmup", type=float, default=1.0, help="part 2: seconds of sending before the window"
    )
    parser.add_argument("--senders", type=int, default=4, help="part 2: sender threads (default 4)")
    parser.add_argument(
        "--idle-clients", type=int, default=5000, help="part 3: sockets to open (default 5000)"
    )
    parser.add_argument("--idle-hold", type=float, default=5.0, help="part 3: seconds idle before the checks")
    parser.add_argument(
        "--idle-cell-size",
        type=int,
        default=4,
        help="part 3: sessions per driver and its keep-alive HTTP connection (default 4, as the harness's cells); "
        "each process may hold only the hard descriptor limit, sockets plus these connections",
    )
    parser.add_argument(
        "--profile",
        type=float,
        default=0.0,
        metavar="SECONDS",
        help="also py-spy record the Locust process for SECONDS in extra runs: part 1 full "
        "(and full-noutf8 with --what-if), part 2 simtim and simtim-noutf8; default off",
    )
    parser.add_argument("--top", type=int, default=20, help="functions listed per profile (default 20)")
    parser.add_argument("--server-core", type=int, default=0)
    parser.add_argument("--client-core", type=int, default=1)
    parser.add_argument("--no-pin", action="store_true", help="do not pin processes to cores")
    parser.add_argument(
        "--log-dir", type=Path, default=None, help="logs, CSVs, probe files (default: a temp dir)"
    )
    parser.add_argument(
        "--json", type=Path, default=None, help="write the headline metrics here (run_all.py)"
    )
    args = parser.parse_args(argv)
    args.rounds = max(1, args.rounds)
    parts = args.only or ["checking", "pushes", "idle"]

    log_dir = args.log_dir or Path(tempfile.mkdtemp(prefix="harness_bench-"))
    log_dir.mkdir(parents=True, exist_ok=True)
    pinning = pin(args, this_process="server")
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    print(
        f"harness_bench: Python {platform.python_version()} on {platform.machine()}, {os.cpu_count()} CPUs; "
        f"{pinning.note}"
    )
    print(
        f"load average {load_average()}; descriptors soft {soft} / hard {hard} (children raise soft to hard); "
        f"logs in {log_dir}"
    )
    began = time.monotonic()
    try:
        if "checking" in parts:
            checking_part(args, pinning, log_dir)
            if args.profile:
                for variant in ("full", "full-noutf8") if args.what_if else ("full",):
                    check_run(args, pinning, log_dir, variant, f"profile-{variant}", profile=True)
        if "pushes" in parts:
            pushes_part(args, pinning, log_dir)
            if args.profile:
                for variant in ("simtim", "simtim-noutf8"):
                    push_run(args, pinning, log_dir, variant, f"profile-{variant}", profile=True)
        if "idle" in parts:
            idle_part(args, pinning, log_dir)
    except BenchError as exc:
        print(f"\nharness_bench: harness error: {exc}", file=sys.stderr)
        write_metrics(args.json, METRICS)  # the parts that finished still report
        return 1
    print(f"\ndone in {time.monotonic() - began:.0f} s; load average now {load_average()}")
    write_metrics(args.json, METRICS)
    return 0  # a benchmark reports; it never fails the build


if __name__ == "__main__":
    sys.exit(main())
