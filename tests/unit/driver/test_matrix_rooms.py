"""The driver's room directory remembers which room a message it saw is in: TIM's revokeMessage
may name only the message, a Matrix redaction needs the room (REV-1)."""

from __future__ import annotations

import threading

import orjson
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


class _History:
    """The homeserver's member events by ID, as ``GET /rooms/{room}/event/{id}`` answers them."""

    def __init__(self, events: dict[str, dict[str, object]]) -> None:
        self.events = events
        self.asked: list[str] = []

    def request(self, method: str, path: str, *_: object, **__: object) -> dict[str, object]:
        event_id = path.rsplit("/", 1)[-1].replace("%24", "$")
        self.asked.append(event_id)
        return self.events[event_id]


def _groups(history: _History) -> object:
    from simtim.driver.matrix_groups import GroupOps

    ops = GroupOps.__new__(GroupOps)
    ops.http = history  # type: ignore[assignment]
    return ops


def test_a_members_join_time_is_its_join_not_its_last_profile_change() -> None:
    """A profile update re-sends the member event in every room; MBR-3's order and joinTime are the
    join's, found by walking ``replaces_state`` back on the homeserver while the membership was join."""
    join = {"event_id": "$j", "origin_server_ts": 1_000, "content": {"membership": "join"}, "unsigned": {}}
    rename = {
        "event_id": "$n1",
        "origin_server_ts": 5_000,
        "content": {"membership": "join", "displayname": "a"},
        "unsigned": {"replaces_state": "$j", "prev_content": {"membership": "join"}},
    }
    current = {
        "event_id": "$n2",
        "origin_server_ts": 9_000,
        "content": {"membership": "join", "displayname": "b"},
        "unsigned": {"replaces_state": "$n1", "prev_content": {"membership": "join", "displayname": "a"}},
    }
    history = _History({"$j": join, "$n1": rename})
    ops = _groups(history)
    assert ops.joined_at("!r:hs", current, "token") == 1_000  # type: ignore[attr-defined]
    assert history.asked == ["$n1", "$j"]
    # a re-join after a leave is a join: its own time, nothing walked
    rejoin = {**current, "unsigned": {"replaces_state": "$l", "prev_content": {"membership": "leave"}}}
    assert ops.joined_at("!r:hs", rejoin, "token") == 9_000  # type: ignore[attr-defined]


class _FilterServer:
    """``POST /user/{id}/filter`` answers: a filter ID, or an error for a homeserver without them."""

    def __init__(self, refuse: bool = False) -> None:
        self.refuse = refuse
        self.uploads: list[tuple[str, object]] = []

    def request(self, method: str, path: str, body: object = None, **_: object) -> dict[str, object]:
        from simtim.driver.matrix_client import MatrixError

        self.uploads.append((path, body))
        if self.refuse:
            raise MatrixError(404, "M_UNRECOGNIZED", "no filters here", path)
        return {"filter_id": f"f{len(self.uploads)}"}


def _session(matrix_id: str) -> matrix_sync.Session:
    from simtim.driver.base import EventStream

    return matrix_sync.Session(token="t", stream=EventStream("t"), matrix_id=matrix_id, access_token="a")


def test_a_sync_filter_is_uploaded_once_per_account_and_named_by_id() -> None:
    """Synapse validates an inline filter on every /sync; uploaded once, the ID is all it parses."""
    server = _FilterServer()
    filters = matrix_sync.SyncFilters()
    alice, bob = _session("@alice:hs"), _session("@bob:hs")
    first = filters.name(server, alice, matrix_sync.SYNC_FILTER)  # type: ignore[arg-type]
    assert first == "f1" and filters.name(server, alice, matrix_sync.SYNC_FILTER) == "f1"  # type: ignore[arg-type]
    assert filters.name(server, bob, matrix_sync.SYNC_FILTER) == "f2"  # type: ignore[arg-type]
    assert [path for path, _ in server.uploads] == [
        "/_matrix/client/v3/user/%40alice%3Ahs/filter",
        "/_matrix/client/v3/user/%40bob%3Ahs/filter",
    ]
    assert server.uploads[0][1] == orjson.loads(matrix_sync.SYNC_FILTER)


def test_a_homeserver_that_keeps_no_filters_gets_them_inline() -> None:
    server = _FilterServer(refuse=True)
    filters = matrix_sync.SyncFilters()
    name = filters.name(server, _session("@alice:hs"), matrix_sync.SYNC_FILTER)  # type: ignore[arg-type]
    assert name == matrix_sync.SYNC_FILTER


def test_each_login_s_sync_loop_ends_on_its_own_stop() -> None:
    """A loop still in its long-poll after a logout must not carry on when the instance logs in
    again (that would push every event twice): the loop keeps the stop of the login it serves."""
    session = _session("@alice:hs")
    old = matrix_sync.SyncLoop(session, _FilterServer(), matrix_sync.RoomDirectory(), 25_000)  # type: ignore[arg-type]
    session.stop.set()  # logout
    session.stop = threading.Event()  # the next login's
    assert old.stop.is_set() and not session.stop.is_set()
