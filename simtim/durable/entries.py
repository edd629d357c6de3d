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
``web``    socket ID, frame (latin-1 text when binary), binary,  ``WebFace.handle`` (the Web SDK
           expect binary, callback verdict, asked, issued a2     face, one received frame)
``webclose`` socket ID                                           ``WebFace.close_socket``
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
from simtim.protocol.web.face import NO_VERDICT
from simtim.protocol.web.session import Outlet

Entry = list[Any]

#: admin ops that only read
READ_ONLY_ADMIN_OPS = frozenset({"snapshot"})
#: simtim/1 methods that hand out a new token
TOKEN_ISSUING = frozenset({"create"})

#: kind -> items in an entry of that kind (``[kind, time, ...]``)
ARITY = {"v1": 6, "v1cb": 5, "admin": 4, "rest": 6, "tick": 2, "web": 9, "webclose": 3}
KINDS = tuple(ARITY)


def issues_token(method: str, token: str | None) -> bool:
    """create, and login without a token (the create + login shortcut), draw a new token."""
    return method in TOKEN_ISSUING or (method == "login" and not token)


def encode(entry: Entry) -> bytes:
    return orjson.dumps(entry)


def web_frame(socket_id: str, raw: bytes | str, binary: bool, expect_binary: bool) -> list[Any]:
    """The items of a ``web`` entry after its time that say which frame came on which socket."""
    frame = raw.decode("latin-1") if isinstance(raw, bytes) else raw
    return [socket_id, frame, binary, expect_binary]


def apply(service: Service, entry: Entry, live: Outlet | None = None) -> Envelope | dict[str, Any]:
    """Run one entry against the service: the reply for the client (an envelope, or a REST reply).

    The same function serves the live server (after the entry is committed) and the replay at start,
    which is what makes the replayed state the same state.  ``live``: the socket a ``web`` entry
    came on, which gets its reply and pushes; a replay has stand-ins (``WebFace.stand_in``)."""
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
        if kind == "web":
            socket_id, frame, binary, expect_binary, verdict, asked, issued_a2 = entry[2:]
            raw = frame.encode("latin-1") if binary else frame
            face = service.web
            face.handle(
                live if live is not None else face.stand_in(socket_id),
                raw,
                binary=binary,
                expect_binary=expect_binary,
                verdict=verdict if asked else NO_VERDICT,
                issued_a2=issued_a2,
            )
            return {}
        if kind == "webclose":
            service.web.close_socket(entry[2], live)
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
    "web_frame",
]
