"""C2C sendMessage throughput of ``simtim serve --data DIR`` against the in-memory server, side by side.

    python benchmarks/journal_bench.py                 # 3 rounds, 8 s timed runs, wrk -t1 -c32
    python benchmarks/journal_bench.py --repeat 5 --duration 10
    python benchmarks/journal_bench.py --no-throughput --restart-messages 100000   # start-up time only

Both servers are driven by the same wrk and script as server_bench.py (``benchmarks/wrk/
send_message.lua``: C2C text messages from one logged-in instance, a fresh ``random`` each, so MSG-6
dedup never answers from the store), same threads, connections and duration, in alternating order
round by round, each on a fresh server (a fresh, empty data directory for the journaled one).  Each
round prints both req/s and their ratio; the headline is the median of the per-round ratios
(issue 15: journaled / in-memory >= 0.8).  After each journaled run the bench checks what the
promise says: the journal holds at least as many sendMessage entries as the server stored
messages (a message stored but not journaled would be lost at a restart).

The restart part (``--restart-messages N``, default 100,000) writes a journal of N C2C sends between
four users, then times ``simtim serve --data DIR`` from launch to its "listening on" line, twice: with
no snapshot (the whole journal replayed) and with a snapshot at the journal's end (issue 15: a
100k-message journal restarts in <= 5 s).

Exit 0 whatever the numbers, 2 when wrk is not installed, 1 when the harness fails.
"""

from __future__ import annotations

import argparse
import os
import shutil
import sqlite3
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))  # benchmark this checkout, not some installed copy

from benchlib import (  # noqa: E402
    BenchError,
    Metric,
    Pinning,
    add_wrk_arguments,
    pin,
    ratio_table,
    simtim_serve,
    write_metrics,
)
from benchlib import ServerProcess as Server  # noqa: E402
from server_bench import ADMIN_KEY, WRK_INSTALL, WrkRun, prepare, run_wrk, stored_messages  # noqa: E402

from simtim.durable import snapshot  # noqa: E402
from simtim.durable.entries import encode  # noqa: E402
from simtim.durable.journal import JOURNAL_FILE, Journal  # noqa: E402
from simtim.durable.recovery import fresh_config, open_durable  # noqa: E402
from simtim.model.core import DEV_SDKAPPID, DEV_SECRET_KEY  # noqa: E402
from simtim.usersig import gen_usersig  # noqa: E402

RATIO_TARGET = 0.8  # issue 15
RESTART_TARGET_SECONDS = 5.0  # issue 15, for 100k messages
USERS = ("alice", "bob", "carol", "dave")


def journaled_sends(directory: Path) -> int:
    """sendMessage entries committed in a journal (read while the server runs: WAL readers are fine)."""
    conn = sqlite3.connect(f"file:{directory / JOURNAL_FILE}?mode=ro", uri=True)
    try:
        blobs = conn.execute("SELECT entries FROM batches").fetchall()
    finally:
        conn.close()
    return sum(blob.count(b',"sendMessage",') for (blob,) in blobs)


def one_run(
    args: argparse.Namespace, pinning: Pinning, wrk: str, log_dir: Path, label: str, data: Path | None
) -> WrkRun:
    extra = ["--data", str(data)] if data is not None else []
    server: Server = simtim_serve(pinning, log_dir / f"{label}.log", admin_key=ADMIN_KEY, extra=extra)
    try:
        token = prepare("simtim", server)
        check = run_wrk(
            args, pinning, wrk, server, token, args.check_seconds, True, log_dir / f"{label}-check.log"
        )
        if check.bad or check.non_2xx or check.errors:
            raise BenchError(f"{label}: {check.bad} bad replies, {check.non_2xx} non-2xx: {check.first_bad}")
        timed = run_wrk(
            args, pinning, wrk, server, token, args.duration, False, log_dir / f"{label}-timed.log"
        )
        if data is not None:
            stored, journaled = stored_messages(server), journaled_sends(data)
            if journaled < stored:
                raise BenchError(f"{label}: {stored} messages stored but only {journaled} sends journaled")
    finally:
        server.stop()
    return timed


def write_journal(directory: Path, messages: int) -> None:
    """A journal as a server would have written it: four logins, then ``messages`` C2C sends."""
    journal = Journal(directory)
    journal.set_meta("server", fresh_config(False, None, 15).to_json())
    start = int(time.time()) - messages // 1000 - 60
    batch = []
    for user in USERS:
        sig = gen_usersig(DEV_SDKAPPID, DEV_SECRET_KEY, user, 30 * 86400, now=start)
        batch.append(
            [
                "v1",
                start,
                "login",
                None,
                {"SDKAppID": DEV_SDKAPPID, "userID": user, "userSig": sig},
                f"t-{user}",
            ]
        )
    for i in range(messages):
        sender, to = USERS[i % 4], USERS[(i + 1) % 4]
        body = {
            "message": {
                "to": to,
                "conversationType": "C2C",
                "type": "TIMTextElem",
                "payload": {"text": f"journal bench message {i}"},
                "random": i,
            }
        }
        batch.append(["v1", start + i // 1000, "sendMessage", f"t-{sender}", body, None])
        if len(batch) >= 10_000:
            journal.append([encode(entry) for entry in batch])
            batch = []
    journal.append([encode(entry) for entry in batch])
    journal.close()


def time_start(pinning: Pinning, log_dir: Path, directory: Path, label: str) -> tuple[float, str]:
    """Seconds from launching ``simtim serve --data`` to its "listening on" line; its replay line."""
    began = time.perf_counter()
    server = simtim_serve(
        pinning, log_dir / f"{label}.log", admin_key=ADMIN_KEY, extra=["--data", str(directory)]
    )
    seconds = time.perf_counter() - began
    try:
        stored = stored_messages(server)
    finally:
        server.stop()
    replay = next((x for x in server.log_path.read_text().splitlines() if "replayed" in x), "")
    return seconds, f"{stored:,} messages; {replay.removeprefix('simtim serve: INFO ')}"


def restart_part(args: argparse.Namespace, pinning: Pinning, log_dir: Path) -> list[Metric]:
    n = args.restart_messages
    print(f"\n== restart of a journal of {n:,} C2C messages: launch -> 'listening on' ==")
    directory = Path(tempfile.mkdtemp(prefix="journal_bench-restart-", dir=log_dir))
    began = time.perf_counter()
    write_journal(directory, n)
    print(
        f"journal written in {time.perf_counter() - began:.1f} s ({(directory / JOURNAL_FILE).stat().st_size / 1e6:.1f} MB)"
    )
    full, note = time_start(pinning, log_dir, directory, "restart-full")
    print(f"no snapshot (whole journal replayed): {full:.2f} s  [{note}]")
    recovered = open_durable(directory, fake_clock=None, clock_start=None, seed=None)
    snapshot.write(directory, recovered.service, recovered.journal.last_seq, snapshot.code_fingerprint())
    recovered.journal.close()
    snap, note = time_start(pinning, log_dir, directory, "restart-snapshot")
    print(f"from a snapshot at the journal's end:  {snap:.2f} s  [{note}]")
    return [
        Metric(
            "start-up of a journal, whole replay",
            full,
            None,
            f"<= {RESTART_TARGET_SECONDS}",
            "s",
            f"{n:,} messages",
        ),
        Metric(
            "start-up of a journal, from a snapshot",
            snap,
            None,
            f"<= {RESTART_TARGET_SECONDS}",
            "s",
            f"{n:,} messages",
        ),
    ]


def throughput_part(args: argparse.Namespace, pinning: Pinning, wrk: str, log_dir: Path) -> list[Metric]:
    print(
        f"\n== wrk -t{args.threads} -c{args.connections}, {args.duration:g} s timed runs, C2C sendMessage =="
    )
    print(
        f"{'round':>5} {'in-memory req/s':>16} {'--data req/s':>13} {'ratio':>6}  "
        f"{'server µs/req (mem / data)':>27} {'CPU ratio':>9}  p99 ms (mem / data)"
    )
    ratios: list[float] = []
    cpu_ratios: list[float] = []  # in-memory server CPU per request / journaled: robust to a busy machine
    memory_rps: list[float] = []
    journal_rps: list[float] = []
    began = time.monotonic()
    for round_no in range(1, args.repeat + 1):
        runs: dict[str, WrkRun] = {}
        order = ("memory", "data") if round_no % 2 else ("data", "memory")
        for kind in order:
            data = (
                Path(tempfile.mkdtemp(prefix="journal_bench-data-", dir=log_dir)) if kind == "data" else None
            )
            runs[kind] = one_run(args, pinning, wrk, log_dir, f"r{round_no}-{kind}", data)
        mem, dur = runs["memory"], runs["data"]
        ratios.append(dur.rps / mem.rps)
        cpu_ratios.append(mem.server_us / dur.server_us)
        memory_rps.append(mem.rps)
        journal_rps.append(dur.rps)
        print(
            f"{round_no:>5} {mem.rps:>16,.0f} {dur.rps:>13,.0f} {ratios[-1]:>6.2f}  "
            f"{mem.server_us:>13.0f} / {dur.server_us:<11.0f} {cpu_ratios[-1]:>9.2f}  "
            f"{mem.p99_ms:.1f} / {dur.p99_ms:.1f}"
        )
    median_ratio = statistics.median(ratios)
    print(
        f"median of {len(ratios)} rounds: in-memory {statistics.median(memory_rps):,.0f} req/s, "
        f"--data {statistics.median(journal_rps):,.0f} req/s; median ratio {median_ratio:.2f} "
        f"(goal >= {RATIO_TARGET}); median CPU-per-request ratio {statistics.median(cpu_ratios):.2f}; "
        f"done in {time.monotonic() - began:.0f} s"
    )
    return [
        Metric(
            "journaled sendMessage req/s ÷ in-memory, same wrk",
            statistics.median(journal_rps),
            statistics.median(memory_rps),
            f">= {RATIO_TARGET}",
            "req/s",
            f"median of {len(ratios)} per-round ratios: {median_ratio:.2f}",
        )
    ]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__.split("\n\n")[0], formatter_class=argparse.RawDescriptionHelpFormatter
    )
    add_wrk_arguments(parser, "in-memory + journaled")
    parser.add_argument("--no-throughput", action="store_true", help="skip the wrk part")
    parser.add_argument(
        "--restart-messages", type=int, default=100_000, help="journal size of the restart part"
    )
    parser.add_argument("--no-restart", action="store_true", help="skip the restart part")
    parser.add_argument("--server-core", type=int, default=0)
    parser.add_argument("--client-core", type=int, default=1)
    parser.add_argument("--no-pin", action="store_true", help="do not pin processes to cores")
    parser.add_argument("--json", type=Path, default=None, help="write the headline metric here (run_all.py)")
    parser.add_argument(
        "--log-dir", type=Path, default=None, help="server and wrk logs (default: a temp dir)"
    )
    args = parser.parse_args(argv)

    wrk = shutil.which("wrk")
    if wrk is None and not args.no_throughput:
        print(f"journal_bench: wrk is not installed; install it with:\n    {WRK_INSTALL}", file=sys.stderr)
        return 2
    log_dir = args.log_dir or Path(tempfile.mkdtemp(prefix="journal_bench-"))
    log_dir.mkdir(parents=True, exist_ok=True)
    pinning = pin(args, this_process="client", client_threads=args.threads)
    load = " ".join(f"{x:.2f}" for x in os.getloadavg())
    print(f"journal_bench: {pinning.note}; load average {load}; logs in {log_dir}")
    metrics: list[Metric] = []
    try:
        if not args.no_throughput:
            assert wrk is not None
            metrics += throughput_part(args, pinning, wrk, log_dir)
        if not args.no_restart:
            metrics += restart_part(args, pinning, log_dir)
    except BenchError as exc:
        print(f"\njournal_bench: harness error: {exc}", file=sys.stderr)
        return 1
    print()
    ratio_table(metrics)
    write_metrics(args.json, metrics)
    return 0


if __name__ == "__main__":
    sys.exit(main())
