#!/usr/bin/env python3
"""Soak: mixed C2C + group chat with flapping users against ``simtim serve`` for minutes on end.

    python benchmarks/soak.py [--minutes 10] [--users 200] [--flap-rate 0.5] [--processes 1]
                              [--max-messages-per-conversation 1000] [--max-messages 50000]
                              [--data DIR | --in-memory] [--out reports/soak]

Starts ``simtim serve --data DIR`` (journaled, as issue 15 asks: a fresh temporary directory unless
``--data`` names one; ``--in-memory`` for the server without a journal; fake clock, admin key,
history caps: with ``--max-messages`` the stored history stops growing once the cap is reached, so
what still grows after the warm-up is not history) and a headless Locust run of
``locustfiles/chat.py`` (C2C texts and rich messages, small-group texts, paging, read marks ...)
in which users' connections are cut and re-opened (``--flap-rate``), so NET-1 replays are checked
all along. Every 10 s it samples the RSS of the server and of each Locust process. At the end it
prints what was sent, delivered, lost, duplicated and reordered (replays included), the
conformance mismatches, and the RSS slope of each process after the warm-up (the first 2 minutes,
or the first half of a shorter run), in MB per minute, by least squares. Not a test: it reports and
exits 0 unless the run itself could not be made (the figures are the point, not a gate).
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import signal
import subprocess
import sys
import tempfile
import time
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from simtim.heap_probe import ENV as HEAP_PROBE_ENV  # noqa: E402
from simtim.heap_probe import TRACE_ENV as HEAP_TRACE_ENV  # noqa: E402
from simtim.server.process import ServeProcess  # noqa: E402

SAMPLE_SECONDS = 10.0
ADMIN_KEY = "soak-admin-key"
DELIVERY = ("sent", "expected", "delivered", "lost", "late", "duplicated", "reordered")
COUNTED = ("apps", "accounts", "instances", "groups", "messages", "historyMessages", "evictedByCap")
FAULTS = ("cuts", "reconnects", "replay_expected", "replay_delivered", "replay_lost", "replay_duplicated")


def rss_mb(pid: int) -> float | None:
    """Resident set size of a process in MB (None once it is gone)."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024.0
    except OSError:
        return None
    return None


def server_counts(url: str) -> dict[str, int]:
    """The admin snapshot's counts (apps, instances, messages by ID, messages in history ...): what
    the server holds, beside its RSS, so a slope can be told apart from history still filling."""
    request = urllib.request.Request(
        f"{url}/admin/v1/snapshot",
        data=b"{}",
        headers={"X-Admin-Key": ADMIN_KEY, "Content-Type": "application/json"},
    )
    try:
        with urllib.request.urlopen(request, timeout=5) as reply:
            counts: dict[str, int] = json.loads(reply.read())["data"]["counts"]
            return counts
    except (OSError, ValueError, KeyError):
        return {}


def children(pid: int) -> list[int]:
    found: list[int] = []
    try:
        for task in Path(f"/proc/{pid}/task").iterdir():
            text = (task / "children").read_text().split()
            found += [int(child) for child in text]
    except OSError:
        pass
    return found


@dataclass
class Series:
    name: str
    points: list[tuple[float, float]] = field(default_factory=list)  # (minutes since start, MB)

    def slope_after(self, warmup_minutes: float) -> float | None:
        """MB per minute by least squares over the samples after the warm-up."""
        points = [(t, y) for t, y in self.points if t >= warmup_minutes]
        if len(points) < 3:
            return None
        n = len(points)
        mean_t = sum(t for t, _ in points) / n
        mean_y = sum(y for _, y in points) / n
        var = sum((t - mean_t) ** 2 for t, _ in points)
        return sum((t - mean_t) * (y - mean_y) for t, y in points) / var if var else None


def totals(path: Path, columns: tuple[str, ...]) -> dict[str, int]:
    with path.open() as handle:
        rows = list(csv.DictReader(handle))
    return {c: sum(int(float(r[c] or 0)) for r in rows if c in r) for c in columns}


def mismatches(path: Path) -> dict[str, int]:
    with path.open() as handle:
        rows = list(csv.DictReader(handle))
    counts: dict[str, int] = {}
    for row in rows:
        counts[row["kind"]] = counts.get(row["kind"], 0) + 1
    return counts


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--minutes", type=float, default=10.0)
    parser.add_argument("--users", type=int, default=200)
    parser.add_argument("--spawn-rate", type=float, default=20.0)
    parser.add_argument("--flap-rate", type=float, default=0.5, help="share of users cut per minute")
    parser.add_argument("--processes", type=int, default=1, help="Locust worker processes (--processes)")
    parser.add_argument("--max-messages-per-conversation", type=int, default=1000)
    parser.add_argument(
        "--max-messages", type=int, default=50_000, help="app-wide history cap (0: none; PAGE-2 eviction)"
    )
    where = parser.add_mutually_exclusive_group()
    where.add_argument("--data", default="", help="journal directory (default: a fresh temporary one)")
    where.add_argument("--in-memory", action="store_true", help="no journal (the server without --data)")
    parser.add_argument("--out", default="reports/soak", help="CSV prefix of the run")
    parser.add_argument(
        "--heap-probe",
        default="",
        help="FILE: append a heap report of the server to FILE (of the Locust process to FILE.locust) once a minute after the warm-up (the "
        "first one is the baseline the others are compared with): object counts, malloc and SQLite "
        "memory; each report stalls the server for a moment, so not for the figures",
    )
    parser.add_argument(
        "--heap-trace",
        choices=("none", "server", "locust", "both"),
        default="none",
        help="with --heap-probe: which processes also run tracemalloc (slow)",
    )
    args = parser.parse_args()
    prefix = Path(args.out)
    prefix.parent.mkdir(parents=True, exist_ok=True)
    seconds = int(args.minutes * 60)
    warmup = min(2.0, args.minutes / 2)

    options = [
        "--fake-clock",
        "--admin-key",
        ADMIN_KEY,
        "--max-messages-per-conversation",
        str(args.max_messages_per_conversation),
    ]
    if args.max_messages:
        options += ["--max-messages", str(args.max_messages)]
    scratch = None if args.data or args.in_memory else tempfile.TemporaryDirectory(prefix="simtim-soak-")
    data = Path(args.data) if args.data else Path(scratch.name) if scratch else None
    if data is not None:
        options += ["--data", str(data)]
    print(
        f"soak: server {'journaled in ' + str(data) if data else 'in memory'}; load average at start "
        f"{' '.join(f'{x:.2f}' for x in os.getloadavg())}",
        flush=True,
    )
    probe_env = {HEAP_PROBE_ENV: str(Path(args.heap_probe).resolve())} if args.heap_probe else {}
    if args.heap_trace in ("server", "both"):
        probe_env[HEAP_TRACE_ENV] = "1"
    server = ServeProcess(options, env=probe_env)
    locust_env = os.environ.copy()
    if args.heap_probe:  # the Locust process reports to FILE.locust
        locust_env[HEAP_PROBE_ENV] = str(Path(args.heap_probe).resolve()) + ".locust"
        locust_env[HEAP_TRACE_ENV] = "1" if args.heap_trace in ("locust", "both") else "0"
    command = [
        sys.executable,
        "-m",
        "locust",
        "-f",
        str(ROOT / "locustfiles" / "chat.py"),
        "--headless",
        "-u",
        str(args.users),
        "-r",
        str(args.spawn_rate),
        "-t",
        f"{seconds}s",
        "--stop-timeout",
        "5",
        "--host",
        server.url,
        "--simtim-admin-key",
        ADMIN_KEY,
        "--flap-rate",
        str(args.flap_rate),
        "--csv",
        str(prefix),
        "--only-summary",
    ]
    if args.processes > 1:
        command += ["--processes", str(args.processes)]
    log_path = Path(f"{prefix}_locust.log")
    started = time.monotonic()
    with log_path.open("w") as log:
        locust = subprocess.Popen(command, cwd=ROOT, stdout=log, stderr=subprocess.STDOUT, env=locust_env)
        series: dict[str, Series] = {"server": Series("server")}
        try:
            while locust.poll() is None:
                minute = (time.monotonic() - started) / 60.0
                server_rss = rss_mb(server.proc.pid)
                if server_rss is not None:
                    series["server"].points.append((minute, server_rss))
                for index, pid in enumerate([locust.pid, *children(locust.pid)]):
                    value = rss_mb(pid)
                    if value is not None:
                        name = "locust" if index == 0 else f"locust worker {pid}"
                        series.setdefault(name, Series(name)).points.append((minute, value))
                if args.heap_probe and minute >= warmup and len(series["server"].points) % 6 == 0:
                    server.proc.send_signal(signal.SIGUSR1)  # once a minute after the warm-up
                    locust.send_signal(signal.SIGUSR1)
                counts = server_counts(server.url)
                held = ", ".join(f"{counts[k]} {k}" for k in COUNTED if k in counts)
                print(
                    f"soak: {minute:5.1f} min  "
                    + "  ".join(f"{s.name} {s.points[-1][1]:.0f} MB" for s in series.values() if s.points)
                    + (f"  (server holds {held})" if held else ""),
                    flush=True,
                )
                deadline = time.monotonic() + SAMPLE_SECONDS
                while locust.poll() is None and time.monotonic() < deadline:
                    time.sleep(0.5)
        finally:
            if locust.poll() is None:
                locust.terminate()
            locust.wait(60)
            server.stop()
    print(f"soak: load average at the end {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    if data is not None:
        size = sum(path.stat().st_size for path in data.iterdir() if path.is_file())
        print(f"soak: journal directory {data}: {size / 1e6:.1f} MB on disk")
    if scratch is not None:
        scratch.cleanup()
    summary = [line for line in log_path.read_text().splitlines() if line.startswith("simtim:")]
    print("\n".join(summary))
    delivery = totals(Path(f"{prefix}_delivery.csv"), DELIVERY + FAULTS)
    print(
        "soak: messages sent {sent}, deliveries expected {expected}, delivered {delivered}, lost {lost}, "
        "late {late}, duplicated {duplicated}, reordered {reordered}".format(**delivery)
    )
    print(
        "soak: connections cut {cuts}, reconnects {reconnects}, replayed {replay_expected} "
        "(delivered {replay_delivered}, lost {replay_lost}, duplicated {replay_duplicated})".format(
            **delivery
        )
    )
    print(
        f"soak: {delivery['sent'] / max(1, seconds):.0f} messages/s sent on average over {args.minutes:g} min"
    )
    print(
        f"soak: failures by category (PREFIX_conformance.csv): {mismatches(Path(f'{prefix}_conformance.csv')) or 'none'}"
    )
    for item in series.values():
        slope = item.slope_after(warmup)
        first = item.points[0][1] if item.points else float("nan")
        last = item.points[-1][1] if item.points else float("nan")
        shown = "n/a (too few samples)" if slope is None else f"{slope:+.2f} MB/min"
        print(f"soak: RSS {item.name}: {first:.0f} -> {last:.0f} MB; slope after {warmup:g} min: {shown}")
    print(f"soak: exit code of the Locust run {locust.returncode}; files at {prefix}_*.csv")
    return 0


if __name__ == "__main__":
    sys.exit(main())
