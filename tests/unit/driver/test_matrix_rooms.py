"""The driver's room directory remembers which room a message it saw is in: TIM's revokeMessage
may name only the message, a Matrix redaction needs the room (REV-1)."""

from __future__ import annotations

import pytest

import simtim.driver.matrix_sync as matrix_sync
from simtim.driver.matrix_sync import RoomDirectory


def test_messages_seen_in_a_sync_are_found_by_id_and_state_events_are_not() -> None:
    rooms = RoomDirectory()
    rooms.learn(
        "!r:hs",
        [
            {"type": "m.room.message", "event_id": "$m", "content": {"body": "hi"}},
            {"type": "m.room.name", "event_id": "$n", "state_key": "", "content": {"name": "x"}},
        ],
    )
    assert rooms.room_of_message("$m") == "!r:hs"
    assert rooms.room_of_message("$n") is None
    assert rooms.room_of_message("$unknown") is None


def test_the_memory_is_bounded_and_forgets_the_oldest(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(matrix_sync, "KNOWN_MESSAGES_CAP", 2)
    rooms = RoomDirectory()
    for index in range(3):
        rooms.note_message(f"$e{index}", "!r:hs")
    assert rooms.room_of_message("$e0") is None
    assert rooms.room_of_message("$e2") == "!r:hs"
