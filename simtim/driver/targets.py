"""The target table: a target URL's scheme picks its driver, and says what the harness may expect.

One table for ``simtim conform --target``, the Locust ``--host`` and the docs (DESIGN "Targets,
capabilities and evidence"). A row names the scheme, what speaks it, the client protocol, the
admin channel it may offer, and how to open a driver for a parsed URL.  Capabilities that depend
on the running target (an admin key that works, a fake clock) are probed at start by the
conformance engine; the row only says which ones the scheme can have at all.

Adding a target (e.g. ``matrix+https://``) is one row: its scheme, its texts, and an ``open``
function that builds the driver from the ``ParsedURL`` (``url.base`` is what to connect to).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from simtim.driver.base import Driver
from simtim.driver.http import HttpDriver, Transport
from simtim.driver.inproc import InProcDriver
from simtim.driver.timrest import (
    InProcRest,
    RestCaller,
    RestChannel,
    RestFactory,
    RestOnlyDriver,
    rest_url_of,
)
from simtim.driver.timweb import TimWebDriver
from simtim.driver.url import ParsedURL, parse_url


@dataclass(frozen=True)
class TargetOptions:
    """Everything a driver may need besides the URL; unused fields are ignored by the row."""

    admin_key: str | None = None
    timeout: float = 5.0
    #: a transport factory for the load harness (gevent); None = the driver's blocking default
    transport: Callable[[str, float], Transport] | None = None
    #: a REST v4 channel to add to the target (``--rest timrest+http://…``)
    rest_url: str | None = None
    extra: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Opened:
    driver: Driver
    settle: float  # seconds to wait for stray pushes after the expected ones (0 in-process)
    loopback: bool  # a callback endpoint on 127.0.0.1 can reach the target (MSG-8 scenarios)
    rest: RestFactory | None = None  # TIM's REST v4 as the App admin, when the target has it
    #: seconds a server time may differ from the shadow model's on a real clock (CLOCK-1's unit is
    #: the second; a target whose one TIM call is many requests stamps later than the model)
    time_tolerance: int = 2


@dataclass(frozen=True)
class TargetKind:
    scheme: str
    example: str
    speaks: str
    client_protocol: str
    admin_channel: str
    possible_capabilities: tuple[str, ...]
    open: Callable[[ParsedURL, TargetOptions], Opened]
    #: one model inside this process, shared by every cell (the load harness opens it once)
    in_process: bool = False
    #: ``simtim serve`` answers REST v4 at the same address: a load run tries ``timrest+`` there
    rest_beside: bool = False
    #: how the server a compatibility matrix was made on is configured (docs/compat/)
    config_note: str = ""


def _open_inproc(url: ParsedURL, options: TargetOptions) -> Opened:
    """``inproc://`` has a fake clock; ``inproc://?clock=real`` runs on the wall clock and sweeps
    expiries every second, as ``simtim serve`` without ``--fake-clock`` does."""
    real = "clock=real" in url.query
    driver = InProcDriver(fake_clock=not real, clock_start=None, seed=None, ticking=real)

    def rest(sdkappid: int, key: str, identifier: str, now: Callable[[], float]) -> RestCaller:
        return InProcRest(driver, sdkappid, key, identifier, now=now)

    return Opened(driver, 0.0, True, rest)


def _rest_factory(base: str | None, timeout: float) -> RestFactory | None:
    """REST v4 channels to ``base`` (an ``http(s)://`` URL), one per conformance cell."""
    if base is None:
        return None

    def rest(sdkappid: int, key: str, identifier: str, now: Callable[[], float]) -> RestCaller:
        return RestChannel(base, sdkappid, key, identifier, timeout=timeout, now=now)

    return rest


def _simtim1(base: str, options: TargetOptions) -> HttpDriver:
    transport = options.transport(base, options.timeout) if options.transport is not None else None
    return HttpDriver(base, admin_key=options.admin_key, timeout=options.timeout, transport=transport)


def _open_http(url: ParsedURL, options: TargetOptions) -> Opened:
    driver = _simtim1(url.base, options)
    rest = rest_url_of(options.rest_url) if options.rest_url is not None else None  # --rest timrest+...
    return Opened(driver, 0.05, url.loopback, _rest_factory(rest, options.timeout))


def _open_timrest(url: ParsedURL, options: TargetOptions) -> Opened:
    """REST v4 at the URL; the client side is simtim/1 on the same ``http://`` host when that
    answers (``simtim serve`` does), otherwise there is none and SDK steps are skipped."""
    driver: Driver = RestOnlyDriver() if url.tls else _simtim1(url.base, options)
    return Opened(driver, 0.05, url.loopback, _rest_factory(url.base, options.timeout))


def _open_timweb(url: ParsedURL, options: TargetOptions) -> Opened:
    """The Web SDK face at ``ws://HOST:PORT``; the simtim admin API and REST v4 are asked at
    ``http://`` on the same address (``simtim serve`` answers all three there). ``?frames=text``
    speaks ``/info`` (text frames) instead of ``/binfo``."""
    http_base = f"http://{url.netloc}{url.prefix}"
    transport = options.transport(http_base, options.timeout) if options.transport is not None else None
    driver = TimWebDriver(
        http_base,
        admin_key=options.admin_key,
        timeout=options.timeout,
        transport=transport,
        binary="frames=text" not in url.query,
    )
    return Opened(driver, 0.05, url.loopback, _rest_factory(http_base, options.timeout))


#: a Matrix homeserver delivers through /sync long-polls: a stray push needs longer to show than on simtim/1
MATRIX_SETTLE = 0.2
#: seconds one Matrix request may take at least: one TIM call can be one heavy Matrix request
#: (a createGroup of 100 members is a createRoom with 100 invites, each an event Synapse's one
#: process writes), which took more than the default 5 s while other scenarios ran (MBR-3)
MATRIX_REQUEST_TIMEOUT = 30.0
#: a C2C pair's first send on Matrix is up to 8 requests (room, join, power levels, send, event) and
#: Synapse is one Python process: on 2 shared cores its stamp lags the model's by seconds; a
#: createGroup of 103 members is 103 join events, whose times lagged the model's creation time by
#: 11-24 s in full conform runs here (MBR-4 passed or failed by the machine's load at 10 s)
MATRIX_TIME_TOLERANCE = 30
#: ``TargetOptions.extra`` key of the shared registration secret (``--matrix-registration-secret``)
MATRIX_SECRET = "matrix_registration_secret"


SYNAPSE_CONFIG_NOTE = (
    "the loopback test config `simtim peer synapse` writes (simtim/peer/synapse_config.py): SQLite, "
    "room version 11, presence off, sync response cache off, every rc_* limit raised, "
    "shared-secret registration only, MSC2654 unread counts on"
)


def _open_matrix(url: ParsedURL, options: TargetOptions) -> Opened:
    """A Matrix homeserver: accounts by shared-secret registration, instances as devices (docs/matrix.md)."""
    from simtim.driver.matrix import MatrixDriver  # only a Matrix run loads the Matrix driver

    secret = options.extra.get(MATRIX_SECRET)
    driver = MatrixDriver(
        url.base,
        registration_secret=str(secret) if secret else None,
        timeout=max(options.timeout, MATRIX_REQUEST_TIMEOUT),
        transport=options.transport,
    )
    return Opened(driver, MATRIX_SETTLE, url.loopback, time_tolerance=MATRIX_TIME_TOLERANCE)


TARGETS: tuple[TargetKind, ...] = (
    TargetKind(
        "inproc",
        "inproc://",
        "the reference model in this process",
        "direct calls",
        "the model's own admin; its REST v4 face",
        ("admin", "fake_clock", "app_config", "callback", "sdk", "rest"),
        _open_inproc,
        in_process=True,
    ),
    TargetKind(
        "http",
        "http://127.0.0.1:8080",
        "`simtim serve` or any simtim/1 server",
        "simtim/1 (HTTP + WebSocket)",
        "simtim admin API (`--admin-key`), when the server has one; REST v4 with `--rest` "
        "(a load run tries it at the same address)",
        ("admin", "fake_clock", "app_config", "callback", "sdk", "rest"),
        _open_http,
        rest_beside=True,
    ),
    TargetKind(
        "timrest+http",
        "timrest+http://127.0.0.1:8080",
        "TIM's REST API v4: `simtim serve`, a TIM-compatible server",
        "REST v4 as the App admin (`--sdkappid`, `--secret-key`, `--admin-identifier`); simtim/1 on the same host when it answers",
        "REST v4 (account import, kick, recall, mute, group setup); simtim admin API when the host has one",
        ("admin", "fake_clock", "app_config", "callback", "sdk", "rest"),
        _open_timrest,
    ),
    TargetKind(
        "timrest+https",
        "timrest+https://im.example.com",
        "TIM's REST API v4 over TLS",
        "REST v4 as the App admin; no client protocol",
        "REST v4",
        ("rest",),
        _open_timrest,
    ),
    TargetKind(
        "timweb+ws",
        "timweb+ws://127.0.0.1:8080",
        "the TIM Web SDK's wire protocol: `simtim serve`",
        "Web SDK commands over one WebSocket per instance (`/binfo`; `?frames=text`: `/info`)",
        "simtim admin API on the same host (`--admin-key`), when it answers; REST v4 on the same host",
        ("admin", "fake_clock", "app_config", "callback", "sdk", "rest"),
        _open_timweb,
    ),
    TargetKind(
        "matrix+http",
        "matrix+http://127.0.0.1:8008",
        "a Matrix homeserver (Synapse; `simtim peer synapse`), docs/matrix.md",
        "Matrix client-server API: instances as devices, pushes from `/sync` long-polls",
        "Synapse's shared-secret registration and admin API (`--matrix-registration-secret`): accounts, kick",
        ("admin", "sdk"),
        _open_matrix,
        config_note=SYNAPSE_CONFIG_NOTE,
    ),
    TargetKind(
        "matrix+https",
        "matrix+https://matrix.example.org",
        "a Matrix homeserver over TLS (a certificate this machine trusts)",
        "Matrix client-server API over TLS",
        "Synapse's shared-secret registration and admin API",
        ("admin", "sdk"),
        _open_matrix,
        config_note=SYNAPSE_CONFIG_NOTE,
    ),
)
BY_SCHEME: dict[str, TargetKind] = {kind.scheme: kind for kind in TARGETS}
#: schemes people try that no row serves, and why (the refusal says it)
NOT_SERVED: dict[str, str] = {
    "https": "simtim/1 over TLS is not supported (HttpDriver speaks plain HTTP and ws://); "
    "REST v4 over TLS is timrest+https://",
    "timweb+wss": "the Web SDK driver speaks ws:// only (timweb+ws://)",
}


class UnknownTarget(ValueError):
    """A target URL whose scheme no row serves, or that names no usable address."""


def target_of(url: str) -> tuple[TargetKind, ParsedURL]:
    """The row for ``url`` and the URL parsed (once); ``UnknownTarget`` lists the known schemes."""
    try:
        parsed = parse_url(url)
    except ValueError as exc:
        raise UnknownTarget(f"{exc}; targets: {_known()}") from None
    kind = BY_SCHEME.get(parsed.scheme)
    if kind is None:
        why = NOT_SERVED.get(parsed.scheme, f"no target speaks {parsed.scheme}://")
        raise UnknownTarget(f"{url!r}: {why}; targets: {_known()}")
    return kind, parsed


def kind_of(url: str) -> TargetKind:
    return target_of(url)[0]


def open_target(url: str, options: TargetOptions | None = None) -> Opened:
    """A driver for ``url``, chosen by its scheme (``UnknownTarget`` lists the known ones)."""
    kind, parsed = target_of(url)
    return kind.open(parsed, options or TargetOptions())


def is_loopback(url: str) -> bool:
    """A callback endpoint on 127.0.0.1 is reachable only from a target on this machine."""
    return parse_url(url).loopback


def _known() -> str:
    return ", ".join(k.example for k in TARGETS)


def help_text() -> str:
    return "; ".join(f"{k.example} ({k.speaks})" for k in TARGETS)


def markdown_table() -> str:
    """The docs' table of targets (docs/conformance.md carries it; a test keeps them equal)."""
    lines = [
        "| scheme | what speaks it | client protocol | admin channel | capabilities it can have |",
        "|---|---|---|---|---|",
    ]
    for k in TARGETS:
        lines.append(
            f"| `{k.scheme}://` | {k.speaks} | {k.client_protocol} | {k.admin_channel} | "
            f"{', '.join(k.possible_capabilities)} |"
        )
    lines.append("")
    lines += [f"Not a target: `{scheme}://`, {why}." for scheme, why in NOT_SERVED.items()]
    return "\n".join(lines)
