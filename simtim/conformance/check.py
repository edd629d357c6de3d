"""Comparing a target's answer with the model's: codes, data after ID mapping, volatile fields.

Pure functions returning ``Mismatch`` values (the Complement ``match/`` idea):
no test framework here, so the same checker serves pytest, ``simtim conform``
and the Locust harness.
"""

from __future__ import annotations

import functools
from collections import deque
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from simtim.errors import Code

#: server-chosen identifiers (simtim/1, then REST v4): mapped through a bijection, never compared raw
ID_KEYS = frozenset({"ID", "nextReqMessageID", "session", "token", "MsgKey", "LastMsgKey", "MsgId", "Next"})
#: server times: compared within a tolerance
TIME_KEYS = frozenset(
    {
        "time",
        "createTime",
        "joinTime",
        "clientTime",
        "now",
        "muteUntil",
        "MsgTime",
        "MsgTimeStamp",
        "CreateTime",
        "JoinTime",
        "LastMsgTime",
        "MutedUntil",
        "MuteUntil",
    }
)
#: drawn by the server when the client gave none (MSG-6; in REST reads of SDK messages too, where
#: the MsgKey bijection still pins it); REST's texts are not normative (REST-1)
IGNORED_KEYS = frozenset({"random", "MsgRandom", "ErrorInfo", "ResultInfo"})
GROUP_ID_PREFIX = "@TGS#"


class MismatchKind(StrEnum):
    """What a mismatch is about; consumers decide by kind, never by parsing ``path`` or values."""

    REPLY_CODE = "reply_code"  # the target answered another code than the model
    REPLY_DATA = "reply_data"  # same code, different data
    EVENT_DATA = "event_data"  # the pushed event arrived with different data
    EVENT_LOST = "event_lost"  # an event the model pushed never arrived
    EVENT_LATE = "event_late"  # it arrived, but after the deadline
    EVENT_UNEXPECTED = "event_unexpected"  # the target pushed an event the model did not
    MODEL = "model"  # a scenario's `expect` disagrees with the model itself (the model drifted from SPEC)
    TRANSPORT = "transport"  # the call failed on the wire (6010): the endpoint could not be reached
    DELIVERY_DUPLICATED = "delivery_duplicated"  # a stamped message reached an instance twice (MSG-5)
    DELIVERY_REORDERED = "delivery_reordered"  # it arrived before an earlier one of its sender (MSG-5)

    @property
    def is_event(self) -> bool:
        return self in _EVENT_KINDS

    @property
    def is_missing_event(self) -> bool:
        return self is MismatchKind.EVENT_LOST or self is MismatchKind.EVENT_LATE


_EVENT_KINDS = frozenset(
    {MismatchKind.EVENT_DATA, MismatchKind.EVENT_LOST, MismatchKind.EVENT_LATE, MismatchKind.EVENT_UNEXPECTED}
)


@dataclass(frozen=True, slots=True)
class Mismatch:
    rule: str
    method: str
    path: str
    expected: Any
    actual: Any
    step: str = ""
    kind: MismatchKind = MismatchKind.REPLY_DATA
    event: str = ""  # the pushed event's name, for the event kinds (a load run names its PUSH by it)

    def describe(self) -> str:
        where = f"{self.step} " if self.step else ""
        return (
            f"[{self.rule}] {where}{self.method} {self.path}: expected {self.expected!r}, got {self.actual!r}"
        )


def code_mismatch(rule: str, method: str, field: str, expected: int, actual: int, step: str = "") -> Mismatch:
    """The target answered another code than the model. 6010 is never a model's answer (the call
    did not reach the target), so it is a transport failure, not a wrong answer."""
    failed = actual == Code.HTTP_REQUEST_FAILED and expected != Code.HTTP_REQUEST_FAILED
    kind = MismatchKind.TRANSPORT if failed else MismatchKind.REPLY_CODE
    return Mismatch(rule, method, field, expected, actual, step, kind)


#: ID keys of messages: a cell forgets the oldest of these pairs past ``IdMap.message_limit``
MESSAGE_ID_KEYS = frozenset({"ID", "nextReqMessageID", "MsgKey", "LastMsgKey", "MsgId"})


class IdMap:
    """A bijection between the model's IDs and the target's (message IDs, default group IDs).

    With ``message_limit`` (the load harness's cells), message ID pairs are kept for the newest
    that many messages only, so a cell that runs for hours holds a bounded map (a soak's Locust
    memory stays flat); a forgotten pair that shows up again in a reply is simply bound again.
    Group IDs and sessions are never forgotten; 0 keeps everything (conformance scenarios).
    """

    def __init__(self, message_limit: int = 0) -> None:
        self.to_target: dict[Any, Any] = {}
        self.to_model: dict[Any, Any] = {}
        self.message_limit = message_limit
        self._messages: deque[Any] = deque()

    def bind(self, model_value: Any, target_value: Any, message: bool = False) -> bool:
        """Record the pair; False if either side is already bound to something else."""
        known = self.to_target.get(model_value)
        if known is not None:
            return bool(known == target_value)
        if target_value in self.to_model:
            return False
        self.to_target[model_value] = target_value
        self.to_model[target_value] = model_value
        if message and self.message_limit:
            self._messages.append(model_value)
            if len(self._messages) > self.message_limit:
                oldest = self._messages.popleft()
                self.to_model.pop(self.to_target.pop(oldest, None), None)
        return True

    def target_value(self, model_value: Any) -> Any:
        return self.to_target.get(model_value, model_value)

    def translate(self, value: Any) -> Any:
        """Model-space arguments -> target space (IDs the model chose become the target's)."""
        if isinstance(value, dict):
            return {k: self.translate(v) for k, v in value.items()}
        if isinstance(value, list):
            return [self.translate(v) for v in value]
        if isinstance(value, str):
            if value in self.to_target:
                return self.to_target[value]
            if value.startswith("GROUP" + GROUP_ID_PREFIX) and value[5:] in self.to_target:
                return "GROUP" + self.to_target[value[5:]]
        return value


#: Where a compared value sits: the root path, or (parent, ".", key) / (parent, "[", index).  Kept
#: as tuples and spelled out only for a mismatch: building the string for every node compared was
#: most of ``compare``'s cost, and a Locust cell compares every reply and push (docs/performance.md).
_Where = str | tuple[Any, str, Any]


#: Scalar types ``compare`` checks inline; any other type (a str subclass too) goes through walk().
_PLAIN = frozenset({str, int, float, bool, type(None)})


@functools.cache
def _special_keys(ignored: frozenset[str]) -> frozenset[str]:
    """Keys whose values are not compared by plain equality: skipped, time, ID and group keys."""
    return ignored | TIME_KEYS | ID_KEYS | {"conversationID"}


def _spell(where: _Where) -> str:
    """``data.messageList[3].nick`` from the tuple chain."""
    parts: list[str] = []
    while not isinstance(where, str):
        where, sep, item = where
        parts.append(f"[{item}]" if sep == "[" else f".{item}")
    parts.append(where)
    return "".join(reversed(parts))


def compare(
    expected: Any,
    actual: Any,
    ids: IdMap,
    *,
    rule: str,
    method: str,
    path: str = "data",
    time_tolerance: int = 2,
    step: str = "",
    kind: MismatchKind = MismatchKind.REPLY_DATA,
    event: str = "",
    ignored: frozenset[str] = IGNORED_KEYS,
) -> list[Mismatch]:
    """Every difference between the model's value and the target's, as Mismatch values; keys in
    ``ignored`` are not compared (``IGNORED_KEYS`` plus the fields a driver's target lacks)."""
    out: list[Mismatch] = []
    special = _special_keys(ignored)

    def miss(where: _Where, exp: Any, act: Any) -> None:
        out.append(Mismatch(rule, method, _spell(where), exp, act, step, kind, event))

    def walk(exp: Any, act: Any, where: _Where, key: str) -> None:
        if key in ignored:
            return
        if isinstance(exp, dict):
            if not isinstance(act, dict):
                miss(where, exp, act)
                return
            shared = 0
            for k, e in exp.items():
                if k in act:
                    shared += 1
                    a = act[k]
                    if (
                        type(e) in _PLAIN
                        and k not in special
                        and not (type(e) is str and e.startswith(GROUP_ID_PREFIX))
                    ):  # what walk() would do with a plain value under a plain key, without the call
                        if e != a or type(e) is not type(a):
                            miss((where, ".", k), e, a)
                        continue
                    walk(e, a, (where, ".", k), k)
                else:
                    miss((where, ".", k), e, "<missing>")
            if shared != len(act):  # keys only the target sent
                for k, a in act.items():
                    if k not in exp:
                        miss((where, ".", k), "<absent>", a)
            return
        if isinstance(exp, list):
            if not isinstance(act, list) or len(exp) != len(act):
                miss((where, ".", "length"), _len(exp), _len(act))
                return
            for index, (e, a) in enumerate(zip(exp, act, strict=True)):
                walk(e, a, (where, "[", index), key)
            return
        if key in TIME_KEYS and isinstance(exp, int) and isinstance(act, int):
            if abs(exp - act) > time_tolerance:
                miss(where, exp, act)
            return
        if (
            exp != ""
            and exp is not None
            and (key in ID_KEYS or (isinstance(exp, str) and exp.startswith(GROUP_ID_PREFIX)))
        ):
            if not isinstance(act, str | int) or not ids.bind(exp, act, key in MESSAGE_ID_KEYS):
                miss(where, exp, act)
            return
        if key == "conversationID" and isinstance(exp, str) and exp.startswith("GROUP" + GROUP_ID_PREFIX):
            if not isinstance(act, str) or not act.startswith("GROUP") or not ids.bind(exp[5:], act[5:]):
                miss(where, exp, act)
            return
        if exp != act or type(exp) is not type(act):
            miss(where, exp, act)

    walk(expected, actual, path, "")
    return out


def _len(value: Any) -> Any:
    return len(value) if isinstance(value, list) else value
