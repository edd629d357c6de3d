"""Hold as many idle event sockets as possible in one Locust process: harness_bench part 3.

    locust -f benchmarks/locust/idle_clients.py --headless -u 1 -r 1 -t 180s \
        --host http://127.0.0.1:PORT --idle-clients 5000 --bench-out idle.json

One user opens ``--idle-clients`` sessions of the dev app the way the harness does: an
``HttpDriver`` with a ``GeventTransport`` per ``--idle-cell-size`` sessions (as
``Harness.driver`` builds one per cell; its keep-alive HTTP connection stays open), each
session a shortcut ``POST /v1/login`` after which the driver opens ``GET
/v1/events?token=`` with a reader greenlet.  ``--idle-concurrency`` cells log in at once.
The first cell is a warm-up; VmRSS (``/proc/self/status``, after ``gc.collect()``) is read
after it and again once every socket is up, so the difference over the sockets opened in
between is the memory one idle connection costs this process (its socket, websocket-client
object, reader greenlet, EventStream, and a quarter of a driver with its HTTP connection).

After ``--idle-hold`` seconds idle it counts the sessions whose socket is still open (the
driver's live set: its reader calls ``on_close`` when a socket ends) and sends one C2C text
to each of ``--idle-sample`` sessions spread over the whole range, from a separate sender,
and waits for each to arrive in that session's EventStream.  With ``--idle-server-pid`` the
server's VmRSS and open descriptors are read at the same points.  Everything goes to
``--bench-out`` as JSON, then the user stops the run.
"""

from __future__ import annotations

import gc
import os
import resource
import time
from pathlib import Path
from typing import Any

import gevent
import gevent.pool
import orjson
from locust import User, events, task

from simtim.driver.base import Call
from simtim.driver.http import HttpDriver
from simtim.load.transport import GeventTransport
from simtim.model.core import DEV_SDKAPPID, DEV_SECRET_KEY
from simtim.model.events import MESSAGE_RECEIVED
from simtim.usersig import gen_usersig

SIG_LIFETIME = 86400


@events.init_command_line_parser.add_listener
def _arguments(parser: Any) -> None:
    parser.add_argument("--idle-clients", type=int, default=5000, help="event sockets to open")
    parser.add_argument("--idle-cell-size", type=int, default=4, help="sessions per HttpDriver, as a cell")
    parser.add_argument("--idle-concurrency", type=int, default=32, help="cells logging in at once")
    parser.add_argument("--idle-hold", type=float, default=5.0, help="seconds idle before the checks")
    parser.add_argument("--idle-sample", type=int, default=20, help="sessions that get a message afterwards")
    parser.add_argument("--idle-server-pid", type=int, default=0, help="read this process's RSS and fds too")
    parser.add_argument("--idle-now", type=int, default=0, help="the server's clock (UserSig issue time)")
    parser.add_argument("--bench-out", default="", help="JSON result file")


def _raise_nofile() -> tuple[int, int]:
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < hard:
        resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    return resource.getrlimit(resource.RLIMIT_NOFILE)


def _status_kb(pid: int | str, field: str = "VmRSS") -> int:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith(field + ":"):
                return int(line.split()[1])
    except OSError:
        pass
    return 0


def _fds(pid: int | str) -> int:
    try:
        return len(os.listdir(f"/proc/{pid}/fd"))
    except OSError:
        return 0


class IdleHolder(User):
    done = False

    def on_start(self) -> None:
        self.options = self.environment.parsed_options
        self.drivers: list[HttpDriver] = []
        self.sessions: list[tuple[HttpDriver, str, str]] = []  # driver, session, userID
        self.failures: list[tuple[int, str]] = []

    def _cell(self, first: int, size: int) -> None:
        options = self.options
        driver = HttpDriver(self.host, transport=GeventTransport(self.host, 10.0))
        self.drivers.append(driver)
        for index in range(first, first + size):
            user_id = f"idle{index}"
            sig = gen_usersig(
                DEV_SDKAPPID, DEV_SECRET_KEY, user_id, SIG_LIFETIME, now=options.idle_now or int(time.time())
            )
            reply = driver.call(
                Call(
                    "login", {"SDKAppID": DEV_SDKAPPID, "platform": "web", "userID": user_id, "userSig": sig}
                )
            )
            if not reply.ok:
                self.failures.append((index, f"login: {reply.code} {reply.message}"[:200]))
                continue
            session = reply.data["session"]
            if session not in driver._live:  # the event socket did not open (its error is in the stream)
                errors = [e.data for e in driver.events(session).drain() if e.name == "error"]
                self.failures.append((index, f"events socket: {errors[:1]}"[:200]))
                continue
            self.sessions.append((driver, session, user_id))

    def _server(self) -> dict[str, int]:
        pid = self.options.idle_server_pid
        return {"rss_kb": _status_kb(pid), "fds": _fds(pid)} if pid else {}

    def _live(self) -> int:
        return sum(1 for driver, session, _ in self.sessions if session in driver._live)

    @task
    def hold(self) -> None:
        if IdleHolder.done:
            gevent.sleep(1.0)
            return
        IdleHolder.done = True
        options = self.options
        result: dict[str, Any] = {"nofile": _raise_nofile(), "target": options.idle_clients}
        size = max(1, options.idle_cell_size)
        self._cell(0, min(size, options.idle_clients))  # warm-up: code paths, first allocations
        warm = len(self.sessions)
        gc.collect()
        result.update(
            rss_before_kb=_status_kb("self"), fds_before=_fds("self"), server_before=self._server(), warm=warm
        )
        started = time.monotonic()
        pool = gevent.pool.Pool(max(1, options.idle_concurrency))
        for first in range(size, options.idle_clients, size):
            if len(self.failures) >= 50:
                break  # the target stopped accepting: say where, do not hammer it
            pool.spawn(self._cell, first, min(size, options.idle_clients - first))
        pool.join()
        result["open_seconds"] = time.monotonic() - started
        gevent.sleep(0.5)
        gc.collect()
        opened = len(self.sessions)
        result.update(
            opened=opened,
            failed=len(self.failures),
            first_failures=self.failures[:3],
            rss_after_kb=_status_kb("self"),
            fds_after=_fds("self"),
            server_after=self._server(),
            drivers=len(self.drivers),
            live_after_open=self._live(),
        )
        gevent.sleep(options.idle_hold)
        result["live_after_hold"] = self._live()
        result["server_after_hold"] = self._server()
        result["sample"] = self._sample_check(options.idle_sample)
        result["rss_end_kb"] = _status_kb("self")
        if options.bench_out:
            Path(options.bench_out).write_bytes(orjson.dumps(result))
        runner = self.environment.runner
        if runner is not None:
            gevent.spawn(runner.quit)
        gevent.sleep(5)

    def _sample_check(self, count: int) -> dict[str, Any]:
        """One message to each of ``count`` sessions spread over the range; did it arrive?"""
        if not self.sessions or count <= 0:
            return {"sent": 0, "arrived": 0}
        step = max(1, len(self.sessions) // count)
        sample = self.sessions[::step][:count]
        sender = HttpDriver(self.host, transport=GeventTransport(self.host, 10.0), events=False)
        sig = gen_usersig(
            DEV_SDKAPPID,
            DEV_SECRET_KEY,
            "idlesender",
            SIG_LIFETIME,
            now=self.options.idle_now or int(time.time()),
        )
        login = sender.call(Call("login", {"SDKAppID": DEV_SDKAPPID, "userID": "idlesender", "userSig": sig}))
        if not login.ok:
            return {"sent": 0, "arrived": 0, "error": f"sender login {login.code} {login.message}"}
        token = login.data["session"]
        latencies: list[float] = []
        sent = 0
        for driver, session, user_id in sample:
            driver.events(session).drain()  # sdkStateReady and the like
            start = time.monotonic()
            reply = sender.call(
                Call(
                    "sendMessage",
                    {
                        "message": {
                            "to": user_id,
                            "conversationType": "C2C",
                            "type": "TIMTextElem",
                            "payload": {"text": "are you there?"},
                        }
                    },
                    token,
                )
            )
            if not reply.ok:
                continue
            sent += 1
            got = driver.events(session).wait_for(lambda e: e.name == MESSAGE_RECEIVED, 5.0)
            if got is not None:
                latencies.append((got.received_at - start) * 1000.0)
        sender.close()
        latencies.sort()
        return {
            "sent": sent,
            "arrived": len(latencies),
            "p50_ms": latencies[len(latencies) // 2] if latencies else None,
            "max_ms": latencies[-1] if latencies else None,
        }

    def on_stop(self) -> None:
        for driver in self.drivers:
            driver.close()
