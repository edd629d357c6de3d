"""``simtim serve --data DIR``, ``--import FILE`` and ``simtim state export`` as real processes (issue 15)."""

from __future__ import annotations

import os
import re
import resource
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

from simtim.conformance.callback_server import CallbackServer
from simtim.driver.base import Call, Driver
from simtim.driver.targets import open_target
from simtim.durable.journal import JOURNAL_FILE, Journal
from simtim.errors import Code
from simtim.limits import JOURNAL_SCHEMA_VERSION
from simtim.model.core import DEV_SDKAPPID
from tests.integration.server_process import ADMIN_KEY, ServerProcess
from tests.integration.wire import Wire, frames_until, next_frame, open_events, text

LISTENING = re.compile(r"simtim serve listening on (http://127\.0\.0\.1:\d+)")


def populate(wire: Wire) -> dict[str, str]:
    tokens = {user: wire.login(user) for user in ("alice", "bob", "carol")}
    for i in range(5):
        wire.ok("sendMessage", text("bob", f"hello {i}"), tokens["alice"])
    group = {"type": "Public", "groupID": "g1", "name": "g", "memberList": [{"userID": "bob"}]}
    wire.ok("createGroup", group, tokens["alice"])
    wire.ok("setGroupMemberMuteTime", {"groupID": "g1", "userID": "bob", "muteTime": 300}, tokens["alice"])
    wire.admin("advanceClock", {"seconds": 60})
    wire.ok("sendMessage", text("g1", "later", "GROUP"), tokens["alice"])
    return tokens


def test_sigterm_and_restart_keep_the_whole_state_and_the_tokens(tmp_path: Path) -> None:
    server = ServerProcess("--data", str(tmp_path))
    wire = Wire(server.url)
    tokens = populate(wire)
    digest, now = wire.digest(), wire.now()
    assert server.stop() == 0
    server = ServerProcess("--data", str(tmp_path))
    try:
        wire = Wire(server.url)
        assert wire.digest() == digest and wire.now() == now  # the fake clock's steps are state too
        listed = wire.ok("getMessageList", {"conversationID": "C2Cbob"}, tokens["alice"])["messageList"]
        assert [m["payload"]["text"] for m in listed] == [f"hello {i}" for i in range(5)]
        ws = open_events(wire.url, tokens["alice"])  # clients reconnect with the tokens they had
        try:
            assert next_frame(ws).event == "sdkStateReady"  # type: ignore[union-attr]
            wire.ok("sendMessage", text("alice", "after the restart"), tokens["bob"])
            pushed = frames_until(ws, lambda f: f.event == "onMessageReceived")[-1]
            assert pushed.data[0]["payload"] == {"text": "after the restart"}
        finally:
            ws.close()
        assert "entries replayed" in server.log()
    finally:
        server.stop()


def test_kill_9_then_restart_keeps_every_acknowledged_write(tmp_path: Path) -> None:
    server = ServerProcess("--data", str(tmp_path))
    wire = Wire(server.url)
    populate(wire)
    digest = wire.digest()
    os.kill(server.proc.pid, signal.SIGKILL)
    server.proc.wait()
    server.stop()
    server = ServerProcess("--data", str(tmp_path))
    try:
        assert Wire(server.url).digest() == digest
    finally:
        server.stop()


def test_a_restart_that_asks_for_another_seed_is_refused(tmp_path: Path) -> None:
    """The directory's recorded clock and seed are used; a flag that contradicts them is refused."""
    server = ServerProcess("--data", str(tmp_path))  # --seed 0
    server.stop()
    result = run_simtim("serve", "--port", "0", "--data", str(tmp_path), "--seed", "1")
    assert result.returncode == 1
    assert "was written with --seed 0" in result.stderr


def run_simtim(*args: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("SIMTIM_")}
    return subprocess.run(
        [sys.executable, "-m", "simtim", *args], capture_output=True, text=True, timeout=60, env=env
    )


def test_state_export_then_import_starts_the_same_state(tmp_path: Path) -> None:
    server = ServerProcess("--data", str(tmp_path / "data"))
    try:
        wire = Wire(server.url)
        tokens = populate(wire)
        digest = wire.digest()
        exported = run_simtim(
            "state", "export", str(tmp_path / "state.json"), "--data", str(tmp_path / "data")
        )
        assert exported.returncode == 0, exported.stderr  # from a running server
        assert "operations" in exported.stdout
    finally:
        server.stop()
    for extra in ((), ("--data", str(tmp_path / "seeded"))):
        seeded = ServerProcess("--import", str(tmp_path / "state.json"), *extra)
        try:
            wire = Wire(seeded.url)
            assert wire.digest() == digest
            assert wire.ok("getGroupProfile", {"groupID": "g1"}, tokens["alice"])["group"]["memberNum"] == 2
        finally:
            seeded.stop()
    restarted = ServerProcess("--data", str(tmp_path / "seeded"))  # the import was journaled
    try:
        assert Wire(restarted.url).digest() == digest
    finally:
        restarted.stop()


def test_import_refuses_a_state_of_a_newer_version(tmp_path: Path) -> None:
    path = tmp_path / "state.json"
    path.write_text('{"format": "simtim-state", "version": 99, "server": {}, "operations": []}')
    result = run_simtim("serve", "--port", "0", "--import", str(path))
    assert result.returncode == 1 and "state version 99, newer than this simtim reads" in result.stderr


def test_a_journal_of_a_newer_schema_is_refused_and_left_untouched(tmp_path: Path) -> None:
    path = tmp_path / JOURNAL_FILE
    conn = sqlite3.connect(path)
    conn.execute("CREATE TABLE entries(seq INTEGER PRIMARY KEY, entry BLOB)")
    conn.execute(f"PRAGMA user_version={JOURNAL_SCHEMA_VERSION + 1}")
    conn.commit()
    conn.close()
    before = path.read_bytes()
    result = run_simtim("serve", "--port", "0", "--data", str(tmp_path))
    assert result.returncode == 1
    assert f"journal schema version {JOURNAL_SCHEMA_VERSION + 1}, newer" in result.stderr
    assert "left untouched" in result.stderr
    assert path.read_bytes() == before and sorted(p.name for p in tmp_path.iterdir()) == [JOURNAL_FILE]


FILE_LIMIT = 2 * 1024 * 1024  # bytes any one file of the server may reach: a disk that fills up


def _small_disk() -> None:
    signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # a write past the limit fails (EFBIG) instead of killing
    resource.setrlimit(resource.RLIMIT_FSIZE, (FILE_LIMIT, FILE_LIMIT))


def test_a_full_disk_refuses_writes_with_70500_logs_it_and_reads_go_on(tmp_path: Path) -> None:
    log_path = tmp_path / "serve.log"
    command = [
        sys.executable,
        "-m",
        "simtim",
        "serve",
        "--port",
        "0",
        "--data",
        str(tmp_path / "data"),
        "--fake-clock",
        "--admin-key",
        ADMIN_KEY,
        "--seed",
        "0",
    ]
    with log_path.open("w") as log:
        proc = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT, preexec_fn=_small_disk)
    try:
        url = ""
        for _ in range(300):
            match = LISTENING.search(log_path.read_text())
            if match:
                url = match.group(1)
                break
            time.sleep(0.05)
        assert url, log_path.read_text()
        wire = Wire(url)
        alice, _bob = wire.login("alice"), wire.login("bob")
        big = "x" * 10_000
        acked: list[str] = []
        refused = None
        for i in range(FILE_LIMIT // 10_000 * 3):
            reply = wire.call("sendMessage", text("bob", f"{i} {big}"), alice)
            if reply["code"] != 0:
                refused = reply
                break
            acked.append(reply["data"]["message"]["ID"])
        assert refused is not None and refused["code"] == Code.STORAGE_FAILED, refused
        assert acked
        assert "commit failed" in log_path.read_text() and "writes refused with 70500" in log_path.read_text()
        listed = wire.ok("getMessageList", {"conversationID": "C2Cbob"}, alice)["messageList"]
        assert listed[-1]["ID"] == acked[-1]  # reads go on, and show only what was stored
        assert wire.call("sendMessage", text("bob", "small"), alice)["code"] == Code.STORAGE_FAILED
    finally:
        proc.kill()
        proc.wait()
    server = ServerProcess("--data", str(tmp_path / "data"))  # room again: every acknowledged write is there
    try:
        wire = Wire(server.url)
        stored = set()
        cursor = ""
        while True:
            body = {
                "conversationID": "C2Cbob",
                "count": 15,
                **({"nextReqMessageID": cursor} if cursor else {}),
            }
            page = wire.ok("getMessageList", body, alice)
            stored |= {m["ID"] for m in page["messageList"]}
            if page["isCompleted"]:
                break
            cursor = page["nextReqMessageID"]
        assert stored == set(acked)
    finally:
        server.stop()


def test_a_before_send_verdict_is_journaled_and_never_asked_again(tmp_path: Path) -> None:
    """MSG-8 through a journaled server: the backend's verdict is part of the entry, so a replay
    stores the replaced body without calling the backend (which may answer differently by then)."""
    backend = CallbackServer()
    backend.behaviour = {
        "ActionStatus": "OK",
        "ErrorCode": 0,
        "MsgBody": [{"MsgType": "TIMTextElem", "MsgContent": {"text": "[censored]"}}],
    }
    asked = backend.requests
    try:
        server = ServerProcess("--data", str(tmp_path))
        wire = Wire(server.url)
        wire.admin("setCallback", {"SDKAppID": DEV_SDKAPPID, "url": backend.url})
        alice, bob = wire.login("alice"), wire.login("bob")
        sent = wire.ok("sendMessage", text("bob", "something rude"), alice)["message"]
        assert sent["payload"] == {"text": "[censored]"} and len(asked) == 1
        digest = wire.digest()
        server.stop()
        server = ServerProcess("--data", str(tmp_path))
        try:
            wire = Wire(server.url)
            assert wire.digest() == digest and len(asked) == 1  # replayed from the journal, not asked again
            listed = wire.ok("getMessageList", {"conversationID": "C2Calice"}, bob)["messageList"]
            assert [m["payload"] for m in listed] == [{"text": "[censored]"}]
            wire.ok("sendMessage", text("bob", "again"), alice)
            assert len(asked) == 2  # the callback URL was journaled too
        finally:
            server.stop()
    finally:
        backend.close()


def web_login(server: ServerProcess, wire: Wire, user: str) -> tuple[Driver, str]:
    """A Web SDK client (the ``timweb+ws://`` driver: the official SDK's wire) logged in as ``user``."""
    driver = open_target("timweb+" + server.url.replace("http://", "ws://")).driver
    args = {"SDKAppID": DEV_SDKAPPID, "userID": user, "userSig": wire.sig(user)}
    reply = driver.call(Call("login", args))
    assert reply.ok, reply
    return driver, str(reply.data["session"])


def wait_for_journaled_close(directory: Path, deadline: float = 10.0) -> None:
    """A socket's close reaches the server after the client let go: wait until it is journaled."""
    stop = time.monotonic() + deadline
    while time.monotonic() < stop:
        journal = Journal(directory, read_only=True)
        try:
            if any(entry[0] == "webclose" for _seq, entry in journal.entries()):
                return
        finally:
            journal.close()
        time.sleep(0.05)
    raise AssertionError("the socket's close was never journaled")


def web_history(driver: Driver, session: str, peer: str) -> list[tuple[str, str]]:
    reply = driver.call(Call("getMessageList", {"conversationID": f"C2C{peer}"}, session))
    assert reply.ok, reply
    return [(m["ID"], m["payload"]["text"]) for m in reply.data["messageList"]]


def test_web_sdk_writes_are_journaled_and_survive_kill_9(tmp_path: Path) -> None:
    """The Web SDK face on a --data server: each frame that may change state is committed before it
    runs, so a kill -9 loses nothing acknowledged; the sockets the killed run never closed are
    closed at the next start, and the replay rebuilds the same state (docs/durability.md)."""
    server = ServerProcess("--data", str(tmp_path))
    try:
        wire = Wire(server.url)
        alice, alice_session = web_login(server, wire, "alice")
        bob, _ = web_login(server, wire, "bob")
        for i in range(3):
            message = {
                "to": "bob",
                "conversationType": "C2C",
                "type": "TIMTextElem",
                "payload": {"text": f"w{i}"},
            }
            assert alice.call(Call("sendMessage", {"message": message}, alice_session)).ok
        sent = web_history(alice, alice_session, "bob")
        assert [text for _, text in sent] == ["w0", "w1", "w2"]
        bob.close()  # one socket closes before the kill, the other dies with the server
        wait_for_journaled_close(tmp_path)
        server.proc.kill()
        server.proc.wait()
        alice.close()
        server = ServerProcess("--data", str(tmp_path))
        assert "1 Web SDK sockets of the last run closed" in server.log()
        digest = Wire(server.url).digest()
        assert server.stop() == 0
        server = ServerProcess("--data", str(tmp_path))  # the closes were journaled: nothing left open
        assert "Web SDK sockets of the last run closed" not in server.log()
        wire = Wire(server.url)
        assert wire.digest() == digest
        again, session = web_login(server, wire, "alice")
        assert web_history(again, session, "bob") == sent  # same IDs, same order
        again.close()
        listed = wire.ok("getMessageList", {"conversationID": "C2Calice"}, wire.login("bob"))["messageList"]
        assert [m["payload"]["text"] for m in listed] == ["w0", "w1", "w2"]  # one world (REST-9)
    finally:
        server.stop()
