"""When the journaled front forks a snapshot (issue 15: snapshots bound a start's replay without
taking the running server's time in proportion to its history)."""

from __future__ import annotations

import asyncio
from itertools import pairwise
from pathlib import Path

from simtim.durable.recovery import open_durable
from simtim.server.journaling import JournaledFront, snapshot_due
from tests.unit.durable.durable_support import CONFIG, workload


def test_a_snapshot_waits_for_the_interval_and_for_as_many_entries_as_the_state_holds_messages() -> None:
    asked: list[int] = []

    def state(size: int):  # type: ignore[no-untyped-def]
        def size_of() -> int:
            asked.append(size)
            return size

        return size_of

    assert not snapshot_due(99, 100, state(0)) and asked == []  # the interval first, without walking the apps
    assert snapshot_due(100, 100, state(100))
    assert not snapshot_due(150, 100, state(151))  # a state bigger than the journal grew by: not yet
    assert snapshot_due(151, 100, state(151))


def test_snapshots_of_a_growing_history_are_spaced_by_its_size(tmp_path: Path) -> None:
    """Each snapshot follows the previous one by at least as many entries as messages are stored."""

    async def drive() -> list[tuple[int, int]]:
        recovered = open_durable(tmp_path, fake_clock=False, clock_start=None, seed=CONFIG.seed)
        front = JournaledFront(recovered, tmp_path, snapshot_every=1)
        taken: list[tuple[int, int]] = []  # (journal seq of the snapshot, messages stored then)
        for entry in workload(messages=60)[:-1]:
            await front.submit(entry)
            front.wait_for_snapshot()  # one at a time, so none is skipped because one is still writing
            if not taken or front.snapshot_seq != taken[-1][0]:
                stored = sum(len(app.messages) for app in front.service.world.apps.values())
                taken.append((front.snapshot_seq, stored))
        front.close()
        return taken

    taken = asyncio.run(drive())
    assert len(taken) >= 3  # the rule spaces snapshots out, it does not stop them
    for (seq, _), (next_seq, stored) in pairwise(taken):
        assert next_seq - seq >= stored
    # a fixed interval of one entry would have taken one per entry
    assert len(taken) < len(workload(messages=60)) // 4
