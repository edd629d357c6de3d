"""One garbage-collector policy for every process that holds a model's history.

The model keeps every message, so the heap only grows; with CPython's default thresholds the
collector rescans that history again and again, and the cost of a group send grows with the heap
(measured by ``benchmarks/curves.py``: 6,000-member fan-out at ~7 µs per delivery instead of ~2).
Objects that exist at start-up are frozen out of the collector's reach and young collections run
every 50,000 allocations instead of every 700.  Reference counting still frees everything that
is not in a cycle at once.

What is in a cycle is the exception, and the thresholds above make it a leak: the young
generations are counted in *net* allocations (a steady server frees about as much as it makes),
so an object that lived through a collection (a WebSocket connection open for a minute) reaches
the oldest generation, whose collection then never comes.  A closed connection is such a cycle
(uvicorn's protocol, its uvloop transport, queues, events: ~80 objects, tens of kB), and a soak
with flapping users closes hundreds a minute: measured with ``benchmarks/soak.py --heap-probe``,
a full collection after 3 minutes freed 31,274 objects, 404 of them dead WebSocket protocols,
and the server grew +4 MB/min while its live objects stayed flat (issue 15).  So every process
that runs this policy also collects in full once every ``FULL_COLLECTION_SECONDS``: one scan of
the heap a minute, on the process's own event loop (a pause: 40-400 ms for the soak's ~100k
objects on a loaded two-core machine, measured by ``simtim/heap_probe.py``).
"""

from __future__ import annotations

import gc
from collections.abc import Callable

GEN0_THRESHOLD = 50_000
GEN1_THRESHOLD = 20
GEN2_THRESHOLD = 100
FULL_COLLECTION_SECONDS = 60.0  # dead cycles (closed connections) are freed at least this often


def keep_long_lived_state_cheap() -> None:
    """Freeze what exists now and collect less often (the server at start-up, each Locust process).
    The caller also runs ``collect_dead_cycles`` every ``FULL_COLLECTION_SECONDS`` on its loop."""
    gc.freeze()
    gc.set_threshold(GEN0_THRESHOLD, GEN1_THRESHOLD, GEN2_THRESHOLD)


def collect_dead_cycles() -> int:
    """A full collection: frees the cycles the thresholds above leave in the oldest generation;
    returns how many unreachable objects it found."""
    return gc.collect()


_collecting = False


def collect_forever(sleep: Callable[[float], object]) -> None:
    """A process's collector: a full collection every ``FULL_COLLECTION_SECONDS``, forever, paced by
    the process's own ``sleep`` (``gevent.sleep`` in a Locust process, which runs it in a greenlet).
    Only the first call per process runs; later ones return at once."""
    global _collecting
    if _collecting:
        return
    _collecting = True
    try:
        while True:
            sleep(FULL_COLLECTION_SECONDS)
            collect_dead_cycles()
    finally:
        _collecting = False
