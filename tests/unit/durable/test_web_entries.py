"""The Web SDK face on a journaled server: its frames and socket closes are entries, so a replay
(from the journal or from a snapshot) rebuilds the same sessions, a2s, cookies and model state."""

from __future__ import annotations

import asyncio
import threading
from pathlib import Path
from typing import Any

import orjson

from simtim.durable import snapshot
from simtim.durable.entries import Entry, apply, web_frame
from simtim.durable.recovery import new_service, open_durable
from simtim.model.core import DEV_SDKAPPID
from simtim.protocol.service import Service
from simtim.protocol.web.session import StandIn
from simtim.server.journaling import JournaledFront
from tests.unit.durable.durable_support import CONFIG, START, sig, state_of


class LiveOutlet:
    """A socket as the server has it: frames for the client, and things no pickle can hold."""

    def __init__(self, socket_id: str) -> None:
        self.socket_id = socket_id
        self.frames: list[dict[str, Any]] = []
        self.lock = threading.Lock()

    def push(self, frame: bytes) -> None:
        self.frames.append(orjson.loads(frame))

    def close(self, code: int) -> None:
        pass


def frame(socket_id: str, servcmd: str, body: dict[str, Any], **head: Any) -> list[Any]:
    raw = orjson.dumps({"head": {"servcmd": servcmd, "seq": 1, **head}, "body": body})
    return web_frame(socket_id, raw, True, True)


def web_workload() -> list[tuple[Entry, str]]:
    """alice and bob log in on their own sockets, alice sends bob two messages, bob syncs (his
    cookie moves), bob's socket closes, alice sends a third (bob is offline: NET-1 keeps it)."""
    entries: list[tuple[Entry, str]] = []
    for user in ("alice", "bob"):
        login = frame(f"s-{user}", "im_open_status.wslogin", {}, sdkappid=DEV_SDKAPPID, identifier=user)
        login_head = orjson.loads(login[1].encode("latin-1"))
        login_head["head"]["usersig"] = sig(user, START)
        login[1] = orjson.dumps(login_head).decode("latin-1")
        entries.append((["web", START, *login, None, False, f"a2-{user}"], f"s-{user}"))
    for i in range(2):
        send = frame(
            "s-alice",
            "openim.sendmsg",
            {"To_Account": "bob", "MsgRandom": i, "MsgBody": text(f"m{i}")},
            a2="a2-alice",
        )
        entries.append((["web", START + 1, *send, None, False, None], "s-alice"))
    sync = frame("s-bob", "openim.getmsg", {"Cookie": "", "SyncFlag": 0}, a2="a2-bob")
    entries.append((["web", START + 2, *sync, None, False, None], "s-bob"))
    entries.append((["webclose", START + 3, "s-bob"], "s-bob"))
    late = frame(
        "s-alice",
        "openim.sendmsg",
        {"To_Account": "bob", "MsgRandom": 9, "MsgBody": text("late")},
        a2="a2-alice",
    )
    entries.append((["web", START + 4, *late, None, False, None], "s-alice"))
    return entries


def text(value: str) -> list[dict[str, Any]]:
    return [{"MsgType": "TIMTextElem", "MsgContent": {"Text": value}}]


def sessions_of(service: Service) -> dict[str, tuple[Any, ...]]:
    """The face's sessions as a replay must rebuild them (the socket only by its ID)."""
    return {
        a2: (s.user_id, s.instance_id, s.tinyid, s.cookie, s.synced, getattr(s.outlet, "socket_id", None))
        for a2, s in service.web.by_a2.items()
    }


def run_live(directory: Path) -> tuple[Service, dict[str, LiveOutlet]]:
    async def drive() -> tuple[Service, dict[str, LiveOutlet]]:
        recovered = open_durable(directory, fake_clock=False, clock_start=None, seed=CONFIG.seed)
        front = JournaledFront(recovered, directory, snapshot_every=10**9)
        outlets = {sid: LiveOutlet(sid) for sid in ("s-alice", "s-bob")}
        for entry, sid in web_workload():
            await front.submit(entry, outlets[sid])
        front.close()
        return front.service, outlets

    return asyncio.run(drive())


def test_a_replayed_journal_has_the_same_web_sessions_and_world(tmp_path: Path) -> None:
    live, outlets = run_live(tmp_path)
    replies = [
        f["body"]["ErrorCode"] for f in outlets["s-alice"].frames if f["head"]["servcmd"] != "openim.pushmsg"
    ]
    assert replies and set(replies) == {0}, outlets["s-alice"].frames
    assert sessions_of(live)["a2-bob"][3] > 0  # bob's sync moved his cookie
    recovered = open_durable(tmp_path, fake_clock=None, clock_start=None, seed=None)
    assert sessions_of(recovered.service) == sessions_of(live)  # same a2s, cookies, sockets by ID
    assert state_of(recovered.service) == state_of(live)
    assert recovered.service.web.open_sockets() == ["s-alice"]  # the one the run never closed
    bob = recovered.service.world.instances[live.web.by_a2["a2-bob"].instance_id]
    assert not bob.connected and [name for name, _ in bob.deferred] != []  # "late" waits for him (NET-1)
    recovered.journal.close()


def test_a_snapshot_keeps_the_sessions_and_their_sockets_as_stand_ins(tmp_path: Path) -> None:
    live, _ = run_live(tmp_path)
    snapshot.write(tmp_path, live, 1, "fingerprint")  # live sessions hold unpicklable sockets
    loaded = snapshot.load(tmp_path, "fingerprint")
    assert loaded is not None
    service = new_service(CONFIG)
    snapshot.restore(service, loaded)
    assert sessions_of(service) == sessions_of(live)
    alice = service.web.by_a2["a2-alice"]
    assert isinstance(alice.outlet, StandIn) and service.web.open_sockets() == ["s-alice"]
    apply(service, ["webclose", START + 5, "s-alice"])
    assert alice.outlet is None and not service.world.instances[alice.instance_id].connected
    assert service.web.open_sockets() == []
