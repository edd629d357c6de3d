"""The REST v4 face of ``simtim serve``: ``/v4/{service}/{command}`` on the same apps and model.

A table maps each command to its handler (request shape -> model operation -> reply shape); the
face adds only what the wire needs (REST-1): liberal parsing (no Content-Type, raw or encoded query
values, GET for reads, the legacy names), the caller's authentication (REST-2), a per-API call rate,
and the envelope - always HTTP 200, ``ActionStatus``/``ErrorCode``/``ErrorInfo`` beside the API's
fields.  It decides no semantics: the model does, so SDK users see what REST calls do (REST-9).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import orjson

from simtim.errors import Code, IMError, phrase_of
from simtim.limits import REST_RATE_SLOW_PER_SECOND
from simtim.model.events import Event
from simtim.model.world import World
from simtim.protocol.rest import accounts, c2c, groups
from simtim.protocol.rest.context import Ctx, Handler
from simtim.protocol.rest.request import RestError, authenticate, parse_query

COMMANDS: dict[tuple[str, str], Handler] = {**accounts.COMMANDS, **c2c.COMMANDS, **groups.COMMANDS}
#: APIs TIM limits to 100 calls per second instead of 200 (REST-2)
SLOW_APIS = frozenset({("im_open_login_svc", "multiaccount_import"), ("im_open_login_svc", "account_check")})
METHODS = ("POST", "GET")  # GET is served like POST for the clients that use it for reads [decision]


def envelope(code: int = 0, info: str = "", fields: dict[str, Any] | None = None) -> dict[str, Any]:
    """OK or FAIL with the code; an OK reply's per-item failures ride inside its fields (REST-1)."""
    reply: dict[str, Any] = {
        "ActionStatus": "OK" if code == 0 else "FAIL",
        "ErrorCode": code,
        "ErrorInfo": info,
    }
    if fields:
        reply.update(fields)
    return reply


class RestFace:
    def __init__(
        self, world: World, sink: Callable[[list[Event]], None], clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.world = world
        self.sink = sink
        self.clock = clock
        self._rates: dict[tuple[int, str, str], tuple[int, int]] = {}  # (app, svc, cmd) -> (second, count)

    def handle(
        self, method: str, path: str, query: bytes | str, body: bytes, *, count_rate: bool = True
    ) -> dict[str, Any]:
        """One request, answered (never raises for anything a client can send).

        ``count_rate=False`` when ``admit`` counted it already (a journaled server admits before it
        journals, so a replay never meets the wall-clock rate limit)."""
        try:
            if count_rate:
                return envelope(0, "", self._handle(method, path, query, body))
            return envelope(0, "", self._handle(method, path, query, body, count_rate=False))
        except RestError as exc:
            return envelope(exc.code, exc.message)
        except IMError as exc:
            return envelope(exc.code, exc.message)

    def admit(self, method: str, path: str, query: bytes | str, body: bytes) -> dict[str, Any] | None:
        """The refusal a request meets before any model operation (path, caller, body, rate), or
        None; counts it against the rate when admitted.  Reads state, never changes the world."""
        try:
            _handler, caller, _document, key = self._prepare(method, path, query, body)
            self._count(caller.app.sdkappid, key, caller.app.config.rest_rate_per_second)
        except RestError as exc:
            return envelope(exc.code, exc.message)
        except IMError as exc:
            return envelope(exc.code, exc.message)
        return None

    def _prepare(
        self, method: str, path: str, query: bytes | str, body: bytes
    ) -> tuple[Handler, Any, dict[str, Any], tuple[str, str]]:
        parts = path.strip("/").split("/")
        key = (parts[1], parts[2]) if len(parts) == 3 and parts[0] == "v4" else ("", "")
        handler = COMMANDS.get(key)
        if method not in METHODS or handler is None:
            raise RestError(Code.UNKNOWN_METHOD, f"no REST API {method} {path}")
        caller = authenticate(self.world, parse_query(query))
        return handler, caller, self._body(body), key

    def _handle(
        self, method: str, path: str, query: bytes | str, body: bytes, *, count_rate: bool = True
    ) -> dict[str, Any]:
        handler, caller, document, key = self._prepare(method, path, query, body)
        if count_rate:
            self._count(caller.app.sdkappid, key, caller.app.config.rest_rate_per_second)
        fields, events = handler(Ctx(self.world, caller, document))
        if events:
            self.sink(events)
        return fields

    @staticmethod
    def _body(raw: bytes) -> dict[str, Any]:
        """No body, or whitespace, is ``{}`` (GET reads); anything else must be a JSON object (60003)."""
        if not raw.strip():
            return {}
        try:
            value = orjson.loads(raw)
        except orjson.JSONDecodeError:
            raise RestError(Code.REQUEST_INVALID, "the body is not JSON") from None
        if not isinstance(value, dict):
            raise RestError(Code.REQUEST_INVALID, "the body must be a JSON object")
        return value

    def _count(self, sdkappid: int, key: tuple[str, str], per_second: int) -> None:
        """REST-2: at most ``per_second`` calls per API per app per wall-clock second (0 = off); a
        transport guard, so it counts real seconds even on a fake-clock server."""
        if per_second <= 0:
            return
        limit = per_second * REST_RATE_SLOW_PER_SECOND // 200 if key in SLOW_APIS else per_second
        second = int(self.clock())
        rate_key = (sdkappid, *key)
        at, count = self._rates.get(rate_key, (second, 0))
        if at != second:
            at, count = second, 0
        if count >= limit:
            raise RestError(Code.REST_RATE_LIMITED)
        self._rates[rate_key] = (at, count + 1)


__all__ = ["COMMANDS", "RestFace", "envelope", "phrase_of"]
