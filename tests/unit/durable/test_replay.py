"""A journaled server restarted on its data directory holds exactly the state it had (issue 15)."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
from pathlib import Path

from simtim.durable import snapshot
from simtim.durable.entries import READ_ONLY_METHODS, apply
from simtim.durable.recovery import new_service, open_durable
from simtim.model.entities import C2C
from simtim.server.journaling import JournaledFront
from tests.unit.durable.durable_support import CONFIG, GROUP, START, state_of, token, workload
from tests.world_snapshot import Snapshot


def run_live(directory: Path, snapshot_every: int = 10**9) -> tuple[object, list[dict[str, object]]]:
    """Submit the workload through the journaled front, as the server does; the state and replies."""

    async def drive() -> tuple[object, list[dict[str, object]]]:
        recovered = open_durable(directory, fake_clock=False, clock_start=None, seed=CONFIG.seed)
        front = JournaledFront(recovered, directory, snapshot_every=snapshot_every)
        replies = [await front.submit(entry) for entry in workload()]
        state = state_of(front.service)
        front.wait_for_snapshot()  # the server does not wait; a test reading the directory must
        front.close()
        return state, replies

    return asyncio.run(drive())


def test_restart_replays_into_the_same_state(tmp_path: Path) -> None:
    live, replies = run_live(tmp_path)
    codes = [reply.get("code", reply.get("ErrorCode")) for reply in replies[:-1]]  # the last is the sweep
    assert codes.count(0) == len(codes) - 1 and 10017 in codes  # every op ran; the muted send was refused
    recovered = open_durable(tmp_path, fake_clock=None, clock_start=None, seed=None)
    assert recovered.replayed == len(workload()) and recovered.snapshot_seq == 0
    assert state_of(recovered.service) == live
    recovered.journal.close()


def test_restart_from_a_snapshot_replays_only_what_follows(tmp_path: Path) -> None:
    live, _ = run_live(tmp_path, snapshot_every=25)
    assert (tmp_path / snapshot.SNAPSHOT_FILE).exists()
    recovered = open_durable(tmp_path, fake_clock=None, clock_start=None, seed=None)
    assert recovered.snapshot_seq >= 25 and recovered.replayed == len(workload()) - recovered.snapshot_seq
    assert state_of(recovered.service) == live
    recovered.journal.close()


def test_a_snapshot_of_other_code_is_ignored_and_the_whole_journal_replayed(tmp_path: Path) -> None:
    live, _ = run_live(tmp_path, snapshot_every=25)
    snap = snapshot.load(tmp_path, snapshot.code_fingerprint())
    assert snap is not None
    seq = snap.seq
    service = new_service(CONFIG)
    snapshot.restore(service, snap)
    snapshot.write(tmp_path, service, seq, "another simtim")
    recovered = open_durable(tmp_path, fake_clock=None, clock_start=None, seed=None)
    assert recovered.snapshot_seq == 0 and recovered.replayed == len(workload())
    assert state_of(recovered.service) == live
    recovered.journal.close()


def test_the_recorded_time_is_the_time_the_operation_ran_at(tmp_path: Path) -> None:
    """A replay years later still stamps each message with the second it was first sent at."""
    run_live(tmp_path)
    recovered = open_durable(tmp_path, fake_clock=None, clock_start=None, seed=None)
    app = next(iter(recovered.service.world.apps.values()))
    times = sorted(m.time for m in app.messages.values() if m.conversation_type == C2C)
    assert times[0] == START + 1 and times[-1] >= START + 20
    recovered.journal.close()


def test_a_restart_with_another_seed_or_clock_is_refused(tmp_path: Path) -> None:
    run_live(tmp_path)
    for kwargs in ({"seed": CONFIG.seed + 1}, {"fake_clock": True}):
        options = {"fake_clock": None, "clock_start": None, "seed": None, **kwargs}
        try:
            open_durable(tmp_path, **options)  # type: ignore[arg-type]
        except Exception as exc:
            assert "--data directory" in str(exc) or "--seed" in str(exc)
        else:
            raise AssertionError(f"{kwargs} was accepted")


def test_reads_are_not_journaled_because_they_change_nothing() -> None:
    """Every method in READ_ONLY_METHODS leaves the world byte-identical (else a replay would miss it)."""
    service = new_service(CONFIG)
    for entry in workload():
        apply(service, entry)
    bodies = {
        "getMessageList": {"conversationID": "C2Cbob"},
        "getConversationList": {},
        "getConversationProfile": {"conversationID": f"GROUP{GROUP}"},
        "getMyProfile": {},
        "searchGroupByID": {"groupID": GROUP},
        "getGroupList": {},
        "getGroupProfile": {"groupID": GROUP},
        "getGroupMemberList": {"groupID": GROUP},
        "getGroupMemberProfile": {"groupID": GROUP, "userIDList": ["bob", "carol"]},
    }
    assert set(bodies) == READ_ONLY_METHODS
    service.base_clock.pinned = START + 30  # type: ignore[attr-defined]  # the workload's time, not today's
    for method, body in bodies.items():
        before = Snapshot(service.world)
        tokens = dict(service.tokens)
        assert service.handle(method, token("alice"), body)["code"] == 0, method
        assert before.unchanged() and service.tokens == tokens, f"{method} changed the state"


def test_snapshots_are_written_by_a_child_and_the_server_keeps_going(tmp_path: Path) -> None:
    run_live(tmp_path, snapshot_every=10)
    leftovers = [p for p in os.listdir(tmp_path) if p.endswith(".tmp")]
    assert leftovers == []
    assert snapshot.load(tmp_path, snapshot.code_fingerprint()) is not None


def test_inst_5_the_sweep_is_journaled_only_when_an_expiry_is_due() -> None:
    """The real-clock ticker asks ``expiries_due`` (a read) before journaling a sweep, so an idle
    server writes nothing; when dave's 5 s UserSig has run out, the sweep has work and kicks him."""
    service = new_service(CONFIG)
    for entry in workload()[:-1]:  # everything but the final sweep
        apply(service, entry)
    state = service.world.state
    clock = service.base_clock
    clock.pinned = START + 5  # type: ignore[attr-defined]
    assert not state.expiries_due()
    clock.pinned = START + 30  # type: ignore[attr-defined]
    assert state.expiries_due()
    clock.pinned = None  # type: ignore[attr-defined]
    apply(service, ["tick", START + 30])
    clock.pinned = START + 30  # type: ignore[attr-defined]
    assert not state.expiries_due()
    assert service.handle("getMyProfile", token("dave"), {})["code"] == 6206  # kicked by the sweep


def test_the_snapshot_writer_runs_at_the_lowest_cpu_priority() -> None:
    """The child must not take the serving process's CPU on a core they share (docs/durability.md)."""
    code = "import os; from simtim.durable.snapshot import _background_priority as b; b(); print(os.nice(0))"
    niceness = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert niceness.strip() == "19"
