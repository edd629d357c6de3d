"""State documents (``simtim state export`` / ``serve --import``): round trip, hand-written seeds, bad ones."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path
from typing import Any

import orjson
import pytest

from simtim.durable.journal import JournalError
from simtim.durable.recovery import new_service, open_durable, replay
from simtim.durable.state_file import export_state, read_state
from simtim.model.core import DEV_SDKAPPID
from simtim.server.journaling import JournaledFront
from tests.unit.durable.durable_support import CONFIG, sig, state_of, workload


def test_export_then_import_rebuilds_the_same_state(tmp_path: Path) -> None:
    async def drive() -> Any:
        recovered = open_durable(tmp_path / "data", fake_clock=False, clock_start=None, seed=CONFIG.seed)
        front = JournaledFront(recovered, tmp_path / "data")
        for entry in workload():
            await front.submit(entry)
        state = state_of(front.service)
        count = export_state(tmp_path / "data", tmp_path / "state.json")  # beside the running server
        front.close()
        return state, count

    live, count = asyncio.run(drive())
    assert count == len(workload())
    config, operations = read_state(tmp_path / "state.json")
    assert config == CONFIG
    service = new_service(config)
    replay(service, enumerate(operations, 1))
    assert state_of(service) == live


def _document(operations: list[Any], **override: Any) -> dict[str, Any]:
    return {
        "format": "simtim-state",
        "version": 1,
        "server": {"fakeClock": False, "clockStart": None, "seed": 3},
        "operations": operations,
        **override,
    }


def test_a_hand_written_seed_gets_times_and_tokens_recorded_once(tmp_path: Path) -> None:
    """Left-open times and issued tokens are drawn at import and written into the journal, so the
    next start replays the very same values."""
    path = tmp_path / "seed.json"
    login = {
        "SDKAppID": DEV_SDKAPPID,
        "userID": "alice",
        "userSig": sig("alice", int(time.time()), 30 * 86400),
    }
    operations = [
        ["admin", None, "importAccount", {"SDKAppID": DEV_SDKAPPID, "userID": "bob"}],
        ["v1", None, "login", None, login, "alice-token"],
        [
            "v1",
            None,
            "sendMessage",
            "alice-token",
            {
                "message": {
                    "to": "bob",
                    "conversationType": "C2C",
                    "type": "TIMTextElem",
                    "payload": {"text": "seeded"},
                }
            },
            None,
        ],
        ["v1", None, "create", None, {"SDKAppID": DEV_SDKAPPID}, None],
    ]
    path.write_bytes(orjson.dumps(_document(operations)))
    config, settled = read_state(path)
    assert all(isinstance(entry[1], int) for entry in settled)  # real clock: the import's second
    assert isinstance(settled[3][5], str) and settled[3][5]  # create's token drawn now
    recovered = open_durable(
        tmp_path / "data", fake_clock=None, clock_start=None, seed=None, imported=(config, settled)
    )
    assert recovered.replayed == 4
    first = state_of(recovered.service)
    app = recovered.service.world.apps[DEV_SDKAPPID]
    assert [m.payload for m in app.messages.values()] == [{"text": "seeded"}]
    recovered.journal.close()
    again = open_durable(tmp_path / "data", fake_clock=None, clock_start=None, seed=None)
    assert state_of(again.service) == first
    again.journal.close()


@pytest.mark.parametrize(
    ("document", "message"),
    [
        (_document([], version=2), "state version 2, newer than this simtim reads (1)"),
        (_document([], format="firebase-export"), "is not a simtim state document"),
        (_document([["v1", None, "sendMessage"]]), "operation 0: a 'v1' operation has 6 items"),
        (_document([["drop", None]]), "operation 0 must be a list [kind, time, ...]"),
        (_document([["tick", "noon"]]), "operation 0: time must be an integer or null"),
        (_document([], server={"fakeClock": "yes"}), "server configuration"),
    ],
)
def test_a_bad_state_document_is_refused_naming_what_is_wrong(
    tmp_path: Path, document: dict[str, Any], message: str
) -> None:
    path = tmp_path / "state.json"
    path.write_bytes(orjson.dumps(document))
    with pytest.raises(JournalError) as info:
        read_state(path)
    assert message in str(info.value)


def test_import_into_a_directory_that_holds_a_journal_is_refused(tmp_path: Path) -> None:
    asyncio.run(_one_write(tmp_path))
    with pytest.raises(JournalError, match="--import needs an empty --data directory"):
        open_durable(tmp_path, fake_clock=None, clock_start=None, seed=None, imported=(CONFIG, []))


async def _one_write(directory: Path) -> None:
    recovered = open_durable(directory, fake_clock=False, clock_start=None, seed=CONFIG.seed)
    front = JournaledFront(recovered, directory)
    await front.submit(workload()[0])
    front.close()
