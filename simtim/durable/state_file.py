"""``simtim state export FILE`` / ``simtim serve --import FILE``: a server's state as one JSON document.

The document is the operation history that produced the state, not a dump of the model's internals:
the model is deterministic, so replaying the operations under the recorded configuration rebuilds
exactly the same state, and the format stays stable however the model's classes change.  A team
can also write one by hand to seed a test environment (docs/durability.md, "State files")::

    {"format": "simtim-state", "version": 1,
     "server": {"fakeClock": true, "clockStart": 1600000000, "seed": 7},
     "operations": [["admin", null, "importAccount", {"SDKAppID": 1400000000, "userID": "alice"}], ...]}
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import orjson

from simtim.durable.entries import ARITY, KINDS, Entry, issues_token
from simtim.durable.journal import Journal, JournalError
from simtim.durable.recovery import ServerConfig
from simtim.limits import STATE_FILE_VERSION
from simtim.protocol.service import new_token

FORMAT = "simtim-state"


def export_state(directory: Path, target: Path) -> int:
    """Write the state of a --data directory (a running server's too) to ``target``; returns the
    number of operations."""
    journal = Journal(directory, read_only=True)
    try:
        server = journal.meta("server")
        operations = [entry for _seq, entry in journal.entries()]
    finally:
        journal.close()
    document = {"format": FORMAT, "version": STATE_FILE_VERSION, "server": server, "operations": operations}
    tmp = target.with_name(target.name + ".tmp")
    tmp.write_bytes(orjson.dumps(document))
    tmp.replace(target)
    return len(operations)


def read_state(path: Path) -> tuple[ServerConfig, list[Entry]]:
    """A state document, checked: its format and version, the server configuration, each operation's
    kind.  Raises ``JournalError`` with what is wrong and where."""
    try:
        document: Any = orjson.loads(path.read_bytes())
    except FileNotFoundError:
        raise JournalError(f"{path}: no such file") from None
    except orjson.JSONDecodeError as exc:
        raise JournalError(f"{path} is not JSON: {exc}") from None
    if not isinstance(document, dict) or document.get("format") != FORMAT:
        raise JournalError(f'{path} is not a simtim state document (no "format": "{FORMAT}")')
    version = document.get("version")
    if not isinstance(version, int) or version < 1:
        raise JournalError(f"{path}: version must be a positive integer")
    if version > STATE_FILE_VERSION:
        raise JournalError(
            f"{path} has state version {version}, newer than this simtim reads ({STATE_FILE_VERSION}): use a newer simtim"
        )
    config = ServerConfig.from_json(document.get("server"))
    operations = document.get("operations")
    if not isinstance(operations, list):
        raise JournalError(f"{path}: operations must be a list")
    for index, entry in enumerate(operations):
        if not isinstance(entry, list) or len(entry) < 2 or entry[0] not in KINDS:
            raise JournalError(
                f"{path}: operation {index} must be a list [kind, time, ...] with kind in {KINDS}"
            )
        if len(entry) != ARITY[entry[0]]:
            raise JournalError(
                f"{path}: operation {index}: a {entry[0]!r} operation has {ARITY[entry[0]]} items"
            )
        if entry[1] is not None and not isinstance(entry[1], int):
            raise JournalError(f"{path}: operation {index}: time must be an integer or null")
    return config, [_settled(entry, config) for entry in operations]


def _settled(entry: Entry, config: ServerConfig) -> Entry:
    """Fill what a hand-written operation may leave open with the values a replay must repeat:
    the time (now, on a real clock) and the token a create hands out."""
    entry = list(entry)
    if entry[1] is None and not config.fake_clock:
        entry[1] = int(time.time())
    if entry[0] == "v1" and entry[5] is None and issues_token(entry[2], entry[3]):
        entry[5] = new_token()
    return entry


__all__ = ["FORMAT", "export_state", "read_state"]
