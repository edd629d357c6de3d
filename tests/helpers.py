"""Small helpers shared by the unit tests (fixtures live in ``conftest.py``)."""

from __future__ import annotations

import textwrap
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import pytest

from simtim.conformance.cell import probe
from simtim.conformance.runner import RunSettings, ScenarioResult, run_scenario
from simtim.conformance.scenario import load_scenario
from simtim.driver.base import Driver
from simtim.errors import IMError
from simtim.model.core import DEV_SDKAPPID, DEV_SECRET_KEY
from simtim.model.events import ALL_EVENTS
from simtim.sdk import TIM, SimTIM
from simtim.usersig import gen_usersig

DEV = DEV_SDKAPPID
KEY = DEV_SECRET_KEY
DAY = 86400

#: MSG-4: the fields of a (single-element) Message, exactly.
MESSAGE_FIELDS = frozenset(
    {
        "ID",
        "type",
        "payload",
        "conversationID",
        "conversationType",
        "to",
        "from",
        "flow",
        "time",
        "sequence",
        "random",
        "status",
        "isRevoked",
        "priority",
        "nick",
        "avatar",
        "cloudCustomData",
    }
)
#: CONV-2: a C2C conversation's fields, exactly.
C2C_CONVERSATION_FIELDS = frozenset(
    {
        "conversationID",
        "type",
        "unreadCount",
        "lastMessage",
        "userProfile",
        "messageRemindType",
    }
)
#: PROF-1: a profile's fields, exactly.
PROFILE_FIELDS = frozenset({"userID", "nick", "avatar"})


def code_of(call: Callable[..., Any], *args: Any, **kwargs: Any) -> int:
    """The IMError code a call raises (the test fails if it does not raise)."""
    with pytest.raises(IMError) as info:
        call(*args, **kwargs)
    return info.value.code


def sig_for(
    service: SimTIM,
    user: str,
    expire: int = DAY,
    *,
    now: int | None = None,
    sdkappid: int = DEV,
    key: str = KEY,
) -> str:
    """A UserSig minted at ``now`` (default: the service clock)."""
    return gen_usersig(sdkappid, key, user, expire, now=service.clock.now() if now is None else now)


def new_tim(service: SimTIM, platform: str = "web", sdkappid: int = DEV) -> TIM:
    return service.create({"SDKAppID": sdkappid, "platform": platform})


def record(tims: Mapping[str, TIM]) -> list[tuple[str, str]]:
    """One log of (label, event name) across instances, in delivery order."""
    log: list[tuple[str, str]] = []
    for label, tim in tims.items():
        for name in ALL_EVENTS:
            tim.on(name, lambda _data, label=label, name=name: log.append((label, name)))
    return log


def history(tim: TIM, conversation_id: str) -> list[dict[str, Any]]:
    """Every visible message of a conversation, oldest first, following the pages."""
    messages: list[dict[str, Any]] = []
    cursor = ""
    while True:
        opts: dict[str, Any] = {"conversationID": conversation_id}
        if cursor:
            opts["nextReqMessageID"] = cursor
        page = tim.get_message_list(opts)
        messages = page["messageList"] + messages
        if page["isCompleted"]:
            return messages
        cursor = page["nextReqMessageID"]


def history_ids(tim: TIM, conversation_id: str) -> list[str]:
    return [m["ID"] for m in history(tim, conversation_id)]


def received(tim: TIM) -> list[dict[str, Any]]:
    """Messages from ``onMessageReceived`` since the last take, clearing all events."""
    return [m for name, data in tim.take_events() if name == "onMessageReceived" for m in data]


def run_scenario_text(tmp_path: Path, text: str, target: Driver, *, sdkappid: int) -> ScenarioResult:
    """One conformance scenario written inline, run against ``target`` with short deadlines (the
    targets here are in-process, so events are there at once), then the target closed."""
    path = tmp_path / "s.yaml"
    path.write_text(textwrap.dedent(text), encoding="utf-8")
    try:
        settings = RunSettings(event_deadline=0.1, settle=0.0)
        return run_scenario(
            load_scenario(path), target, probe(target), prefix="u_", sdkappid=sdkappid, settings=settings
        )
    finally:
        target.close()
