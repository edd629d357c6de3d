"""The driver contract: ``Call`` and ``Reply`` values, an event stream, one small protocol.

Business failures are values (``Reply.code != 0``); transport failures never
escape a driver as exceptions: they become ``Reply(code=6010)`` at the edge
(DESIGN rule 6), so nothing in the harness crashes on a bad endpoint.
"""

from __future__ import annotations

import threading
import time
from collections import deque
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, NamedTuple, Protocol, runtime_checkable

from simtim.errors import Code


class DriverError(Exception):
    """A transport failure inside a driver; mapped to ``Reply(6010)`` before it leaves."""


@dataclass(frozen=True, slots=True)
class Call:
    """One TIM method call. ``session`` names the SDK instance (a token on simtim/1);
    ``create`` and the login shortcut (no session, ``SDKAppID`` in args) make a new one."""

    method: str
    args: Mapping[str, Any] = field(default_factory=dict)
    session: str | None = None


@dataclass(frozen=True, slots=True)
class Reply:
    code: int
    message: str = ""
    data: dict[str, Any] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return self.code == 0

    @property
    def unsupported(self) -> bool:
        """The driver found no counterpart on its target: evidence is ``unsupported``, never a mismatch."""
        return self.code == Code.UNSUPPORTED_BY_TARGET

    @classmethod
    def transport_failure(cls, why: str) -> Reply:
        return cls(int(Code.HTTP_REQUEST_FAILED), why)

    @classmethod
    def not_supported(cls, why: str) -> Reply:
        """What a driver answers for a TIM operation its target has no counterpart for.

        A driver translates, it never emulates TIM on the client side to make a rule pass; the
        reason (``why``) is shown as the rule's outcome, e.g. "Matrix has no revoke window".
        """
        return cls(int(Code.UNSUPPORTED_BY_TARGET), why)


class PushedEvent(NamedTuple):
    """One pushed event as a driver received it (a tuple: built for every frame, so it must be cheap)."""

    session: str
    name: str
    data: Any
    received_at: float  # time.monotonic() when the driver got it


_new_tuple = tuple.__new__
_monotonic = time.monotonic


class EventStream:
    """A thread-safe buffer of one session's pushed events, with a wait-until helper."""

    def __init__(self, session: str) -> None:
        self.session = session
        self._events: deque[PushedEvent] = deque()
        self._cond = threading.Condition()
        self._waiting = 0
        self.closed = False

    def put(self, name: str, data: Any) -> None:
        with self._cond:
            self._events.append(_new_tuple(PushedEvent, (self.session, name, data, _monotonic())))
            if self._waiting:  # most frames arrive with nobody waiting: skip the notify
                self._cond.notify_all()

    def close(self) -> None:
        with self._cond:
            self.closed = True
            self._cond.notify_all()

    def _wait(self, timeout: float) -> None:
        self._waiting += 1
        try:
            self._cond.wait(timeout)
        finally:
            self._waiting -= 1

    def drain(self) -> list[PushedEvent]:
        with self._cond:
            taken = list(self._events)
            self._events.clear()
            return taken

    def wait_for(self, predicate: Callable[[PushedEvent], bool], timeout: float) -> PushedEvent | None:
        """Remove and return the first event matching ``predicate``, waiting up to ``timeout`` s."""
        deadline = time.monotonic() + timeout
        with self._cond:
            while True:
                for index, event in enumerate(self._events):
                    if predicate(event):
                        del self._events[index]
                        return event
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    return None
                self._wait(remaining)

    def wait_count(self, count: int, timeout: float) -> list[PushedEvent]:
        """Wait until at least ``count`` events are buffered (or timeout), then drain."""
        deadline = time.monotonic() + timeout
        with self._cond:
            while len(self._events) < count:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    break
                self._wait(remaining)
            taken = list(self._events)
            self._events.clear()
            return taken


class Driver(Protocol):
    """What the conformance engine and the load harness need from any endpoint."""

    def call(self, call: Call) -> Reply: ...

    def events(self, session: str) -> EventStream: ...

    def admin(self, op: str, body: Mapping[str, Any]) -> Reply: ...

    def close(self) -> None: ...


@runtime_checkable
class Reconnectable(Protocol):
    """A driver whose event channel can be cut and re-opened (NET-1 under load).

    ``cut`` drops the session's connection abruptly (no goodbye: on a socket, shut it); events
    raised meanwhile stay with the target. ``reconnect`` opens a new one; the driver then puts
    ``netStateChange {state: "connected"}`` into the session's stream, the way the TIM SDK itself
    announces a connection that came back, followed by whatever the target replays.
    """

    def cut(self, session: str) -> None: ...

    def reconnect(self, session: str) -> None: ...


def reconnectable(driver: object) -> Reconnectable | None:
    """The driver as a ``Reconnectable``, or None when its target has no connection to cut."""
    return driver if isinstance(driver, Reconnectable) else None


def gaps_of(driver: object) -> Mapping[str, str]:
    """TIM method and event names a driver's target has no counterpart for, with the reason.

    A driver for a foreign server (e.g. Matrix) sets ``gaps = {"onConversationListUpdated": "…",
    "setMessageRemindType": "…"}``; the conformance engine then records such a call or an expected
    event of that name as ``unsupported`` evidence (never as passed, never as lost), and runs the
    call on neither side so the shadow model stays in step with the target.
    """
    gaps = getattr(driver, "gaps", None)
    return gaps if isinstance(gaps, Mapping) else {}


def field_gaps_of(driver: object) -> Mapping[str, str]:
    """Reply and event fields a driver's target has no counterpart for, with the reason.

    A Matrix room has no per-conversation ``sequence`` counter and no member cap
    (``maxMemberNum``): the driver says so once (``field_gaps = {"sequence": "…"}``) and the checker
    leaves those keys out of every comparison (the run's header lists them), rather than the driver
    inventing a TIM value for them.  Conversations a target cannot have are ``conversation_gaps``.
    """
    gaps = getattr(driver, "field_gaps", None)
    return gaps if isinstance(gaps, Mapping) else {}


def conversation_gaps_of(driver: object) -> Mapping[str, str]:
    """Conversation IDs a driver's target never lists in ``getConversationList``, with the reason.

    The Web SDK builds ``@TIM#SYSTEM`` on the client from the notices it saw; its server's list
    (``recentcontact.page_get``) has no entry the SDK would take for it.  Matrix has no group
    system notices at all.  The checker takes such a
    conversation out of the model's list and notes it as ``unsupported`` (``reply_gaps``), so the
    rest of the list is still compared.  A ``field_gaps`` key ``"<method>.<field>"`` does the same
    for one reply field of one method.
    """
    gaps = getattr(driver, "conversation_gaps", None)
    return gaps if isinstance(gaps, Mapping) else {}


def session_of(call: Call, reply: Reply) -> str | None:
    """The session a call made or used (``create``/login shortcut return a new one)."""
    if reply.ok and call.method in ("create", "login") and "session" in reply.data:
        return str(reply.data["session"])
    return call.session
