"""The simtim/1 envelope and JSON codec, in one place (DESIGN rule 5)."""

from __future__ import annotations

from typing import Any

import orjson

from simtim.errors import IMError, phrase_of

Envelope = dict[str, Any]


def ok(data: Any = None) -> Envelope:
    return {"code": 0, "message": "", "data": data if data is not None else {}}


def error(code: int, message: str | None = None) -> Envelope:
    return {"code": int(code), "message": message if message is not None else phrase_of(code)}


def from_error(exc: IMError) -> Envelope:
    return error(exc.code, exc.message)


def encode(value: Any) -> bytes:
    return orjson.dumps(value)


#: Deepest body nesting accepted (60003 beyond): replies and event frames wrap a stored payload a few
#: levels deeper, and orjson refuses to encode past 255 levels (which would be a 500 after the state changed).
MAX_BODY_DEPTH = 100


def _depth(value: Any) -> int:
    """How many containers deep ``value`` nests (a scalar 0, ``[]`` 1, ``[[]]`` 2)."""
    depth, level = 0, [value]
    while level := [node for node in level if isinstance(node, (dict, list))]:
        depth += 1
        level = [child for node in level for child in (node.values() if isinstance(node, dict) else node)]
    return depth


def decode(raw: bytes) -> Any:
    """Parse JSON; raises ValueError on anything that is not JSON or is nested too deeply."""
    value = orjson.loads(raw)
    # deeper than MAX_BODY_DEPTH takes that many openers and closers: a shorter body needs no count
    if (
        len(raw) > 2 * MAX_BODY_DEPTH
        and raw.count(b"[") + raw.count(b"{") > MAX_BODY_DEPTH
        and _depth(value) > MAX_BODY_DEPTH
    ):
        raise ValueError(f"JSON nested deeper than {MAX_BODY_DEPTH} levels")
    return value


def event_frame(name: str, data: Any) -> str:
    """One WebSocket text frame: ``{"event": <TIM value>, "data": <TIM event.data>}``."""
    return orjson.dumps({"event": name, "data": data}).decode()
