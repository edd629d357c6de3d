"""The one parser of target and channel URLs: ``[FACE+]TRANSPORT://HOST[:PORT][/PREFIX][?QUERY]``.

A target's scheme says what speaks at the address (``http`` = simtim/1, ``timrest+https`` = TIM's
REST v4 over TLS, ``inproc`` = no address at all); the part after the last ``+`` is the transport
an HTTP client uses.  The target table, the drivers and the REST channel all read URLs through
``parse_url``, so a malformed URL gets the same clear error wherever it was given.
"""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import urlsplit

#: transports with a network address, and their default ports (ws/wss for WebSocket faces)
DEFAULT_PORTS = {"http": 80, "https": 443, "ws": 80, "wss": 443}
TLS_TRANSPORTS = frozenset({"https", "wss"})
LOOPBACK_HOSTS = frozenset({"127.0.0.1", "localhost", "::1"})


class BadURL(ValueError):
    """A URL that names no usable address (no scheme, no host, a port that is not a number)."""


@dataclass(frozen=True)
class ParsedURL:
    text: str  # as given
    scheme: str  # lower case, whole: "inproc", "http", "timrest+https"
    transport: str  # "http", "https", "ws", "wss"; "" for a scheme without a network address (inproc)
    host: str
    port: int  # the transport's default when the URL gives none; 0 without a network address
    prefix: str  # the path, without a trailing "/"
    query: str
    netloc: str  # host[:port] as given (IPv6 brackets kept, user info dropped)

    @property
    def tls(self) -> bool:
        return self.transport in TLS_TRANSPORTS

    @property
    def base(self) -> str:
        """What a client connects to: ``TRANSPORT://HOST[:PORT][/PREFIX]`` (face and query dropped)."""
        return f"{self.transport}://{self.netloc}{self.prefix}"

    @property
    def loopback(self) -> bool:
        """An endpoint on this machine (a callback server on 127.0.0.1 can reach it, MSG-8)."""
        return not self.transport or self.host in LOOPBACK_HOSTS


def parse_url(url: str) -> ParsedURL:
    parts = urlsplit(url.strip())
    scheme = parts.scheme.lower()
    if not scheme or (not parts.netloc and not url.strip().lower().startswith(f"{scheme}://")):
        raise BadURL(f"{url!r} is not a URL: give a scheme, e.g. http://{url.strip() or '127.0.0.1:8080'}")
    transport = scheme.rpartition("+")[2]
    netloc = parts.netloc.rpartition("@")[2]
    if transport not in DEFAULT_PORTS:  # inproc:// and the like: nothing to connect to
        return ParsedURL(
            url, scheme, "", parts.hostname or "", 0, parts.path.rstrip("/"), parts.query, netloc
        )
    if not parts.hostname:
        raise BadURL(f"{url!r} names no host: e.g. {scheme}://127.0.0.1:8080")
    try:
        port = parts.port
    except ValueError:
        raise BadURL(f"{url!r}: the port must be a number from 0 to 65535") from None
    prefix = parts.path.rstrip("/")
    port = port or DEFAULT_PORTS[transport]
    return ParsedURL(url, scheme, transport, parts.hostname, port, prefix, parts.query, netloc)


def inner_url(target: str, face: str) -> str:
    """``FACE+http(s)://h:p/x`` -> ``http(s)://h:p/x``: what a face's client connects to.

    One helper for every face over HTTP (``timrest``, ``matrix``), so each refuses a URL of another
    face with the same words.
    """
    url = parse_url(target)
    if url.scheme not in (f"{face}+http", f"{face}+https"):
        raise BadURL(f"not a {face}+http(s):// URL: {target!r}")
    return url.base
