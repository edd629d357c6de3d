"""A load cell's ID map keeps no more message pairs than its app can hold (issue 15: a soak's
Locust memory is flat after the warm-up)."""

from __future__ import annotations

from typing import Any

import pytest

from simtim.conformance.cell import MIN_MESSAGE_ID_PAIRS, Cell, probe
from simtim.driver.inproc import InProcDriver
from simtim.protocol.service import Service


def cell_with(config: dict[str, Any], id_limit: int) -> Cell:
    target = InProcDriver(fake_clock=True)
    return Cell(target, probe(target), prefix="i_", sdkappid=1_400_000_555, config=config, id_limit=id_limit)


@pytest.mark.parametrize(
    ("config", "id_limit", "kept"),
    [
        ({"maxMessages": 200}, 512, 200),  # PAGE-2: the app holds 200, older pairs name nothing
        ({"maxMessages": 5}, 512, MIN_MESSAGE_ID_PAIRS),  # a step still refers to its last replies
        ({"maxMessages": 5000}, 512, 512),
        ({}, 512, 512),  # no cap: the harness's own bound
        ({"maxMessages": 200}, 0, 0),  # a conformance cell keeps every pair
    ],
)
def test_page_2_a_cell_keeps_no_more_id_pairs_than_its_app_holds_messages(
    config: dict[str, Any], id_limit: int, kept: int
) -> None:
    assert cell_with(config, id_limit).ids.message_limit == kept


def test_page_2_the_cap_a_server_gives_new_apps_bounds_the_map_too() -> None:
    """``simtim serve --max-messages``: the cell learns the cap from configureApp's reply."""
    target = InProcDriver(service=Service(fake_clock=True, app_defaults={"max_messages": 300}))
    cell = Cell(target, probe(target), prefix="i_", sdkappid=1_400_000_556, config={}, id_limit=512)
    assert cell.ids.message_limit == 300
