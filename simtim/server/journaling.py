"""The journaled front of ``simtim serve --data``: group commit, then apply, then answer.

Write-ahead, in this order, for every state-changing operation of every face:

1. the request becomes a journal entry (``simtim.durable.entries``) with the wall-clock second it
   runs at and anything random it needs (a new token) drawn now;
2. entries that arrive in the same event-loop turn are committed together, in one SQLite
   transaction (group commit: one commit per batch, not per request);
3. only then are they applied to the model, in journal order, and each client gets its reply and
   each push goes out.

So nothing is acknowledged or pushed that is not stored, and the model only ever holds what the
journal holds: when a commit fails (full disk, read-only file), the batch is refused with 70500,
the model is untouched, a log line says why, and reads go on being served (docs/durability.md).
Without ``--data`` none of this exists: the in-memory server calls ``Service`` directly.
"""

from __future__ import annotations

import asyncio
import logging
import os
import sqlite3
from collections.abc import Callable
from pathlib import Path
from typing import Any, Protocol

from simtim.clock import wall_second
from simtim.durable import snapshot
from simtim.durable.entries import Entry, apply, encode
from simtim.durable.recovery import Recovered
from simtim.errors import Code
from simtim.limits import SNAPSHOT_EVERY_ENTRIES
from simtim.protocol.envelope import encode as encode_reply
from simtim.protocol.envelope import error
from simtim.protocol.rest import envelope as rest_envelope
from simtim.protocol.web.face import refusal as web_refusal
from simtim.protocol.web.session import Outlet

log = logging.getLogger("simtim.journal")

Reply = dict[str, Any]


class ReplySink(Protocol):
    """Where an entry's reply goes once it is committed and applied: an ``asyncio.Future`` (an
    ASGI request awaiting ``submit``) or a ``CallbackSink`` (the protocol shortcut, no task)."""

    def done(self) -> bool: ...

    def set_result(self, result: Reply, /) -> None: ...

    def set_exception(self, exception: BaseException, /) -> None: ...


class CallbackSink:
    """A ``ReplySink`` that calls ``on_reply`` with the reply's JSON bytes, or with the exception
    the model raised (the protocol shortcut writes either straight to its connection)."""

    __slots__ = ("_done", "on_reply")

    def __init__(self, on_reply: Callable[[bytes | BaseException], None]) -> None:
        self.on_reply = on_reply
        self._done = False

    def done(self) -> bool:
        return self._done

    def set_result(self, result: Reply, /) -> None:
        self._done = True
        self.on_reply(encode_reply(result))

    def set_exception(self, exception: BaseException, /) -> None:
        self._done = True
        self.on_reply(exception)


class JournaledFront:
    """Owns the journal of a running server; ``submit`` is the one way a write reaches the model."""

    def __init__(
        self, recovered: Recovered, directory: Path, snapshot_every: int = SNAPSHOT_EVERY_ENTRIES
    ) -> None:
        self.service = recovered.service
        self.journal = recovered.journal
        self.directory = directory
        self.fake_clock = recovered.config.fake_clock
        self.snapshot_every = snapshot_every
        self.snapshot_seq = recovered.snapshot_seq
        self.fingerprint = snapshot.code_fingerprint()
        self.failed_commits = 0
        self.commits = 0  # batches committed, and the entries in them: the group-commit factor
        self.committed_entries = 0
        self._pending: list[tuple[Entry, Outlet | None, ReplySink]] = []
        self._flush_scheduled = False
        self._snapshot_child: int | None = None

    def now(self) -> int | None:
        """The time an entry records: the wall-clock second, or None when the clock is fake state."""
        return None if self.fake_clock else wall_second()

    async def submit(self, entry: Entry, live: Outlet | None = None) -> Reply:
        """Journal, commit (with whatever else arrived this turn), apply; the client's reply.
        ``live``: the Web SDK socket a ``web`` entry came on (its reply and pushes go there)."""
        future: asyncio.Future[Reply] = asyncio.get_running_loop().create_future()
        self.enqueue(entry, live, future)
        return await future

    def enqueue(self, entry: Entry, live: Outlet | None, sink: ReplySink) -> None:
        """``submit`` without awaiting: ``sink`` gets the reply after the batch's commit (the
        protocol shortcut of simtim/server/fast_http.py answers from there, with no task)."""
        self._pending.append((entry, live, sink))
        if not self._flush_scheduled:
            self._flush_scheduled = True
            asyncio.get_running_loop().call_soon(self._flush)

    def _flush(self) -> None:
        batch, self._pending = self._pending, []
        self._flush_scheduled = False
        try:
            self.journal.append([encode(entry) for entry, _, _ in batch])
        except sqlite3.Error as exc:
            self.failed_commits += 1
            log.error(
                "journal %s: commit failed (%s): %d writes refused with %d, nothing applied; reads go on",
                self.journal.path,
                exc,
                len(batch),
                int(Code.STORAGE_FAILED),
            )
            for entry, live, sink in batch:
                if not sink.done():
                    sink.set_result(_refusal(entry, live))
            return
        self.commits += 1
        self.committed_entries += len(batch)
        service = self.service
        # Every entry is applied before any is answered: the replies then leave back to back, and
        # a client waiting for one is woken once per group, not once per entry between applies
        # (measured: ~11 µs of the server's ~40 per sendMessage went to those wake-ups).
        answers: list[tuple[ReplySink, Reply | BaseException]] = []
        for entry, live, sink in batch:
            try:
                answers.append((sink, apply(service, entry, live)))
            except Exception as exc:  # a model bug: answered as the in-memory server would (HTTP 500)
                answers.append((sink, exc))
        for sink, answer in answers:
            if sink.done():  # a client that went away still had its write applied
                continue
            if isinstance(answer, BaseException):
                sink.set_exception(answer)
            else:
                sink.set_result(answer)
        self._maybe_snapshot()

    # --- snapshots ----------------------------------------------------------------------------
    def _maybe_snapshot(self) -> None:
        if self._snapshot_child is not None:
            pid, _status = os.waitpid(self._snapshot_child, os.WNOHANG)
            if pid == 0:
                return  # the last one is still being written
            self._snapshot_child = None
        seq = self.journal.last_seq
        since = seq - self.snapshot_seq
        if snapshot_due(since, self.snapshot_every, self._state_size):
            self._snapshot_child = snapshot.fork_writer(self.directory, self.service, seq, self.fingerprint)
            self.snapshot_seq = seq

    def _state_size(self) -> int:
        """What a snapshot would hold, in journal entries' worth: the messages stored."""
        return sum(len(app.messages) for app in self.service.world.apps.values())

    def close_lost_sockets(self) -> int:
        """At start: journal the close of every Web SDK socket the last run never closed (it was
        killed or stopped), so their instances are offline and keep what is pushed to them until
        the SDK reconnects (NET-1), on this run and on every replay after it."""
        lost = self.service.web.open_sockets()
        if lost:
            entries: list[Entry] = [["webclose", self.now(), socket_id] for socket_id in lost]
            self.journal.append([encode(entry) for entry in entries])
            for entry in entries:
                apply(self.service, entry)
        return len(lost)

    def wait_for_snapshot(self) -> None:
        """Block until a snapshot child still writing has finished (tests and tools that read the
        directory right after; the server itself never waits)."""
        if self._snapshot_child is not None:
            os.waitpid(self._snapshot_child, 0)
            self._snapshot_child = None

    def close(self) -> None:
        """At shutdown: close the journal.  A snapshot child still writing is not waited for (SIGTERM
        exits within 5 s): it finishes on its own, and its snapshot, at a seq the journal holds, stays
        valid for any later start."""
        log.info(
            "journal %s: %d entries committed in %d group commits this run (%d failed)",
            self.journal.path,
            self.committed_entries,
            self.commits,
            self.failed_commits,
        )
        self.journal.close()


def snapshot_due(since: int, every: int, state_size: Callable[[], int]) -> bool:
    """Whether ``since`` entries journaled after the last snapshot call for a new one: at least
    ``every`` of them, and at least as many as the state holds messages (``state_size``, asked
    only when the first test passes: it walks every app).

    Writing and loading a snapshot costs about as much as replaying as many entries as it holds
    messages (100k messages: loaded in 1.52 s, replayed from the journal in 1.41 s,
    ``benchmarks/journal_bench.py --no-throughput``), so an earlier one makes no start faster,
    while the running server pays for each (a fork, copy-on-write faults, the child's CPU) in
    proportion to the state: at a fixed interval a growing history made that cost quadratic, and
    a pinned server lost a quarter of its sendMessage rate to it.  Spaced this way the snapshots'
    total cost stays proportional to the journal, and a start replays at most about as many
    entries as the state it loads holds messages (docs/durability.md)."""
    return since >= every and since >= state_size()


def _refusal(entry: Entry, live: Outlet | None) -> Reply:
    if entry[0] == "rest":
        return rest_envelope(Code.STORAGE_FAILED, Code.STORAGE_FAILED.phrase)
    if entry[0] == "web" and live is not None:  # the frame's reply says so, on its socket
        web_refusal(live, entry[3], binary=entry[4], expect_binary=entry[5])
        return {}
    return error(Code.STORAGE_FAILED)


__all__ = ["CallbackSink", "JournaledFront", "ReplySink", "snapshot_due"]
