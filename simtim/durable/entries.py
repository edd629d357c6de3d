"""Journal entries: what one state-changing operation records, and how it runs (live and replayed).

Every face of ``simtim serve`` enters the model through ``Service`` (simtim/1, the admin API, REST
v4, the clock's expiry sweep), so an entry is one of those entry points with its arguments, plus
what the model cannot recompute on a replay:

=========  ====================================================  ===============================
kind       items after ``[kind, time]``                          runs
=========  ====================================================  ===============================
``v1``     method, token, body, issued token (create / login)    ``Service.handle``
``v1cb``   token, body, the before-send callback's verdict       ``Service.send_with_verdict``
``admin``  op, body                                              ``Service.admin``
``rest``   HTTP method, path, query, raw body (latin-1 text)     ``RestFace.handle`` (rate counted
                                                                 at admission, not here)
``tick``   (nothing)                                             ``Service.tick`` (INST-5 sweep)
=========  ====================================================  ===============================

``time`` is the wall-clock second the operation ran at (a ``PinnedClock`` holds it for the whole
operation and for its replay); ``None`` on a fake-clock server, whose time is journaled state
(``advanceClock``).  Refused operations are journaled too: the model refuses them again on replay
(ORDER-1), so nothing needs to know in advance which calls will succeed.
"""

from __future__ import annotations

from typing import Any

import orjson

from simtim.clock import PinnedClock
from simtim.model.world import READ_ONLY_METHODS
from simtim.protocol.envelope import Envelope
from simtim.protocol.service import Service

Entry = list[Any]

#: admin ops that only read
READ_ONLY_ADMIN_OPS = frozenset({"snapshot"})
#: simtim/1 methods that hand out a new token
TOKEN_ISSUING = frozenset({"create"})

#: kind -> items in an entry of that kind (``[kind, time, ...]``)
ARITY = {"v1": 6, "v1cb": 5, "admin": 4, "rest": 6, "tick": 2}
KINDS = tuple(ARITY)


def issues_token(method: str, token: str | None) -> bool:
    """create, and login without a token (the create + login shortcut), draw a new token."""
    return method in TOKEN_ISSUING or (method == "login" and not token)


def encode(entry: Entry) -> bytes:
    return orjson.dumps(entry)


def apply(service: Service, entry: Entry) -> Envelope | dict[str, Any]:
    """Run one entry against the service: the reply for the client (an envelope, or a REST reply).

    The same function serves the live server (after the entry is committed) and the replay at start,
    which is what makes the replayed state the same state."""
    kind, when = entry[0], entry[1]
    clock = service.base_clock if isinstance(service.base_clock, PinnedClock) else None
    if clock is not None:
        clock.pinned = when
    try:
        if kind == "v1":
            return service.handle(entry[2], entry[3], entry[4], entry[5])
        if kind == "v1cb":
            return service.send_with_verdict(entry[2], entry[3], entry[4])
        if kind == "admin":
            return service.admin(entry[2], entry[3])
        if kind == "rest":
            query, raw = entry[4].encode("latin-1"), entry[5].encode("latin-1")
            return service.rest.handle(entry[2], entry[3], query, raw, count_rate=False)
        if kind == "tick":
            service.tick()
            return {}
        raise ValueError(f"unknown journal entry kind {kind!r}")
    finally:
        if clock is not None:
            clock.pinned = None


__all__ = [
    "ARITY",
    "KINDS",
    "READ_ONLY_ADMIN_OPS",
    "READ_ONLY_METHODS",
    "Entry",
    "apply",
    "encode",
    "issues_token",
]
