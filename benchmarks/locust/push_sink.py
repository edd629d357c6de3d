"""Receive a flood of pushes in one Locust process: harness_bench part 2.

    SIMTIM_BENCH_PROBE=probe.jsonl locust -f benchmarks/locust/push_sink.py,benchmarks/locust/probe.py \
        --headless -u 1 -r 1 -t 60s --host http://127.0.0.1:PORT --sink simtim \
        --sink-app APP --sink-key KEY --sink-group GROUP --sink-members 200 --sink-now NOW \
        --bench-ready ready.json --bench-stop stop.flag

One user logs ``--sink-members`` accounts (``sink0``, ``sink1``, ...) of app ``--sink-app`` in
(shortcut login) and, with ``--sink-group``, joins each to that AVChatRoom.  harness_bench
joins them itself before it starts Locust and leaves ``--sink-group`` out: a join pushes a tip
to every member already in the room, n² frames for n members, which would swamp the set-up;
membership stays with the account when the sink logs it in again.  Senders outside this
process then post to the room, so every message becomes one ``onMessageReceived`` frame per
member.  How the
frames are read is the ``--sink``:

- ``simtim``: the harness's own path.  One ``HttpDriver`` with a ``GeventTransport`` per
  ``--sink-cell-size`` accounts (as ``Harness.driver`` builds them); the login opens the
  event socket, the transport's reader greenlet hands each frame to the driver, which parses
  it (orjson) into the session's ``EventStream``; a consumer greenlet per session takes the
  events out (``wait_count``), reads the delivery stamp through the process's
  ``DeliveryTracker`` (sequence, duplicate and reorder bookkeeping, E2E latency) and fires
  one ``PUSH`` request event each, as ``SimTimUser._report`` does for matched events.
- ``bare``: one greenlet per socket around websocket-client (``skip_utf8_validation=True``:
  ``recv()`` decodes text frames as UTF-8 anyway), ``orjson.loads`` of the frame and of the
  stamp in ``cloudCustomData`` for the latency, one ``PUSH`` request event per frame.
- ``bare-utf8``: the bare loop with websocket-client's defaults (its pure-Python UTF-8 check
  on every text frame, as ``GeventTransport`` opens sockets).

Loading ``benchmarks/locust/skip_utf8.py`` beside this file turns that check off for the
``simtim`` sink too (a what-if; simtim/ is not changed).

Every reader yields to the hub every 8 frames (``gevent.sleep(0)``).  When all sockets are
up the user writes ``--bench-ready`` (JSON: the worker name the senders must put in their
stamps); it quits when ``--bench-stop`` appears.
"""

from __future__ import annotations

import contextlib
import os
import socket
import time
from pathlib import Path
from typing import Any

import gevent
import gevent.pool
import orjson
import websocket
from locust import User, events, task

from simtim.conformance.delivery import STAMP_KEY, DeliveryTracker
from simtim.driver.base import Call
from simtim.driver.http import HttpDriver
from simtim.load.transport import GeventTransport
from simtim.model.events import MESSAGE_RECEIVED
from simtim.usersig import gen_usersig

SINKS = ("simtim", "bare", "bare-utf8")
YIELD_EVERY = 8  # as simtim.load.transport


@events.init_command_line_parser.add_listener
def _arguments(parser: Any) -> None:
    parser.add_argument(
        "--sink", choices=SINKS, default="simtim", help="how frames are read (see the docstring)"
    )
    parser.add_argument("--sink-app", type=int, default=0, help="SDKAppID of the members")
    parser.add_argument("--sink-key", default="", help="secret key of --sink-app (for UserSigs)")
    parser.add_argument("--sink-now", type=int, default=0, help="the server's clock (UserSig issue time)")
    parser.add_argument(
        "--sink-group", default="", help="an AVChatRoom for the members to join (if not yet in)"
    )
    parser.add_argument("--sink-members", type=int, default=200, help="members (one event socket each)")
    parser.add_argument("--sink-cell-size", type=int, default=4, help="sessions per HttpDriver")
    parser.add_argument("--bench-ready", default="", help="file written when every socket is up")
    parser.add_argument("--bench-stop", default="", help="quit when this file exists")


class PushSink(User):
    def on_start(self) -> None:
        options = self.environment.parsed_options
        self.options = options
        self.worker = f"{socket.gethostname()}-{os.getpid()}"  # as Harness.worker
        self.tracker = DeliveryTracker(self.worker)
        self.greenlets: list[gevent.Greenlet] = []
        self.drivers: list[HttpDriver] = []
        self.sockets: list[Any] = []
        sink = options.sink
        started = time.monotonic()
        errors: list[str] = []
        size = max(1, options.sink_cell_size)
        pool = gevent.pool.Pool(16)  # cells log in side by side; inside a cell one call at a time
        for first in range(0, options.sink_members, size):
            pool.spawn(self._cell, range(first, min(first + size, options.sink_members)), sink, errors)
        pool.join()
        self.greenlets.append(gevent.spawn(self._drain_tracker))
        if options.bench_ready:
            Path(options.bench_ready).write_bytes(
                orjson.dumps(
                    {
                        "worker": self.worker,
                        "members": options.sink_members,
                        "errors": errors[:5],
                        "failed": len(errors),
                        "setup_seconds": time.monotonic() - started,
                    }
                )
            )

    def _cell(self, indexes: range, sink: str, errors: list[str]) -> None:
        """One driver per cell, as Harness.driver(); the bare sinks use it only to log in and join."""
        simtim = sink.startswith("simtim")
        driver = HttpDriver(self.host, transport=GeventTransport(self.host, 5.0), events=simtim)
        self.drivers.append(driver)
        for index in indexes:
            error = self._member(driver, index, sink)
            if error:
                errors.append(error)

    def _member(self, driver: HttpDriver, index: int, sink: str) -> str:
        options = self.options
        user_id = f"sink{index}"
        sig = gen_usersig(options.sink_app, options.sink_key, user_id, 86400, now=options.sink_now)
        login = {"SDKAppID": options.sink_app, "platform": "web", "userID": user_id, "userSig": sig}
        simtim = sink.startswith("simtim")
        reply = driver.call(Call("login", login))
        if not reply.ok:
            return f"login {user_id}: {reply.code} {reply.message}"
        session = reply.data["session"]
        if options.sink_group:  # else the members joined before (see the docstring)
            joined = driver.call(
                Call("joinGroup", {"groupID": options.sink_group, "type": "AVChatRoom"}, session)
            )
            if not joined.ok:
                return f"joinGroup {user_id}: {joined.code} {joined.message}"
        if simtim:
            self.greenlets.append(gevent.spawn(self._consume, driver, session, user_id))
        else:
            host = self.host.split("://", 1)[1]
            ws = websocket.create_connection(
                f"ws://{host}/v1/events?token={session}", timeout=5.0, skip_utf8_validation=sink == "bare"
            )
            ws.settimeout(None)
            self.sockets.append(ws)
            self.greenlets.append(gevent.spawn(self._bare, ws))
        return ""

    # --- the two event paths -------------------------------------------------------------------
    def _fire(self, name: str, latency: float, length: int = 0) -> None:
        self.environment.events.request.fire(
            request_type="PUSH",
            name=name,
            response_time=latency,
            response_length=length,
            exception=None,
            context={},
        )

    def _consume(self, driver: HttpDriver, session: str, actor: str) -> None:
        """SimTimUser's handling of a matched push, fed from the driver's EventStream."""
        stream = driver.events(session)
        tracker = self.tracker
        while not stream.closed:
            for event in stream.wait_count(1, 1.0):
                latency = None
                if event.name == MESSAGE_RECEIVED and isinstance(event.data, list) and event.data:
                    latency = tracker.received(actor, event.data[0].get("cloudCustomData"), event.received_at)
                if latency is None:
                    latency = 0.001
                self._fire(event.name, latency)

    def _bare(self, ws: Any) -> None:
        count = 0
        loads, clock = orjson.loads, time.monotonic
        try:
            while True:
                frame = ws.recv()
                if not frame:
                    break
                value = loads(frame)
                latency = 0.001
                data = value.get("data")
                if isinstance(data, list) and data:
                    try:  # noqa: SIM105 - the hot loop: try/except costs less than contextlib.suppress
                        latency = max(
                            0.001, (clock() - loads(data[0]["cloudCustomData"])[STAMP_KEY][3]) * 1000.0
                        )
                    except (KeyError, TypeError, ValueError, IndexError):
                        pass
                self._fire(value.get("event", "?"), latency, len(frame))
                count += 1
                if count % YIELD_EVERY == 0:
                    gevent.sleep(0)
        except Exception:
            pass

    def _drain_tracker(self) -> None:
        while True:
            gevent.sleep(1.0)
            self.tracker.take()  # the harness ships these every second; here they are dropped

    @task
    def wait(self) -> None:
        gevent.sleep(0.1)
        stop = self.options.bench_stop
        if stop and os.path.exists(stop):
            self.on_stop()  # at once: readers still working through a backlog would slow the quit down
            runner = self.environment.runner
            if runner is not None:
                gevent.spawn(runner.quit)
            gevent.sleep(5)

    def on_stop(self) -> None:
        gevent.killall(self.greenlets, block=False)
        for driver in self.drivers:
            driver.close()
        for ws in self.sockets:
            with contextlib.suppress(Exception):
                ws.close()
        self.drivers.clear()
        self.sockets.clear()
