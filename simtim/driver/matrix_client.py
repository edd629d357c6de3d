"""The Matrix client-server API as the driver speaks it: JSON over a simtim ``Transport``.

No second HTTP stack: requests go through the harness's own transports (``BlockingTransport`` for
conform and pytest, ``GeventTransport`` under Locust) via their general ``request``; ``https`` is
the blocking transport on ``http.client.HTTPSConnection`` with the default (verifying) TLS context.
A Matrix error answer is a ``MatrixError`` (errcode, the server's words, the URL, retry-after);
anything that is not a Matrix answer is a ``DriverError`` naming the URL.
"""

from __future__ import annotations

import contextlib
import hashlib
import hmac
import http.client
import ssl
from collections.abc import Callable, Iterator, Mapping
from typing import Any
from urllib.parse import quote, urlencode, urlsplit

import orjson

from simtim.driver.base import DriverError
from simtim.driver.http import BlockingTransport, Transport

TransportFactory = Callable[[str, float], Transport]
CLIENT = "/_matrix/client/v3"
REGISTER = "/_synapse/admin/v1/register"
#: where the registration shared secret comes from when no flag gives it (conform, Locust, tests)
ENV_SECRET = "SIMTIM_MATRIX_REGISTRATION_SECRET"


class MatrixError(Exception):
    """The homeserver answered with a Matrix error (``{"errcode", "error"}``)."""

    def __init__(
        self, status: int, errcode: str, error: str, url: str, retry_after_ms: int | None = None
    ) -> None:
        self.status = status
        self.errcode = errcode
        self.error = error
        self.url = url
        self.retry_after_ms = retry_after_ms
        self.context: str | None = None  # the operation's context for the errcode table, when set
        super().__init__(f"{url}: HTTP {status} {errcode}: {error}")


@contextlib.contextmanager
def errors_as(context: str) -> Iterator[None]:
    """Matrix errors raised inside are read in ``context`` (e.g. a group send: M_NOT_FOUND is 10010)."""
    try:
        yield
    except MatrixError as exc:
        if exc.context is None:
            exc.context = context
        raise


class TlsBlockingTransport(BlockingTransport):
    """``BlockingTransport`` over HTTPS; a certificate the system does not trust is a DriverError."""

    def __init__(self, base_url: str, timeout: float = 5.0) -> None:
        parts = urlsplit(base_url)
        if parts.scheme != "https" or not parts.hostname:
            raise ValueError(f"not an https:// URL: {base_url!r}")
        super().__init__(f"http://{parts.hostname}:{parts.port or 443}", timeout)
        self._context = ssl.create_default_context()

    def _connect(self) -> http.client.HTTPConnection:
        return http.client.HTTPSConnection(self.host, self.port, timeout=self.timeout, context=self._context)


def default_transport(base_url: str, timeout: float) -> Transport:
    if base_url.startswith("https://"):
        return TlsBlockingTransport(base_url, timeout)
    return BlockingTransport(base_url, timeout)


def path_of(*parts: str) -> str:
    """A URL path from segments, each quoted whole (room IDs, aliases and event IDs hold ``!#$:``)."""
    return "/".join(quote(part, safe="") if i else part for i, part in enumerate(parts))


class MatrixHttp:
    """JSON requests to one homeserver; thread-safe as its transport is (one request at a time)."""

    def __init__(self, base_url: str, transport: Transport) -> None:
        self.base_url = base_url
        self.transport = transport

    def request(
        self,
        method: str,
        path: str,
        body: Mapping[str, Any] | None = None,
        *,
        token: str | None = None,
        query: Mapping[str, Any] | None = None,
    ) -> dict[str, Any]:
        target = f"{path}?{urlencode(query)}" if query else path
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        payload = None
        if body is not None:
            payload = orjson.dumps(dict(body))
            headers["Content-Type"] = "application/json"
        url = f"{self.base_url}{path}"
        try:
            status, raw = self.transport.request(method, target, payload, headers)
        except DriverError as exc:
            raise DriverError(f"{method} {url}: {_plain(str(exc))}") from exc
        try:
            value = orjson.loads(raw) if raw else {}
        except orjson.JSONDecodeError:
            raise DriverError(f"{method} {url}: HTTP {status}, not a Matrix JSON answer") from None
        if isinstance(value, list) and 200 <= status < 300:
            return {"events": value}  # GET /rooms/{id}/state answers an array
        if not isinstance(value, dict):
            raise DriverError(f"{method} {url}: HTTP {status}, not a JSON object")
        if 200 <= status < 300:
            return value
        errcode = value.get("errcode")
        if not isinstance(errcode, str):
            raise DriverError(f"{method} {url}: HTTP {status} without a Matrix errcode")
        retry = value.get("retry_after_ms")
        raise MatrixError(
            status, errcode, str(value.get("error", "")), url, retry if isinstance(retry, int) else None
        )

    def close(self) -> None:
        self.transport.close()


def _plain(why: str) -> str:
    """A transport failure in one line a user understands (refused, TLS, timeout)."""
    low = why.lower()
    if "certificate" in low or "ssl" in low:
        return f"TLS certificate not trusted or TLS failed ({why})"
    if "refused" in low:
        return f"connection refused: is the homeserver running? ({why})"
    return why


def password_of(secret: str, localpart: str) -> str:
    """Each account's password, derived from the registration secret: the driver can log any of
    its accounts in again, in any process, without storing passwords."""
    return hmac.new(secret.encode(), b"simtim-password:" + localpart.encode(), hashlib.sha256).hexdigest()


def register(
    http: MatrixHttp, secret: str, localpart: str, *, admin: bool = False, displayname: str = ""
) -> dict[str, Any]:
    """Synapse's shared-secret registration: a nonce, then an HMAC-SHA1 over nonce, user,
    password and admin flag (``/_synapse/admin/v1/register``)."""
    nonce = str(http.request("GET", REGISTER).get("nonce", ""))
    password = password_of(secret, localpart)
    mac = hmac.new(secret.encode(), digestmod=hashlib.sha1)
    for part in (nonce, localpart, password):
        mac.update(part.encode())
        mac.update(b"\x00")
    mac.update(b"admin" if admin else b"notadmin")
    body: dict[str, Any] = {
        "nonce": nonce,
        "username": localpart,
        "password": password,
        "admin": admin,
        "mac": mac.hexdigest(),
    }
    body["displayname"] = (
        displayname  # "" as given: a TIM account starts without a nick (Synapse's default is the localpart)
    )
    try:
        return http.request("POST", REGISTER, body)
    except MatrixError as exc:
        if exc.status == 403:  # Synapse: 403 M_UNKNOWN "HMAC incorrect"
            raise DriverError(f"{exc.url}: wrong registration secret ({exc.errcode}: {exc.error})") from exc
        raise


def login(http: MatrixHttp, secret: str, localpart: str, device_id: str) -> dict[str, Any]:
    return http.request(
        "POST",
        f"{CLIENT}/login",
        {
            "type": "m.login.password",
            "identifier": {"type": "m.id.user", "user": localpart},
            "password": password_of(secret, localpart),
            "device_id": device_id,
            "initial_device_display_name": "simtim",
        },
    )
