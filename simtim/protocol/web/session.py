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
