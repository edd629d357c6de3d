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


def decode(raw: bytes) -> Any:
    """Parse JSON; raises ValueError on anything that is not JSON."""
    return orjson.loads(raw)


def event_frame(name: str, data: Any) -> str:
    """One WebSocket text frame: ``{"event": <TIM value>, "data": <TIM event.data>}``."""
    return orjson.dumps({"event": name, "data": data}).decode()
