#!/usr/bin/env python3
"""Throughput of the reference model beside a bare dict-append loop, on one core.

    python benchmarks/model_bench.py [--seconds S] [--repeat N] [--only NAME ...]
    python benchmarks/model_bench.py --profile send_c2c [--seconds S] [--top K]

The machine this runs on is shared and noisy, so no absolute time is trusted on
its own: every round measures every case once, one after the other (the order
rotates from round to round), and the report gives the median, min and max
ops/s over the rounds plus each case's ratio to the bare loop *of the same
round* (median over rounds).  The ratio is the figure to compare across
machines and runs; the absolute ops/s only on the same machine in a quiet
moment.  gc stays enabled as in normal operation (it is only run once, outside
the timed window, before each measurement).

Cases live in a registry (``CASES``: name -> ``Case``) whose ``setup(tally)``
builds fresh state and returns a zero-arg op; ops check their own result and
count it in ``tally`` (a failed check raises ``BenchError``).  To add a group
section later, write a setup function and decorate it with ``@case(...)``.

The script reports; it does not gate: it exits 0 whatever the numbers say.
"""

from __future__ import annotations

import argparse
import cProfile
import gc
import platform
import pstats
import random
import statistics
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from functools import cache
from itertools import cycle, repeat
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))  # benchmark this checkout, not some installed copy

from benchlib import Metric, machine_note, pin_to_one_core, write_metrics  # noqa: E402  (benchmarks/ is the script directory)

from simtim.clock import FakeClock  # noqa: E402
from simtim.ids import IdSource  # noqa: E402
from simtim.limits import MESSAGE_PAGE_DEFAULT  # noqa: E402
from simtim.model import World  # noqa: E402
from simtim.model.core import DEV_SDKAPPID, DEV_SECRET_KEY  # noqa: E402
from simtim.model.events import MESSAGE_RECEIVED  # noqa: E402
from simtim.usersig import gen_usersig  # noqa: E402

Op = Callable[[], None]

BASELINE = "bare_loop"
BATCH_SECONDS = 0.01  # read the clock about every 10 ms inside a measurement
WARMUP_SECONDS = 0.05
HISTORY_SIZE = 100_000  # messages in the conversation the paging cases read (issue 16: a 100k history)
SIG_EXPIRE = 30 * 24 * 3600


class BenchError(RuntimeError):
    """An op's self-check failed: the model did not do what the case measures."""


class Tally:
    """What a case's ops checked; summed over all rounds for the report."""

    __slots__ = ("checked", "events", "what")

    def __init__(self, what: str) -> None:
        self.checked = 0  # ops whose result was verified
        self.events = 0  # events counted by those checks
        self.what = what  # one line: what each check verifies


@dataclass(frozen=True)
class Case:
    name: str
    title: str
    setup: Callable[[Tally], Op]
    ops_per_call: int = 1  # logical operations one call of the op performs
    target_ops: float | None = None  # absolute target, ops/s (median)
    target_ratio: float | None = None  # target as a fraction of the bare loop (median paired ratio)


CASES: dict[str, Case] = {}


def case(
    name: str,
    title: str,
    *,
    ops_per_call: int = 1,
    target_ops: float | None = None,
    target_ratio: float | None = None,
) -> Callable[[Callable[[Tally], Op]], Callable[[Tally], Op]]:
    """Register ``setup(tally) -> op`` as a benchmark case."""

    def register(setup: Callable[[Tally], Op]) -> Callable[[Tally], Op]:
        if name in CASES:
            raise ValueError(f"duplicate benchmark case {name!r}")
        CASES[name] = Case(name, title, setup, ops_per_call, target_ops, target_ratio)
        return setup

    return register


# --- world helpers -----------------------------------------------------------------------


def new_world(**config: Any) -> tuple[World, FakeClock]:
    clock = FakeClock()
    world = World(clock, IdSource(0))
    if config:
        world.configure_app(DEV_SDKAPPID, **config)
    return world, clock


def login(world: World, clock: FakeClock, user_id: str) -> int:
    """A new web page logged in as ``user_id``; returns its instance id."""
    inst = world.create_instance(DEV_SDKAPPID)
    sig = gen_usersig(DEV_SDKAPPID, DEV_SECRET_KEY, user_id, SIG_EXPIRE, now=clock.now())
    world.call(inst.id, "login", {"userID": user_id, "userSig": sig})
    return inst.id


def text_message(to: str, text: str, conversation_type: str = "C2C") -> dict[str, Any]:
    return {
        "message": {
            "to": to,
            "conversationType": conversation_type,
            "type": "TIMTextElem",
            "payload": {"text": text},
        }
    }


# --- cases -------------------------------------------------------------------------------

BARE_CHUNK = 1000
BARE_KEYS = 64
BARE_KEEP = 16_384  # per key: bounds memory (~1M items) while still storing


@case(BASELINE, "bare loop: d[key].append(i)", ops_per_call=BARE_CHUNK)
def setup_bare_loop(tally: Tally) -> Op:
    """The least work "storing a message" can be: one append into a dict of lists.

    One op call runs the loop 1000 times, so call overhead is not in the figure;
    the lists are cleared now and then so memory stays bounded (that freeing is
    counted, as a store that keeps growing would be unfair to nobody).
    """
    lists: list[list[int]] = [[] for _ in range(BARE_KEYS)]
    store = dict(enumerate(lists))
    chunk = range(BARE_CHUNK)
    mask = BARE_KEYS - 1
    tally.what = f"{BARE_CHUNK} appends per call"

    def op() -> None:
        d = store
        for i in chunk:
            d[i & mask].append(i)
        if len(lists[0]) >= BARE_KEEP:
            for lst in lists:
                lst.clear()
        tally.checked += 1

    return op


@case("bare_call", "bare loop, one append per op() call")
def setup_bare_call(tally: Tally) -> Op:
    """The same append, one per op call: adds the harness's call overhead (~a function call).

    Informational: it shows how much of a model op's budget the harness itself
    takes, and is the fairer floor for "one call stores one message".
    """
    lists: list[list[int]] = [[] for _ in range(BARE_KEYS)]
    store = dict(enumerate(lists))
    mask = BARE_KEYS - 1
    counter = [0]
    tally.what = "1 append per call"

    def op() -> None:
        i = counter[0] = counter[0] + 1
        store[i & mask].append(i)
        if i % (BARE_KEEP * BARE_KEYS) == 0:
            for lst in lists:
                lst.clear()
        tally.checked += 1  # as the model cases do, so the two overheads compare

    return op


@case("send_c2c", "sendMessage C2C text, recipient on 2 pages", target_ops=50_000, target_ratio=1 / 40)
def setup_send_c2c(tally: Tally) -> Op:
    """alice (one page) sends to bob (two web pages, web_instances=2) through World.call."""
    world, clock = new_world(web_instances=2)
    sender = login(world, clock, "alice")
    recipients = frozenset({login(world, clock, "bob"), login(world, clock, "bob")})
    opts = text_message("bob", "hello, bob")
    call = world.call
    tally.what = "each send delivered onMessageReceived to both of bob's instances"

    def op() -> None:
        got = 0
        events = call(sender, "sendMessage", opts).events
        for event in events:
            if event.name == MESSAGE_RECEIVED and event.instance in recipients:
                got += 1
        if got != 2:
            raise BenchError(f"sendMessage delivered onMessageReceived to {got} of bob's 2 instances")
        tally.checked += 1
        tally.events += got

    return op


GROUP_SIZE = 500


@case(
    "group_fanout",
    f"group send to {GROUP_SIZE} members all online (deliveries)",
    ops_per_call=GROUP_SIZE - 1,
    target_ops=200_000,
)
def setup_group_fanout(tally: Tally) -> Op:
    """One member sends to a Public group of GROUP_SIZE members, each with one online instance.

    One op call is one send; it counts as GROUP_SIZE - 1 deliveries (onMessageReceived to every
    other member).  The clock steps one second per send so MSG-7's 40/s control never engages.
    """
    world, clock = new_world()
    names = [f"m{i:03d}" for i in range(GROUP_SIZE)]
    instances = [login(world, clock, name) for name in names]
    created = world.call(
        instances[0],
        "createGroup",
        {"name": "big", "type": "Public", "memberList": [{"userID": n} for n in names[1:]]},
    )
    group_id = created.data["group"]["groupID"]
    opts = text_message(group_id, "hello, everyone", "GROUP")
    sender = instances[1]
    call = world.call
    tally.what = f"each send delivered onMessageReceived to all {GROUP_SIZE - 1} other members"

    def op() -> None:
        clock.advance(1)
        got = 0
        for event in call(sender, "sendMessage", opts).events:
            if event.name == MESSAGE_RECEIVED:
                got += 1
        if got != GROUP_SIZE - 1:
            raise BenchError(f"group send delivered to {got} of {GROUP_SIZE - 1} members")
        tally.checked += 1
        tally.events += got

    return op


@case("group_churn", "membership churn: joinGroup + quitGroup on a 200-member group", ops_per_call=2)
def setup_group_churn(tally: Tally) -> Op:
    """A user joins and quits a FreeAccess Public group of 200 members (50 online); each is one op."""
    world, clock = new_world()
    owner = login(world, clock, "owner")
    for i in range(199):
        world.import_account(1400000000, f"p{i:03d}")
    for i in range(50):
        login(world, clock, f"p{i:03d}")
    created = world.call(
        owner,
        "createGroup",
        {"name": "churn", "type": "Public", "memberList": [{"userID": f"p{i:03d}"} for i in range(199)]},
    )
    group_id = created.data["group"]["groupID"]
    joiner = login(world, clock, "joiner")
    call = world.call
    join = {"groupID": group_id}
    tally.what = "each join answered JoinedSuccess and each quit answered the groupID"

    def op() -> None:
        if call(joiner, "joinGroup", join).data.get("status") != "JoinedSuccess":
            raise BenchError("joinGroup did not join")
        if call(joiner, "quitGroup", join).data.get("groupID") != group_id:
            raise BenchError("quitGroup did not quit")
        tally.checked += 2

    return op


@cache
def history_world() -> tuple[World, int, list[str]]:
    """One world, built once and only read: alice and bob with HISTORY_SIZE messages.

    Returns the world, alice's instance and the message IDs oldest first.
    """
    world, clock = new_world()
    alice = login(world, clock, "alice")
    bob = login(world, clock, "bob")
    ids: list[str] = []
    for i in range(HISTORY_SIZE):
        sender, to = (alice, "bob") if i % 2 == 0 else (bob, "alice")
        ids.append(world.call(sender, "sendMessage", text_message(to, f"message {i}")).data["message"]["ID"])
    return world, alice, ids


def page_op(tally: Tally, cursor_index: int | None) -> Op:
    """getMessageList of the default page size, newest or older than ids[cursor_index]."""
    world, alice, ids = history_world()
    opts: dict[str, Any] = {"conversationID": "C2Cbob"}
    end = len(ids)
    if cursor_index is not None:
        opts["nextReqMessageID"] = ids[cursor_index]
        end = cursor_index
    first_id, last_id = ids[end - MESSAGE_PAGE_DEFAULT], ids[end - 1]
    expected_next = first_id  # more history is older: the cursor is the page's oldest message
    call = world.call
    tally.what = f"each page held the {MESSAGE_PAGE_DEFAULT} expected messages and a next cursor"

    def op() -> None:
        data = call(alice, "getMessageList", opts).data
        page = data["messageList"]
        if (
            len(page) != MESSAGE_PAGE_DEFAULT
            or page[0]["ID"] != first_id
            or page[-1]["ID"] != last_id
            or data["nextReqMessageID"] != expected_next
            or data["isCompleted"]
        ):
            raise BenchError("getMessageList returned the wrong page")
        tally.checked += 1

    return op


@case("page_newest", f"getMessageList newest page of {HISTORY_SIZE // 1000}k msgs")
def setup_page_newest(tally: Tally) -> Op:
    return page_op(tally, None)


@case("page_middle", f"getMessageList middle page of {HISTORY_SIZE // 1000}k msgs (cursor)")
def setup_page_middle(tally: Tally) -> Op:
    return page_op(tally, HISTORY_SIZE // 2)


@case(
    "page_scattered",
    f"getMessageList at a different cursor each call across {HISTORY_SIZE // 1000}k msgs (no kept views)",
)
def setup_page_scattered(tally: Tally) -> Op:
    """Pages nobody read lately: the kept renderings of ``simtim/model/view_cache.py`` (a few
    thousand views) almost never hold them, so this is the cost of rendering every view afresh."""
    world, alice, ids = history_world()
    shuffled = list(range(MESSAGE_PAGE_DEFAULT, len(ids), MESSAGE_PAGE_DEFAULT))
    random.Random(16).shuffle(shuffled)
    cursors = cycle(shuffled)
    call = world.call
    tally.what = f"each page held the {MESSAGE_PAGE_DEFAULT} messages before its cursor, in order"

    def op() -> None:
        end = next(cursors)
        page = call(alice, "getMessageList", {"conversationID": "C2Cbob", "nextReqMessageID": ids[end]}).data[
            "messageList"
        ]
        if len(page) != MESSAGE_PAGE_DEFAULT or page[0]["ID"] != ids[end - MESSAGE_PAGE_DEFAULT]:
            raise BenchError("getMessageList returned the wrong page")
        tally.checked += 1

    return op


# --- measuring ---------------------------------------------------------------------------


def calibrate(op: Op) -> int:
    """Warm the op up and return how many calls take about BATCH_SECONDS."""
    calls, spent = 1, 0.0
    while True:
        start = time.perf_counter()
        for _ in repeat(None, calls):
            op()
        spent = time.perf_counter() - start
        if spent >= WARMUP_SECONDS or calls >= 1 << 22:
            break
        calls *= 2
    return max(1, round(calls * BATCH_SECONDS / max(spent, 1e-9)))


def measure(op: Op, seconds: float) -> float:
    """Calls per second of ``op``, run in batches for at least ``seconds``."""
    batch = calibrate(op)
    gc.collect()  # start each measurement from the same heap state; gc stays enabled
    calls = 0
    start = time.perf_counter()
    deadline = start + seconds
    while True:
        for _ in repeat(None, batch):
            op()
        calls += batch
        now = time.perf_counter()
        if now >= deadline:
            return calls / (now - start)


@dataclass
class Result:
    case: Case
    tally: Tally
    rates: list[float]  # ops/s, one per round
    ratios: list[float]  # rate / bare-loop rate of the same round
    error: str = ""


def run(names: list[str], seconds: float, rounds: int) -> list[Result]:
    cases = [CASES[name] for name in names]
    results = {c.name: Result(c, Tally(""), [], []) for c in cases}
    for round_no in range(rounds):
        shift = round_no % len(cases)
        order = cases[shift:] + cases[:shift]  # rotate so no case always runs first or last
        rates: dict[str, float] = {}
        for c in order:
            result = results[c.name]
            if result.error:
                continue
            try:
                # the op (and the world it holds) is dropped as soon as it has been measured
                rates[c.name] = measure(c.setup(result.tally), seconds) * c.ops_per_call
            except Exception as exc:  # a failed check or a model error: report it, do not crash
                result.error = f"{type(exc).__name__}: {exc}"
                continue
            result.rates.append(rates[c.name])
        base = rates.get(BASELINE)
        for name, rate in rates.items():
            if base:
                results[name].ratios.append(rate / base)
        line = "  ".join(f"{name}={rate:,.0f}/s" for name, rate in rates.items())
        print(f"round {round_no + 1}/{rounds}: {line}", flush=True)
    return [results[name] for name in names]


# --- reporting ---------------------------------------------------------------------------


def si(rate: float) -> str:
    for unit, scale in (("M", 1e6), ("k", 1e3)):
        if rate >= scale:
            return f"{rate / scale:,.2f}{unit}"
    return f"{rate:,.1f}"


def as_fraction(ratio: float) -> str:
    if ratio <= 0:
        return "-"
    if ratio >= 1:
        return f"{ratio:,.2f}x"
    inverse = 1 / ratio
    return f"1/{inverse:,.0f}" if inverse >= 10 else f"1/{inverse:.1f}"


def status(result: Result) -> tuple[str, str]:
    c = result.case
    if result.error:
        return "-", "ERROR"
    parts, misses = [], []
    rate = statistics.median(result.rates)
    if c.target_ops is not None:
        parts.append(f">={si(c.target_ops)}/s")
        if rate < c.target_ops:
            misses.append("abs")
    if c.target_ratio is not None:
        parts.append(f">={as_fraction(c.target_ratio)}")
        if not result.ratios or statistics.median(result.ratios) < c.target_ratio:
            misses.append("ratio")
    if not parts:
        return "-", "-"
    return " & ".join(parts), "PASS" if not misses else f"MISS ({'+'.join(misses)})"


def report(results: list[Result]) -> None:
    header = ("case", "median ops/s", "min", "max", "vs bare loop", "target", "status")
    rows = []
    for r in results:
        target, verdict = status(r)
        if r.rates:
            ratio = statistics.median(r.ratios) if r.ratios else 0.0
            rows.append(
                (
                    r.case.title,
                    f"{statistics.median(r.rates):,.0f}",
                    si(min(r.rates)),
                    si(max(r.rates)),
                    as_fraction(ratio),
                    target,
                    verdict,
                )
            )
        else:
            rows.append((r.case.title, "-", "-", "-", "-", target, verdict))
    widths = [max(len(str(row[i])) for row in [header, *rows]) for i in range(len(header))]
    right = {1, 2, 3, 4}

    def fmt(row: tuple[str, ...]) -> str:
        return "  ".join(
            str(v).rjust(w) if i in right else str(v).ljust(w)
            for i, (v, w) in enumerate(zip(row, widths, strict=True))
        ).rstrip()

    print()
    print(fmt(header))
    print("  ".join("-" * w for w in widths).rstrip())
    for row in rows:
        print(fmt(row))
    print()
    print("'vs bare loop' is the median over rounds of (case / bare loop of the same round).")
    for r in results:
        if r.error:
            print(f"CHECK FAILED  {r.case.name}: {r.error}")
        else:
            extra = f", {r.tally.events:,} events counted" if r.tally.events else ""
            print(f"checked       {r.case.name}: {r.tally.checked:,} op calls{extra} ({r.tally.what})")


def environment(pinned: str, seconds: float, rounds: int) -> None:
    print(f"{machine_note()}; {pinned}")
    print(f"gc enabled={gc.isenabled()} thresholds={gc.get_threshold()} (normal gc during timing)")
    print(f"{rounds} rounds x {seconds:g} s per case, interleaved (order rotates each round)")
    print()


# --- profiling ---------------------------------------------------------------------------


def profile(name: str, seconds: float, top: int) -> None:
    """Run one case under cProfile for ``seconds`` and print where the time goes."""
    tally = Tally("")
    op = CASES[name].setup(tally)
    batch = calibrate(op)
    profiler = cProfile.Profile()
    calls = 0
    start = time.perf_counter()
    profiler.enable()
    while time.perf_counter() - start < seconds:
        for _ in repeat(None, batch):
            op()
        calls += batch
    profiler.disable()
    elapsed = time.perf_counter() - start
    print(
        f"profiled {name}: {calls:,} op calls in {elapsed:.2f} s under cProfile "
        f"({calls / elapsed:,.0f}/s; cProfile slows small calls, so shares are indicative)"
    )
    stats = pstats.Stats(profiler)
    entries = stats.stats  # type: ignore[attr-defined]
    # 100% = the op's own cumulative time (the largest): the loop around it is not profiled
    total = max(ct for (_cc, _nc, _tt, ct, _callers) in entries.values())

    def label(key: tuple[str, int, str]) -> str:
        filename, line, func = key
        if filename == "~":
            return func
        path = Path(filename)
        try:
            path = path.resolve().relative_to(ROOT)
        except ValueError:
            path = Path(path.name)
        return f"{path}:{line}({func})"

    rows = [(label(key), nc, tt, ct) for key, (_cc, nc, tt, ct, _callers) in entries.items()]
    for title, index in (("cumulative", 3), ("self (tottime)", 2)):
        print(f"\ntop {top} by {title} time, share of {total:.3f} s inside the op")
        print(f"{'cum%':>6} {'self%':>6} {'calls/op':>9}  function")
        for lab, nc, tt, ct in sorted(rows, key=lambda row: row[index], reverse=True)[:top]:
            print(f"{100 * ct / total:6.1f} {100 * tt / total:6.1f} {nc / max(calls, 1):9.2f}  {lab}")


# --- main ----------------------------------------------------------------------------------


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=float, default=1.0, help="timed seconds per case per round")
    parser.add_argument("--repeat", type=int, default=5, help="rounds (each measures every case once)")
    parser.add_argument(
        "--only",
        nargs="+",
        choices=sorted(CASES),
        metavar="NAME",
        help=f"cases to run (the baseline always runs): {', '.join(CASES)}",
    )
    parser.add_argument(
        "--profile",
        choices=sorted(CASES),
        metavar="NAME",
        help="profile one case with cProfile for --seconds instead of benchmarking",
    )
    parser.add_argument("--top", type=int, default=25, help="rows per profile table")
    parser.add_argument(
        "--json", type=Path, default=None, help="write the headline metrics here (run_all.py)"
    )
    args = parser.parse_args(argv)
    pinned = pin_to_one_core()
    if args.profile:
        print(f"python {platform.python_version()}, {pinned}")
        profile(args.profile, args.seconds, args.top)
        return 0
    names = [n for n in CASES if not args.only or n == BASELINE or n in args.only]
    rounds = max(1, args.repeat)
    environment(pinned, args.seconds, rounds)
    results = run(names, args.seconds, rounds)
    report(results)
    write_metrics(args.json, headline(results))
    return 0  # a benchmark reports; it never fails the build


#: case -> (metric name, goal on ops/s) for run_all.py's table (issue 16's figures)
HEADLINE = {
    "send_c2c": ("model C2C send+deliver ops/s, one core", ">= 100000"),
    "group_fanout": ("model 500-member fan-out deliveries/s", ">= 600000"),
    "page_newest": (
        f"model history page (15) per s, {HISTORY_SIZE // 1000}k-message conversation",
        ">= 100000",
    ),
    "page_scattered": (
        f"model history page (15) per s, a different page of {HISTORY_SIZE // 1000}k each call (cold)",
        "",
    ),
}


def headline(results: list[Result]) -> list[Metric]:
    metrics = []
    for r in results:
        if r.case.name in HEADLINE and r.rates and not r.error:
            name, goal = HEADLINE[r.case.name]
            bare = statistics.median(r.rates) / statistics.median(r.ratios) if r.ratios else None
            note = f"bare loop {bare:,.0f}/s in the same run" if bare else ""
            metrics.append(Metric(name, statistics.median(r.rates), None, goal, "/s", note))
    return metrics


if __name__ == "__main__":
    sys.exit(main())
