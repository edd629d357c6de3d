#!/usr/bin/env python3
"""REST v4 ``openim/sendmsg`` on ``simtim serve`` against the bare echo app, same wrk, same run.

    python benchmarks/rest_bench.py [--duration 8] [--repeat 3] [--connections 32]

Issue "REST v4" asks ``sendmsg`` over REST to reach >= 0.5 of the raw uvicorn echo's req/s with the
same client. Both servers run pinned to one core (wrk on the other), alternate round by round, and
get the same wrk script (``benchmarks/wrk/send_message.lua`` in its REST mode): a short checked run (every answer
must be HTTP 200 with ``"ErrorCode":0`` on simtim; the echo answers anything), then a timed run.
simtim's dev app has its REST call-rate limit (REST-2, 200/s per API, real TIM's) switched off
through the admin API first, since this measures the server, not the limit. The sender and the
receiver are imported accounts and nobody is online, so this is the backend path: authenticate,
parse, model send, store, count unread, envelope. Printed: each run's req/s and the per-round and
median ratios; exit 0 whatever the numbers, 1 on a harness error, 2 without wrk.
"""

from __future__ import annotations

import argparse
import http.client
import os
import platform
import shutil
import sys
import tempfile
import time
from pathlib import Path

from benchlib import (
    BenchError,
    Metric,
    Pinning,
    ServerProcess,
    add_wrk_arguments,
    echo_app,
    median,
    pin,
    simtim_serve,
    write_metrics,
)
from server_bench import WRK_INSTALL, WrkRun, run_wrk, wrk_version

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import orjson  # noqa: E402

from simtim.model.core import DEV_SDKAPPID, DEV_SECRET_KEY  # noqa: E402
from simtim.usersig import gen_usersig  # noqa: E402

ADMIN_KEY = "rest-bench-admin"


def rest_query(now: int) -> str:
    sig = gen_usersig(DEV_SDKAPPID, DEV_SECRET_KEY, "administrator", 86400, now=now)
    return f"sdkappid={DEV_SDKAPPID}&identifier=administrator&usersig={sig}&random=1&contenttype=json"


def prepare_simtim(server: ServerProcess) -> str:
    server.post("/admin/v1/configureApp", {"SDKAppID": DEV_SDKAPPID, "restRatePerSecond": 0})
    query = rest_query(int(time.time()))
    conn = http.client.HTTPConnection(server.host, server.port, timeout=10)
    try:
        for path, body in (
            ("/v4/im_open_login_svc/multiaccount_import", {"Accounts": ["alice", "bob"]}),
            (
                "/v4/openim/sendmsg",
                {
                    "From_Account": "alice",
                    "To_Account": "bob",
                    "MsgRandom": 1,
                    "MsgBody": [{"MsgType": "TIMTextElem", "MsgContent": {"Text": "x"}}],
                },
            ),
        ):
            conn.request("POST", f"{path}?{query}", orjson.dumps(body))
            reply = orjson.loads(conn.getresponse().read())
            if reply.get("ErrorCode") != 0:
                raise BenchError(f"{path}: {reply}")
    finally:
        conn.close()
    return query


def one_run(
    args: argparse.Namespace,
    pinning: Pinning,
    wrk: str,
    server: ServerProcess,
    query: str,
    label: str,
    log_dir: Path,
) -> WrkRun:
    """A checked warm-up run (simtim must answer ErrorCode 0 every time), then the timed run."""
    path = f"/v4/openim/sendmsg?{query}"
    check = run_wrk(
        args,
        pinning,
        wrk,
        server,
        "alice",
        args.check_seconds,
        True,
        log_dir / f"{label}-check.log",
        path=path,
    )
    if label.startswith("simtim") and (check.bad or check.checked == 0):
        raise BenchError(
            f"{label}: {check.bad} of {check.checked} answers were not ErrorCode 0: {check.first_bad}"
        )
    return run_wrk(
        args,
        pinning,
        wrk,
        server,
        "alice",
        args.duration,
        False,
        log_dir / f"{label}-timed.log",
        path=path,
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    add_wrk_arguments(parser, "simtim + echo")
    parser.add_argument("--server-core", type=int, default=0)
    parser.add_argument("--client-core", type=int, default=1)
    parser.add_argument("--no-pin", action="store_true")
    parser.add_argument("--json", type=Path, default=None, help="write the headline metric here (run_all.py)")
    args = parser.parse_args(argv)
    wrk = shutil.which("wrk")
    if wrk is None:
        print(f"rest_bench: wrk is not installed; install it with:\n    {WRK_INSTALL}", file=sys.stderr)
        return 2
    log_dir = Path(tempfile.mkdtemp(prefix="rest_bench-"))
    pinning = pin(args, this_process="client", client_threads=args.threads)
    print(f"rest_bench: Python {platform.python_version()}, {os.cpu_count()} CPUs; {pinning.note}")
    print(
        f"wrk: {wrk_version(wrk)}; -t{args.threads} -c{args.connections} -d{args.duration:g}s; logs in {log_dir}"
    )
    ratios: list[float] = []
    runs: dict[str, list[float]] = {"simtim": [], "echo": []}
    try:
        for round_ in range(args.repeat):
            order = ["simtim", "echo"] if round_ % 2 == 0 else ["echo", "simtim"]
            got: dict[str, float] = {}
            for target in order:
                if target == "simtim":
                    server = simtim_serve(pinning, log_dir / f"simtim-{round_}.log", admin_key=ADMIN_KEY)
                    query = prepare_simtim(server)
                else:
                    server = echo_app(pinning, log_dir / f"echo-{round_}.log")
                    query = rest_query(int(time.time()))
                try:
                    run = one_run(args, pinning, wrk, server, query, f"{target}-{round_}", log_dir)
                finally:
                    server.stop()
                got[target] = run.rps
                runs[target].append(run.rps)
                print(
                    f"round {round_ + 1} {target:>6}: {run.rps:9.0f} req/s  p50 {run.p50_ms:6.2f} ms  "
                    f"p99 {run.p99_ms:6.2f} ms  server CPU {run.server_cpu:4.0%}  wrk CPU {run.client_cpu:4.0%}"
                    + ("  (INVALID: wrk saturated)" if run.saturated else "")
                )
            ratios.append(got["simtim"] / got["echo"])
            print(f"round {round_ + 1} ratio simtim/echo = {ratios[-1]:.3f}")
    except BenchError as exc:
        print(f"rest_bench: harness error: {exc}", file=sys.stderr)
        return 1
    print(
        f"\nREST sendmsg / echo: median ratio {median(ratios):.3f} over {len(ratios)} rounds "
        f"({', '.join(f'{r:.3f}' for r in ratios)}); medians {median(runs['simtim']):.0f} vs "
        f"{median(runs['echo']):.0f} req/s; target >= 0.5"
    )
    per_round = ", ".join(f"{r:.2f}" for r in ratios)
    metric = Metric(
        "REST sendmsg req/s ÷ uvicorn echo, same wrk",
        median(runs["simtim"]),
        median(runs["echo"]),
        ">= 0.5",
        "req/s",
        f"ratio = median of per-round ratios ({per_round})",
        median(ratios),
    )
    write_metrics(args.json, [metric])
    return 0


if __name__ == "__main__":
    sys.exit(main())
