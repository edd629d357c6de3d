"""A measuring probe loaded beside a locustfile: ``locust -f app.py,benchmarks/locust/probe.py``.

It defines no users.  Every 0.25 s it appends one JSON line to the file named by
``$SIMTIM_BENCH_PROBE``: the wall time, this process's CPU seconds (user + sys,
all threads), the user count, and request counts read from Locust's own stats
(``calls``: every entry that is not ``PUSH`` and whose name does not start with
``setup:``; ``pushes``: the ``PUSH`` entries; ``failures``).  A locustfile may add
counters of its own by setting ``environment.simtim_bench_counters`` to a dict of
zero-argument callables.  The first line records the event ``init``, one line
records ``spawned`` (all users started), the last ``quit``.

Locust's CSV history stamps its rows with whole seconds, and its writer greenlet
runs late in a saturated process; these samples carry the exact time at which
the counts were read, so a rate over a window of a few seconds is not off by a
second at either end.
"""

from __future__ import annotations

import os
import resource
import time
from typing import Any

import gevent
import orjson
from locust import events

INTERVAL = 0.25
_out: Any = None
_env: Any = None
_sampler: gevent.Greenlet | None = None


def _cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def _sample(environment: Any, event: str = "") -> None:
    if _out is None:
        return
    calls = pushes = failures = 0
    for entry in list(environment.stats.entries.values()):
        failures += entry.num_failures
        if entry.method == "PUSH":
            pushes += entry.num_requests
        elif not str(entry.name).startswith("setup:"):
            calls += entry.num_requests
    row: dict[str, Any] = {
        "t": time.time(),
        "cpu": _cpu(),
        "calls": calls,
        "pushes": pushes,
        "failures": failures,
        "users": environment.runner.user_count if environment.runner is not None else 0,
    }
    for name, counter in (getattr(environment, "simtim_bench_counters", None) or {}).items():
        row[name] = counter()
    if event:
        row["event"] = event
    _out.write(orjson.dumps(row) + b"\n")
    _out.flush()


@events.init.add_listener
def _on_init(environment: Any, **_: Any) -> None:
    global _out, _env
    _env = environment
    path = os.environ.get("SIMTIM_BENCH_PROBE")
    if path and _out is None:
        _out = open(path, "ab")  # noqa: SIM115 - closed on quitting
        _sample(environment, "init")


@events.test_start.add_listener
def _on_test_start(environment: Any, **_: Any) -> None:
    global _sampler

    def loop() -> None:
        while True:
            _sample(environment)
            gevent.sleep(INTERVAL)

    if _out is not None and _sampler is None:
        _sampler = gevent.spawn(loop)


@events.spawning_complete.add_listener
def _on_spawned(user_count: int, **_: Any) -> None:
    if _env is not None:
        _sample(_env, "spawned")


@events.quitting.add_listener
def _on_quitting(environment: Any, **_: Any) -> None:
    global _out
    if _sampler is not None:
        _sampler.kill(block=False)
    if _out is not None:
        _sample(environment, "quit")
        _out.close()
        _out = None
