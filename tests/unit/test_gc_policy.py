"""Every process that runs simtim's collector policy frees dead reference cycles on a timer: the
raised thresholds alone never reach the oldest generation, where a connection that lived through a
collection ends up (issue 15's soak: closed WebSockets piled up at +4 MB/min)."""

from __future__ import annotations

import gc
from collections.abc import Iterator

import gevent
import pytest

from simtim import gc_policy
from tests.dead_cycles import Node, old_dead_cycle


@pytest.fixture
def policy_thresholds() -> Iterator[None]:
    thresholds = gc.get_threshold()
    gc.set_threshold(gc_policy.GEN0_THRESHOLD, gc_policy.GEN1_THRESHOLD, gc_policy.GEN2_THRESHOLD)
    yield
    gc.set_threshold(*thresholds)


def test_a_dead_cycle_in_the_oldest_generation_outlives_the_thresholds(policy_thresholds: None) -> None:
    ref = old_dead_cycle()
    for _ in range(1000):
        Node()  # more cycles: the young generations fill and are collected, the old one is not
    gc.collect(1)
    assert ref() is not None
    gc_policy.collect_dead_cycles()
    assert ref() is None


def test_collect_forever_frees_it_and_runs_once_per_process(
    monkeypatch: pytest.MonkeyPatch, policy_thresholds: None
) -> None:
    monkeypatch.setattr(gc_policy, "FULL_COLLECTION_SECONDS", 0.01)
    collector = gevent.spawn(gc_policy.collect_forever, gevent.sleep)
    gevent.sleep(0)
    second = gevent.spawn(gc_policy.collect_forever, gevent.sleep)
    try:
        second.join(timeout=5)
        assert second.dead  # one collector per process, however many environments start one
        ref = old_dead_cycle()
        assert ref() is not None
        for _ in range(1000):  # many collection periods; stops as soon as it is gone
            if ref() is None:
                break
            gevent.sleep(0.01)
        assert ref() is None
    finally:
        collector.kill()
    assert not gc_policy._collecting  # a killed collector lets a later one start
