"""The heap probe that found issue 15's soak leak: off unless asked for, and when asked for, its
report names the dead cycles a full collection found and the object types that grew."""

from __future__ import annotations

import signal
from collections.abc import Iterator
from pathlib import Path

import pytest

from simtim import heap_probe


class Leaky:
    def __init__(self) -> None:
        self.me = self


@pytest.fixture
def restore_sigusr1() -> Iterator[None]:
    before = signal.getsignal(signal.SIGUSR1)
    yield
    signal.signal(signal.SIGUSR1, before)


def test_without_the_variable_nothing_is_installed(
    monkeypatch: pytest.MonkeyPatch, restore_sigusr1: None
) -> None:
    monkeypatch.delenv(heap_probe.ENV, raising=False)
    before = signal.getsignal(signal.SIGUSR1)
    assert heap_probe.install_from_env() is None
    assert signal.getsignal(signal.SIGUSR1) is before


def test_a_report_names_dead_cycles_and_growth(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, restore_sigusr1: None
) -> None:
    target = tmp_path / "heap.txt"
    monkeypatch.setenv(heap_probe.ENV, str(target))
    monkeypatch.delenv(heap_probe.TRACE_ENV, raising=False)
    probe = heap_probe.install_from_env()
    assert probe is not None
    probe.on_signal(signal.SIGUSR1, None)
    kept = [Leaky() for _ in range(300)]  # live growth
    for _ in range(200):
        Leaky()  # dead cycles
    probe.on_signal(signal.SIGUSR1, None)
    text = target.read_text()
    first, second = text.split("=== heap probe")[1:]
    assert "baseline" in first
    assert "Leaky" in second.split("freed", 1)[1].splitlines()[0]  # the dead ones, by type
    grown = [line for line in second.splitlines() if line.strip().endswith(f"Leaky (now {len(kept)})")]
    assert grown and grown[0].split()[0] == f"+{len(kept)}"
