"""Addressing events to instances: the one place that knows a disconnected instance defers them.

Every component that emits goes through ``emit``/``emit_account``, so NET-1 (a reconnect
replays what the instance missed, once, in order) holds for every event by construction.
"""

from __future__ import annotations

from typing import Any

from simtim.model.entities import Account, Instance
from simtim.model.events import Event

_new_tuple = tuple.__new__


def emit(events: list[Event], inst: Instance, name: str, data: Any) -> None:
    """Address one event; a disconnected instance keeps it for NET-1 replay."""
    if inst.connected:
        events.append(_new_tuple(Event, (inst.id, name, data)))
    else:
        inst.deferred.append((name, data))


def emit_account(
    events: list[Event], account: Account, name: str, data: Any, exclude: Instance | None = None
) -> None:
    """The hot loop of every fan-out: inlined, and Events built without NamedTuple's __new__."""
    for inst in account.online:
        if inst is not exclude:
            if inst.connected:
                events.append(_new_tuple(Event, (inst.id, name, data)))
            else:
                inst.deferred.append((name, data))
