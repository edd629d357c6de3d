#!/usr/bin/env python3
"""Group send over the wire: deliveries per second received by 500 online WebSocket members.

    python benchmarks/group_push_bench.py [--members 500] [--readers 2] [--seconds 8] [--repeat 3]
    python benchmarks/group_push_bench.py --group-type AVChatRoom     # one frame per member, no conversation

Issue 16 asks ``simtim serve`` to deliver >= 50,000 group messages per second to 500 online
members over their event sockets.  Each round starts a fresh ``simtim serve`` (pinned to
``--server-core``), raises the dev app's MSG-7 group rate limit (40/s, TIM's) through the admin API
since this measures the server, not the limit, logs ``host`` and ``--members`` members in
(shortcut login), creates a ``--group-type`` group (Public by default: a normal group, so every
member also gets an ``onConversationListUpdated`` frame with its unread count per message) and adds
the members (admin ``addGroupMember``; AVChatRoom members join themselves).  Then ``--readers``
processes (``group_push_reader.py``: gevent; websocket-client for the handshake, then its own frame
parser, one ``recv`` per chunk of frames) open every member's ``GET /v1/events?token=...`` on
``--client-core``.

One sender here (on the server's core: it is a few percent of it) posts the group messages one at a
time over a keep-alive connection, each carrying its sequence number as its text, as fast as the
server answers, but never more than ``--window`` messages ahead of the slowest socket (so no
per-instance event queue, 1,000 frames by default, can overflow and drop: a loss would be the
bench's doing, not the server's).  Deliveries per second = bench messages received over all
sockets in the ``--seconds`` after ``--warmup``.  Afterwards every socket must have received every
message exactly once and in order, else the round is ``CHECK FAILED``.

Printed per round: deliveries/s, messages/s, server CPU and run-queue wait, the readers' CPU (a
share of their one core: near 100% means the readers, not the server, set the pace), and the
checks; then the median over rounds.  Exit 0 whatever the numbers, 1 on a harness error.
"""

from __future__ import annotations

import argparse
import http.client
import mmap
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import orjson
from benchlib import (
    BenchError,
    Metric,
    Pinning,
    ServerProcess,
    add_pinning_arguments,
    load_average,
    machine_note,
    pct,
    pin,
    proc_cpu,
    raise_nofile,
    simtim_serve,
    write_metrics,
)
from group_push_reader import SLOT

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from simtim.limits import ADD_MEMBER_MAX  # noqa: E402
from simtim.model.core import DEV_SDKAPPID, DEV_SECRET_KEY  # noqa: E402
from simtim.usersig import gen_usersig  # noqa: E402

READER = Path(__file__).resolve().parent / "group_push_reader.py"
ADMIN_KEY = "group-push-bench"
GOAL = 50_000
SATURATED = 0.90
METRIC = "500 online WebSocket members, group send over the wire: deliveries/s received"


@dataclass
class Round:
    deliveries_per_s: float
    messages_per_s: float
    server_cpu: float
    server_wait: float
    readers_cpu: float  # share of the readers' one core, summed over reader processes
    sent: int
    notes: list[str] = field(default_factory=list)

    @property
    def server_us(self) -> float:
        """Server CPU microseconds per delivery: the figure a starved server does not distort."""
        return 1e6 * self.server_cpu / self.deliveries_per_s if self.deliveries_per_s else float("nan")

    @property
    def capacity(self) -> float:
        """Deliveries per second one whole core would give at this cost."""
        return 1e6 / self.server_us


def sign_in(server: ServerProcess, conn: http.client.HTTPConnection, user_id: str) -> str:
    sig = gen_usersig(DEV_SDKAPPID, DEV_SECRET_KEY, user_id, 86400, now=int(time.time()))
    data = server.post("/v1/login", {"SDKAppID": DEV_SDKAPPID, "userID": user_id, "userSig": sig}, conn=conn)
    token: str = data["token"]
    return token


def set_up(server: ServerProcess, args: argparse.Namespace) -> tuple[str, str, list[str]]:
    """The group and its online members (no socket open yet): (host token, groupID, member tokens)."""
    server.post(
        "/admin/v1/configureApp",
        {"SDKAppID": DEV_SDKAPPID, "groupMessageRatePerSecond": 1_000_000_000},
    )
    conn = http.client.HTTPConnection(server.host, server.port, timeout=30)
    try:
        host = sign_in(server, conn, "host")
        members = [f"m{i}" for i in range(args.members)]
        tokens = [sign_in(server, conn, user) for user in members]
        group = server.post("/v1/createGroup", {"name": "push", "type": args.group_type}, host, conn=conn)
        group_id: str = group["group"]["groupID"]
        if args.group_type == "AVChatRoom":  # members join themselves; the owner too
            for token in [host, *tokens]:
                server.post("/v1/joinGroup", {"groupID": group_id, "type": "AVChatRoom"}, token, conn=conn)
        else:
            for start in range(0, len(members), ADD_MEMBER_MAX):
                server.post(
                    "/admin/v1/addGroupMember",
                    {
                        "SDKAppID": DEV_SDKAPPID,
                        "groupID": group_id,
                        "userIDList": members[start : start + ADD_MEMBER_MAX],
                    },
                    conn=conn,
                )
    finally:
        conn.close()
    return host, group_id, tokens


class Readers:
    """The reader processes and the counter file they share with this one."""

    def __init__(
        self,
        args: argparse.Namespace,
        pinning: Pinning,
        server: ServerProcess,
        tokens: list[str],
        log_dir: Path,
        label: str,
    ) -> None:
        self.count = max(1, min(args.readers, len(tokens)))
        self.shared_path = log_dir / f"{label}-counters.bin"
        self.shared_path.write_bytes(bytes(SLOT.size * self.count))
        self._file = open(self.shared_path, "r+b")  # noqa: SIM115  (closed in stop())
        self.shared = mmap.mmap(self._file.fileno(), 0)
        self.outs = [log_dir / f"{label}-reader{k}.json" for k in range(self.count)]
        self.expected = [tokens[k :: self.count] for k in range(self.count)]
        self.procs: list[subprocess.Popen[bytes]] = []
        for k, share in enumerate(self.expected):
            token_file = log_dir / f"{label}-reader{k}-tokens.json"
            token_file.write_bytes(orjson.dumps(share))
            with open(log_dir / f"{label}-reader{k}.log", "wb") as log:
                self.procs.append(
                    subprocess.Popen(
                        [
                            *pinning.client,
                            sys.executable,
                            str(READER),
                            "--url",
                            f"ws://{server.host}:{server.port}",
                            "--tokens",
                            str(token_file),
                            "--shared",
                            str(self.shared_path),
                            "--slot",
                            str(k),
                            "--out",
                            str(self.outs[k]),
                        ],
                        stdout=log,
                        stderr=subprocess.STDOUT,
                        stdin=subprocess.DEVNULL,
                        preexec_fn=raise_nofile,
                    )
                )

    def slots(self) -> list[tuple[int, int, int, int]]:
        return [SLOT.unpack_from(self.shared, k * SLOT.size) for k in range(self.count)]

    def wait_open(self, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if all(s[0] == len(share) for s, share in zip(self.slots(), self.expected, strict=True)):
                return
            if any(p.poll() is not None for p in self.procs):
                break
            time.sleep(0.05)
        raise BenchError(
            f"readers did not open their sockets: {self.slots()} (logs beside {self.shared_path})"
        )

    def delivered(self) -> int:
        return sum(s[1] for s in self.slots())

    def lowest(self) -> int:
        return min(s[2] for s in self.slots())

    def cpu(self) -> float:
        return sum(proc_cpu(p.pid) for p in self.procs)

    def stop(self) -> list[dict[str, Any]]:
        """Ask every reader to stop; their per-socket rows."""
        for k in range(self.count):
            SLOT.pack_into(self.shared, k * SLOT.size, *self.slots()[k][:3], 1)
        rows: list[dict[str, Any]] = []
        for proc, out in zip(self.procs, self.outs, strict=True):
            try:
                proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
            if out.exists():
                rows += orjson.loads(out.read_bytes())["sockets"]
        self.shared.close()
        self._file.close()
        return rows


def one_round(args: argparse.Namespace, pinning: Pinning, log_dir: Path, label: str) -> Round:
    server = simtim_serve(pinning, log_dir / f"{label}-server.log", admin_key=ADMIN_KEY)
    readers: Readers | None = None
    try:
        host, group_id, tokens = set_up(server, args)
        readers = Readers(args, pinning, server, tokens, log_dir, label)
        readers.wait_open(60)
        conn = http.client.HTTPConnection(server.host, server.port, timeout=30)
        headers = {"Content-Type": "application/json", "Authorization": f"Bearer {host}"}
        sent = 0
        refused: list[str] = []
        behind_waits = 0
        began = time.perf_counter()
        t0 = began + args.warmup
        t1 = t0 + args.seconds
        sample0: tuple[float, int, float, float, float] | None = None
        while True:
            now = time.perf_counter()
            if sample0 is None and now >= t0:
                sample0 = (
                    now,
                    readers.delivered(),
                    server.cpu_seconds(),
                    server.runqueue_wait(),
                    readers.cpu(),
                )
            if now >= t1:
                break
            if sent - readers.lowest() > args.window:
                behind_waits += 1
                time.sleep(0.0005)
                continue
            body = {
                "message": {
                    "to": group_id,
                    "conversationType": "GROUP",
                    "type": "TIMTextElem",
                    "payload": {"text": f"gp{sent}"},
                }
            }
            conn.request("POST", "/v1/sendMessage", orjson.dumps(body), headers)
            raw = conn.getresponse().read()
            if not raw.startswith(b'{"code":0,'):
                refused.append(raw[:160].decode(errors="replace"))
                break  # the sequence must stay gap-free
            sent += 1
        end = time.perf_counter()
        sample1 = (end, readers.delivered(), server.cpu_seconds(), server.runqueue_wait(), readers.cpu())
        conn.close()
        expected = sent * len(tokens)
        deadline = time.monotonic() + 15
        while readers.delivered() < expected and time.monotonic() < deadline:
            time.sleep(0.02)
        rows = readers.stop()
        readers = None
    finally:
        if readers is not None:
            readers.stop()
        server.stop()
    if sample0 is None:
        raise BenchError("the warm-up took the whole run")
    wall = sample1[0] - sample0[0]
    result = Round(
        deliveries_per_s=(sample1[1] - sample0[1]) / wall,
        messages_per_s=0.0,
        server_cpu=(sample1[2] - sample0[2]) / wall,
        server_wait=(sample1[3] - sample0[3]) / wall,
        readers_cpu=(sample1[4] - sample0[4]) / wall,
        sent=sent,
    )
    result.messages_per_s = result.deliveries_per_s / len(tokens)
    if refused:
        result.notes.append(f"CHECK FAILED: a send was refused: {refused[0]}")
    short = [r for r in rows if r["count"] != sent or r["last"] != sent - 1 or r["bad"]]
    if len(rows) != len(tokens) or short:
        example = short[0] if short else {}
        result.notes.append(
            f"CHECK FAILED: {len(short)} of {len(rows)} sockets (of {len(tokens)}) did not get all {sent} "
            f"messages once and in order, e.g. {example}"
        )
    if result.readers_cpu >= SATURATED * pinning.client_cores:
        result.notes.append("readers saturated (the client set the pace)")
    if behind_waits:
        result.notes.append(f"sender waited {behind_waits}x for the window")
    return result


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__.split("\n\n")[0], formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--members", type=int, default=500, help="online members, one event socket each")
    parser.add_argument("--readers", type=int, default=2, help="reader processes (default 2)")
    parser.add_argument(
        "--group-type", default="Public", choices=("Public", "Private", "ChatRoom", "AVChatRoom")
    )
    parser.add_argument("--seconds", type=float, default=8.0, help="measured window (default 8)")
    parser.add_argument("--warmup", type=float, default=2.0, help="sending before the window (default 2)")
    parser.add_argument(
        "--window", type=int, default=200, help="messages the sender may be ahead of the slowest socket"
    )
    parser.add_argument("--repeat", type=int, default=3, help="rounds, each on a fresh server (default 3)")
    add_pinning_arguments(parser)
    parser.add_argument("--json", type=Path, default=None, help="write the headline metric here (run_all.py)")
    parser.add_argument("--log-dir", type=Path, default=None, help="logs (default: a new temp dir)")
    args = parser.parse_args(argv)
    log_dir = args.log_dir or Path(tempfile.mkdtemp(prefix="group_push_bench-"))
    log_dir.mkdir(parents=True, exist_ok=True)
    pinning = pin(args, this_process="server", client_threads=args.readers)
    print(f"group_push_bench: {machine_note()}; {pinning.note}; logs in {log_dir}")
    print(
        f"\n== {args.members} members of a {args.group_type} group online with an event socket each, "
        f"{args.readers} reader process(es); one sender, at most {args.window} messages ahead of the "
        f"slowest socket; window {args.seconds:g} s after {args.warmup:g} s, {args.repeat} rounds =="
    )
    print(
        f"{'round':>5}  {'deliveries/s':>12} {'msgs/s':>7}  {'srv CPU':>7} {'srv wait':>8}  "
        f"{'srv µs/deliv':>12} {'readers CPU':>11}  {'sent':>6}  notes"
    )
    rounds: list[Round] = []
    try:
        for round_no in range(1, args.repeat + 1):
            r = one_round(args, pinning, log_dir, f"round{round_no}")
            rounds.append(r)
            print(
                f"{round_no:>5}  {r.deliveries_per_s:>12,.0f} {r.messages_per_s:>7,.0f}  {pct(r.server_cpu):>7} "
                f"{pct(r.server_wait):>8}  {r.server_us:>12.1f} {pct(r.readers_cpu):>11}  {r.sent:>6}  {'; '.join(r.notes)}",
                flush=True,
            )
    except BenchError as exc:
        print(f"\ngroup_push_bench: harness error: {exc}", file=sys.stderr)
        return 1
    deliveries = statistics.median(r.deliveries_per_s for r in rounds)
    failed = sum(any(n.startswith("CHECK FAILED") for n in r.notes) for r in rounds)
    print(
        f"\nmedian deliveries/s {deliveries:,.0f} over {len(rounds)} rounds "
        f"[{', '.join(f'{r.deliveries_per_s:,.0f}' for r in rounds)}]; goal >= {GOAL:,}: "
        f"{'MET' if deliveries >= GOAL else 'MISSED'}; {failed} round(s) failed their checks; "
        f"load average now {load_average()}"
    )
    capacity = statistics.median(r.capacity for r in rounds)
    print(
        f"CPU-normalised: median {statistics.median(r.server_us for r in rounds):.1f} server µs per delivery, "
        f"{capacity:,.0f} deliveries/s on a whole core (the steadier figure when srv CPU is well under 100%)"
    )
    note = (
        f"{args.group_type} group; {capacity:,.0f}/s per server CPU-second; server CPU {pct(statistics.median(r.server_cpu for r in rounds))}, "
        f"readers CPU {pct(statistics.median(r.readers_cpu for r in rounds))} ({args.readers} processes, one core); "
        f"per-round {', '.join(f'{r.deliveries_per_s:,.0f}' for r in rounds)}"
        + (
            f"; {failed} round(s) CHECK FAILED"
            if failed
            else "; every socket got every message once, in order"
        )
    )
    metric = Metric(METRIC, deliveries, None, f">= {GOAL}", "/s", note)
    write_metrics(args.json, [metric] if not failed else [Metric(METRIC, float("nan"), note=note)])
    return 0


if __name__ == "__main__":
    sys.exit(main())
