"""The wall clocks the model reads (CLOCK-1): whole seconds, one ``int`` object per second."""

from __future__ import annotations

import pytest

from simtim import clock
from simtim.clock import PinnedClock, SystemClock, wall_second


def test_clock_1_one_second_is_one_shared_int_and_the_next_second_is_the_next_value(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Every message stored within a second shares its time's int (32 bytes a message otherwise)."""
    now = [1_700_000_000.2]
    monkeypatch.setattr(clock.time, "time", lambda: now[0])
    first = wall_second()
    now[0] = 1_700_000_000.9
    assert SystemClock().now() is first == 1_700_000_000
    now[0] = 1_700_000_001.0
    assert wall_second() == 1_700_000_001


def test_clock_1_a_pinned_clock_reads_its_pin_and_the_wall_clock_without_one() -> None:
    pinned = PinnedClock()
    assert abs(pinned.now() - wall_second()) <= 1
    pinned.pinned = 1_600_000_000
    assert pinned.now() == 1_600_000_000
