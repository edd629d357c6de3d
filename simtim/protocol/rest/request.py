"""One REST v4 request: the query, who is calling (REST-2), and typed reads of the body's fields.

Every refusal is a ``RestError`` carrying a TIM code; the face turns it into HTTP 200 with a FAIL
envelope (REST-1), so clients that discard the body of any 4xx/5xx still learn why.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import unquote_plus

from simtim.errors import Code, IMError, phrase_of
from simtim.model.args import is_int
from simtim.model.entities import App
from simtim.model.world import World
from simtim.usersig import SigFields, verify_usersig


class RestError(Exception):
    def __init__(self, code: int, message: str | None = None) -> None:
        self.code = int(code)
        self.message = message if message is not None else phrase_of(code)
        super().__init__(f"{self.code}: {self.message}")


def parse_query(raw: bytes | str) -> dict[str, str]:
    """Query values percent-decoded or raw (clients do both, REST-1); the first of repeated names.
    ``parse_qs``'s meaning, without its cost on the common case of nothing to decode."""
    text = raw.decode("latin-1") if isinstance(raw, bytes) else raw
    query: dict[str, str] = {}
    for part in text.split("&"):
        if not part:
            continue
        name, _, value = part.partition("=")
        if "%" in name or "+" in name:
            name = unquote_plus(name, encoding="latin-1")
        if "%" in value or "+" in value:
            value = unquote_plus(value)
        query.setdefault(name, value)
    return query


#: UserSigs whose HMAC was verified, by (sig, sdkappid, identifier, key): a backend sends the same
#: admin sig on every call, and decoding one (base64, zlib, JSON, HMAC) is most of a call's cost.
#: Only the expiry is time-dependent, and it is checked on every hit.
_VERIFIED: dict[tuple[str, int, str, str], SigFields] = {}
_VERIFIED_MAX = 4096


def _verified(sig: str, sdkappid: int, identifier: str, key: str, now: int) -> SigFields:
    cache_key = (sig, sdkappid, identifier, key)
    fields = _VERIFIED.get(cache_key)
    if fields is not None:
        if now > fields.expires_at:
            raise IMError(Code.USERSIG_EXPIRED, rule="AUTH-2")
        return fields
    fields = verify_usersig(sig, sdkappid=sdkappid, identifier=identifier, key=key, now=now)
    if len(_VERIFIED) >= _VERIFIED_MAX:
        _VERIFIED.clear()
    _VERIFIED[cache_key] = fields
    return fields


@dataclass
class Caller:
    app: App
    identifier: str


def authenticate(world: World, query: Mapping[str, str]) -> Caller:
    """REST-2's order: sdkappid missing 60012 -> unknown 70020 -> disabled 60016 -> the UserSig
    (empty 70002, undecodable 70003, sdkappid 70014, identifier 70013, expired 70001, HMAC 70009) ->
    not an App admin 60010."""
    raw_app = query.get("sdkappid", "")
    if not raw_app:
        raise RestError(Code.REST_SDKAPPID_MISSING)
    try:
        sdkappid = int(raw_app)
    except ValueError:
        raise RestError(Code.SDKAPPID_NOT_FOUND, f"unknown SDKAppID {raw_app!r}") from None
    app = world.apps.get(sdkappid)
    if app is None:
        raise RestError(Code.SDKAPPID_NOT_FOUND)
    if app.disabled:
        raise RestError(Code.APP_DISABLED)
    identifier = query.get("identifier", "")
    sig = query.get("usersig", "")
    if not sig:
        raise RestError(Code.USERSIG_EMPTY)
    try:
        _verified(sig, sdkappid, identifier, app.secret_key, app.clock.now())
    except IMError as exc:
        raise RestError(exc.code, exc.message) from None
    if identifier not in app.config.rest_admins:
        raise RestError(Code.REST_NEEDS_ADMIN, f"{identifier!r} is not an App admin of {sdkappid}")
    return Caller(app, identifier)


class Fields:
    """Typed reads of a request body; a wrong or missing field is the API family's parameter code."""

    def __init__(self, body: Mapping[str, Any], code: int) -> None:
        self.body = body
        self.code = code

    def _bad(self, name: str, what: str, code: int | None) -> RestError:
        return RestError(code if code is not None else self.code, f"{name} must be {what}")

    def has(self, name: str) -> bool:
        return self.body.get(name) is not None

    def string(self, name: str, *, code: int | None = None, empty: bool = False) -> str:
        value = self.body.get(name)
        if not isinstance(value, str) or (not empty and not value):
            raise self._bad(name, "a non-empty string" if not empty else "a string", code)
        return value

    def opt_string(self, name: str, default: str = "", *, code: int | None = None) -> str:
        return default if self.body.get(name) is None else self.string(name, code=code, empty=True)

    def integer(self, name: str, *, low: int = 0, high: int = 2**63 - 1, code: int | None = None) -> int:
        value = self.body.get(name)
        if not is_int(value) or not low <= value <= high:
            raise self._bad(name, f"an integer from {low} to {high}", code)
        return value

    def opt_integer(self, name: str, default: int | None = None, **limits: Any) -> int | None:
        return default if self.body.get(name) is None else self.integer(name, **limits)

    def strings(self, name: str, *, most: int, code: int | None = None, many: int | None = None) -> list[str]:
        """A non-empty list of non-empty strings, at most ``most`` (``many``: the code for too many)."""
        value = self.body.get(name)
        if not isinstance(value, list) or not value or not all(isinstance(v, str) and v for v in value):
            raise self._bad(name, "a non-empty list of strings", code)
        if len(value) > most:
            raise RestError(many if many is not None else self.code, f"{name} holds more than {most}")
        return value

    def records(
        self, name: str, *, most: int, code: int | None = None, many: int | None = None
    ) -> list[Mapping[str, Any]]:
        value = self.body.get(name)
        if not isinstance(value, list) or not value or not all(isinstance(v, Mapping) for v in value):
            raise self._bad(name, "a non-empty list of objects", code)
        if len(value) > most:
            raise RestError(many if many is not None else self.code, f"{name} holds more than {most}")
        return value

    def flag(self, name: str, *, code: int | None = None) -> bool:
        """0/1 integer switches (``Silence``, ``WithRecalledMsg``); absent is 0."""
        value = self.body.get(name, 0)
        if value not in (0, 1) or isinstance(value, bool):
            raise self._bad(name, "0 or 1", code)
        return bool(value == 1)
