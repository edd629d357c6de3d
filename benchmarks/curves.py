#!/usr/bin/env python3
"""Cost curves: how the model's and the server's costs grow with the work they hold.

    python benchmarks/curves.py [--quick] [--out docs/performance]

Five curves, each printed as a small table and, when matplotlib is installed (``pip install
'.[bench]'``), drawn as a PNG next to ``--out``:

1. send cost vs stored history: µs per C2C sendMessage after 1k … 300k stored messages (flat is
   the goal: nothing per send may scan the history);
2. fan-out vs group size: µs per group send and per delivery, 10 … 6,000 online members (linear in
   members, flat per delivery);
3. paging vs history depth: µs per getMessageList page (15) of the newest messages and of a page
   in the middle (cursor), 1k … 300k messages in the conversation (flat);
4. conversation list vs conversation count: µs per getConversationList for 10 … 5,000
   conversations (the list is capped at ``conversationListMax``, so the cost must not follow the
   count beyond it);
5. server memory vs idle WebSocket connections: ``simtim serve`` VmRSS with 0 … 2,000 logged-in
   instances holding an open event socket (the slope is the per-connection cost).

Model curves run in this process pinned to one core, with the garbage-collector policy the server
and the Locust processes use (``simtim/gc_policy.py``); each point is the median of 3 timed batches.
The machine is shared: read the shape of a curve (its ratios between points), not one absolute value.
"""

from __future__ import annotations

import argparse
import gc
import http.client
import statistics
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

import orjson  # noqa: E402
import websocket  # noqa: E402
from benchlib import BenchError, machine_note, pin_to_one_core, raise_nofile, status_kb, table  # noqa: E402
from model_bench import login, new_world, text_message  # noqa: E402

from simtim.gc_policy import keep_long_lived_state_cheap  # noqa: E402
from simtim.model.core import DEV_SDKAPPID, DEV_SECRET_KEY  # noqa: E402
from simtim.usersig import gen_usersig  # noqa: E402

Row = tuple[float, ...]


def timed(op: Callable[[], Any], count: int, batches: int = 3) -> float:
    """Median µs per call over ``batches`` batches of ``count`` calls."""
    per_call = []
    for _ in range(batches):
        start = time.perf_counter()
        for _ in range(count):
            op()
        per_call.append((time.perf_counter() - start) / count * 1e6)
    return statistics.median(per_call)


# --- 1. send cost vs stored history -------------------------------------------------------------
def send_vs_history(levels: Sequence[int]) -> list[Row]:
    world, clock = new_world()
    alice, _bob = login(world, clock, "alice"), login(world, clock, "bob")
    body = text_message("bob", "hello")
    call = world.call
    rows: list[Row] = []
    stored = 0
    for level in levels:
        while stored < level:
            call(alice, "sendMessage", body)
            stored += 1
            if stored % 30 == 0:
                clock.advance(1)  # MSG-7 is group-only; time moves for realism

        def op() -> None:
            if call(alice, "sendMessage", body).data.get("message") is None:
                raise BenchError("send refused")

        rows.append((level, timed(op, 2000)))
        stored += 6000
    return rows


# --- 2. fan-out vs group size ---------------------------------------------------------------------
def fanout_vs_members(sizes: Sequence[int]) -> list[Row]:
    rows: list[Row] = []
    for size in sizes:
        world, clock = new_world()
        names = [f"m{i:05d}" for i in range(size)]
        instances = [login(world, clock, name) for name in names]
        created = world.call(
            instances[0],
            "createGroup",
            {"name": "big", "type": "Public", "maxMemberNum": max(size, 2)},
        )
        if created.data.get("group") is None:
            raise BenchError(f"createGroup refused: {created.data}")
        group_id = created.data["group"]["groupID"]
        for start in range(1, size, 500):
            world.admin_add_group_member(DEV_SDKAPPID, group_id, names[start : start + 500])
        opts = text_message(group_id, "hello, everyone", "GROUP")
        sender = instances[0]

        def op(world: Any = world, clock: Any = clock, sender: int = sender, opts: Any = opts) -> None:
            clock.advance(1)  # MSG-7's 40/s control never engages
            world.call(sender, "sendMessage", opts)

        delivered = sum(
            1 for e in world.call(sender, "sendMessage", opts).events if e.name == "onMessageReceived"
        )
        if delivered < size - 1:
            raise BenchError(f"a group send reached {delivered} of {size - 1} members")
        per_send = timed(op, max(3, 20_000 // size))
        rows.append((size, per_send, per_send / max(1, size - 1)))
        del world, op
        gc.collect()
    return rows


# --- 3. paging vs history depth ---------------------------------------------------------------------
def paging_vs_depth(levels: Sequence[int]) -> list[Row]:
    world, clock = new_world()
    alice, bob = login(world, clock, "alice"), login(world, clock, "bob")
    body = text_message("bob", "history")
    rows: list[Row] = []
    stored = 0
    for level in levels:
        while stored < level:
            world.call(alice, "sendMessage", body)
            stored += 1
            if stored % 50 == 0:
                clock.advance(1)
        newest = world.call(bob, "getMessageList", {"conversationID": "C2Calice"})
        cursor = newest.data["nextReqMessageID"]
        for _ in range(level // 15 // 2):  # walk to the middle once, then time that page
            page = world.call(
                bob, "getMessageList", {"conversationID": "C2Calice", "nextReqMessageID": cursor}
            )
            if page.data.get("isCompleted"):
                break
            cursor = page.data["nextReqMessageID"]
        middle = {"conversationID": "C2Calice", "nextReqMessageID": cursor}
        rows.append(
            (
                level,
                timed(lambda: world.call(bob, "getMessageList", {"conversationID": "C2Calice"}), 2000),
                timed(lambda middle=middle: world.call(bob, "getMessageList", middle), 2000),
            )
        )
    return rows


# --- 4. conversation list vs conversation count -------------------------------------------------------
def conversations_vs_count(levels: Sequence[int]) -> list[Row]:
    world, clock = new_world()
    reader = login(world, clock, "reader")
    rows: list[Row] = []
    made = 0
    for level in levels:
        while made < level:
            peer = login(world, clock, f"p{made:05d}")
            world.call(peer, "sendMessage", text_message("reader", "hi"))
            world.call(peer, "destroy", {})
            made += 1
        rows.append((level, timed(lambda: world.call(reader, "getConversationList", {}), 500)))
    return rows


# --- 5. server memory vs idle event sockets ------------------------------------------------------------
def memory_vs_connections(levels: Sequence[int], log_dir: Path) -> list[Row]:
    from benchlib import Pinning, simtim_serve

    raise_nofile()
    server = simtim_serve(Pinning([], [], 1, ""), log_dir / "curves-serve.log", admin_key="curves")
    sockets: list[Any] = []
    rows: list[Row] = []
    conn = http.client.HTTPConnection(server.host, server.port, timeout=10)
    try:
        now = server.now()
        for level in levels:
            while len(sockets) < level:
                user = f"idle{len(sockets):05d}"
                sig = gen_usersig(DEV_SDKAPPID, DEV_SECRET_KEY, user, 86400, now=now)
                body = {"SDKAppID": DEV_SDKAPPID, "userID": user, "userSig": sig, "platform": "web"}
                conn.request("POST", "/v1/login", orjson.dumps(body), {"Content-Type": "application/json"})
                token = orjson.loads(conn.getresponse().read())["data"]["token"]
                sockets.append(
                    websocket.create_connection(f"ws://{server.host}:{server.port}/v1/events?token={token}")
                )
            time.sleep(0.5)
            rows.append((level, status_kb(server.pid) / 1024))
    finally:
        for ws in sockets:
            ws.close()
        conn.close()
        server.stop()
    return rows


# --- output ---------------------------------------------------------------------------------------------
CURVES: dict[str, tuple[str, tuple[str, ...], str]] = {
    "send_vs_history": ("C2C send cost vs stored history", ("stored messages", "µs per send"), "flat"),
    "fanout_vs_members": (
        "group send cost vs online members",
        ("members", "µs per send", "µs per delivery"),
        "per send linear, per delivery flat",
    ),
    "paging_vs_depth": (
        "getMessageList (15) cost vs conversation depth",
        ("messages in the conversation", "µs newest page", "µs middle page"),
        "flat",
    ),
    "conversations_vs_count": (
        "getConversationList cost vs conversations",
        ("conversations", "µs per list"),
        "flat past the list cap",
    ),
    "memory_vs_connections": (
        "simtim serve RSS vs idle event sockets",
        ("connections", "server RSS MB"),
        "linear; slope = KB per connection",
    ),
}


def show(name: str, rows: list[Row]) -> list[str]:
    title, columns, goal = CURVES[name]
    print(f"\n== {title} (goal: {goal})")
    cells = [tuple(f"{v:,.0f}" if i == 0 else f"{v:,.2f}" for i, v in enumerate(row)) for row in rows]
    table(columns, cells, right=set(range(len(columns))))
    lines = [
        f"### {title}",
        "",
        f"Goal: {goal}.",
        "",
        "| " + " | ".join(columns) + " |",
        "|" + "---|" * len(columns),
    ]
    lines += ["| " + " | ".join(cell) + " |" for cell in cells]
    return lines


def slope_note(name: str, rows: list[Row]) -> str:
    if len(rows) < 2:
        return ""
    first, last = rows[0], rows[-1]
    if name == "memory_vs_connections":
        per = (last[1] - first[1]) * 1024 / max(1, last[0] - first[0])
        return f"{per:.1f} KB per connection ({first[0]:,.0f} → {last[0]:,.0f})"
    column = 2 if name == "fanout_vs_members" else 1
    return (
        f"last ÷ first = {last[column] / first[column]:.2f} over a {last[0] / first[0]:,.0f}× larger workload"
    )


def plot(name: str, rows: list[Row], out: Path) -> Path | None:
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        return None
    title, columns, _goal = CURVES[name]
    fig, ax = plt.subplots(figsize=(5.5, 3.4), dpi=110)
    xs = [r[0] for r in rows]
    axes = [ax]
    for index, label in enumerate(columns[1:], start=1):
        ys = [r[index] for r in rows]
        # a series an order of magnitude smaller than the first gets its own axis, or it lies flat on 0
        if index > 1 and max(ys) < max(r[1] for r in rows) / 10:
            axes.append(ax.twinx())
        target = axes[-1]
        target.plot(xs, ys, marker="o", label=label, color=f"C{index - 1}")
        target.set_ylabel(label, color=f"C{index - 1}", fontsize=8)
        target.set_ylim(bottom=0)
    ax.set_xscale("log")
    ax.set_xlabel(columns[0])
    ax.set_title(title, fontsize=10)
    ax.grid(True, alpha=0.3)
    fig.tight_layout()
    path = out.parent / f"{out.name}-{name}.png"
    fig.savefig(path)
    plt.close(fig)
    return path


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="small points only (CI: seconds, not minutes)")
    parser.add_argument(
        "--out",
        type=Path,
        default=None,
        help="write PREFIX.md (tables) and PREFIX-*.png (plots), e.g. docs/performance",
    )
    parser.add_argument("--only", nargs="+", choices=sorted(CURVES), default=None)
    args = parser.parse_args(argv)
    pinned = pin_to_one_core()
    keep_long_lived_state_cheap()  # as simtim serve and every Locust process run the model
    print(f"curves: {machine_note()}; {pinned}; gc thresholds {gc.get_threshold()} (simtim/gc_policy.py)")
    quick = args.quick
    points: dict[str, Callable[[], list[Row]]] = {
        "send_vs_history": lambda: send_vs_history(
            [1_000, 10_000] if quick else [1_000, 10_000, 100_000, 300_000]
        ),
        "fanout_vs_members": lambda: fanout_vs_members([10, 100] if quick else [10, 100, 500, 2_000, 6_000]),
        "paging_vs_depth": lambda: paging_vs_depth(
            [1_000, 10_000] if quick else [1_000, 10_000, 100_000, 300_000]
        ),
        "conversations_vs_count": lambda: conversations_vs_count(
            [10, 100] if quick else [10, 100, 1_000, 5_000]
        ),
        "memory_vs_connections": lambda: memory_vs_connections(
            [0, 100] if quick else [0, 250, 500, 1_000, 2_000], Path(tempfile.mkdtemp(prefix="curves-"))
        ),
    }
    doc: list[str] = []
    try:
        for name, make in points.items():
            if args.only and name not in args.only:
                continue
            started = time.monotonic()
            rows = make()
            doc += show(name, rows)
            note = slope_note(name, rows)
            print(f"{note}  ({time.monotonic() - started:.0f} s)")
            doc += ["", note, ""]
            if args.out is not None:
                path = plot(name, rows, args.out)
                doc += [
                    f"![{CURVES[name][0]}]({path.name})" if path else "(no plot: matplotlib not installed)",
                    "",
                ]
    except BenchError as exc:
        print(f"curves: {exc}", file=sys.stderr)
        return 1
    if args.out is not None:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        header = [
            f"<!-- written by: python benchmarks/curves.py --out {args.out} -->",
            f"Measured {time.strftime('%Y-%m-%d')}: {machine_note()}",
            "",
        ]
        Path(f"{args.out}-curves.md").write_text("\n".join(header + doc) + "\n", encoding="utf-8")
        print(f"\nwrote {args.out}-curves.md")
    return 0


if __name__ == "__main__":
    sys.exit(main())
