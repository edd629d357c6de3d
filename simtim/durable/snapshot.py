"""Snapshots: the whole service state at a journal position, so a start replays only what follows.

A snapshot is a cache, never the truth: the journal keeps every entry, so a snapshot that is
missing, unreadable or written by other simtim code (its fingerprint differs: pickles follow the
classes) is ignored and the journal is replayed from its first entry.

Snapshots are written in the background the way Redis writes RDB files: the server forks, the
child pickles the copy-on-write image of the state and renames the file into place, and the
parent never stops serving.  A pickle of 100k messages takes about a second; in the event loop it
would stall every client for that long.
"""

from __future__ import annotations

import hashlib
import logging
import os
import pickle
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import orjson

import simtim
from simtim.protocol.service import Service

log = logging.getLogger("simtim.journal")

SNAPSHOT_FILE = "snapshot.pickle"


def code_fingerprint() -> str:
    """What a pickle depends on: every simtim source file and the Python version."""
    digest = hashlib.sha256(sys.version.encode())
    root = Path(simtim.__file__).parent
    for path in sorted(root.rglob("*.py")):
        digest.update(path.relative_to(root).as_posix().encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()


@dataclass
class Snapshot:
    seq: int
    state: tuple[Any, ...]


def _state_of(service: Service) -> tuple[Any, ...]:
    return (
        service.base_clock,
        service.world,
        service.tokens,
        service.callback_urls,
        service.web.durable_state(),
    )


def write(directory: Path, service: Service, seq: int, fingerprint: str) -> None:
    """Write a snapshot now (the child of ``fork_writer``, or a caller that may block)."""
    header = orjson.dumps({"seq": seq, "fingerprint": fingerprint})
    tmp = directory / f"{SNAPSHOT_FILE}.{os.getpid()}.tmp"
    with tmp.open("wb") as handle:
        handle.write(header + b"\n")
        pickle.dump(_state_of(service), handle, protocol=pickle.HIGHEST_PROTOCOL)
        handle.flush()
        os.fsync(handle.fileno())
    os.replace(tmp, directory / SNAPSHOT_FILE)


def fork_writer(directory: Path, service: Service, seq: int, fingerprint: str) -> int:
    """Start a child that writes the snapshot of the state as it is now; returns its pid.

    The child runs at the lowest CPU priority: a snapshot only bounds the replay of a later start,
    while the server it was forked from is answering clients now.  On a core the two share (a
    pinned server, a busy machine) a child at normal priority took a quarter of the server's time
    for as long as it wrote (journaled sendMessage at 0.70 of the in-memory server's rate with it,
    0.91 with no snapshot, docs/durability.md); at nice 19 it takes what the server leaves."""
    pid = os.fork()
    if pid == 0:  # the child: write, then leave without running the parent's cleanup
        code = 0
        try:
            _background_priority()
            write(directory, service, seq, fingerprint)
        except BaseException:
            code = 1
        os._exit(code)
    return pid


def _background_priority() -> None:
    """The calling process yields the CPU to everything else (Linux: SCHED_BATCH, nice 19)."""
    os.nice(19 - os.nice(0))
    if hasattr(os, "sched_setscheduler"):
        os.sched_setscheduler(0, os.SCHED_BATCH, os.sched_param(0))


def load(directory: Path, fingerprint: str) -> Snapshot | None:
    """The newest snapshot, if this code can use it."""
    path = directory / SNAPSHOT_FILE
    try:
        with path.open("rb") as handle:
            header = orjson.loads(handle.readline())
            if header.get("fingerprint") != fingerprint:
                log.info("snapshot %s was written by other simtim code: replaying the whole journal", path)
                return None
            state = pickle.load(handle)
    except FileNotFoundError:
        return None
    except Exception as exc:
        log.warning("snapshot %s is unreadable (%s): replaying the whole journal", path, exc)
        return None
    return Snapshot(int(header["seq"]), state)


def restore(service: Service, snapshot: Snapshot) -> None:
    base_clock, world, tokens, callback_urls, web_state = snapshot.state
    service.restore(base_clock, world, tokens, callback_urls, web_state)


__all__ = ["SNAPSHOT_FILE", "Snapshot", "code_fingerprint", "fork_writer", "load", "restore", "write"]
