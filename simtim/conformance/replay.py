"""NET-1 under faults: what one reconnect replayed, against what the model replays.

After an instance's connection is cut and re-opened, every event the model deferred for it must
arrive exactly once, in order. Messages (``onMessageReceived``) are matched by ID through the
cell's bijection, so a lost, a duplicated and a reordered message are told apart and counted for
the delivery CSV; every other replayed event is matched by name, in order, and compared like any
push. Pure: the caller (``Cell.reconnect``) waits for the target's frames and passes them in.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from simtim.conformance.check import IdMap, Mismatch, MismatchKind, compare
from simtim.driver.base import PushedEvent
from simtim.model.events import MESSAGE_RECEIVED

NET_RULE = "NET-1"


@dataclass
class ReplayCheck:
    """One reconnect's verdict: counts for the delivery CSV, mismatches for the conformance CSV."""

    expected: int = 0  # messages the model replayed
    delivered: int = 0  # of those, arrived at least once
    lost: int = 0
    duplicated: int = 0  # extra copies, and messages replayed that the model did not replay
    reordered: int = 0  # arrived after a message the model replays later
    checks: int = 0  # NET-1 comparisons made (one per replayed event, one for "nothing else")
    mismatches: list[Mismatch] = field(default_factory=list)
    matched: list[PushedEvent] = field(default_factory=list)  # the target's events that were expected


def message_id(data: Any) -> Any:
    """The ID of the message an ``onMessageReceived [Message]`` event carries (None if malformed)."""
    if isinstance(data, list) and data and isinstance(data[0], dict):
        return data[0].get("ID")
    return None


def check_replay(
    expected: list[tuple[str, Any]],
    actual: list[PushedEvent],
    ids: IdMap,
    *,
    actor: str,
    step: str = "",
    time_tolerance: int = 2,
) -> ReplayCheck:
    """Compare the model's replayed events ``(name, data)`` with the target's, in arrival order."""
    result = ReplayCheck()
    method = "reconnect"
    path = f"event[{actor}]"

    def mismatch(name: str, want: Any, got: Any, kind: MismatchKind) -> None:
        result.mismatches.append(Mismatch(NET_RULE, method, f"{path}.{name}", want, got, step, kind, name))

    def matched(name: str, want: Any, got: PushedEvent) -> None:
        """A replayed event found: its data compared with the model's, field by field."""
        result.matched.append(got)
        result.mismatches += compare(
            want,
            got.data,
            ids,
            rule=NET_RULE,
            method=method,
            path=f"{path}.{name}",
            time_tolerance=time_tolerance,
            step=step,
            kind=MismatchKind.EVENT_DATA,
            event=name,
        )

    # --- messages: by ID, so lost / duplicated / reordered are told apart -------------------------
    wanted = [(message_id(data), data) for name, data in expected if name == MESSAGE_RECEIVED]
    order = {model_id: index for index, (model_id, _) in enumerate(wanted)}
    result.expected = len(wanted)
    copies: Counter[Any] = Counter()
    highest = -1
    first_copy: dict[Any, PushedEvent] = {}
    for event in actual:
        if event.name != MESSAGE_RECEIVED:
            continue
        target_id = message_id(event.data)
        model_id = ids.to_model.get(target_id, target_id)
        copies[model_id] += 1
        position = order.get(model_id)
        if position is None or copies[model_id] > 1:  # not replayed by the model, or a second copy
            result.duplicated += 1
            mismatch(MESSAGE_RECEIVED, "once", f"extra copy of {target_id}", MismatchKind.DELIVERY_DUPLICATED)
            continue
        first_copy[model_id] = event
        if position < highest:
            result.reordered += 1
            mismatch(MESSAGE_RECEIVED, "in order", f"{target_id} early", MismatchKind.DELIVERY_REORDERED)
        highest = max(highest, position)
    for model_id, data in wanted:
        got = first_copy.get(model_id)
        result.checks += 1
        if got is None:
            result.lost += 1
            mismatch(MESSAGE_RECEIVED, f"replay of {model_id}", None, MismatchKind.EVENT_LOST)
            continue
        result.delivered += 1
        matched(MESSAGE_RECEIVED, data, got)
    # --- every other event: by name, in order --------------------------------------------------------
    others = [event for event in actual if event.name != MESSAGE_RECEIVED]
    for name, data in expected:
        if name == MESSAGE_RECEIVED:
            continue
        result.checks += 1
        index = next((i for i, event in enumerate(others) if event.name == name), None)
        if index is None:
            mismatch(name, "replayed", None, MismatchKind.EVENT_LOST)
            continue
        matched(name, data, others.pop(index))
    result.checks += 1  # "nothing else was replayed" is a check too
    for extra in others:
        mismatch(extra.name, "<no event>", f"unexpected {extra.name}", MismatchKind.EVENT_UNEXPECTED)
    return result


__all__ = ["NET_RULE", "ReplayCheck", "check_replay", "message_id"]
