"""MatrixDriver: TIM semantics driven on a Matrix homeserver (``matrix+http(s)://HOST:PORT``).

Translates, never pretends (docs/matrix.md holds the table, operation by operation): a TIM
instance is a Matrix device, a C2C conversation a direct room per pair, a group a room whose join
rule, history visibility and power levels say its type and roles, a message an ``m.room.message``
carrying TIM's element and ``cloudCustomData``.  Accounts are registered with Synapse's shared
secret; their passwords derive from it.  Where Matrix has no counterpart, the call answers
``Reply.not_supported(reason)`` and ``gaps`` names it, so the conformance engine records
``unsupported`` instead of a pass or a mismatch.  Transport failures and Matrix errors without a
TIM counterpart are ``Reply(6010)`` with a one-line message naming the URL and the errcode.
"""

from __future__ import annotations

import contextlib
import os
import secrets
import threading
import time
import uuid
from collections.abc import Callable, Mapping
from typing import Any

from simtim.driver.base import Call, DriverError, EventStream, Reply
from simtim.driver.matrix_client import (
    CLIENT,
    ENV_SECRET,
    MatrixError,
    MatrixHttp,
    TransportFactory,
    default_transport,
    login,
    path_of,
    register,
)
from simtim.driver.matrix_groups import GroupOps
from simtim.driver.matrix_map import (
    ADMIN_LOCALPART,
    C2C,
    CONVERSATION_STATE,
    GROUP,
    PROVISION_DEVICE,
    TRANSPORT_ERRCODES,
    Refusal,
    RoomInfo,
    Unsupported,
    content_of,
    dm_alias_localpart,
    localpart_of,
    message_view,
    mxid,
    tim_code,
    tim_user,
    txn_id,
)
from simtim.driver.matrix_messages import MessageOps
from simtim.driver.matrix_sync import RoomDirectory, Session, SyncFilters, SyncLoop, started
from simtim.driver.url import inner_url
from simtim.errors import Code
from simtim.model.entities import SYSTEM_CONVERSATION_ID
from simtim.model.events import SDK_STATE_NOT_READY, SDK_STATE_READY

#: a long-poll returns at least this often.  Every return costs the homeserver a sync computation:
#: at 5 s, 200 idle devices were ~40 of Synapse's ~55 syncs/s in a 50-user run, each queued for
#: its one SQLite connection; events still wake the poll at once, logout/kick end it (own stop,
#: the WAKE account data)
SYNC_TIMEOUT_MS = 25_000
#: a direct room's power level to redact others' events: above every member's (100), so nobody
#: revokes the peer's messages in C2C (REV-1)
C2C_NO_REDACT = 101
CONVERSATION_APIS = frozenset(
    {
        "getMessageList",
        "setMessageRead",
        "getConversationList",
        "getConversationProfile",
        "deleteConversation",
    }
)

Handler = Callable[[Session, Mapping[str, Any]], dict[str, Any]]
#: TIM method -> (handler, errcode context, what it is on Matrix): the driver's dispatch table and
#: docs/matrix.md's operation table (``markdown_table``; a test keeps the two equal)
OPERATIONS: dict[str, tuple[str, str, str]] = {
    "create": ("session", "account", "a session of the driver, no device yet"),
    "login": (
        "session",
        "account",
        "`POST /login` with a new `device_id` (registered first if new, AUTH-5), a first `/sync` for the token, then the `/sync` loop; `sdkStateReady`",
    ),
    "logout": ("session", "account", "`POST /logout` (the device is deleted); `sdkStateNotReady`"),
    "destroy": ("session", "account", "logout, then the session answers 6013"),
    "sendMessage": (
        "messages.send",
        "c2c",
        "`PUT /rooms/{room}/send/m.room.message/{txnId}` in the pair's direct room or the group's room, then `GET /event` for `time`",
    ),
    "resendMessage": (
        "messages.send",
        "c2c",
        "the same `txnId` (sender, conversation, random, clientTime): the homeserver answers the same event (MSG-6)",
    ),
    "revokeMessage": (
        "messages.revoke",
        "c2c_message",
        "`PUT /rooms/{room}/redact/{eventId}/{txnId}`; no time window",
    ),
    "getMessageList": (
        "messages.history",
        "c2c",
        "`GET /rooms/{room}/messages?dir=b&limit<=15`: a C2C room's messages; a group's messages and "
        "the state events that are its tips (as pushed; the room's initial state is no tip, so a page "
        "may take several requests, each at most TIM's page size); `nextReqMessageID` via "
        "`GET /context/{eventId}`; `@TIM#SYSTEM` is unsupported (no group system notices)",
    ),
    "setMessageRead": ("messages.mark_read", "c2c", "`POST /rooms/{room}/receipt/m.read/{newest}`"),
    "getConversationProfile": (
        "messages.conversation",
        "c2c",
        "a one-room `/sync`: last message (the newest message or tip among the last 20 timeline "
        "events), `unread_count` (MSC2654) or `notification_count`; `@TIM#SYSTEM` is unsupported",
    ),
    "getConversationList": (
        "messages.conversation_list",
        "c2c",
        "a `/sync` of every joined room, newest last message first, at most 100",
    ),
    "getMyProfile": ("driver._my_profile", "account", "`GET /profile/{user}`: displayname, avatar_url"),
    "updateMyProfile": (
        "driver._update_profile",
        "account",
        "`PUT /profile/{user}/displayname` and `/avatar_url`",
    ),
    "createGroup": (
        "groups.create",
        "group",
        "`POST /createRoom`: join rule, history visibility, power levels, `org.simtim.conversation`; memberList as invites; a custom groupID as an alias",
    ),
    "updateGroupProfile": (
        "groups.update_profile",
        "group",
        "`m.room.name`, `m.room.topic`, `m.room.avatar` state; other fields unsupported",
    ),
    "joinGroup": (
        "groups.join",
        "group",
        "`POST /join/{room}`, or `POST /knock/{room}` when the join rule is knock (WaitAdminApproval)",
    ),
    "quitGroup": ("groups.quit", "group", "`POST /rooms/{room}/leave`"),
    "getGroupList": ("groups.group_list", "group", "`GET /joined_rooms`, each group room's state"),
    "getGroupProfile": ("groups.profile", "group", "`GET /rooms/{room}/state`"),
    "changeGroupOwner": ("groups.change_owner", "group", "power levels: the new owner 100, the old one 0"),
    "getGroupMemberList": (
        "groups.member_list",
        "group",
        "`GET /rooms/{room}/members?membership=join` in join order (a member event that only renamed is walked back to its join: `GET /rooms/{room}/event/{replaces_state}`), roles from power levels",
    ),
    "getGroupMemberProfile": (
        "groups.member_profile",
        "group",
        "the same, filtered to the first 50 IDs asked",
    ),
    "addGroupMember": (
        "groups.add_members",
        "group",
        "`POST /rooms/{room}/invite`, then the invitee's own device (the driver provisioned it) `POST /join`",
    ),
    "deleteGroupMember": ("groups.delete_members", "group", "`POST /rooms/{room}/kick`, one per user"),
    "setGroupMemberMuteTime": (
        "groups.mute",
        "group",
        "power level -1 (below `events_default` 0); muteTime 0 back to 0; no end time",
    ),
    "setGroupMemberRole": ("groups.set_role", "group", "power level 50 (Admin) or 0 (Member)"),
}

#: TIM method or event -> why Matrix has no counterpart (``gaps_of``; docs/matrix.md)
GAPS: dict[str, str] = {
    "deleteMessage": "Matrix has no per-user message deletion (a redaction removes it for everyone)",
    "deleteConversation": "Matrix has no per-user conversation deletion that keeps history (CONV-3)",
    "dismissGroup": "Matrix rooms cannot be deleted through the client API",
    "setMessageRemindType": "Matrix push rules change notifications, not delivery (GRP-9 Discard)",
    "handleGroupApplication": "Matrix approves a knock with an invite the applicant must accept",
    "searchGroupByID": "Matrix shows a room's profile to non-members only through the public directory",
    "setGroupMemberNameCard": "Matrix per-room display names are set by the member only",
    "setGroupMemberCustomField": "Matrix has no per-member custom fields",
    "onConversationListUpdated": "Matrix pushes room updates, not TIM's conversation objects",
    "onGroupListUpdated": "Matrix pushes room membership, not TIM's group list",
    "receiveGroupSystemNotice": "Matrix has no group system notices (invites and knocks are room state)",
    "onMessageReceived:TIMGroupSystemNoticeElem": "Matrix has no group system notices "
    "(being added, invited or kicked is a room membership event)",
    "onProfileUpdated": "Matrix tells a user's other devices of a profile change only via room member events",
    "netStateChange": "a Matrix client has no network-state event",
}


def matrix_base_url(target: str) -> str:
    """``matrix+http://h:p`` -> ``http://h:p`` (a ``BadURL``, a ValueError, for any other face)."""
    return inner_url(target, "matrix")


#: reply and event fields Matrix has no counterpart for (``field_gaps_of``): left out of comparisons
FIELD_GAPS: dict[str, str] = {
    "sequence": "Matrix has no per-conversation message counter (events are ordered by the room DAG; "
    "the driver reports origin_server_ts)",
    "maxMemberNum": "Matrix rooms have no member cap",
}

#: conversations Matrix never lists (``conversation_gaps_of``): left out of the model's lists as unsupported
CONVERSATION_GAPS: dict[str, str] = {
    SYSTEM_CONVERSATION_ID: "Matrix has no group system notices, so no system conversation (CONV-2)",
}


class MatrixDriver:
    gaps = GAPS
    field_gaps = FIELD_GAPS
    conversation_gaps = CONVERSATION_GAPS

    def __init__(
        self,
        target: str,
        *,
        registration_secret: str | None = None,
        timeout: float = 5.0,
        transport: TransportFactory | None = None,
        sync_timeout_ms: int = SYNC_TIMEOUT_MS,
    ) -> None:
        self.base_url = matrix_base_url(target) if target.startswith("matrix+") else target.rstrip("/")
        self.secret = registration_secret if registration_secret is not None else os.environ.get(ENV_SECRET)
        self.timeout = timeout
        self.sync_timeout_ms = sync_timeout_ms
        self._new_transport = transport or default_transport
        self.http = MatrixHttp(self.base_url, self._new_transport(self.base_url, timeout))
        self.rooms = RoomDirectory()
        self.sync_filters = SyncFilters()
        self.server = ""  # the homeserver's name, learnt from the first registration or login
        self._admin_token = ""
        self._provision: dict[str, str] = {}  # TIM userID -> the driver's own access token for it
        self._accounts: set[str] = set()  # TIM userIDs this driver has logged in (they exist)
        self._sessions: dict[str, Session] = {}
        self._loops: dict[str, SyncLoop] = {}
        self._dm: dict[tuple[str, str], str] = {}
        self._lock = threading.RLock()
        self.messages = MessageOps(self)
        self.groups = GroupOps(self)
        self._methods: dict[str, tuple[Handler, str]] = {
            method: (self._handler(path), context)
            for method, (path, context, _) in OPERATIONS.items()
            if path != "session"
        }

    def _handler(self, path: str) -> Handler:
        owner, name = path.split(".")
        handler: Handler = getattr(self if owner == "driver" else getattr(self, owner), name)
        return handler

    # --- the Driver protocol --------------------------------------------------------------------
    def call(self, call: Call) -> Reply:
        try:
            return self._call(call)
        except Refusal as exc:
            return Reply(exc.code, str(exc))
        except Unsupported as exc:
            return Reply.not_supported(str(exc))
        except MatrixError as exc:
            return self._matrix_reply(exc, exc.context or self._methods.get(call.method, (None, "*"))[1])
        except DriverError as exc:
            return Reply.transport_failure(str(exc))
        except Exception as exc:  # a driver never crashes its caller
            return Reply.transport_failure(f"matrix driver: {type(exc).__name__}: {exc}")

    def events(self, session: str) -> EventStream:
        with self._lock:
            known = self._sessions.get(session)
            return known.stream if known is not None else EventStream(session)

    def admin(self, op: str, body: Mapping[str, Any]) -> Reply:
        try:
            if op == "snapshot":
                admin = self._admin()  # proves the URL and the registration secret
                version = self.http.request("GET", "/_synapse/admin/v1/server_version", token=admin)
                # the driver's own admin (accounts, kicks) but no TIM app settings and no callbacks
                return Reply(
                    0,
                    "",
                    {
                        "now": int(time.time()),
                        "fakeClock": False,
                        "appConfig": False,
                        "callback": False,
                        "counts": {},
                        "server": f"Synapse {version.get('server_version', '?')}",
                    },
                )
            if op == "importAccount":
                self._import(str(body.get("userID", "")), str(body.get("nick") or ""), body.get("avatar"))
                return Reply(0)
            if op == "kick":
                self._kick(str(body.get("userID", "")))
                return Reply(0)
        except Refusal as exc:
            return Reply(exc.code, str(exc))
        except MatrixError as exc:
            return self._matrix_reply(exc, "account")
        except DriverError as exc:
            return Reply.transport_failure(str(exc))
        except Exception as exc:
            return Reply.transport_failure(f"matrix driver: {type(exc).__name__}: {exc}")
        return Reply.not_supported(f"admin {op}: a Matrix homeserver has no counterpart")

    def close(self) -> None:
        with self._lock:
            sessions = list(self._sessions.values())
        for session in sessions:
            session.stop.set()
            session.stream.close()
        self.http.close()

    # --- errors -----------------------------------------------------------------------------------
    def _matrix_reply(self, exc: MatrixError, context: str) -> Reply:
        if exc.errcode == "M_LIMIT_EXCEEDED":
            return Reply.transport_failure(
                f"{exc.url}: rate-limited (M_LIMIT_EXCEEDED), retry_after_ms={exc.retry_after_ms}"
            )
        code = None if exc.errcode in TRANSPORT_ERRCODES else tim_code(exc.errcode, context)
        if code is None:
            return Reply.transport_failure(
                f"{exc.url}: Matrix error {exc.errcode} (HTTP {exc.status}) has no TIM counterpart: {exc.error}"
            )
        return Reply(code, f"{exc.errcode}: {exc.error}")

    # --- sessions -------------------------------------------------------------------------------
    def _call(self, call: Call) -> Reply:
        if call.method == "create":
            return Reply(0, "", {"session": self._new_session().token})
        if call.method == "login":
            session = self._sessions.get(call.session or "") if call.session else self._new_session()
            if session is None:
                return Reply(int(Code.NOT_LOGGED_IN), "unknown session")
            reply = self._login(session, call.args)
            if call.session and reply.ok:  # a login of a created instance names no new session
                return Reply(0, "", {k: v for k, v in reply.data.items() if k != "session"})
            return reply
        session = self._sessions.get(call.session or "")
        if session is None:
            return Reply(int(Code.NOT_LOGGED_IN), "unknown session")
        if call.method in ("logout", "destroy"):
            return self._logout(session, destroy=call.method == "destroy")
        if session.state == "destroyed":
            return Reply(int(Code.SDK_NOT_INITIALIZED))
        if session.state == "kicked":
            return Reply(int(Code.KICKED_BY_OTHER))
        if session.state != "online":
            code = Code.CONVERSATION_INVALID if call.method in CONVERSATION_APIS else Code.NOT_LOGGED_IN
            return Reply(int(code))
        gap = GAPS.get(call.method)
        if gap is not None:
            return Reply.not_supported(gap)
        entry = self._methods.get(call.method)
        if entry is None:
            return Reply.not_supported(f"{call.method}: not translated to Matrix")
        return Reply(0, "", entry[0](session, call.args))

    def _new_session(self) -> Session:
        token = secrets.token_urlsafe(24)
        session = Session(token, EventStream(token))
        with self._lock:
            self._sessions[token] = session
        return session

    def _login(self, session: Session, args: Mapping[str, Any]) -> Reply:
        if session.state == "destroyed":
            return Reply(int(Code.SDK_NOT_INITIALIZED))
        if session.state == "online":
            return Reply(0, "", {"session": session.token, "repeatLogin": True})  # INST-2
        user = args.get("userID")
        if not isinstance(user, str) or not user:
            return Reply(int(Code.INVALID_USER_ID), "userID must be a non-empty string")
        localpart = localpart_of(user)
        device = "TIM" + secrets.token_hex(6).upper()
        answer = self._login_or_register(localpart, device)
        session.user = user
        self._accounts.add(user)
        session.matrix_id = str(answer["user_id"])
        session.access_token = str(answer["access_token"])
        session.device_id = str(answer.get("device_id", device))
        session.stop = threading.Event()  # the loop of an earlier login keeps (and ends on) its own
        sync_http = MatrixHttp(
            self.base_url, self._new_transport(self.base_url, self.timeout + self.sync_timeout_ms / 1000.0)
        )
        self._loops[session.token] = started(
            session, sync_http, self.rooms, self.sync_timeout_ms, self.sync_filters
        )
        session.state = "online"
        session.stream.put(SDK_STATE_READY, {})
        return Reply(0, "", {"session": session.token, "repeatLogin": False})

    def _login_or_register(self, localpart: str, device: str) -> dict[str, Any]:
        """AUTH-5: an account exists once it has logged in; Matrix needs it registered first."""
        secret = self._need_secret()
        try:
            answer = login(self.http, secret, localpart, device)
        except MatrixError as exc:
            if exc.errcode != "M_FORBIDDEN":
                raise
            self._register(localpart)
            answer = login(self.http, secret, localpart, device)
        self._learn_server(str(answer.get("user_id", "")))
        return answer

    def _logout(self, session: Session, *, destroy: bool) -> Reply:
        if session.state == "destroyed":
            return Reply(int(Code.SDK_NOT_INITIALIZED))
        was_online = session.state == "online"
        session.stop.set()
        if was_online:
            with contextlib.suppress(MatrixError, DriverError):  # the device is gone either way
                self.http.request("POST", f"{CLIENT}/logout", {}, token=session.access_token)
            session.stream.put(SDK_STATE_NOT_READY, {})  # INST-2
        session.state = "destroyed" if destroy else "out"
        self._loops.pop(session.token, None)
        return Reply(0)

    # --- accounts and the admin channel ---------------------------------------------------------
    def _need_secret(self) -> str:
        if not self.secret:
            raise DriverError(
                f"{self.base_url}: the Matrix target needs its registration shared secret "
                f"(--matrix-registration-secret or {ENV_SECRET})"
            )
        return self.secret

    def _learn_server(self, matrix_id: str) -> None:
        if not self.server and ":" in matrix_id:
            self.server = matrix_id.split(":", 1)[1]

    def _register(self, localpart: str, displayname: str = "", admin: bool = False) -> dict[str, Any] | None:
        """Shared-secret registration; None when the account already exists."""
        try:
            answer = register(self.http, self._need_secret(), localpart, admin=admin, displayname=displayname)
        except MatrixError as exc:
            if exc.errcode == "M_USER_IN_USE":
                return None
            raise
        self._learn_server(str(answer.get("user_id", "")))
        return answer

    def _admin(self) -> str:
        if not self._admin_token:
            answer = self._register(ADMIN_LOCALPART, admin=True)
            if answer is None:
                answer = login(self.http, self._need_secret(), ADMIN_LOCALPART, PROVISION_DEVICE)
            self._learn_server(str(answer.get("user_id", "")))
            self._admin_token = str(answer["access_token"])
        return self._admin_token

    def account_exists(self, user: str) -> bool:
        """Whether the homeserver has this account (MSG-3 20003, MBR-1's failure list).  An account
        the driver has logged into exists (Matrix accounts are never deleted here): only an unknown
        one costs the admin lookup, which says "no such user" plainly (a profile lookup answers
        M_UNKNOWN, and Synapse accepts an invite of a local user that does not exist)."""
        if user in self._provision or user in self._accounts:
            return True
        try:
            self.http.request(
                "GET", path_of("/_synapse/admin/v2/users", self.matrix_id(user)), token=self._admin()
            )
        except MatrixError as exc:
            if exc.errcode == "M_NOT_FOUND":
                return False
            raise
        return True

    def join_as(self, user: str, room_id: str, content: Mapping[str, Any]) -> None:
        """``user`` joins a room it was invited to (C2C needs no acceptance, MBR-1 adds directly):
        through a device of the account this driver has online when there is one, else through the
        driver's own provisioning device.  Logging that one in is a new device, and Synapse tells
        every user sharing a room with the account of a new device (each of their /syncs wakes):
        in a 50-user load run that was ~190 logins and their wake-ups for joins alone."""
        path = path_of(f"{CLIENT}/join", room_id)
        with self._lock:
            online = [
                s.access_token for s in self._sessions.values() if s.user == user and s.state == "online"
            ]
        for token in online[:1]:
            try:
                self.http.request("POST", path, dict(content), token=token)
                return
            except MatrixError as exc:
                if exc.errcode != "M_UNKNOWN_TOKEN":  # logged out or kicked meanwhile: use our own
                    raise
        self.http.request("POST", path, dict(content), token=self.provision_token(user))

    def provision_token(self, user: str) -> str:
        """The driver's own device of an account (setup work: joining a C2C room, a profile at import)."""
        token = self._provision.get(user)
        if token is None:
            answer = self._login_or_register(localpart_of(user), PROVISION_DEVICE)
            token = self._provision[user] = str(answer["access_token"])
        return token

    def _import(self, user: str, nick: str, avatar: Any) -> None:
        if not user:
            raise Refusal(int(Code.INVALID_USER_ID), "userID must be a non-empty string")
        answer = self._register(localpart_of(user), displayname=nick)
        self._accounts.add(user)  # registered now or before: it exists
        if answer is None and nick:
            self._set_profile(self.provision_token(user), self.matrix_id(user), {"displayname": nick})
        if isinstance(avatar, str) and avatar:
            self._set_profile(self.provision_token(user), self.matrix_id(user), {"avatar_url": avatar})

    def _kick(self, user: str) -> None:
        """INST-6: the admin deletes every device of the account but the driver's own; each
        instance's sync then gets ``M_UNKNOWN_TOKEN`` (kickedOut).  Touching the account's data
        wakes the instances' long-polls, so they learn it now rather than at their timeout."""
        admin = self._admin()
        target = self.matrix_id(user)
        listed = self.http.request("GET", path_of("/_synapse/admin/v2/users", target, "devices"), token=admin)
        devices = [
            str(d["device_id"]) for d in listed.get("devices", []) if d.get("device_id") != PROVISION_DEVICE
        ]
        if devices:
            self.http.request(
                "POST",
                path_of("/_synapse/admin/v2/users", target, "delete_devices"),
                {"devices": devices},
                token=admin,
            )
        self.http.request(
            "PUT",
            path_of(f"{CLIENT}/user", target, "account_data", "org.simtim.wake"),
            {"at": time.time()},
            token=self.provision_token(user),
        )

    def server_name(self) -> str:
        if not self.server:
            self._admin()
        return self.server

    def matrix_id(self, user: str) -> str:
        return mxid(user, self.server_name())

    # --- profile (PROF-1) -------------------------------------------------------------------------
    def _set_profile(self, token: str, matrix_id: str, fields: Mapping[str, str]) -> None:
        for key, value in fields.items():
            self.http.request("PUT", path_of(f"{CLIENT}/profile", matrix_id, key), {key: value}, token=token)

    def profile_of(self, user: str, token: str) -> dict[str, Any]:
        try:
            data = self.http.request("GET", path_of(f"{CLIENT}/profile", self.matrix_id(user)), token=token)
        except MatrixError as exc:
            if exc.status != 404:
                raise
            # Synapse answers 404 (M_NOT_FOUND, or M_UNKNOWN "No row found (profiles)") for an
            # account with neither display name nor avatar: an empty TIM profile (PROF-1)
            data = {}
        return {"userID": user, "nick": data.get("displayname") or "", "avatar": data.get("avatar_url") or ""}

    def _my_profile(self, session: Session, args: Mapping[str, Any]) -> dict[str, Any]:
        return {"profile": self.profile_of(session.user, session.access_token)}

    def _update_profile(self, session: Session, args: Mapping[str, Any]) -> dict[str, Any]:
        fields = {}
        if isinstance(args.get("nick"), str):
            fields["displayname"] = args["nick"]
        if isinstance(args.get("avatar"), str):
            fields["avatar_url"] = args["avatar"]
        self._set_profile(session.access_token, session.matrix_id, fields)
        return {"profile": self.profile_of(session.user, session.access_token)}

    # --- rooms --------------------------------------------------------------------------------------
    def dm_room(self, user: str, peer: str, token: str, *, create: bool = True) -> RoomInfo | None:
        """The C2C room of a pair: found by its alias, else created by ``user`` with the peer
        invited and joined through the driver's own device of the peer (C2C needs no acceptance)."""
        key = (min(user, peer), max(user, peer))
        room_id = self._dm.get(key)
        if room_id is not None:
            return self.rooms.known(room_id)
        localpart = dm_alias_localpart(user, peer)
        alias = f"#{localpart}:{self.server_name()}"
        try:
            room_id = str(
                self.http.request("GET", path_of(f"{CLIENT}/directory/room", alias), token=token)["room_id"]
            )
        except MatrixError as exc:
            if exc.errcode != "M_NOT_FOUND" or not create:
                if exc.errcode == "M_NOT_FOUND":
                    return None
                raise
            room_id = self._create_dm(user, peer, token, localpart, alias)
        info = RoomInfo(room_id, C2C, (user, peer))
        self.rooms.remember(info)
        self._dm[key] = room_id
        return info

    def _create_dm(self, user: str, peer: str, token: str, localpart: str, alias: str) -> str:
        peer_id = self.matrix_id(peer)
        if peer != user and not self.account_exists(peer):
            raise Refusal(int(Code.ACCOUNT_NOT_FOUND), f"no account {peer!r} on {self.base_url}")
        me = self.matrix_id(user)
        body: dict[str, Any] = {
            "preset": "private_chat",
            "is_direct": True,
            "room_alias_name": localpart,
            "invite": [peer_id] if peer != user else [],
            "initial_state": [
                {
                    "type": CONVERSATION_STATE,
                    "state_key": "",
                    "content": {"kind": C2C, "users": [user, peer]},
                },
                {
                    "type": "m.room.history_visibility",
                    "state_key": "",
                    "content": {"history_visibility": "shared"},
                },
            ],
            # REV-1: nobody may redact another's event (101 is above every member; a room's first
            # power levels need no rights), so each revokes only their own; the creator keeps 100
            # to invite the peer at creation. One createRoom, no power-level change after it: that
            # second state event cost Synapse ~9% of its request CPU under load (docs/matrix.md)
            "power_level_content_override": {"users": {me: 100}, "redact": C2C_NO_REDACT, "invite": 100},
        }
        try:
            room_id = str(self.http.request("POST", f"{CLIENT}/createRoom", body, token=token)["room_id"])
        except MatrixError as exc:
            if exc.errcode != "M_ROOM_IN_USE":
                raise
            # the peer created it at the same time: use theirs
            return str(
                self.http.request("GET", path_of(f"{CLIENT}/directory/room", alias), token=token)["room_id"]
            )
        if peer != user:
            self.join_as(peer, room_id, {})
        return room_id

    def group_room(self, group_id: str, token: str) -> RoomInfo:
        return self.groups.room(group_id, token)

    def group_profile(self, info: RoomInfo, session: Session) -> dict[str, Any]:
        return self.groups.profile_of_room(info, session)

    def room_of_conversation(
        self, session: Session, conversation_id: str, *, create: bool = False
    ) -> RoomInfo | None:
        if conversation_id.startswith(C2C):
            return self.dm_room(
                session.user, conversation_id[len(C2C) :], session.access_token, create=create
            )
        if conversation_id.startswith(GROUP):
            return self.group_room(conversation_id[len(GROUP) :], session.access_token)
        if conversation_id == SYSTEM_CONVERSATION_ID:  # SYS-1: a TIM concept, not a bad conversation
            raise Unsupported(f"{SYSTEM_CONVERSATION_ID}: {GAPS['receiveGroupSystemNotice']}")
        raise Refusal(int(Code.CONVERSATION_INVALID), f"no such conversation on Matrix: {conversation_id!r}")

    def send_content(self, session: Session, info: RoomInfo, message: Mapping[str, Any]) -> dict[str, Any]:
        """MSG-6 via transaction IDs: the same (sender, conversation, random, clientTime) is the same
        txnId, which the homeserver answers with the same event (per device); a resend of an event
        this device sent reuses that event's txnId (a message sent without ``random`` got a fresh one,
        and the resent message's ``random`` is not what made it)."""
        conversation_id = info.conversation_id(session.user)
        random = message.get("random") if isinstance(message.get("random"), int) else None
        client_time = message.get("clientTime") if isinstance(message.get("clientTime"), int) else None
        known = session.txns.get(message["ID"]) if isinstance(message.get("ID"), str) else None
        txn = known or txn_id(session.user, conversation_id, random, client_time) or f"tim.{uuid.uuid4().hex}"
        sent = self.http.request(
            "PUT",
            path_of(f"{CLIENT}/rooms", info.room_id, "send", "m.room.message", txn),
            content_of(message),
            token=session.access_token,
        )
        session.remember_txn(str(sent["event_id"]), txn)
        return self.event(session, info, str(sent["event_id"]))

    def event(self, session: Session, info: RoomInfo, event_id: str) -> dict[str, Any]:
        event = self.http.request(
            "GET", path_of(f"{CLIENT}/rooms", info.room_id, "event", event_id), token=session.access_token
        )
        if event.get("type") == "m.room.message":
            self.rooms.note_message(event_id, info.room_id)
        return message_view(event, info, session.user, self.rooms.profiles)

    def tim_user(self, matrix_id: str) -> str:
        return tim_user(matrix_id)


def markdown_table() -> str:
    """docs/matrix.md's operation table, from ``OPERATIONS`` and ``GAPS`` (a test keeps them equal)."""
    lines = ["| TIM | Matrix |", "|---|---|"]
    lines += [f"| `{method}` | {matrix} |" for method, (_, _, matrix) in OPERATIONS.items()]
    lines += [f"| `{name}` | unsupported: {why} |" for name, why in GAPS.items()]
    return "\n".join(lines)
