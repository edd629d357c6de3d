"""The Web SDK wire format: one WebSocket frame = ``{"head": {...}, "body": {...}}`` in UTF-8 JSON.

``/binfo`` carries binary frames, ``/info`` text frames, and a reply must use the frame type of its
path (the SDK decodes an ``ArrayBuffer`` on ``/binfo``).  A reply echoes the request's ``head`` (the SDK
matches ``servcmd`` + ``seq``); a push is a frame whose head names a push command.  Both the server
face and a Python client of the protocol use these functions, so the two cannot drift apart.
"""

from __future__ import annotations

import zlib
from dataclasses import dataclass
from typing import Any

import orjson

from simtim.errors import Code

#: paths of the face; the value says whether frames are binary
PATHS: dict[str, bool] = {"/binfo": True, "/info": False}
#: the service.command of each push the face sends
PUSH_MESSAGE = "im_open_push.msg_push"
PUSH_FORCE_OFFLINE = "im_open_status.stat_forceoffline"
#: 3.x sends checksum 0 for these (login, logout, ping); everything else carries CRC-32 of the body
NO_CHECKSUM = ("wslogin", "wslogout", "alive")


class FrameError(Exception):
    """A frame the face cannot take: ``code`` is the TIM code of the reply, ``head`` what was readable."""

    def __init__(self, message: str, head: dict[str, Any] | None = None) -> None:
        super().__init__(message)
        self.code = int(Code.REQUEST_INVALID)
        self.message = message
        self.head = head or {}


@dataclass(frozen=True)
class Request:
    head: dict[str, Any]
    body: dict[str, Any]

    @property
    def servcmd(self) -> str:
        return str(self.head["servcmd"])


def checksum(body: Any) -> int:
    """3.x ``head.cs``: CRC-32 (poly 0xEDB88320) of the body as ``JSON.stringify`` writes it."""
    return zlib.crc32(orjson.dumps(body)) & 0xFFFFFFFF


def decode(raw: bytes | str, *, binary: bool, expect_binary: bool) -> Request:
    """A received frame -> Request, or FrameError (60003) naming what is wrong.

    Checks in order: frame type matches the path, JSON object, ``head`` object with a string
    ``servcmd``, ``body`` object (absent = ``{}``).
    """
    try:
        value = orjson.loads(raw)
    except orjson.JSONDecodeError:
        raise FrameError("the frame is not JSON") from None
    head = value.get("head") if isinstance(value, dict) else None
    if not isinstance(head, dict):
        raise FrameError("the frame has no head object")
    if binary != expect_binary:
        kind = "binary" if binary else "text"
        raise FrameError(f"a {kind} frame on {'/binfo' if expect_binary else '/info'}", head)
    servcmd = head.get("servcmd")
    if not isinstance(servcmd, str) or "." not in servcmd:
        raise FrameError("head.servcmd must be a string <service>.<command>", head)
    body = value.get("body", {})
    if body is None:
        body = {}
    if not isinstance(body, dict):
        raise FrameError("body must be a JSON object", head)
    return Request(head, body)


def encode(head: dict[str, Any], body: dict[str, Any]) -> bytes:
    """One frame's bytes (UTF-8 JSON); the transport sends them as binary or as text."""
    return orjson.dumps({"head": head, "body": body})


def push_head(servcmd: str, now: int) -> dict[str, Any]:
    """The head of a server push: seq 0 never matches a pending request."""
    return {"ver": "v4", "servcmd": servcmd, "seq": 0, "reqtime": now, "cs": 0}


def reply_head(request_head: dict[str, Any], body: dict[str, Any]) -> dict[str, Any]:
    """The request head echoed (servcmd + seq match the reply), with a checksum where 3.x expects one."""
    head = dict(request_head)
    if "cs" in head:
        command = str(head.get("servcmd", "")).rpartition(".")[2]
        head["cs"] = 0 if command in NO_CHECKSUM else checksum(body)
    return head


def ok(fields: dict[str, Any] | None = None) -> dict[str, Any]:
    body: dict[str, Any] = {"ActionStatus": "OK", "ErrorCode": 0, "ErrorInfo": ""}
    if fields:
        body.update(fields)
    return body


def fail(code: int, info: str) -> dict[str, Any]:
    return {"ActionStatus": "FAIL", "ErrorCode": int(code), "ErrorInfo": info}


__all__ = [
    "PATHS",
    "PUSH_FORCE_OFFLINE",
    "PUSH_MESSAGE",
    "FrameError",
    "Request",
    "checksum",
    "decode",
    "encode",
    "fail",
    "ok",
    "push_head",
    "reply_head",
]


#: TIM's platform numbers as the SDK writes them in ``head.platform`` and the URL (its own table:
#: ANDROID 2, IOS 3, MAC 4, WEB 7, WX_MP 8, QQ_MP 9, TT_MP 10, BAIDU_MP 11, ALI_MP 12, IPAD 13) ->
#: the model's platform names (INST-4).  Mini programs of every host are one class; ``pc`` and
#: UNI_NATIVE_APP (15) have no entry: the model has no number for the one, the wire none for the other.
PLATFORM_NAMES = {
    2: "android",
    3: "ios",
    4: "mac",
    7: "web",
    8: "miniprogram",
    9: "miniprogram",
    10: "miniprogram",
    11: "miniprogram",
    12: "miniprogram",
    13: "ipad",
}
#: a model platform -> the number a client writes (the first in the SDK's table)
PLATFORM_NUMBERS = {name: number for number, name in sorted(PLATFORM_NAMES.items(), reverse=True)}
WEB_PLATFORM = 7
