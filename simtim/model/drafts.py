"""Turning a TIM Message option object into a checked draft (MSG-1, MSG-2).

Everything here runs before any state is touched, so a refused send changes
nothing (ORDER-1).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from simtim.errors import Code, IMError
from simtim.limits import CALLBACK_CODES_C2C, CALLBACK_CODES_GROUP, UINT32_MAX
from simtim.model.args import is_int
from simtim.model.elements import body_size, check_elements, declared_size_limit_exceeded
from simtim.model.entities import C2C, GROUP

PRIORITIES = ("High", "Normal", "Low", "Lowest")  # MSG-7


class Draft:
    """A send request that passed the shape and element checks."""

    __slots__ = (
        "client_time",
        "cloud_custom_data",
        "conversation_type",
        "elements",
        "priority",
        "random",
        "to",
    )

    def __init__(
        self,
        conversation_type: str,
        to: str,
        priority: str,
        random: int | None,
        client_time: int | None,
        cloud_custom_data: str,
        elements: list[tuple[Any, Any]],
    ) -> None:
        self.conversation_type = conversation_type
        self.to = to
        self.priority = priority
        self.random = random
        self.client_time = client_time
        self.cloud_custom_data = cloud_custom_data
        self.elements = elements


def _shape(why: str) -> IMError:
    return IMError(Code.INVALID_PARAMETERS, why, rule="MSG-2")


def parse_draft(message: object, message_max_bytes: int) -> Draft:
    """ORDER-1 shapes (6017), then MSG-2: 6016 -> 80002 -> 7005."""
    if type(message) is not dict and not isinstance(message, Mapping):  # dict first: no ABC check
        raise _shape("message must be an object")
    to = message.get("to")
    if not isinstance(to, str) or not to:
        raise _shape("message.to must be a non-empty string")
    conversation_type = message.get("conversationType")
    if conversation_type not in (C2C, GROUP):
        raise _shape("message.conversationType must be C2C or GROUP")
    priority = message.get("priority")
    if priority is None:
        priority = "Normal"
    elif priority not in PRIORITIES:
        raise _shape("message.priority must be High, Normal, Low or Lowest")
    random = message.get("random")  # (a JSON number is an exact int: is_int only for the rest)
    if random is not None and not ((random.__class__ is int or is_int(random)) and 0 <= random <= UINT32_MAX):
        raise _shape("message.random must be a uint32")
    client_time = message.get("clientTime")
    if client_time is not None and not (
        (client_time.__class__ is int or is_int(client_time)) and client_time >= 0
    ):
        raise _shape("message.clientTime must be a non-negative integer")
    cloud = message.get("cloudCustomData")
    if cloud is None:
        cloud = ""
    elif not isinstance(cloud, str):
        raise _shape("message.cloudCustomData must be a string")
    raw_elements = message.get("elements")
    if raw_elements is None:
        elements: list[tuple[Any, Any]] = [(message.get("type"), message.get("payload"))]
    else:
        if not isinstance(raw_elements, list) or not all(isinstance(e, Mapping) for e in raw_elements):
            raise _shape("message.elements must be a list of {type, payload}")
        elements = [(e.get("type"), e.get("payload")) for e in raw_elements]
    check_elements(elements)  # 6016
    if body_size(elements, cloud) > message_max_bytes:
        raise IMError(Code.MESSAGE_TOO_LONG, rule="MSG-2")
    if declared_size_limit_exceeded(elements):
        raise IMError(Code.FILE_TOO_LARGE, rule="MSG-2")
    return Draft(str(conversation_type), to, str(priority), random, client_time, cloud, elements)


def callback_body(draft: Draft, sender: str, group_type: str = "") -> dict[str, Any]:
    """MSG-8: the REST before-send callback body (MsgContent carries simtim's payload)."""
    body = [{"MsgType": t, "MsgContent": p} for t, p in draft.elements]
    if draft.conversation_type == C2C:
        return {
            "CallbackCommand": "C2C.CallbackBeforeSendMsg",
            "From_Account": sender,
            "To_Account": draft.to,
            "MsgRandom": draft.random or 0,
            "MsgBody": body,
            "CloudCustomData": draft.cloud_custom_data,
        }
    return {
        "CallbackCommand": "Group.CallbackBeforeSendMsg",
        "GroupId": draft.to,
        "Type": group_type,
        "From_Account": sender,
        "Operator_Account": sender,
        "Random": draft.random or 0,
        "MsgBody": body,
        "CloudCustomData": draft.cloud_custom_data,
    }


def apply_verdict(verdict: object, draft: Draft, c2c: bool) -> list[tuple[Any, Any]]:
    """MSG-8: decide from the backend's reply; anything unreadable means proceed."""
    if not isinstance(verdict, Mapping):
        return draft.elements  # timeout, error or malformed -> proceed
    raw_code = verdict.get("ErrorCode")
    if not is_int(raw_code):
        return draft.elements
    code = int(raw_code)
    if code == 0:
        body = verdict.get("MsgBody")
        if isinstance(body, list) and body and all(isinstance(b, Mapping) for b in body):
            replaced = [(b.get("MsgType"), b.get("MsgContent")) for b in body]
            try:
                check_elements(replaced)
            except IMError:
                return draft.elements  # a malformed replacement body -> proceed unchanged
            return replaced
        return draft.elements
    if code == 1:
        raise IMError(Code.C2C_CALLBACK_REJECTED if c2c else Code.GROUP_CALLBACK_REJECTED, rule="MSG-8")
    low, high = CALLBACK_CODES_C2C if c2c else CALLBACK_CODES_GROUP
    if low <= code <= high:
        raise IMError(code, str(verdict.get("ErrorInfo") or "") or None, rule="MSG-8")
    return draft.elements
