#!/usr/bin/env python3
"""Bytes the server's service keeps per sendMessage, and where (tracemalloc, in-process).

    python benchmarks/kept_per_request.py [--sends N] [--top K]

Why it matters here: on these VMs the first touch of a fresh page costs 20-39 µs per 4 KB, so every
byte a server keeps per request costs it ~7-9 ns of kernel time (docs/performance.md); the
in-memory server's sendMessage rate moves with this figure.  The sends are what
``benchmarks/wrk/send_message.lua`` posts: alice to bob, a fresh ``random`` and the wall-clock
``clientTime`` each, every body parsed from JSON as the server parses it, every reply encoded.
Exit 0 whatever the numbers.
"""

from __future__ import annotations

import argparse
import gc
import sys
import time
import tracemalloc
from pathlib import Path

import orjson

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))  # measure this checkout, not some installed copy

from simtim.model.core import DEV_SDKAPPID, DEV_SECRET_KEY  # noqa: E402
from simtim.protocol.service import Service  # noqa: E402
from simtim.usersig import gen_usersig  # noqa: E402


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sends", type=int, default=20_000, help="measured sends (default 20,000)")
    parser.add_argument("--top", type=int, default=10, help="allocation sites listed (default 10)")
    args = parser.parse_args()
    service = Service()
    tokens = {}
    for user in ("alice", "bob"):
        sig = gen_usersig(DEV_SDKAPPID, DEV_SECRET_KEY, user, 86400, now=int(time.time()))
        tokens[user] = service.handle(
            "login", None, {"SDKAppID": DEV_SDKAPPID, "userID": user, "userSig": sig}
        )["data"]["token"]

    def send(i: int) -> bytes:
        message = {
            "to": "bob",
            "conversationType": "C2C",
            "type": "TIMTextElem",
            "payload": {"text": "hello"},
        }
        message.update(random=1_000_000 + i, clientTime=int(time.time()))
        return orjson.dumps(
            service.handle("sendMessage", tokens["alice"], orjson.loads(orjson.dumps({"message": message})))
        )

    for i in range(5_000):  # warm-up: bob's held-event queue fills and turns over, as in a long run
        send(i)
    gc.collect()
    tracemalloc.start(10)
    before = tracemalloc.take_snapshot()
    for i in range(5_000, 5_000 + args.sends):
        send(i)
    gc.collect()
    stats = tracemalloc.take_snapshot().compare_to(before, "lineno")
    tracemalloc.stop()
    total = sum(stat.size_diff for stat in stats)
    print(f"kept_per_request: {total / args.sends:.0f} bytes kept per sendMessage over {args.sends:,} sends")
    for stat in stats[: args.top]:
        frame = stat.traceback[0]
        print(
            f"  {stat.size_diff / args.sends:7.1f} B  {stat.count_diff / args.sends:5.2f} objects  {frame.filename}:{frame.lineno}"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
