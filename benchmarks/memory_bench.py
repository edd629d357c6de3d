#!/usr/bin/env python3
"""Bytes the reference model keeps per stored text message, indexes included (issue 15, item 4).

    python benchmarks/memory_bench.py [--messages N] [--conversations K] [--plain]

N C2C text messages (default 100,000: six-word sentences of ~30 bytes, a harness stamp in
``cloudCustomData`` as a load run sends them; both counted, as content the message keeps) spread over K conversations, sent through
``World.call`` with the recipients online, events discarded. tracemalloc measures what the world
holds afterwards minus what it held before the sends: every Message object, its payload, the app's
ID index, the dedup index, thread lists and positions, conversation state. Reported per message.
Deterministic (fake clock, seeded IDs), so one run is the figure; it reports and never gates.
"""

from __future__ import annotations

import argparse
import gc
import sys
import tracemalloc
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from simtim.clock import FakeClock  # noqa: E402
from simtim.conformance.delivery import stamp as delivery_stamp  # noqa: E402
from simtim.ids import IdSource  # noqa: E402
from simtim.model import World  # noqa: E402
from simtim.model.core import DEV_SDKAPPID, DEV_SECRET_KEY  # noqa: E402
from simtim.usersig import gen_usersig  # noqa: E402

WORDS = [
    "the",
    "quick",
    "brown",
    "fox",
    "jumps",
    "over",
    "a",
    "lazy",
    "dog",
    "while",
    "we",
    "talk",
    "about",
    "lunch",
    "plans",
    "today",
]


def login(world: World, clock: FakeClock, user_id: str) -> int:
    inst = world.create_instance(DEV_SDKAPPID)
    sig = gen_usersig(DEV_SDKAPPID, DEV_SECRET_KEY, user_id, 30 * 86400, now=clock.now())
    world.call(inst.id, "login", {"userID": user_id, "userSig": sig})
    return inst.id


def measure(messages: int, conversations: int, stamped: bool = True, random: bool = False) -> tuple[int, int]:
    """(bytes held by the stored messages, how many were stored)."""
    clock = FakeClock()
    world = World(clock, IdSource(0))
    users = [f"user{i:04d}" for i in range(conversations + 1)]
    instances = {user: login(world, clock, user) for user in users}
    sender = instances[users[0]]
    gc.collect()
    tracemalloc.start()
    before = tracemalloc.get_traced_memory()[0]
    for i in range(messages):
        # built here, as a server builds each request's body: the text and the stamp a stored message
        # keeps are counted; the rest of the body is garbage once the call returns
        text = " ".join(WORDS[(i + k) % len(WORDS)] for k in range(6))
        stamp = delivery_stamp("vm-1234", users[0], i, 1000.0 + i / 1000)  # as the harness stamps
        body = {
            "message": {
                "to": users[1 + i % conversations],
                "conversationType": "C2C",
                "type": "TIMTextElem",
                "payload": {"text": text},
                "cloudCustomData": stamp if stamped else "",
            }
        }
        if random:  # as the TIM SDK sends every message: MSG-6 keeps a dedup key for the window
            body["message"].update(random=i, clientTime=clock.now())
        outcome = world.call(sender, "sendMessage", body)
        if i % 1000 == 999:
            clock.advance(1)
        del outcome, body, text, stamp
    gc.collect()
    after = tracemalloc.get_traced_memory()[0]
    tracemalloc.stop()
    stored = sum(len(app.messages) for app in world.apps.values())
    return after - before, stored


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--messages", type=int, default=100_000)
    parser.add_argument("--conversations", type=int, default=100)
    parser.add_argument("--plain", action="store_true", help="no cloudCustomData (an app's own texts)")
    parser.add_argument(
        "--random",
        action="store_true",
        help="random and clientTime on every send, as the TIM SDK does: adds MSG-6's dedup key, which "
        "is kept for the dedup window (all of this bench's 100 s of fake clock), not for the history",
    )
    args = parser.parse_args()
    held, stored = measure(args.messages, args.conversations, stamped=not args.plain, random=args.random)
    what = ("plain" if args.plain else "stamped") + (
        " (random, within MSG-6's window)" if args.random else ""
    )
    print(
        f"memory_bench: {stored} stored {what} C2C text messages in {args.conversations} conversations hold "
        f"{held / 1e6:.1f} MB: {held / max(1, stored):.0f} bytes per stored message (indexes included)"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
