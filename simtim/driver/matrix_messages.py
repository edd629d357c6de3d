"""Messages and conversations on Matrix: send (MSG-4/5/6), revoke as redaction (REV-1..3),
history as ``/messages`` (PAGE-1), read markers and unread counts (UNREAD-1), conversations.

Each method takes the instance and TIM's option object and returns TIM's reply data (REPLY-1); a
refusal is a ``Refusal`` with a TIM code, a Matrix error is raised for the driver's errcode table.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from typing import Any

import orjson

from simtim.driver.matrix_client import CLIENT, MatrixError, errors_as, path_of
from simtim.driver.matrix_map import (
    C2C,
    GROUP,
    PAGE_SIZE,
    Refusal,
    RoomInfo,
    message_view,
    tip_payloads,
    tip_view,
)
from simtim.driver.matrix_sync import STATE_EVENT_TYPES, DriverCore, Session
from simtim.errors import Code

MESSAGES_ONLY = orjson.dumps({"types": ["m.room.message"]}).decode()
#: a group's history: its messages and the state events that are TIM's tips (TIP-1, PAGE-1)
GROUP_HISTORY = orjson.dumps({"types": ["m.room.message", *sorted(STATE_EVENT_TYPES)]}).decode()
LAST_MESSAGE_WINDOW = 20  # timeline events a conversation read looks through for its last message
EMPTY_PAGE: dict[str, Any] = {"messageList": [], "nextReqMessageID": "", "isCompleted": True}


def _room_filter(rooms: list[str] | None) -> str:
    """A one-shot sync of rooms' last message and unread counts, nothing else."""
    room: dict[str, Any] = {
        "state": {"types": []},
        "ephemeral": {"types": []},
        "account_data": {"types": []},
        # a group's last message may be a tip (CONV-2); a few events back skip the room's
        # initial state, which is no tip
        "timeline": {"limit": LAST_MESSAGE_WINDOW, "types": ["m.room.message", *sorted(STATE_EVENT_TYPES)]},
    }
    if rooms is not None:
        room["rooms"] = rooms
    return orjson.dumps({"presence": {"types": []}, "account_data": {"types": []}, "room": room}).decode()


class MessageOps:
    def __init__(self, driver: DriverCore) -> None:
        self.driver = driver
        self.http = driver.http

    def _target(self, session: Session, message: Mapping[str, Any]) -> RoomInfo:
        to = message.get("to")
        kind = message.get("conversationType")
        if not isinstance(to, str) or not to or kind not in (C2C, GROUP):
            raise Refusal(int(Code.INVALID_PARAMETERS), "message needs to and conversationType C2C or GROUP")
        if kind == C2C:
            info = self.driver.dm_room(session.user, to, session.access_token)
            assert info is not None  # created when missing
            return info
        return self.driver.group_room(to, session.access_token)

    def send(self, session: Session, args: Mapping[str, Any]) -> dict[str, Any]:
        """sendMessage and resendMessage: one ``PUT /send/m.room.message/{txnId}`` (MSG-6), then
        the stored event, whose ``origin_server_ts`` is the message's ``time``."""
        message = args.get("message")
        if not isinstance(message, Mapping):
            raise Refusal(int(Code.INVALID_PARAMETERS), "message must be an object")
        context = "group" if message.get("conversationType") == GROUP else "c2c"
        with errors_as(context):
            info = self._target(session, message)
            try:
                return {"message": self.driver.send_content(session, info, message)}
            except MatrixError as exc:
                if exc.errcode == "M_FORBIDDEN" and info.kind == GROUP and self._joined(session, info):
                    raise Refusal(int(Code.GROUP_MEMBER_MUTED), f"muted: {exc.error}") from exc  # MUTE-2
                raise

    def _joined(self, session: Session, info: RoomInfo) -> bool:
        """A member refused a send is muted (its power is below events_default); a non-member is not
        a member (10007): Matrix says M_FORBIDDEN to both, its room state tells them apart."""
        try:
            mine = self.http.request(
                "GET",
                path_of(f"{CLIENT}/rooms", info.room_id, "state", "m.room.member", session.matrix_id),
                token=session.access_token,
            )
        except MatrixError:
            return False
        return mine.get("membership") == "join"

    def _room_of_message(self, session: Session, message: Mapping[str, Any]) -> RoomInfo | None:
        conversation_id = message.get("conversationID")
        if not isinstance(conversation_id, str) or not conversation_id:
            kind, to = message.get("conversationType"), message.get("to")
            if kind == C2C and isinstance(to, str):
                peer = to if message.get("from") in (None, session.user) else str(message.get("from"))
                conversation_id = C2C + peer
            elif kind == GROUP and isinstance(to, str):
                conversation_id = GROUP + to
            else:  # only the ID: the room of a message this driver sent or received (REV-1)
                room_id = self.driver.rooms.room_of_message(str(message.get("ID", "")))
                if room_id is None:
                    return None
                return self.driver.rooms.info(self.http, room_id, session.access_token)
        return self.driver.room_of_conversation(session, conversation_id)

    def revoke(self, session: Session, args: Mapping[str, Any]) -> dict[str, Any]:
        """REV-1 as a redaction: no time window on Matrix (a divergence), the power level to redact
        others' events decides who else may."""
        message = args.get("message")
        if not isinstance(message, Mapping) or not isinstance(message.get("ID"), str):
            raise Refusal(int(Code.INVALID_PARAMETERS), "message.ID is required")
        group = message.get("conversationType") == GROUP or str(message.get("conversationID", "")).startswith(
            GROUP
        )
        with errors_as("group_message" if group else "c2c_message"):
            info = self._room_of_message(session, message)
        if info is None:
            not_found = Code.GROUP_MESSAGE_NOT_FOUND if group else Code.C2C_MESSAGE_NOT_FOUND
            raise Refusal(int(not_found), "no such conversation")
        group = info.kind == GROUP
        with errors_as("group_message" if group else "c2c_message"):
            before = self.driver.event(session, info, str(message["ID"]))
            if before["isRevoked"]:
                code = Code.GROUP_MESSAGE_NOT_FOUND if group else Code.C2C_MESSAGE_ALREADY_REVOKED
                raise Refusal(int(code), "already redacted")
            self.http.request(
                "PUT",
                path_of(
                    f"{CLIENT}/rooms", info.room_id, "redact", str(message["ID"]), f"tim.{uuid.uuid4().hex}"
                ),
                {},
                token=session.access_token,
            )
            view = self.driver.event(session, info, str(message["ID"]))
        return {"message": view}

    def history(self, session: Session, args: Mapping[str, Any]) -> dict[str, Any]:
        """PAGE-1: ``/messages`` backwards, each request at most TIM's page size; a group's history
        holds its tips too (the state events the homeserver pages with the messages, TIP-1).
        ``nextReqMessageID`` becomes a pagination token through ``/context``; a full page is known
        to be the last only when the homeserver has nothing older that TIM would list."""
        conversation_id = args.get("conversationID")
        count = args.get("count", PAGE_SIZE)
        if (
            not isinstance(conversation_id, str)
            or not isinstance(count, int)
            or isinstance(count, bool)
            or count < 1
        ):
            raise Refusal(int(Code.INVALID_PARAMETERS), "conversationID and a positive count are required")
        count = min(count, PAGE_SIZE)
        _, info = self._conversation_room(session, args, Code.INVALID_PARAMETERS)
        if info is None:
            return dict(EMPTY_PAGE)
        group = info.kind == GROUP
        query: dict[str, Any] = {
            "dir": "b",
            "limit": count,
            "filter": GROUP_HISTORY if group else MESSAGES_ONLY,
        }
        before = args.get("nextReqMessageID")
        if isinstance(before, str) and before:
            with errors_as("history"):
                context = self.http.request(
                    "GET",
                    path_of(f"{CLIENT}/rooms", info.room_id, "context", before),
                    token=session.access_token,
                    query={"limit": 0},
                )
            query["from"] = context["start"]
        views: list[dict[str, Any]] = []  # newest first
        more = True
        # a group's state events that are no tip (the room's initial state) take a place in a
        # Matrix page; pages are asked for (each at most TIM's page size) until the TIM page is
        # full and one more entry is known to exist, or the room has no more (isCompleted)
        while more and len(views) <= count:
            with errors_as("conversation"):  # CONV-1: a room the caller may not read is 6004
                page = self.http.request(
                    "GET",
                    path_of(f"{CLIENT}/rooms", info.room_id, "messages"),
                    token=session.access_token,
                    query=query,
                )
            chunk = page.get("chunk", [])
            for event in chunk:
                views.extend(self._history_views(event, info, session))
            more = bool(page.get("end")) and len(chunk) >= query["limit"]
            query = {**query, "from": page.get("end"), "limit": count}
        listed = views[:count]
        completed = len(views) <= count and not more
        return {
            "messageList": list(reversed(listed)),
            "nextReqMessageID": "" if completed or not listed else listed[-1]["ID"],
            "isCompleted": completed,
        }

    def _history_views(
        self, event: Mapping[str, Any], info: RoomInfo, session: Session
    ) -> list[dict[str, Any]]:
        """A history event as TIM messages, newest first: a message, or a group's tips (TIP-1)."""
        if event.get("type") == "m.room.message":
            return [message_view(event, info, session.user, self.driver.rooms.profiles)]
        if info.kind != GROUP or "state_key" not in event:
            return []
        return [tip_view(event, info, session.user, tip) for tip in reversed(tip_payloads(event, info))]

    def _conversation_room(
        self, session: Session, args: Mapping[str, Any], missing: Code
    ) -> tuple[str, RoomInfo | None]:
        """The conversation's room; None for a C2C pair that never talked (nothing to read).  A C2C
        with an account the homeserver does not have is no conversation at all (CONV-1: 6004), not
        an empty one: the homeserver's account lookup says so, as it does for a send (20003)."""
        conversation_id = args.get("conversationID")
        if not isinstance(conversation_id, str):
            raise Refusal(int(missing), "conversationID is required")
        peer = conversation_id[len(C2C) :] if conversation_id.startswith(C2C) else None
        if peer == "":
            raise Refusal(int(Code.CONVERSATION_INVALID), "a C2C conversation needs the peer's userID")
        try:
            info = self.driver.room_of_conversation(session, conversation_id)
        except Refusal as refused:  # a conversation API says 6004 where a group API says 10010
            if refused.code != Code.GROUP_NOT_FOUND:
                raise
            raise Refusal(int(Code.CONVERSATION_INVALID), f"no such group: {conversation_id!r}") from refused
        if info is None and peer is not None and not self.driver.account_exists(peer):
            raise Refusal(int(Code.CONVERSATION_INVALID), f"no account {peer!r}: no such conversation")
        return conversation_id, info

    def mark_read(self, session: Session, args: Mapping[str, Any]) -> dict[str, Any]:
        """UNREAD-1's setMessageRead: a read receipt on the newest message."""
        _, info = self._conversation_room(session, args, Code.INVALID_PARAMETERS)
        if info is None:
            return {}
        page = self.http.request(
            "GET",
            path_of(f"{CLIENT}/rooms", info.room_id, "messages"),
            token=session.access_token,
            query={"dir": "b", "limit": 1, "filter": MESSAGES_ONLY},
        )
        chunk = page.get("chunk", [])
        if chunk:
            self.http.request(
                "POST",
                path_of(f"{CLIENT}/rooms", info.room_id, "receipt", "m.read", str(chunk[0]["event_id"])),
                {},
                token=session.access_token,
            )
        return {}

    def _conversations(self, session: Session, rooms: list[str] | None) -> list[dict[str, Any]]:
        data = self.http.request(
            "GET",
            f"{CLIENT}/sync",
            token=session.access_token,
            query={"timeout": 0, "filter": self._filter(session, rooms)},
        )
        found = []
        for room_id, room in ((data.get("rooms") or {}).get("join") or {}).items():
            info = self.driver.rooms.info(self.http, room_id, session.access_token)
            if info is None:
                continue
            events = (room.get("timeline") or {}).get("events", [])
            views = (view for event in reversed(events) for view in self._history_views(event, info, session))
            last = next(views, None)
            conversation = self._conversation(info, session.user, room, last)
            found.append({**conversation, **self._profile_of_conversation(info, session)})
        return found

    def _filter(self, session: Session, rooms: list[str] | None) -> str:
        """The whole list's filter is always the same: uploaded once (``SyncFilters``); one room's
        differs per room and stays inline."""
        definition = _room_filter(rooms)
        return (
            definition if rooms is not None else self.driver.sync_filters.name(self.http, session, definition)
        )

    def _profile_of_conversation(self, info: RoomInfo, session: Session) -> dict[str, Any]:
        """CONV-2: a C2C conversation carries the peer's profile, a group's the group's, both read
        from the homeserver (profile, room state) when the conversation is read."""
        if info.kind == C2C:
            peer = info.peer_of(session.user)
            return {"userProfile": self.driver.profile_of(peer, session.access_token)}
        profile = self.driver.group_profile(info, session)
        profile.pop("selfInfo", None)  # a conversation's group profile has no member view (CONV-2)
        return {"groupProfile": profile}

    @staticmethod
    def _conversation(
        info: RoomInfo, viewer: str, room: Mapping[str, Any], last: dict[str, Any] | None
    ) -> dict[str, Any]:
        """CONV-2's fields Matrix has; ``unreadCount`` is the homeserver's count (MSC2654
        ``unread_count`` when it reports one, else the notification count)."""
        counts = room.get("unread_notifications") or {}
        unread = room.get("org.matrix.msc2654.unread_count", counts.get("notification_count", 0))
        return {
            "conversationID": info.conversation_id(viewer),
            "type": info.kind,
            "unreadCount": int(unread or 0),
            "lastMessage": last,
            "messageRemindType": "AcceptAndNotify",
        }

    def conversation(self, session: Session, args: Mapping[str, Any]) -> dict[str, Any]:
        conversation_id, info = self._conversation_room(session, args, Code.CONVERSATION_INVALID)
        if info is None:
            kind = C2C if conversation_id.startswith(C2C) else GROUP
            empty = {"conversationID": conversation_id, "type": kind, "unreadCount": 0, "lastMessage": None}
            if kind == C2C:  # no room yet, but the peer's profile is the homeserver's (CONV-2)
                empty["userProfile"] = self.driver.profile_of(
                    conversation_id[len(C2C) :], session.access_token
                )
            return {"conversation": {**empty, "messageRemindType": "AcceptAndNotify"}}
        found = self._conversations(session, [info.room_id])
        if not found:
            raise Refusal(int(Code.CONVERSATION_INVALID), "not in this conversation")
        return {"conversation": found[0]}

    def conversation_list(self, session: Session, args: Mapping[str, Any]) -> dict[str, Any]:
        """CONV-2: rooms with a last message, newest first, at most 100."""
        found = [c for c in self._conversations(session, None) if c["lastMessage"] is not None]
        found.sort(key=lambda c: (c["lastMessage"]["time"], c["lastMessage"]["sequence"]), reverse=True)
        return {"conversationList": found[:100]}
