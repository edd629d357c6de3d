"""Pushes on Matrix: one ``/sync`` long-poll loop per TIM instance (Matrix device), translated
into TIM events on the instance's ``EventStream``.

The loop runs in a thread; under Locust the process is gevent-patched, so the same thread is a
greenlet and its socket cooperative.  Each loop has its own connection (a long-poll must not hold
the calls' one), a bounded ``timeout`` and a filter that keeps responses small.  The first sync of
a login only takes the ``since`` token: logging in replays nothing (NET-1).  A 401
``M_UNKNOWN_TOKEN`` means the device was deleted (an admin kick): ``kickedOut`` then
``sdkStateNotReady`` (INST-6), and the loop ends.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol

import orjson

from simtim.driver.base import DriverError, EventStream
from simtim.driver.matrix_client import CLIENT, MatrixError, MatrixHttp, path_of
from simtim.driver.matrix_map import (
    CONVERSATION_STATE,
    GROUP,
    RoomInfo,
    message_view,
    tip_payloads,
    tip_view,
)
from simtim.errors import Code
from simtim.model.events import (
    ERROR,
    KICK_REST_API,
    KICKED_OUT,
    MESSAGE_RECEIVED,
    MESSAGE_REVOKED,
    SDK_STATE_NOT_READY,
)

WAKE = "org.simtim.wake"  # account data the driver touches so a kicked device's sync returns now
TIMELINE_LIMIT = 100
SYNC_FILTER = orjson.dumps(
    {
        "presence": {"types": []},
        "account_data": {"types": [WAKE]},
        "room": {
            "ephemeral": {"types": []},
            "account_data": {"types": []},
            "state": {"lazy_load_members": True},
            "timeline": {"limit": TIMELINE_LIMIT, "lazy_load_members": True},
        },
    }
).decode()
#: the first sync of a login: only the token and which rooms are which
INITIAL_FILTER = orjson.dumps(
    {
        "presence": {"types": []},
        "account_data": {"types": []},
        "room": {
            "ephemeral": {"types": []},
            "account_data": {"types": []},
            "state": {"types": [CONVERSATION_STATE]},
            "timeline": {"limit": 1, "types": [CONVERSATION_STATE]},
        },
    }
).decode()
KNOWN_MESSAGES_CAP = 100_000  # message IDs whose room the driver remembers (REV-1), oldest dropped
STATE_EVENT_TYPES = frozenset(
    {"m.room.member", "m.room.power_levels", "m.room.name", "m.room.topic", "m.room.avatar"}
)


class RoomDirectory:
    """What the driver knows about rooms, shared by its calls and sync loops: each room's TIM
    identity and its members' display names (``nick``/``avatar`` on messages, MSG-4)."""

    def __init__(self) -> None:
        self._info: dict[str, RoomInfo | None] = {}
        self.profiles: dict[str, tuple[str, str]] = {}  # Matrix user ID -> (displayname, avatar_url)
        #: message event ID -> its room, for the messages this driver's devices sent or received:
        #: TIM's revokeMessage names a message, a Matrix redaction needs its room (REV-1)
        self._event_rooms: dict[str, str] = {}
        self._lock = threading.Lock()

    def note_message(self, event_id: str, room_id: str) -> None:
        with self._lock:
            self._event_rooms[event_id] = room_id
            if len(self._event_rooms) > KNOWN_MESSAGES_CAP:  # the oldest first: dicts keep order
                del self._event_rooms[next(iter(self._event_rooms))]

    def room_of_message(self, event_id: str) -> str | None:
        with self._lock:
            return self._event_rooms.get(event_id)

    def remember(self, info: RoomInfo) -> None:
        with self._lock:
            self._info[info.room_id] = info

    def known(self, room_id: str) -> RoomInfo | None:
        with self._lock:
            return self._info.get(room_id)

    def learn(self, room_id: str, events: list[Mapping[str, Any]]) -> None:
        for event in events:
            kind = event.get("type")
            content = event.get("content") or {}
            if kind == "m.room.message" and isinstance(event.get("event_id"), str):
                self.note_message(str(event["event_id"]), room_id)
            elif kind == CONVERSATION_STATE:
                info = RoomInfo.from_state(room_id, content)
                if info is not None:
                    self.remember(info)
            elif kind == "m.room.member" and content.get("membership") == "join":
                self.profiles[str(event.get("state_key", ""))] = (
                    str(content.get("displayname") or ""),
                    str(content.get("avatar_url") or ""),
                )

    def info(self, http: MatrixHttp, room_id: str, token: str) -> RoomInfo | None:
        """The room's TIM identity: known, or read from its state (None: not a simtim room)."""
        with self._lock:
            if room_id in self._info:
                return self._info[room_id]
        try:
            content = http.request(
                "GET", path_of(f"{CLIENT}/rooms", room_id, "state", CONVERSATION_STATE, ""), token=token
            )
        except MatrixError:
            return None  # not a member any more, or a room another client made
        info = RoomInfo.from_state(room_id, content)
        with self._lock:
            self._info[room_id] = info
        return info


class SyncFilters:
    """``/sync`` filters uploaded once per account (``POST /user/{id}/filter``) and named by their ID
    afterwards.  An inline filter is parsed and checked against a JSON schema on every request: in a
    50-user Locust run that was ~8% of Synapse's main thread, for the same few filters each time."""

    def __init__(self) -> None:
        self._ids: dict[tuple[str, str], str] = {}
        self._lock = threading.Lock()

    def name(self, http: MatrixHttp, session: Session, definition: str) -> str:
        """The filter's ID for this account; the definition itself (inline) if the upload fails."""
        key = (session.matrix_id, definition)
        with self._lock:
            known = self._ids.get(key)
        if known is not None:
            return known
        try:
            answer = http.request(
                "POST",
                path_of(f"{CLIENT}/user", session.matrix_id, "filter"),
                orjson.loads(definition),
                token=session.access_token,
            )
        except MatrixError:
            return definition  # a homeserver that stores no filters still takes them inline
        filter_id = str(answer.get("filter_id") or "")
        if not filter_id:
            return definition
        with self._lock:
            self._ids[key] = filter_id
        return filter_id


#: how many of its sent events' transaction IDs a device keeps for resends (MSG-6)
SENT_TXNS = 1_000


@dataclass
class Session:
    """One TIM instance = one Matrix device."""

    token: str
    stream: EventStream
    user: str = ""  # TIM userID
    matrix_id: str = ""
    access_token: str = ""
    device_id: str = ""
    state: str = "new"  # new, online, kicked, out, destroyed
    since: str = ""
    rooms: set[str] = field(default_factory=set)  # rooms this device's sync has delivered already
    stop: threading.Event = field(default_factory=threading.Event)
    #: event ID -> the transaction ID this device sent it with, newest last (MSG-6: a resend of one of
    #: its own messages reuses it, as a Matrix client retries its local echo; bounded, see SENT_TXNS)
    txns: dict[str, str] = field(default_factory=dict)

    def remember_txn(self, event_id: str, txn: str) -> None:
        self.txns[event_id] = txn
        if len(self.txns) > SENT_TXNS:
            del self.txns[next(iter(self.txns))]


class SyncLoop:
    def __init__(
        self,
        session: Session,
        http: MatrixHttp,
        rooms: RoomDirectory,
        timeout_ms: int,
        filters: SyncFilters | None = None,
    ) -> None:
        self.session = session
        self.http = http
        self.rooms = rooms
        self.timeout_ms = timeout_ms
        self.filters = filters or SyncFilters()
        # this login's own stop: a loop still in its long-poll after a logout must end even when the
        # instance logs in again (a new loop, a new event) instead of syncing twice
        self.stop = session.stop
        self.thread: threading.Thread | None = None

    def first(self) -> None:
        """The login's sync: the ``since`` token and the rooms it is in; no events."""
        data = self._sync(
            {"timeout": 0, "filter": self.filters.name(self.http, self.session, INITIAL_FILTER)}
        )
        self.session.since = str(data.get("next_batch", ""))
        for room_id, room in (data.get("rooms", {}).get("join") or {}).items():
            events = (room.get("state") or {}).get("events", []) + (room.get("timeline") or {}).get(
                "events", []
            )
            self.rooms.learn(room_id, events)
            self.session.rooms.add(room_id)

    def start(self) -> None:
        self.thread = threading.Thread(
            target=self._run, name=f"simtim-matrix-sync-{self.session.device_id}", daemon=True
        )
        self.thread.start()

    def _sync(self, query: dict[str, Any]) -> dict[str, Any]:
        return self.http.request("GET", f"{CLIENT}/sync", token=self.session.access_token, query=query)

    def _run(self) -> None:
        session = self.session
        stop = self.stop
        backoff = 0.2
        sync_filter = self.filters.name(self.http, session, SYNC_FILTER)
        while not stop.is_set():
            try:
                data = self._sync({"since": session.since, "timeout": self.timeout_ms, "filter": sync_filter})
            except MatrixError as exc:
                if stop.is_set():
                    break
                if exc.errcode == "M_UNKNOWN_TOKEN":  # the device was deleted: an admin kick (INST-6)
                    session.state = "kicked"
                    session.stream.put(KICKED_OUT, {"type": KICK_REST_API})
                    session.stream.put(SDK_STATE_NOT_READY, {})
                    break
                wait = (exc.retry_after_ms or 1000) / 1000.0
                session.stream.put(ERROR, {"code": int(Code.HTTP_REQUEST_FAILED), "message": str(exc)[:300]})
                stop.wait(min(wait, 30.0))
                continue
            except DriverError as exc:
                if stop.is_set():
                    break
                session.stream.put(ERROR, {"code": int(Code.HTTP_REQUEST_FAILED), "message": str(exc)[:300]})
                stop.wait(backoff)
                backoff = min(backoff * 2, 5.0)
                continue
            except Exception as exc:  # never let a translation bug kill the loop silently
                session.stream.put(
                    ERROR, {"code": int(Code.HTTP_REQUEST_FAILED), "message": f"{type(exc).__name__}: {exc}"}
                )
                stop.wait(1.0)
                continue
            backoff = 0.2
            session.since = str(data.get("next_batch", session.since))
            if not stop.is_set():
                for name, payload in self.translate(data):
                    session.stream.put(name, payload)
        self.http.close()

    def translate(self, data: Mapping[str, Any]) -> list[tuple[str, Any]]:
        """TIM events of one sync response, in timeline order per room."""
        out: list[tuple[str, Any]] = []
        viewer = self.session.user
        for room_id, room in ((data.get("rooms") or {}).get("join") or {}).items():
            state = (room.get("state") or {}).get("events", [])
            timeline = (room.get("timeline") or {}).get("events", [])
            self.rooms.learn(room_id, state + timeline)
            info = self.rooms.info(self.http, room_id, self.session.access_token)
            if info is None:
                continue
            if room_id not in self.session.rooms or self._left_in(timeline):
                self.session.rooms.add(room_id)
                timeline = self._from_own_join(timeline)
            for event in timeline:
                out.extend(self._event(event, info, viewer, room_id))
        for room_id in (data.get("rooms") or {}).get("leave") or {}:
            # GRP-4/MBR-3: a room this user left (or was kicked from) is no longer this device's; a
            # later rejoin is a new join, whose timeline starts at it (``_from_own_join``) rather
            # than replaying the history and the user's own quit as if it were new
            self.session.rooms.discard(room_id)
        return out

    def _left_in(self, timeline: list[dict[str, Any]]) -> bool:
        """Whether this user left and rejoined within one sync: what happened in between (its
        own quit included) is not pushed to a non-member in TIM (MBR-3, GRP-4)."""
        me = self.session.matrix_id
        return any(
            event.get("type") == "m.room.member"
            and event.get("state_key") == me
            and (event.get("content") or {}).get("membership") in ("leave", "ban")
            for event in timeline
        )

    def _from_own_join(self, timeline: list[dict[str, Any]]) -> list[dict[str, Any]]:
        """A room new to this device comes with its recent history; TIM pushes a joiner only what
        happens from its join on (its own join tip included), so the timeline starts there."""
        me = self.session.matrix_id
        for index in range(len(timeline) - 1, -1, -1):
            event = timeline[index]
            if (
                event.get("type") == "m.room.member"
                and event.get("state_key") == me
                and (event.get("content") or {}).get("membership") == "join"
            ):
                return timeline[index:]
        return timeline

    def _event(
        self, event: Mapping[str, Any], info: RoomInfo, viewer: str, room_id: str
    ) -> list[tuple[str, Any]]:
        kind = event.get("type")
        mine = "transaction_id" in (event.get("unsigned") or {})  # sent by this very device
        if kind == "m.room.message":
            if mine:
                return []  # MSG-5: the sending instance does not get its own message
            return [(MESSAGE_RECEIVED, [message_view(event, info, viewer, self.rooms.profiles)])]
        if kind == "m.room.redaction":
            if mine:
                return []  # REV-2: nor the revoking instance its onMessageRevoked
            target = event.get("redacts") or (event.get("content") or {}).get("redacts")
            if not isinstance(target, str):
                return []
            try:
                original = self.http.request(
                    "GET",
                    path_of(f"{CLIENT}/rooms", room_id, "event", target),
                    token=self.session.access_token,
                )
            except (MatrixError, DriverError):
                return []
            if original.get("type") != "m.room.message":
                return []
            view = message_view(original, info, viewer, self.rooms.profiles)
            view["isRevoked"] = True
            return [(MESSAGE_REVOKED, [view])]
        if info.kind == GROUP and kind in STATE_EVENT_TYPES and "state_key" in event:
            return [
                (MESSAGE_RECEIVED, [tip_view(event, info, viewer, tip)]) for tip in tip_payloads(event, info)
            ]
        return []


def started(
    session: Session,
    http: MatrixHttp,
    rooms: RoomDirectory,
    timeout_ms: int,
    filters: SyncFilters | None = None,
) -> SyncLoop:
    """The first sync, then the loop; a failing first sync raises (the login fails with it)."""
    loop = SyncLoop(session, http, rooms, timeout_ms, filters)
    loop.first()
    loop.start()
    return loop


def wait_stopped(loop: SyncLoop | None, timeout: float) -> None:
    if loop is not None and loop.thread is not None and loop.thread is not threading.current_thread():
        deadline = time.monotonic() + timeout
        loop.thread.join(max(0.0, deadline - time.monotonic()))


class DriverCore(Protocol):
    """What the driver's operation modules (messages, groups) use of the driver itself."""

    http: MatrixHttp
    rooms: RoomDirectory
    sync_filters: SyncFilters

    def server_name(self) -> str: ...

    def matrix_id(self, user: str) -> str: ...

    def dm_room(self, user: str, peer: str, token: str, *, create: bool = True) -> RoomInfo | None: ...

    def group_room(self, group_id: str, token: str) -> RoomInfo: ...

    def provision_token(self, user: str) -> str: ...

    def join_as(self, user: str, room_id: str, content: Mapping[str, Any]) -> None: ...

    def account_exists(self, user: str) -> bool: ...

    def profile_of(self, user: str, token: str) -> dict[str, Any]: ...

    def group_profile(self, info: RoomInfo, session: Session) -> dict[str, Any]: ...

    def room_of_conversation(
        self, session: Session, conversation_id: str, *, create: bool = False
    ) -> RoomInfo | None: ...

    def send_content(
        self, session: Session, info: RoomInfo, message: Mapping[str, Any]
    ) -> dict[str, Any]: ...

    def event(self, session: Session, info: RoomInfo, event_id: str) -> dict[str, Any]: ...
