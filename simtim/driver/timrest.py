"""The REST v4 channel: TIM's server API spoken to any endpoint (``timrest+http(s)://HOST:PORT``).

A backend's view of a TIM server: ``POST /v4/{service}/{command}?sdkappid=…&identifier=…&usersig=…``
as the App admin, with UserSigs minted here from the app's key.  ``RestChannel`` speaks it over
HTTP(S) to a target; ``InProcRest`` gives the same calls to an in-process model's REST face, so the
conformance cell compares the two reply by reply.  Replies are ``Reply`` values: ``code`` is
``ErrorCode``, ``data`` the reply's fields without the envelope; a transport failure is
``Reply(6010)`` and never an exception, like every driver's.
"""

from __future__ import annotations

import http.client
import secrets
import threading
import time
from collections.abc import Callable, Mapping
from typing import Any, Protocol
from urllib.parse import quote

import orjson

from simtim.driver.base import Call, EventStream, Reply
from simtim.driver.inproc import InProcDriver
from simtim.driver.url import BadURL, inner_url, parse_url
from simtim.errors import Code
from simtim.limits import DAY_SECONDS
from simtim.protocol.rest.face import COMMANDS
from simtim.usersig import gen_usersig

DEFAULT_ADMIN = "administrator"
SIG_LIFETIME = DAY_SECONDS  # the admin sig is reminted after half of it
ENVELOPE_KEYS = ("ActionStatus", "ErrorCode", "ErrorInfo")
#: command -> its service, from the face's own table (``sendmsg`` -> ``openim``)
SERVICE_OF: dict[str, str] = {command: service for service, command in COMMANDS}
SERVICE_OF["querystate"] = "openim"


class RestCaller(Protocol):
    """Anything that answers REST v4 commands as the App admin."""

    def call(self, command: str, body: Mapping[str, Any], identifier: str | None = None) -> Reply: ...

    def close(self) -> None: ...


#: makes a caller for (sdkappid, secret key, admin identifier, now): one per conformance cell
RestFactory = Callable[[int, str, str, Callable[[], float]], RestCaller]


def rest_url_of(target: str) -> str:
    """``timrest+http://h:p`` -> ``http://h:p`` (the REST face's base URL)."""
    return inner_url(target, "timrest")


def path_of(command: str) -> str:
    """``sendmsg`` -> ``/v4/openim/sendmsg``; ``service/command`` is taken as it is (any command,
    known or not, so a scenario can ask for one a server must refuse)."""
    if "/" in command:
        return f"/v4/{command.strip('/')}"
    service = SERVICE_OF.get(command)
    if service is None:
        raise ValueError(f"unknown REST v4 command {command!r}")
    return f"/v4/{service}/{command}"


def reply_of(document: Any) -> Reply:
    """A TIM envelope as a Reply; anything that is not one is a transport failure (6010)."""
    if not isinstance(document, dict) or not isinstance(document.get("ErrorCode"), int):
        return Reply.transport_failure(f"not a TIM REST envelope: {str(document)[:120]}")
    data = {k: v for k, v in document.items() if k not in ENVELOPE_KEYS}
    return Reply(int(document["ErrorCode"]), str(document.get("ErrorInfo", "")), data)


class _Credentials:
    """The query string of one call: a fresh ``random`` and a UserSig issued at ``now()``."""

    def __init__(self, sdkappid: int, secret_key: str, identifier: str, now: Callable[[], float]) -> None:
        self.sdkappid = sdkappid
        self.secret_key = secret_key
        self.identifier = identifier
        self.now = now
        self._sig: tuple[int, str] = (-(10**9), "")

    def query(self, identifier: str | None = None) -> str:
        """As the admin (a cached sig), or as ``identifier`` (a fresh one: REST-2 refusal checks)."""
        now = int(self.now())
        if identifier is not None and identifier != self.identifier:
            sig = gen_usersig(self.sdkappid, self.secret_key, identifier, SIG_LIFETIME, now=now)
        else:
            identifier = self.identifier
            issued, sig = self._sig
            if not sig or now - issued > SIG_LIFETIME // 2 or now < issued:
                sig = gen_usersig(self.sdkappid, self.secret_key, identifier, SIG_LIFETIME, now=now)
                self._sig = (now, sig)
        return (
            f"sdkappid={self.sdkappid}&identifier={quote(identifier, safe='')}"
            f"&usersig={quote(sig, safe='')}&random={secrets.randbelow(2**32)}&contenttype=json"
        )

    def forget(self) -> None:
        """A REST ``kick`` of the admin voids older sigs (REST-3): mint a new one next time."""
        self._sig = (-(10**9), "")


class RestChannel:
    """REST v4 over one keep-alive HTTP(S) connection (thread-safe; one call at a time)."""

    def __init__(
        self,
        base_url: str,
        sdkappid: int,
        secret_key: str,
        identifier: str = DEFAULT_ADMIN,
        *,
        timeout: float = 5.0,
        now: Callable[[], float] = time.time,
    ) -> None:
        url = parse_url(base_url)
        if url.scheme not in ("http", "https"):
            raise BadURL(f"not an http(s):// URL: {base_url!r}")
        self.base_url = base_url
        self._https = url.tls
        self._host, self._port, self._prefix = url.host, url.port, url.prefix
        self.credentials = _Credentials(sdkappid, secret_key, identifier, now)
        self.timeout = timeout
        self._conn: http.client.HTTPConnection | None = None
        self._lock = threading.Lock()

    def _connection(self) -> http.client.HTTPConnection:
        if self._conn is None:
            factory = http.client.HTTPSConnection if self._https else http.client.HTTPConnection
            self._conn = factory(self._host, self._port, timeout=self.timeout)
        return self._conn

    def call(self, command: str, body: Mapping[str, Any], identifier: str | None = None) -> Reply:
        try:
            path = path_of(command)
        except ValueError as exc:
            return Reply(int(Code.UNKNOWN_METHOD), str(exc))
        target = f"{self._prefix}{path}?{self.credentials.query(identifier)}"
        payload = orjson.dumps(dict(body))
        with self._lock:
            for attempt in (1, 2):  # once more on a kept-alive connection the server had closed
                conn = self._connection()
                try:
                    conn.request("POST", target, body=payload, headers={"Content-Type": "application/json"})
                    response = conn.getresponse()
                    raw = response.read()
                except (http.client.RemoteDisconnected, ConnectionResetError, BrokenPipeError) as exc:
                    self._drop()
                    if attempt == 2:
                        return Reply.transport_failure(f"connection lost: {exc}")
                    continue
                except (OSError, http.client.HTTPException) as exc:
                    self._drop()
                    return Reply.transport_failure(f"{type(exc).__name__}: {exc}")
                if response.getheader("connection", "").lower() == "close":
                    self._drop()
                if response.status != 200:  # REST-1: every answer is HTTP 200
                    return Reply.transport_failure(f"HTTP {response.status} from {path}")
                try:
                    return reply_of(orjson.loads(raw))
                except orjson.JSONDecodeError:
                    return Reply.transport_failure(f"{path} answered non-JSON: {raw[:80]!r}")
        return Reply.transport_failure("unreachable")

    def _drop(self) -> None:
        if self._conn is not None:
            self._conn.close()
            self._conn = None

    def close(self) -> None:
        with self._lock:
            self._drop()


class InProcRest:
    """The same calls on an in-process driver's REST face (the conformance shadow's side)."""

    def __init__(
        self,
        driver: InProcDriver,
        sdkappid: int,
        secret_key: str,
        identifier: str = DEFAULT_ADMIN,
        *,
        now: Callable[[], float] = time.time,
    ) -> None:
        self.driver = driver
        self.credentials = _Credentials(sdkappid, secret_key, identifier, now)

    def call(self, command: str, body: Mapping[str, Any], identifier: str | None = None) -> Reply:
        try:
            path = path_of(command)
        except ValueError as exc:
            return Reply(int(Code.UNKNOWN_METHOD), str(exc))
        query = self.credentials.query(identifier)
        return reply_of(self.driver.rest(path, query, orjson.dumps(dict(body))))

    def close(self) -> None:
        pass


class RestOnlyDriver:
    """The client side of a target reached only through REST v4: there is none.  Calls answer
    ``unsupported`` (a driver translates, never pretends); the admin API is unreachable, which is
    how the probe learns there is no client side and marks ``sdk`` no."""

    def call(self, call: Call) -> Reply:
        return Reply.not_supported("this target is reached only through TIM's REST API v4")

    def events(self, session: str) -> EventStream:
        return EventStream(session)

    def admin(self, op: str, body: Mapping[str, Any]) -> Reply:
        return Reply.transport_failure("no simtim/1 endpoint: the target speaks only REST v4")

    def close(self) -> None:
        pass
