"""NET-1 under faults, over real sockets: an event socket cut abruptly (no close frame) and
re-opened; each message stored for the instance meanwhile arrives once, in order. The same
check fails on servers that drop or duplicate one replayed message (the checker can fail)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from simtim.conformance.cell import Cell, probe
from simtim.conformance.replay import ReplayCheck
from simtim.driver.http import HttpDriver
from tests.integration.server_process import ADMIN_KEY, ServerProcess

MESSAGES = 6


def cut_send_reconnect(url: str, rounds: int = 1) -> list[ReplayCheck]:
    """b's socket is cut, a sends MESSAGES texts to b, b comes back: what did the replay bring?"""
    driver = HttpDriver(url, admin_key=ADMIN_KEY)
    try:
        cell = Cell(driver, probe(driver), prefix="f_", sdkappid=1_500_000_777, event_deadline=2.0)
        for name in ("a", "b"):
            cell.import_account(name)
            assert not cell.login(name).mismatches
        checks = []
        for _ in range(rounds):
            assert cell.disconnect("b")
            for index in range(MESSAGES):
                message = {
                    "to": cell.user("b"),
                    "conversationType": "C2C",
                    "type": "TIMTextElem",
                    "payload": {"text": f"while away {index}"},
                }
                sent = cell.do("a", "sendMessage", {"message": message}, rule="MSG-5")
                assert sent.actual.ok and not sent.mismatches, sent.mismatches
            checks.append(cell.reconnect("b"))
        return checks
    finally:
        driver.close()


def test_net_1_every_message_stored_while_cut_arrives_once_in_order(server: ServerProcess) -> None:
    for replay in cut_send_reconnect(server.url, rounds=3):
        assert replay.expected == MESSAGES
        assert (replay.delivered, replay.lost, replay.duplicated, replay.reordered) == (MESSAGES, 0, 0, 0)
        assert replay.mismatches == []


@pytest.fixture(params=["drop", "duplicate"])
def mutant(request: pytest.FixtureRequest) -> Iterator[tuple[str, ServerProcess]]:
    proc = ServerProcess(
        module="tests.integration.replay_mutant", env={"SIMTIM_REPLAY_MUTANT": request.param}
    )
    yield request.param, proc
    proc.stop()


def test_net_1_fails_on_a_server_that_drops_or_duplicates_a_replayed_message(
    mutant: tuple[str, ServerProcess],
) -> None:
    mode, proc = mutant
    (replay,) = cut_send_reconnect(proc.url)
    assert replay.expected == MESSAGES
    if mode == "drop":
        assert (replay.lost, replay.duplicated) == (1, 0)
        assert replay.delivered == MESSAGES - 1
    else:
        assert (replay.lost, replay.duplicated) == (0, 1)
        assert replay.delivered == MESSAGES
    assert replay.mismatches and {m.rule for m in replay.mismatches} == {"NET-1"}
