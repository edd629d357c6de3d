"""Heap evidence from a running ``simtim serve`` or Locust process: what grows in a soak (issue 15).

Off unless ``SIMTIM_HEAP_PROBE=FILE`` is set at start; then every ``SIGUSR1`` appends one report to
FILE: RSS; a full collection (its pause, and the unreachable objects it found, by type: cyclic
garbage the collector policy had left behind, ``simtim/gc_policy.py``); malloc's heap in use and
free, SQLite's own memory, pymalloc's arenas against its live blocks (memory Python holds but no
object uses is fragmentation); and the object types whose counts grew since the first report.
``SIMTIM_HEAP_PROBE_TRACE=1`` also runs ``tracemalloc`` from the start (every allocation slows
down) and adds the source lines whose allocations grew most.  Nothing of it touches a request: the
hook is a signal handler installed once, and with the variable unset nothing is installed.
``benchmarks/soak.py --heap-probe FILE`` sets it for the server and the Locust process.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import gc
import os
import signal
import time
import tracemalloc
from collections import Counter
from pathlib import Path
from types import FrameType

ENV = "SIMTIM_HEAP_PROBE"
TRACE_ENV = "SIMTIM_HEAP_PROBE_TRACE"  # "1": also run tracemalloc (slow: every allocation is traced)
TOP = 25
FRAMES = 2


class HeapProbe:
    """Reports heap growth since the first report, on demand."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.first: tracemalloc.Snapshot | None = None
        self.first_types: Counter[str] = Counter()
        self.started = time.monotonic()

    def report(self) -> str:
        tracing = tracemalloc.is_tracing()
        before_gc = tracemalloc.get_traced_memory()[0] if tracing else 0
        # What a full collection finds unreachable is cyclic garbage the collector had not reached
        # yet: kept (DEBUG_SAVEALL) just long enough to count it by type, then dropped.
        gc.set_debug(gc.DEBUG_SAVEALL)
        started = time.perf_counter()
        try:
            unreachable = gc.collect()
        finally:
            gc.set_debug(0)
        collect_ms = (time.perf_counter() - started) * 1000.0
        garbage = Counter(type(item).__name__ for item in gc.garbage)
        gc.garbage.clear()
        started = time.perf_counter()
        gc.collect()  # now without the saved copies: what a full collection of the live heap costs
        live_scan_ms = (time.perf_counter() - started) * 1000.0
        types = Counter(type(item).__name__ for item in gc.get_objects())
        lines = [
            f"=== heap probe at {time.monotonic() - self.started:.0f} s: RSS {_rss_mb():.1f} MB, "
            f"gc objects {sum(types.values())} after a full collection ({collect_ms:.0f} ms) freed "
            f"{unreachable}: " + ", ".join(f"{count} {name}" for name, count in garbage.most_common(12)),
            f"a full collection of the live heap takes {live_scan_ms:.0f} ms",
            native_memory(),
            pymalloc_memory(),
        ]
        snapshot = None
        if tracing:
            snapshot = tracemalloc.take_snapshot().filter_traces(
                (tracemalloc.Filter(False, tracemalloc.__file__),)
            )
            traced = tracemalloc.get_traced_memory()[0]
            lines.append(
                f"traced by tracemalloc {before_gc / 1e6:.1f} MB, {traced / 1e6:.1f} MB after the collection"
            )
        if self.first_types:
            if snapshot is not None and self.first is not None:
                lines.append(f"--- top {TOP} growth by traceback since the baseline")
                for stat in snapshot.compare_to(self.first, "traceback")[:TOP]:
                    where = " <- ".join(f"{Path(f.filename).name}:{f.lineno}" for f in stat.traceback)
                    lines.append(f"{stat.size_diff / 1e3:+10.1f} kB {stat.count_diff:+8d} blocks  {where}")
            lines.append(f"--- top {TOP} object types by count growth")
            grown = Counter({name: types[name] - self.first_types.get(name, 0) for name in types})
            for name, diff in grown.most_common(TOP):
                lines.append(f"{diff:+9d} {name} (now {types[name]})")
        else:
            self.first, self.first_types = snapshot, types
            lines.append("(baseline: later reports are diffs against this one)")
        return "\n".join(lines) + "\n"

    def on_signal(self, signum: int, frame: FrameType | None) -> None:
        with self.path.open("a") as handle:
            handle.write(self.report())


class _MallInfo2(ctypes.Structure):
    _fields_ = [
        (name, ctypes.c_size_t)
        for name in (
            "arena",
            "ordblks",
            "smblks",
            "hblks",
            "hblkhd",
            "usmblks",
            "fsmblks",
            "uordblks",
            "fordblks",
            "keepcost",
        )
    ]


def native_memory() -> str:
    """glibc's heap (in use / free inside it / mmapped blocks) and SQLite's own allocations: memory
    tracemalloc never sees (C libraries), and the free space that is fragmentation."""
    parts: list[str] = []
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
        libc.mallinfo2.restype = _MallInfo2
        info = libc.mallinfo2()
        parts.append(
            f"malloc: in use {info.uordblks / 1e6:.1f} MB, free in heap {info.fordblks / 1e6:.1f} MB, "
            f"heap {info.arena / 1e6:.1f} MB, mmapped {info.hblkhd / 1e6:.1f} MB"
        )
    except (OSError, AttributeError):
        parts.append("malloc: no mallinfo2")
    try:
        import _sqlite3

        lib = ctypes.CDLL(_sqlite3.__file__)
        lib.sqlite3_memory_used.restype = ctypes.c_int64
        lib.sqlite3_memory_highwater.restype = ctypes.c_int64
        parts.append(
            f"sqlite: {lib.sqlite3_memory_used() / 1e6:.1f} MB "
            f"(high water {lib.sqlite3_memory_highwater(0) / 1e6:.1f} MB)"
        )
    except (OSError, AttributeError, ImportError):
        parts.append("sqlite: n/a")
    return "; ".join(parts)


def pymalloc_memory() -> str:
    """Python's small-object allocator: arenas held versus bytes in live blocks (the rest is free
    space inside arenas that cannot be returned: fragmentation)."""
    import sys
    import tempfile

    with tempfile.TemporaryFile("w+") as capture:
        saved = os.dup(2)
        try:
            os.dup2(capture.fileno(), 2)
            sys._debugmallocstats()
        finally:
            os.dup2(saved, 2)
            os.close(saved)
        capture.seek(0)
        wanted = {
            "# arenas allocated current": "arenas",
            "# bytes in allocated blocks": "live blocks",
            "# bytes in available blocks": "free blocks",
            "Total": "arena bytes",  # the first Total line: every arena's bytes
        }
        found: dict[str, int] = {}
        for line in capture:
            for prefix, name in wanted.items():
                if line.startswith(prefix) and name not in found:
                    found[name] = int(line.split("=")[1].strip().replace(",", ""))
    arenas = found.get("arenas", 0)
    return (
        f"pymalloc: {arenas} arenas ({found.get('arena bytes', 0) / 1e6:.1f} MB), live blocks "
        f"{found.get('live blocks', 0) / 1e6:.1f} MB, free blocks {found.get('free blocks', 0) / 1e6:.1f} MB"
    )


def _rss_mb() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024.0
    return float("nan")


def install_from_env() -> HeapProbe | None:
    """Start tracemalloc and hook SIGUSR1 when ``SIMTIM_HEAP_PROBE`` names a file; else nothing."""
    target = os.environ.get(ENV)
    if not target:
        return None
    if os.environ.get(TRACE_ENV) == "1":
        tracemalloc.start(FRAMES)
    probe = HeapProbe(Path(target))
    signal.signal(signal.SIGUSR1, probe.on_signal)
    return probe


__all__ = ["ENV", "TRACE_ENV", "HeapProbe", "install_from_env"]
