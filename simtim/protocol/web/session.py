"""Who is behind a Web SDK socket: the login's model instance and the tokens the face issued.

The SDK logs in once per socket (``wslogin`` with identifier + usersig) and then sends the server's
``a2``/``tinyid`` in every head, so the face keys sessions by ``a2``.  A ``tinyid`` is per account and
stable (the SDK builds message IDs from it) and always a decimal *string*: JSON numbers past 2**53
lose precision in JavaScript, which gave two users one tinyid in the feasibility study.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass, field
from typing import Protocol

#: the first tinyid handed out; TIM's look like this (18 digits, past 2**53)
TINYID_BASE = 144115200000000000


class Outlet(Protocol):
    """Where a session's frames go: the transport queues them for the socket, in order."""

    def push(self, frame: bytes) -> None: ...

    def close(self, code: int) -> None: ...


class StandIn:
    """A socket on a journal replay (``simtim serve --data``): the socket it stands for is long
    gone, so frames go nowhere; the face still tells sockets apart by it (a session's socket, its
    takeover by another, its close), which is what makes the replayed sessions the same."""

    __slots__ = ("socket_id",)

    def __init__(self, socket_id: str) -> None:
        self.socket_id = socket_id

    def push(self, frame: bytes) -> None:
        pass

    def close(self, code: int) -> None:
        pass


@dataclass(eq=False)
class WebSession:
    sdkappid: int
    user_id: str
    instance_id: int
    a2: str
    tinyid: str
    outlet: Outlet | None
    #: offline sync (getmsg): the app-wide order of the newest message this session was given
    cookie: int = 0
    synced: bool = False
    groups_seen: set[str] = field(default_factory=set)

    def __getstate__(self) -> dict[str, object]:
        """A snapshot keeps which socket a session was on, never the socket: a live outlet becomes
        the stand-in of its ``socket_id`` (a face without a journal has none: no socket at all)."""
        state = dict(self.__dict__)
        outlet = self.outlet
        if outlet is not None and not isinstance(outlet, StandIn):
            socket_id = getattr(outlet, "socket_id", None)
            state["outlet"] = StandIn(socket_id) if isinstance(socket_id, str) else None
        return state


class TinyIds:
    """One stable tinyid string per (app, account), in first-login order."""

    def __init__(self) -> None:
        self._ids: dict[tuple[int, str], str] = {}

    def of(self, sdkappid: int, user_id: str) -> str:
        key = (sdkappid, user_id)
        tinyid = self._ids.get(key)
        if tinyid is None:
            tinyid = self._ids[key] = str(TINYID_BASE + len(self._ids) + 1)
        return tinyid


def new_a2() -> str:
    """An opaque, unguessable post-login token (the SDK only echoes it)."""
    return secrets.token_hex(24)
