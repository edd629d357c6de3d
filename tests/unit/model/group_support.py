"""Helpers shared by the group test modules (test_groups, test_members, test_group_messages,
test_notices, test_capabilities) and the group state machine."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

import pytest

from simtim.errors import IMError
from simtim.model.core import DEV_SDKAPPID
from simtim.sdk import TIM, SimTIM

APP = DEV_SDKAPPID
TIP = "TIMGroupTipElem"
NOTICE = "TIMGroupSystemNoticeElem"
SYSTEM = "@TIM#SYSTEM"


def refused(code: int, tim: TIM, method: str, opts: object = None) -> IMError:
    """Call ``method`` and require it to fail with ``code``."""
    with pytest.raises(IMError) as info:
        tim.call(method, opts)
    assert info.value.code == code, f"{method}: expected {code}, got {info.value}"
    return info.value


def refused_fn(code: int, fn: Callable[..., Any], *args: Any) -> IMError:
    with pytest.raises(IMError) as info:
        fn(*args)
    assert info.value.code == code, f"expected {code}, got {info.value}"
    return info.value


def create(tim: TIM, group_type: str = "Private", name: str = "g", **opts: Any) -> str:
    """createGroup; returns the group ID."""
    return str(tim.call("createGroup", {"name": name, "type": group_type, **opts})["group"]["groupID"])


def gtext(group_id: str, body: str = "hi", **extra: Any) -> dict[str, Any]:
    """A group text message option object."""
    return {
        "to": group_id,
        "conversationType": "GROUP",
        "type": "TIMTextElem",
        "payload": {"text": body},
        **extra,
    }


def send(tim: TIM, group_id: str, body: str = "hi", **extra: Any) -> dict[str, Any]:
    return tim.send_message(gtext(group_id, body, **extra))["message"]


def drain(*tims: TIM) -> None:
    for tim in tims:
        tim.take_events()


def of(tim: TIM, name: str) -> list[Any]:
    """Data of the events named ``name`` received so far (not cleared)."""
    return [data for event, data in tim.events if event == name]


def received(tim: TIM) -> list[dict[str, Any]]:
    """Messages pushed by onMessageReceived so far."""
    return [m for batch in of(tim, "onMessageReceived") for m in batch]


def tips(tim: TIM) -> list[dict[str, Any]]:
    return [m for m in received(tim) if m["type"] == TIP]


def notices(tim: TIM) -> list[dict[str, Any]]:
    return [m for m in received(tim) if m["type"] == NOTICE]


def history(tim: TIM, conversation_id: str, count: int = 15) -> list[dict[str, Any]]:
    """Every visible message, oldest first, following nextReqMessageID until isCompleted."""
    pages: list[list[dict[str, Any]]] = []
    cursor = ""
    for _ in range(10_000):
        opts: dict[str, Any] = {"conversationID": conversation_id, "count": count}
        if cursor:
            opts["nextReqMessageID"] = cursor
        page = tim.get_message_list(opts)
        pages.append(page["messageList"])
        if page["isCompleted"]:
            assert page["nextReqMessageID"] == ""
            break
        cursor = page["nextReqMessageID"]
        assert cursor == page["messageList"][0]["ID"]
    return [m for page in reversed(pages) for m in page]


def ids(messages: Iterable[dict[str, Any]]) -> list[str]:
    return [m["ID"] for m in messages]


def conversation(tim: TIM, conversation_id: str) -> dict[str, Any]:
    return dict(tim.get_conversation_profile(conversation_id)["conversation"])


def group_state(service: SimTIM, group_id: str) -> dict[str, Any]:
    """A comparable snapshot of one group (for "nothing changed" checks)."""
    group = service.world.apps[APP].groups.get(group_id)
    if group is None:
        return {}
    return {
        "profile": group.profile(),
        "members": [(m.user_id, m.role, m.name_card, dict(m.custom_fields)) for m in group.members.values()],
        "messages": [m.id for m in group.thread.messages],
        "mute": dict(group.mute_until),
        "applications": sorted(group.applications),
    }


def force_role(service: SimTIM, group_id: str, user_id: str, role: str) -> None:
    """Give a member a role the SDK cannot grant in this group type (table checks only)."""
    service.world.apps[APP].groups[group_id].members[user_id].role = role


def members(tim: TIM, group_id: str) -> list[dict[str, Any]]:
    """Every member via getGroupMemberList paging (count 100)."""
    result: list[dict[str, Any]] = []
    offset = 0
    while True:
        page = tim.call("getGroupMemberList", {"groupID": group_id, "count": 100, "offset": offset})
        result.extend(page["memberList"])
        offset = page["offset"]
        if offset == 0:
            return result


def roles(tim: TIM, group_id: str) -> dict[str, str]:
    return {m["userID"]: m["role"] for m in members(tim, group_id)}


def public(u: Any, group_type: str = "Public", **opts: Any) -> str:
    """A group of ``group_type`` with the ``u`` cast: owner, admin (Admin) and member (Member)."""
    gid = create(
        u.o, group_type, memberList=[{"userID": "admin", "role": "Admin"}, {"userID": "member"}], **opts
    )
    drain(u.o, u.a, u.m, u.x)
    return gid
