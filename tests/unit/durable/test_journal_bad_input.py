"""Bad journals (issue 15, "Bad input"): a torn last record, a newer schema, a full disk."""

from __future__ import annotations

import asyncio
import logging
import shutil
import sqlite3
from pathlib import Path

import pytest

from simtim.durable.journal import JOURNAL_FILE, Journal, JournalError
from simtim.durable.recovery import open_durable
from simtim.durable.wal import torn_tail_bytes
from simtim.errors import Code
from simtim.limits import JOURNAL_SCHEMA_VERSION
from simtim.server.journaling import JournaledFront
from tests.unit.durable.durable_support import CONFIG, START, text, token, workload
from tests.world_snapshot import Snapshot

WAL = JOURNAL_FILE + "-wal"


def _copy_as_crashed(source: Path, target: Path) -> None:
    """What kill -9 leaves: the database and its WAL as they are while the writer still runs."""
    target.mkdir()
    for name in (JOURNAL_FILE, WAL):
        shutil.copyfile(source / name, target / name)


def test_a_torn_last_record_is_dropped_with_a_warning_naming_its_bytes(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    live = Journal(tmp_path / "live")
    live.append([b'["tick",1]', b'["tick",2]'])
    _copy_as_crashed(tmp_path / "live", tmp_path / "before")
    live.append([b'["tick",3]' * 50])  # the write a kill -9 cuts in half
    _copy_as_crashed(tmp_path / "live", tmp_path / "after")
    live.close()
    whole = (tmp_path / "before" / WAL).read_bytes()
    grown = (tmp_path / "after" / WAL).read_bytes()
    assert len(grown) > len(whole)
    torn = grown[: len(whole) + (len(grown) - len(whole)) // 2]
    (tmp_path / "after" / WAL).write_bytes(torn)
    assert torn_tail_bytes(tmp_path / "after" / WAL) == len(torn) - len(whole)

    with caplog.at_level(logging.WARNING, logger="simtim.journal"):
        reopened = Journal(tmp_path / "after")
    dropped = len(torn) - len(whole)
    assert reopened.torn_bytes == dropped
    assert f"dropped a torn last record of {dropped} bytes" in caplog.text
    assert [entry for _, entry in reopened.entries()] == [
        ["tick", 1],
        ["tick", 2],
    ]  # only the torn one is gone
    reopened.append([b'["tick",4]'])
    assert reopened.last_seq == 3
    reopened.close()


def test_a_whole_wal_after_kill_9_loses_nothing_and_warns_nothing(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    live = Journal(tmp_path / "live")
    live.append([b'["tick",1]'])
    live.append([b'["tick",2]'])
    _copy_as_crashed(tmp_path / "live", tmp_path / "crashed")
    live.close()
    with caplog.at_level(logging.WARNING, logger="simtim.journal"):
        reopened = Journal(tmp_path / "crashed")
    assert reopened.torn_bytes == 0 and "torn" not in caplog.text
    assert reopened.last_seq == 2
    reopened.close()


def test_a_journal_of_a_newer_schema_is_refused_and_left_untouched(tmp_path: Path) -> None:
    path = tmp_path / JOURNAL_FILE
    conn = sqlite3.connect(path)
    conn.execute("CREATE TABLE entries(seq INTEGER PRIMARY KEY, entry BLOB, shard INTEGER)")
    conn.execute("INSERT INTO entries VALUES (1, x'00', 7)")
    conn.execute(f"PRAGMA user_version={JOURNAL_SCHEMA_VERSION + 1}")
    conn.commit()
    conn.close()
    before = path.read_bytes()
    with pytest.raises(JournalError, match=f"schema version {JOURNAL_SCHEMA_VERSION + 1}, newer") as info:
        open_durable(tmp_path, fake_clock=None, clock_start=None, seed=None)
    assert "left untouched" in str(info.value)
    assert path.read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == [JOURNAL_FILE]  # no WAL, no snapshot, nothing


def test_a_file_that_is_not_a_journal_is_refused(tmp_path: Path) -> None:
    (tmp_path / JOURNAL_FILE).write_bytes(b"x" * 200)
    with pytest.raises(JournalError, match="not a SQLite database"):
        Journal(tmp_path)


def _fill_the_disk(journal: Journal) -> None:
    """SQLITE_FULL on the next page the journal needs, as a full disk answers."""
    pages = journal.conn.execute("PRAGMA page_count").fetchone()[0]
    journal.conn.execute(f"PRAGMA max_page_count={pages}")


def test_a_full_disk_refuses_the_batch_with_70500_stores_nothing_and_reads_go_on(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    async def drive() -> None:
        recovered = open_durable(tmp_path, fake_clock=False, clock_start=None, seed=CONFIG.seed)
        front = JournaledFront(recovered, tmp_path)
        for entry in workload(messages=2):
            await front.submit(entry)
        service = front.service
        last_seq = front.journal.last_seq
        before = Snapshot(service.world)
        _fill_the_disk(front.journal)
        big = "x" * 6000  # more than the pages left
        with caplog.at_level(logging.ERROR, logger="simtim.journal"):
            replies = await asyncio.gather(
                *(
                    front.submit(
                        ["v1", START + 5, "sendMessage", token("alice"), text("bob", f"{big}{i}"), None]
                    )
                    for i in range(3)
                )
            )
        assert [reply["code"] for reply in replies] == [Code.STORAGE_FAILED] * 3
        assert (
            f"commit failed (database or disk is full): 3 writes refused with {int(Code.STORAGE_FAILED)}"
            in caplog.text
        )
        assert before.unchanged(), "a write that was not stored reached the model"
        assert front.journal.last_seq == last_seq
        service.base_clock.pinned = START + 5  # type: ignore[attr-defined]
        listed = service.handle("getMessageList", token("alice"), {"conversationID": "C2Cbob"})
        assert listed["code"] == 0 and listed["data"]["messageList"]  # reads are still served
        service.base_clock.pinned = None  # type: ignore[attr-defined]
        front.journal.conn.execute("PRAGMA max_page_count=1073741823")  # space again: writes work again
        reply = await front.submit(
            ["v1", START + 6, "sendMessage", token("alice"), text("bob", "again"), None]
        )
        assert reply["code"] == 0
        front.close()

    asyncio.run(drive())
    recovered = open_durable(tmp_path, fake_clock=None, clock_start=None, seed=None)
    app = next(iter(recovered.service.world.apps.values()))
    texts = [m.payload.get("text", "") for m in app.messages.values()]
    assert "again" in texts and not any(t.startswith("xxxx") for t in texts)
    recovered.journal.close()
