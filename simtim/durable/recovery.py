"""Start-up of a durable server: the configuration a journal was written under, then the replay.

A journal only replays into the same state under the same configuration (fake clock or not, its
start, the ID seed), so the first start records it and every later start uses the recorded one;
a command line that asks for a different one is refused rather than silently ignored.
"""

from __future__ import annotations

import logging
import secrets
import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from simtim.clock import PinnedClock
from simtim.durable import snapshot
from simtim.durable.entries import Entry, apply, encode
from simtim.durable.journal import Journal, JournalError
from simtim.protocol.service import Service

log = logging.getLogger("simtim.journal")

_IMPORT_BATCH = 10_000


@dataclass(frozen=True)
class ServerConfig:
    """What a replay needs besides the entries (camelCase on disk: ``fakeClock`` ...)."""

    fake_clock: bool
    clock_start: int | None
    seed: int
    #: PAGE-2 store caps every app starts with (``--max-messages*``): evictions happen inside the
    #: operations, so a replay needs the same caps
    app_defaults: dict[str, int] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        return {
            "fakeClock": self.fake_clock,
            "clockStart": self.clock_start,
            "seed": self.seed,
            "appDefaults": dict(self.app_defaults),
        }

    @staticmethod
    def from_json(data: object) -> ServerConfig:
        if not isinstance(data, dict):
            raise JournalError("the server configuration must be an object")
        fake, start, seed = data.get("fakeClock"), data.get("clockStart"), data.get("seed")
        if (
            not isinstance(fake, bool)
            or not isinstance(seed, int)
            or not (start is None or isinstance(start, int))
        ):
            raise JournalError("server configuration: fakeClock (bool), clockStart (int or null), seed (int)")
        defaults = data.get("appDefaults", {})  # absent in journals written before the caps
        if not isinstance(defaults, dict) or not all(
            isinstance(k, str) and isinstance(v, int) and not isinstance(v, bool) for k, v in defaults.items()
        ):
            raise JournalError("server configuration: appDefaults must map field names to integers")
        return ServerConfig(fake, start, seed, dict(defaults))


def app_caps(app_defaults: dict[str, Any] | None) -> dict[str, int]:
    """The caps a command line asked for (0 = none, so zeros are dropped: {} is "no caps")."""
    return {name: int(value) for name, value in (app_defaults or {}).items() if value}


def fresh_config(
    fake_clock: bool, clock_start: int | None, seed: int | None, app_defaults: dict[str, Any] | None = None
) -> ServerConfig:
    """A new server's configuration with every choice made (a replay must not draw them again)."""
    if fake_clock and clock_start is None:
        clock_start = int(time.time())
    return ServerConfig(
        fake_clock,
        clock_start if fake_clock else None,
        seed if seed is not None else secrets.randbits(32),
        app_caps(app_defaults),
    )


def new_service(config: ServerConfig) -> Service:
    """The service a journal replays into: a pinned wall clock unless the clock is fake."""
    return Service(
        fake_clock=config.fake_clock,
        clock_start=config.clock_start,
        seed=config.seed,
        real_clock=None if config.fake_clock else PinnedClock(),
        app_defaults=config.app_defaults,
    )


def check_same(
    stored: ServerConfig,
    fake_clock: bool | None,
    seed: int | None,
    where: str,
    app_defaults: dict[str, Any] | None = None,
) -> None:
    caps = app_caps(app_defaults)
    if caps and caps != stored.app_defaults:
        raise JournalError(
            f"{where} was written with the store caps {stored.app_defaults or 'none'}; start without "
            "--max-messages/--max-messages-per-conversation or with the same"
        )
    if fake_clock is not None and fake_clock != stored.fake_clock:
        raise JournalError(
            f"{where} was written {'with' if stored.fake_clock else 'without'} --fake-clock; "
            "start with the same clock, or use another --data directory"
        )
    if seed is not None and seed != stored.seed:
        raise JournalError(
            f"{where} was written with --seed {stored.seed}; start without --seed or with the same"
        )


@dataclass
class Recovered:
    service: Service
    journal: Journal
    config: ServerConfig
    replayed: int
    snapshot_seq: int
    seconds: float


def replay(service: Service, entries: Iterable[tuple[int, Entry]]) -> int:
    """Apply entries in order; an entry that raised when it ran live raises again here, at the same
    point with the same effects, so it is logged and the replay goes on (as the server did)."""
    count = 0
    for seq, entry in entries:
        try:
            apply(service, entry)
        except Exception as exc:
            log.warning("journal entry %d raised %r on replay, as it did when it ran", seq, exc)
        count += 1
    return count


def open_durable(
    directory: Path,
    *,
    fake_clock: bool | None,
    clock_start: int | None,
    seed: int | None,
    imported: tuple[ServerConfig, list[Entry]] | None = None,
    app_defaults: dict[str, Any] | None = None,
) -> Recovered:
    """Open (or create) the journal in ``directory`` and rebuild its state."""
    started = time.perf_counter()
    journal = Journal(directory)
    try:
        stored = journal.meta("server")
        if stored is None:
            if imported is not None:
                config = imported[0]
                check_same(config, fake_clock, seed, "the imported state", app_defaults)
            else:
                config = fresh_config(bool(fake_clock), clock_start, seed, app_defaults)
            journal.set_meta("server", config.to_json())
        else:
            config = ServerConfig.from_json(stored)
            check_same(config, fake_clock, seed, str(journal.path), app_defaults)
            if imported is not None and journal.last_seq:
                raise JournalError(
                    f"--import needs an empty --data directory; {journal.path} holds a journal"
                )
        if imported is not None:
            for at in range(0, len(imported[1]), _IMPORT_BATCH):
                journal.append([encode(entry) for entry in imported[1][at : at + _IMPORT_BATCH]])
        service = new_service(config)
        snap = snapshot.load(directory, snapshot.code_fingerprint())
        snapshot_seq = 0
        if snap is not None and snap.seq <= journal.last_seq:
            snapshot.restore(service, snap)
            snapshot_seq = snap.seq
        elif snap is not None:
            log.warning("snapshot is ahead of the journal (seq %d > %d): ignored", snap.seq, journal.last_seq)
        replayed = replay(service, journal.entries(after=snapshot_seq))
    except BaseException:
        journal.close()
        raise
    return Recovered(service, journal, config, replayed, snapshot_seq, time.perf_counter() - started)


__all__ = ["Recovered", "ServerConfig", "check_same", "fresh_config", "new_service", "open_durable", "replay"]
