"""What every benchmark here repeats, once: CPU pinning, process CPU/RSS readings, server
subprocesses, nearest-rank percentiles, plain tables, machine notes and the ratio table.

The benches keep only their cases.  This machine is 2 cores and shared, so every bench measures
simtim beside a baseline in the same run and reports the ratio; these helpers make that cheap.
"""

from __future__ import annotations

import argparse
import http.client
import math
import os
import platform
import re
import resource
import shutil
import signal
import statistics
import subprocess
import sys
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import orjson

ROOT = Path(__file__).resolve().parent.parent
HERE = Path(__file__).resolve().parent
ECHO_APP = HERE / "echo_app.py"
LISTENING = re.compile(r"listening on http://(\S+):(\d+)")
CLK_TCK = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100


class BenchError(Exception):
    """The harness could not measure (a process did not start, a reply was not the expected one)."""


# --- processes -------------------------------------------------------------------------------------
def proc_cpu(pid: int) -> float:
    """utime + stime of a process (all threads), seconds; 0.0 when it is gone."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return 0.0
    fields = stat.rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / CLK_TCK


def proc_wait(pid: int) -> float:
    """Seconds the process's main thread was runnable but not running (``/proc/<pid>/schedstat``)."""
    try:
        return int(Path(f"/proc/{pid}/schedstat").read_text().split()[1]) / 1e9
    except (OSError, IndexError, ValueError):
        return 0.0


def status_kb(pid: int, field_name: str = "VmRSS") -> int:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith(field_name + ":"):
                return int(line.split()[1])
    except OSError:
        pass
    return 0


def raise_nofile() -> None:
    """preexec_fn: the children may open as many descriptors as the hard limit allows."""
    _soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))


# --- pinning ---------------------------------------------------------------------------------------
@dataclass
class Pinning:
    server: list[str]  # command prefix for servers
    client: list[str]  # command prefix for the load generator (wrk, Locust)
    client_cores: int  # cores the client may use (what its CPU share is measured against)
    note: str


def add_wrk_arguments(parser: argparse.ArgumentParser, rounds: str) -> None:
    """The options of every wrk-driven bench (server, REST, journal): one definition, one meaning.
    ``rounds`` says what one round of ``--repeat`` runs."""
    parser.add_argument(
        "--duration", type=float, default=8.0, help="seconds of each timed wrk run (default 8)"
    )
    parser.add_argument(
        "--check-seconds",
        type=float,
        default=2.0,
        help="seconds of each verification/warm-up wrk run (default 2)",
    )
    parser.add_argument("--repeat", type=int, default=3, help=f"rounds of {rounds} (default 3)")
    parser.add_argument("--connections", type=int, default=32, help="wrk connections (default 32)")
    parser.add_argument("--threads", type=int, default=1, help="wrk threads (default 1: one client core)")


def add_pinning_arguments(
    parser: argparse.ArgumentParser, server_core: int = 0, client_core: int = 1
) -> None:
    parser.add_argument("--server-core", type=int, default=server_core, help="core for the servers")
    parser.add_argument("--client-core", type=int, default=client_core, help="core for the load generator")
    parser.add_argument("--no-pin", action="store_true", help="do not pin anything with taskset")


def pin(args: argparse.Namespace, *, this_process: str, client_threads: int = 1) -> Pinning:
    """Servers on ``--server-core``, the client on ``--client-core``; this process joins
    ``this_process`` ("server" or "client"), so the other core holds one thing only."""
    cpus = (
        sorted(os.sched_getaffinity(0))
        if hasattr(os, "sched_getaffinity")
        else list(range(os.cpu_count() or 1))
    )
    unpinned = min(client_threads, len(cpus))
    taskset = shutil.which("taskset")
    if args.no_pin:
        return Pinning([], [], unpinned, "not pinned (--no-pin)")
    if taskset is None:
        return Pinning([], [], unpinned, "not pinned (taskset not found)")
    if args.server_core == args.client_core or not {args.server_core, args.client_core} <= set(cpus):
        note = f"not pinned (cores {args.server_core}/{args.client_core} not both available: {cpus})"
        return Pinning([], [], unpinned, note)
    mine = args.server_core if this_process == "server" else args.client_core
    os.sched_setaffinity(0, {mine})
    return Pinning(
        [taskset, "-c", str(args.server_core)],
        [taskset, "-c", str(args.client_core)],
        1,
        f"servers on core {args.server_core}, client on core {args.client_core}, this process on core {mine} "
        f"(taskset; {len(cpus)} cores available)",
    )


def pin_to_one_core() -> str:
    """For in-process benches: one core, so a number is one core's worth."""
    if not hasattr(os, "sched_setaffinity"):
        return "not pinned (no sched_setaffinity on this platform)"
    try:
        allowed = os.sched_getaffinity(0)
        cpu = 0 if 0 in allowed else min(allowed)
        os.sched_setaffinity(0, {cpu})
    except OSError as exc:
        return f"not pinned ({exc})"
    return f"pinned to CPU {cpu} (of {len(allowed)} allowed)"


# --- server subprocesses -----------------------------------------------------------------------------
class ServerProcess:
    """A server subprocess that prints ``listening on http://HOST:PORT``, its output in a log file."""

    def __init__(self, name: str, cmd: list[str], log_path: Path, *, admin_key: str = "") -> None:
        self.name, self.cmd, self.log_path, self.admin_key = name, cmd, log_path, admin_key
        self.proc: subprocess.Popen[bytes] | None = None
        self.host, self.port = "127.0.0.1", 0

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    @property
    def pid(self) -> int:
        assert self.proc is not None
        return self.proc.pid

    def start(self, timeout: float = 30.0) -> ServerProcess:
        with open(self.log_path, "wb") as log:
            self.proc = subprocess.Popen(
                self.cmd,
                stdout=log,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                cwd=ROOT,
                preexec_fn=raise_nofile,
            )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            match = LISTENING.search(self.log_path.read_text(errors="replace"))
            if match:
                self.host, self.port = match.group(1), int(match.group(2))
                return self
            if self.proc.poll() is not None:
                break
            time.sleep(0.05)
        self.stop()
        raise BenchError(
            f"{self.name} did not start ({' '.join(self.cmd)}); log {self.log_path}:\n"
            + self.log_path.read_text(errors="replace")[-2000:]
        )

    def cpu_seconds(self) -> float:
        return proc_cpu(self.pid)

    def runqueue_wait(self) -> float:
        return proc_wait(self.pid)

    def post(
        self, path: str, body: dict[str, Any], token: str = "", conn: http.client.HTTPConnection | None = None
    ) -> dict[str, Any]:
        """One simtim/1 call (on ``conn`` when given, kept alive); its data, or BenchError unless code 0."""
        own = conn is None
        conn = conn or http.client.HTTPConnection(self.host, self.port, timeout=10)
        headers = {"Content-Type": "application/json"}
        if path.startswith("/admin/"):
            headers["X-Admin-Key"] = self.admin_key
        if token:
            headers["Authorization"] = f"Bearer {token}"
        try:
            conn.request("POST", path, orjson.dumps(body), headers)
            reply: dict[str, Any] = orjson.loads(conn.getresponse().read())
        finally:
            if own:
                conn.close()
        if reply.get("code") != 0:
            raise BenchError(f"POST {path} {body}: {reply}")
        data: dict[str, Any] = reply.get("data") or {}
        return data

    def now(self) -> int:
        """The server's clock (admin ``snapshot``)."""
        return int(self.post("/admin/v1/snapshot", {})["now"])

    def stop(self) -> None:
        if self.proc is None or self.proc.poll() is not None:
            return
        self.proc.send_signal(signal.SIGTERM)
        try:
            self.proc.wait(timeout=6)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()


def simtim_serve(
    pinning: Pinning, log_path: Path, *, admin_key: str, fake_clock: bool = False, extra: Sequence[str] = ()
) -> ServerProcess:
    cmd = [*pinning.server, sys.executable, "-m", "simtim", "serve", "--port", "0", "--admin-key", admin_key]
    if fake_clock:
        cmd.append("--fake-clock")
    return ServerProcess("simtim", [*cmd, *extra], log_path, admin_key=admin_key).start()


def echo_app(pinning: Pinning, log_path: Path) -> ServerProcess:
    """The baseline server: the same uvicorn stack, an app that only parses and answers."""
    return ServerProcess(
        "echo", [*pinning.server, sys.executable, str(ECHO_APP), "--port", "0"], log_path
    ).start()


# --- numbers and output -------------------------------------------------------------------------------
def percentile(sorted_values: list[float], q: float) -> float:
    """Nearest-rank percentile of an already sorted list (``q`` in percent)."""
    if not sorted_values:
        return float("nan")
    rank = max(1, min(len(sorted_values), round(q / 100 * len(sorted_values) + 0.5)))
    return sorted_values[rank - 1]


def median(values: Iterable[float]) -> float:
    values = [v for v in values if not math.isnan(v)]
    return statistics.median(values) if values else float("nan")


def pct(x: float) -> str:
    return f"{100 * x:.0f}%"


def si(rate: float) -> str:
    return f"{rate:,.0f}"


def table(header: tuple[str, ...], rows: list[tuple[str, ...]], right: set[int]) -> None:
    widths = [max(len(str(row[i])) for row in [header, *rows]) for i in range(len(header))]

    def fmt(row: tuple[str, ...]) -> str:
        return "  ".join(
            str(v).rjust(w) if i in right else str(v).ljust(w)
            for i, (v, w) in enumerate(zip(row, widths, strict=True))
        ).rstrip()

    print(fmt(header))
    print("  ".join("-" * w for w in widths))
    for row in rows:
        print(fmt(row))


def load_average() -> str:
    return " ".join(f"{x:.2f}" for x in os.getloadavg()) if hasattr(os, "getloadavg") else "n/a"


def machine_note() -> str:
    return (
        f"python {platform.python_version()} ({platform.python_implementation()}) on {platform.platform()}; "
        f"cpus {os.cpu_count()}; load average {load_average()}"
    )


# --- the ratio table (one row per metric, simtim beside a baseline from the same run) ----------------
@dataclass
class Metric:
    name: str
    simtim: float
    baseline: float | None = None  # measured in the same run; None when the goal is absolute
    goal: str = ""  # e.g. ">= 0.7" (on the ratio) or ">= 100000" (on simtim)
    unit: str = ""
    note: str = ""
    #: the bench's own same-run ratio (e.g. the median of per-round ratios), when it is not simply
    #: median simtim / median baseline: rounds on a noisy machine pair each simtim run with its echo
    round_ratio: float | None = None

    @property
    def ratio(self) -> float | None:
        if self.round_ratio is not None:
            return self.round_ratio
        if self.baseline is None or not self.baseline or math.isnan(self.simtim):
            return None
        return self.simtim / self.baseline

    @property
    def met(self) -> bool | None:
        if not self.goal or math.isnan(self.simtim):
            return None
        op, _, raw = self.goal.partition(" ")
        value = self.ratio if self.baseline is not None else self.simtim
        if value is None:
            return None
        limit = float(raw.replace(",", ""))
        return value >= limit if op == ">=" else value <= limit

    def to_json(self) -> dict[str, Any]:
        return {
            "metric": self.name,
            "simtim": self.simtim,
            "baseline": self.baseline,
            "ratio": self.ratio,
            "goal": self.goal,
            "met": self.met,
            "unit": self.unit,
            "note": self.note,
            "round_ratio": self.round_ratio,
        }


def ratio_table(metrics: Sequence[Metric]) -> None:
    rows = []
    for m in metrics:
        ratio = m.ratio
        met = {True: "met", False: "MISSED", None: ""}[m.met]
        rows.append(
            (
                m.name,
                "not measured" if math.isnan(m.simtim) else f"{m.simtim:,.2f} {m.unit}".strip(),
                "" if m.baseline is None else f"{m.baseline:,.2f} {m.unit}".strip(),
                "" if ratio is None else f"{ratio:.2f}",
                m.goal,
                met,
                m.note,
            )
        )
    table(("metric", "simtim", "baseline", "ratio", "goal", "", "note"), rows, right={1, 2, 3})


def write_metrics(path: Path | None, metrics: Sequence[Metric]) -> None:
    """``--json PATH`` of every bench: its headline metrics, for ``run_all.py``'s one table."""
    if path is not None:
        path.write_bytes(orjson.dumps([m.to_json() for m in metrics], option=orjson.OPT_INDENT_2))


def read_metrics(path: Path) -> list[Metric]:
    rows = orjson.loads(path.read_bytes())
    return [
        Metric(
            r["metric"],
            float("nan") if r["simtim"] is None else float(r["simtim"]),
            r["baseline"],
            r.get("goal", ""),
            r.get("unit", ""),
            r.get("note", ""),
            r.get("round_ratio"),
        )
        for r in rows
    ]
