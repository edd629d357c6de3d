"""``simtim serve``: run the reference server with uvicorn (httptools + uvloop).

The first stdout line, flushed once the socket accepts connections, is
``simtim serve listening on http://HOST:PORT`` (``--port 0`` picks a free
port, so callers read the port from it).  SIGTERM exits 0 within 5 s.
"""

from __future__ import annotations

import logging
import os
import signal
import socket
import sys
from pathlib import Path
from typing import Any

import uvicorn

from simtim.durable.journal import JournalError
from simtim.durable.recovery import check_same, new_service, open_durable, replay
from simtim.durable.state_file import read_state
from simtim.heap_probe import install_from_env
from simtim.limits import SNAPSHOT_EVERY_ENTRIES
from simtim.server.app import SimtimApp
from simtim.server.batched_ws import BatchedWebSocketProtocol
from simtim.server.fast_http import SimtimHttpProtocol
from simtim.server.journaling import JournaledFront

log = logging.getLogger("simtim.journal")


class _AnnouncingServer(uvicorn.Server):
    def __init__(self, config: uvicorn.Config, announce: str) -> None:
        super().__init__(config)
        self._announce = announce

    async def startup(self, sockets: list[socket.socket] | None = None) -> None:
        await super().startup(sockets)
        if not self.should_exit:
            print(self._announce, flush=True)

    def handle_exit(self, sig: int, frame: Any) -> None:
        super().handle_exit(sig, frame)
        if sig == signal.SIGTERM:  # DESIGN: exit 0 on SIGTERM (uvicorn would re-raise it at exit)
            self._captured_signals.remove(sig)


def _env_flag(name: str) -> bool:
    return os.environ.get(name, "").lower() in ("1", "true", "yes", "on")


def _app(
    data: str | None,
    import_file: str | None,
    fake_clock: bool | None,
    clock_start: int | None,
    admin_key: str | None,
    seed: int | None,
    snapshot_every: int | None = None,
    app_defaults: dict[str, Any] | None = None,
) -> SimtimApp:
    """The in-memory app, or one journaled in ``data`` (replayed first), optionally seeded from a
    state document."""
    imported = read_state(Path(import_file)) if import_file else None
    if data is None and imported is None:
        return SimtimApp(
            fake_clock=bool(fake_clock),
            clock_start=clock_start,
            admin_key=admin_key,
            seed=seed,
            app_defaults=app_defaults,
        )
    if data is None:
        assert imported is not None
        config, operations = imported
        check_same(config, fake_clock, seed, "the imported state", app_defaults)
        service = new_service(config)
        replay(service, enumerate(operations, 1))
        for socket_id in service.web.open_sockets():  # Web SDK sockets of the exporting run
            service.web.close_socket(socket_id, None)
        return SimtimApp(admin_key=admin_key, service=service)
    directory = Path(data)
    recovered = open_durable(
        directory,
        fake_clock=fake_clock,
        clock_start=clock_start,
        seed=seed,
        imported=imported,
        app_defaults=app_defaults,
    )
    log.info(
        "journal %s: %d entries replayed after snapshot %d in %.2f s",
        recovered.journal.path,
        recovered.replayed,
        recovered.snapshot_seq,
        recovered.seconds,
    )
    durable = JournaledFront(recovered, directory, snapshot_every or SNAPSHOT_EVERY_ENTRIES)
    lost = durable.close_lost_sockets()
    if lost:
        log.info("journal %s: %d Web SDK sockets of the last run closed", recovered.journal.path, lost)
    return SimtimApp(admin_key=admin_key, durable=durable)


def serve(
    host: str | None = None,
    port: int | None = None,
    *,
    fake_clock: bool | None = None,
    clock_start: int | None = None,
    admin_key: str | None = None,
    seed: int | None = None,
    log_level: str = "warning",
    data: str | None = None,
    import_file: str | None = None,
    snapshot_every: int | None = None,
    app_defaults: dict[str, Any] | None = None,
) -> int:
    host = host or os.environ.get("SIMTIM_HOST", "127.0.0.1")
    port = port if port is not None else int(os.environ.get("SIMTIM_PORT", "8080"))
    explicit_fake_clock = fake_clock if fake_clock is not None else (_env_flag("SIMTIM_FAKE_CLOCK") or None)
    fake_clock = bool(explicit_fake_clock)
    admin_key = admin_key if admin_key is not None else os.environ.get("SIMTIM_ADMIN_KEY") or None
    data = data or os.environ.get("SIMTIM_DATA") or None
    logging.basicConfig(format="simtim serve: %(levelname)s %(message)s")
    logging.getLogger("simtim").setLevel(logging.INFO)  # the journal's start-up and failure lines
    install_from_env()  # SIMTIM_HEAP_PROBE: heap evidence on SIGUSR1 (off by default)
    try:
        app = _app(
            data, import_file, explicit_fake_clock, clock_start, admin_key, seed, snapshot_every, app_defaults
        )
    except JournalError as exc:
        print(f"simtim serve: {exc}", file=sys.stderr)
        return 1
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((host, port))
    except OSError as exc:
        print(f"simtim serve: cannot listen on {host}:{port}: {exc}", file=sys.stderr)
        return 1
    bound_port = sock.getsockname()[1]
    shown_host = f"[{host}]" if family == socket.AF_INET6 else host
    options: dict[str, Any] = {
        "loop": "uvloop",
        "http": SimtimHttpProtocol,  # httptools + the simtim/1 shortcut
        "ws": BatchedWebSocketProtocol,  # websockets-sansio, frames batched per loop turn
        "lifespan": "on",
        "log_level": log_level,
        "access_log": False,
        "ws_ping_interval": 20.0,
        "ws_ping_timeout": 20.0,
        "ws_max_size": 1024 * 1024,
        "timeout_graceful_shutdown": 2,
        "server_header": False,
        "proxy_headers": False,
        "date_header": False,
    }
    config = uvicorn.Config(app, **options)
    server = _AnnouncingServer(config, f"simtim serve listening on http://{shown_host}:{bound_port}")
    server.run(sockets=[sock])
    return 0
