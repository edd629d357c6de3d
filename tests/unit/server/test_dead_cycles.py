"""Closed connections are reference cycles; the server frees them within a minute however long it
runs (simtim/gc_policy.py, issue 15's soak): a cycle old enough to sit in the oldest generation,
which the server's thresholds never collect on their own, is gone after the periodic collection."""

from __future__ import annotations

import asyncio
import gc
from collections.abc import Iterator
from typing import Any

import pytest

import simtim.server.app as app_module
from simtim.server.app import SimtimApp
from tests.dead_cycles import old_dead_cycle


@pytest.fixture
def gc_state() -> Iterator[None]:
    thresholds = gc.get_threshold()
    yield
    gc.set_threshold(*thresholds)
    gc.unfreeze()


def test_the_server_frees_dead_cycles_in_the_oldest_generation(
    monkeypatch: pytest.MonkeyPatch, gc_state: None
) -> None:
    monkeypatch.setattr(app_module, "FULL_COLLECTION_SECONDS", 0.01)
    app = SimtimApp(fake_clock=True)
    inbox: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
    sent: list[dict[str, Any]] = []

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    async def scenario() -> bool:
        inbox.put_nowait({"type": "lifespan.startup"})
        lifespan = asyncio.create_task(app({"type": "lifespan"}, inbox.get, send))
        while not sent:
            await asyncio.sleep(0)
        ref = old_dead_cycle()
        assert ref() is not None  # reference counting alone never frees a cycle
        for _ in range(1000):  # many collection periods; stops as soon as it is gone
            if ref() is None:
                break
            await asyncio.sleep(0.01)
        freed = ref() is None
        inbox.put_nowait({"type": "lifespan.shutdown"})
        await lifespan
        return freed

    assert asyncio.run(scenario())
    assert [m["type"] for m in sent] == ["lifespan.startup.complete", "lifespan.shutdown.complete"]
