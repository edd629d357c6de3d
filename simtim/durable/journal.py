"""The journal: every accepted state-changing operation, in order, in one SQLite file (WAL mode).

Why SQLite: atomic group commits, crash recovery and a format any tool can read, from the standard
library, with no server to run.  Layout (schema version ``JOURNAL_SCHEMA_VERSION``, kept in the
database header's ``user_version`` so it can be read without opening the database):

* ``meta(key, value)``: the server configuration the journal was written under (JSON): fake clock,
  clock start, ID seed.  Replaying needs the same ones (DESIGN rule 1: same seed + same operations
  = same state).
* ``batches(last_seq, count, entries)``: one row per group commit: ``count`` operations, numbered up
  to ``last_seq``, each an orjson-encoded list (its kind and the clock time it ran at first,
  ``simtim.durable.entries``), joined by newlines (JSON text never holds a raw newline).  One row
  per commit instead of one per operation: the insert is most of a commit's cost per operation.

Opening never rewrites a journal it does not understand: a newer schema is refused before SQLite
touches the file, and a torn WAL tail (a commit a crash cut short, never acknowledged) is measured
and reported before SQLite drops it.
"""

from __future__ import annotations

import logging
import sqlite3
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import orjson

from simtim.durable.wal import torn_tail_bytes
from simtim.limits import JOURNAL_SCHEMA_VERSION

log = logging.getLogger("simtim.journal")

JOURNAL_FILE = "journal.sqlite"
_USER_VERSION_OFFSET = 60  # SQLite file header: the user_version field, 4 bytes big-endian


class JournalError(Exception):
    """A journal this simtim must not open (its message says why and what to do)."""


def schema_version_of(path: Path) -> int | None:
    """The journal's schema version read from the file header (None: not a journal yet)."""
    try:
        with path.open("rb") as handle:
            header = handle.read(100)
    except FileNotFoundError:
        return None
    if len(header) < 100:
        return None  # empty or never written
    if not header.startswith(b"SQLite format 3\x00"):
        raise JournalError(f"{path} is not a SQLite database; it was left untouched")
    return int.from_bytes(header[_USER_VERSION_OFFSET : _USER_VERSION_OFFSET + 4], "big")


class Journal:
    """Append-only, group-committed operation log."""

    def __init__(self, directory: Path, *, read_only: bool = False) -> None:
        """``read_only``: a reader beside a running server (``state export``), which must neither
        judge the server's WAL tail (it may be mid-commit) nor write anything."""
        if not read_only:
            directory.mkdir(parents=True, exist_ok=True)
        self.path = directory / JOURNAL_FILE
        version = schema_version_of(self.path)
        if read_only and not version:
            raise JournalError(f"{directory} holds no simtim journal")
        if version is not None and version > JOURNAL_SCHEMA_VERSION:
            raise JournalError(
                f"{self.path} has journal schema version {version}, newer than this simtim understands "
                f"({JOURNAL_SCHEMA_VERSION}): run a newer simtim on it, or start with another --data "
                "directory; the journal was left untouched"
            )
        self.torn_bytes = 0
        if read_only:
            self.conn = sqlite3.connect(f"file:{self.path}?mode=ro", uri=True, check_same_thread=False)
            row = self.conn.execute("SELECT max(last_seq) FROM batches").fetchone()
            self.last_seq: int = row[0] or 0
            return
        self.torn_bytes = torn_tail_bytes(Path(str(self.path) + "-wal"))
        if self.torn_bytes:
            log.warning(
                "journal %s: dropped a torn last record of %d bytes (a commit cut short by a crash; "
                "it was never acknowledged)",
                self.path,
                self.torn_bytes,
            )
        self.conn = sqlite3.connect(self.path, isolation_level=None, check_same_thread=False)
        self.conn.execute("PRAGMA journal_mode=WAL")
        self.conn.execute("PRAGMA synchronous=NORMAL")  # a commit survives kill -9 (docs/durability.md)
        if version is None or version == 0:
            self.conn.execute("CREATE TABLE IF NOT EXISTS meta(key TEXT PRIMARY KEY, value BLOB NOT NULL)")
            self.conn.execute(
                "CREATE TABLE IF NOT EXISTS batches("
                "last_seq INTEGER PRIMARY KEY, count INTEGER NOT NULL, entries BLOB NOT NULL)"
            )
            self.conn.execute(f"PRAGMA user_version={JOURNAL_SCHEMA_VERSION}")
            self.conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")  # the version reaches the file header
        elif self.torn_bytes:
            self.conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")  # the torn tail is gone for good
        row = self.conn.execute("SELECT max(last_seq) FROM batches").fetchone()
        self.last_seq = row[0] or 0

    # --- configuration ----------------------------------------------------------------------
    def meta(self, key: str) -> Any:
        row = self.conn.execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()
        return None if row is None else orjson.loads(row[0])

    def set_meta(self, key: str, value: Any) -> None:
        self.conn.execute("INSERT OR REPLACE INTO meta(key, value) VALUES (?, ?)", (key, orjson.dumps(value)))

    # --- entries ----------------------------------------------------------------------------
    def append(self, encoded: Sequence[bytes]) -> int:
        """Commit a batch in one transaction; returns the last seq.  Raises ``sqlite3.Error`` when
        nothing was stored (full disk, read-only file): the caller refuses the whole batch."""
        if not encoded:
            return self.last_seq
        last = self.last_seq + len(encoded)
        # one statement in autocommit mode: its own transaction, so a failure stores nothing
        self.conn.execute(
            "INSERT INTO batches(last_seq, count, entries) VALUES (?, ?, ?)",
            (last, len(encoded), b"\n".join(encoded)),
        )
        self.last_seq = last
        return last

    def entries(self, after: int = 0) -> Iterator[tuple[int, list[Any]]]:
        """Committed entries after ``after``, in order, each with its seq."""
        cursor = self.conn.execute(
            "SELECT last_seq, count, entries FROM batches WHERE last_seq > ? ORDER BY last_seq", (after,)
        )
        for last, count, blob in cursor:
            seq = last - count
            for line in blob.split(b"\n"):
                seq += 1
                if seq > after:
                    yield seq, orjson.loads(line)

    def close(self) -> None:
        self.conn.close()


__all__ = ["JOURNAL_FILE", "Journal", "JournalError", "schema_version_of"]
