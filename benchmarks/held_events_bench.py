#!/usr/bin/env python3
"""Events held for instances without a socket: encoded at once or kept as objects, side by side.

    python benchmarks/held_events_bench.py [--members N] [--rounds R] [--sends S]

``SimtimApp._deliver`` holds a small delivery's events encoded and a larger fan-out's as objects
(``ENCODE_HELD_UP_TO`` in simtim/limits.py, docs/decisions.md#d-held-events).  This bench times
``SimtimApp.answer_v1`` sendMessage in-process, the way the server calls it, for both choices in
the same run by setting the bound for the run: 10**9 (always encode) or 0 (never encode).

* C2C: alice to bob, both logged in, no socket (what benchmarks/server_bench.py sends), µs a send;
* group: alice to a Public group of ``--members`` members, all logged in, none with a socket,
  µs a member.  A fake clock moves a second every 20 sends so MSG-7's 40/s group limit never
  refuses one.

Rounds alternate the two choices; medians are printed with the ratio encoded ÷ objects (below 1:
encoding is cheaper).  In-process timing misses what a server under wrk feels (its held frames
compete with the kernel's network work for the caches): benchmarks/server_bench.py measures that.
Exit 0 whatever the numbers.
"""

from __future__ import annotations

import argparse
import random
import statistics
import sys
import time
from pathlib import Path
from typing import Any

import orjson

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))  # measure this checkout, not some installed copy

import simtim.server.app as app_module  # noqa: E402
from simtim.gc_policy import keep_long_lived_state_cheap  # noqa: E402
from simtim.model.core import DEV_SDKAPPID, DEV_SECRET_KEY  # noqa: E402
from simtim.server.app import SimtimApp  # noqa: E402
from simtim.usersig import gen_usersig  # noqa: E402

ALWAYS, NEVER = 10**9, 0
CHOICES = {"encoded": ALWAYS, "objects": NEVER}


class Setup:
    """A fake-clock server app with alice, ``members`` logged-in users and a Public group."""

    def __init__(self, members: int) -> None:
        self.app = SimtimApp(admin_key="bench", fake_clock=True)
        self.clock = self.app.service.base_clock
        self.rng = random.Random(7)
        users = ["alice", "bob"] + [f"member{i}" for i in range(members - 1)]
        self.tokens = {user: self.login(user) for user in users}
        body = {
            "type": "Public",
            "name": "held",
            "groupID": "held",
            "memberList": [{"userID": user} for user in users[1:]],
        }
        created = self.call("createGroup", body, self.tokens["alice"])
        if created["code"] != 0:
            raise SystemExit(f"createGroup failed: {created}")
        self.alice = [(b"authorization", f"Bearer {self.tokens['alice']}".encode())]

    def call(self, method: str, body: Any, token: str | None = None) -> dict[str, Any]:
        headers = [(b"authorization", f"Bearer {token}".encode())] if token else []
        reply = self.app.answer_v1(method, headers, orjson.dumps(body))
        assert reply is not None
        answer: dict[str, Any] = orjson.loads(reply)
        return answer

    def login(self, user: str) -> str:
        sig = gen_usersig(DEV_SDKAPPID, DEV_SECRET_KEY, user, 86400, now=self.clock.now())
        reply = self.call("login", {"SDKAppID": DEV_SDKAPPID, "userID": user, "userSig": sig})
        return str(reply["data"]["token"])

    def bodies(self, to: str, kind: str, count: int) -> list[bytes]:
        """Request bodies as the server reads them: a fresh random and the current clientTime."""
        return [
            orjson.dumps(
                {
                    "message": {
                        "to": to,
                        "conversationType": kind,
                        "type": "TIMTextElem",
                        "payload": {"text": "held events bench"},
                        "random": self.rng.getrandbits(32),
                        "clientTime": self.clock.now(),
                    }
                }
            )
            for _ in range(count)
        ]

    def timed(self, bodies: list[bytes]) -> float:
        """Seconds for the sends; the clock moves a second every 20 (MSG-7's group rate)."""
        answer, alice, advance = self.app.answer_v1, self.alice, self.clock.advance  # type: ignore[attr-defined]
        elapsed = 0.0
        for start in range(0, len(bodies), 20):
            advance(1)
            chunk = bodies[start : start + 20]
            began = time.perf_counter()
            for body in chunk:
                answer("sendMessage", alice, body)
            elapsed += time.perf_counter() - began
        return elapsed


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--members", type=int, default=500, help="group members (default 500)")
    parser.add_argument("--rounds", type=int, default=10, help="rounds per choice (default 10)")
    parser.add_argument("--sends", type=int, default=5000, help="C2C sends per round (default 5000)")
    args = parser.parse_args()
    setup = Setup(args.members)
    keep_long_lived_state_cheap()
    group_sends = max(20, args.sends // args.members * 20)
    results: dict[tuple[str, str], list[float]] = {}
    for round_no in range(args.rounds):
        order = list(CHOICES.items()) if round_no % 2 == 0 else list(reversed(CHOICES.items()))
        for name, bound in order:
            app_module.ENCODE_HELD_UP_TO = bound  # type: ignore[attr-defined]
            c2c = setup.timed(setup.bodies("bob", "C2C", args.sends))
            results.setdefault(("C2C send", name), []).append(1e6 * c2c / args.sends)
            group = setup.timed(setup.bodies("held", "GROUP", group_sends))
            results.setdefault(("group send, per member", name), []).append(
                1e6 * group / group_sends / args.members
            )
    print(
        f"held_events_bench: {args.rounds} rounds alternating, {args.sends} C2C sends and {group_sends} sends "
        f"to {args.members} members a round, no sockets"
    )
    print(f"{'case':<24} {'encoded µs':>11} {'objects µs':>11} {'encoded ÷ objects':>18}")
    for case in ("C2C send", "group send, per member"):
        encoded = statistics.median(results[(case, "encoded")])
        objects = statistics.median(results[(case, "objects")])
        print(f"{case:<24} {encoded:>11.2f} {objects:>11.2f} {encoded / objects:>18.2f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
