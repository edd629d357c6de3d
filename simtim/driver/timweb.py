"""TimWebDriver: the Web SDK face of a server (``timweb+ws://HOST:PORT``), spoken like the official SDK.

Each SDK instance is one WebSocket on ``/binfo`` (binary frames of UTF-8 JSON; ``?frames=text`` in the
target URL picks ``/info``).  A TIM method becomes the Web SDK command(s) the official SDK sends for it
(TIM-SDK.md, TIM-WEB-WIRE.md), the reply becomes what the SDK resolves, and pushes become the SDK's
events.  Where the wire has no command for a method, or no push for an event, the driver says so
(``gaps``, ``Reply.not_supported``) and never works it out on the client side (DESIGN rule 6).

What the SDK itself keeps on the client is kept here too, because it is part of the SDK's contract,
not of the server's: the instance lifecycle (``create``; a call before ``login`` or after ``destroy``
is refused by the SDK without a request, INST-1), ``repeatLogin``, and the events the SDK fires
for its own state (``sdkStateReady`` after the login reply, ``sdkStateNotReady`` after logout or a kick).

Admin operations (``importAccount``, ``advanceClock``, ``snapshot`` ...) are not part of the Web SDK
wire: they go to the simtim admin API on the same host when that answers (``simtim serve
--admin-key``), which is how the probe finds the ``admin`` and ``fake_clock`` capabilities.
"""

from __future__ import annotations

import secrets
import threading
from collections import OrderedDict
from collections.abc import Callable, Mapping
from typing import Any

from simtim.driver import timweb_map as wire
from simtim.driver import timweb_messages
from simtim.driver.base import Call, DriverError, EventStream, Reply
from simtim.driver.http import HttpDriver, Transport
from simtim.driver.timweb_instance import Instance
from simtim.driver.timweb_socket import WebSocketSession
from simtim.errors import Code
from simtim.model.events import KICK_USERSIG_EXPIRED, KICKED_OUT, SDK_STATE_NOT_READY, SDK_STATE_READY
from simtim.model.lifecycle import DESTROYED, EXPIRED, KICKED, NEW, ONLINE, state_error
from simtim.model.world import METHODS
from simtim.protocol.web.codec import PLATFORM_NUMBERS, PUSH_FORCE_OFFLINE, PUSH_MESSAGE

#: what the official SDK resolves for these before it asks the server (conversation APIs say 6004
#: before login, CONV-1)
CONVERSATION_APIS = frozenset(
    {
        "getMessageList",
        "setMessageRead",
        "getConversationList",
        "getConversationProfile",
        "deleteConversation",
    }
)
#: TIM methods and events the Web SDK wire, as this driver speaks it, has no counterpart for
EVENT_GAPS: dict[str, str] = {
    "onConversationListUpdated": "the Web SDK wire pushes no conversation list; the official SDK "
    "derives it on the client",
    "onGroupListUpdated": "the Web SDK wire pushes no group list; the official SDK derives it on the "
    "client from its own requests",
}
#: reply fields the Web SDK wire does not carry (``reply_gaps``: noted unsupported, not compared)
FIELD_GAPS: dict[str, str] = {
    # MBR-2: REST v4 / the wire's delete_group_member answers only the envelope; both pinned SDKs
    # resolve with the userIDList they were given (``{group, userIDList: s}``), not who was removed
    "deleteGroupMember.userIDList": "the Web SDK wire's delete_group_member reply names no removed "
    "members (the official SDK resolves with the IDs it asked to remove)",
}
#: conversations the Web SDK's server never lists (``reply_gaps``)
CONVERSATION_GAPS: dict[str, str] = {
    # CONV-2: both pinned SDKs keep only Type 1 (C2C) and 2 (group) entries of page_get's SessionItem
    # (``_getConversationOptions`` / ``_getConvOptions``) and build @TIM#SYSTEM on the client from
    # the group system notices the instance saw; nothing in page_get could carry it
    timweb_messages.SYSTEM_CONVERSATION: "the Web SDK builds @TIM#SYSTEM on the client from the "
    "notices it saw; recentcontact.page_get has no entry type for it",
}
#: stat_forceoffline's ``KickType`` -> kickedOut type (the SDK's KICKED_OUT_* values)
KICK_TYPE_EXPIRED = 4
KICK_TYPES = {
    1: "multipleAccount",
    2: "multipleDevice",
    3: "REST_API_Kick",
    KICK_TYPE_EXPIRED: "userSigExpired",
}
WEB_PLATFORM = "web"
#: admin operations that name a message by the server's own ID (REST steps name it by MsgKey)
ADMIN_BY_MESSAGE_ID = frozenset({"recallMessage"})


Handler = Callable[["TimWebDriver", Instance, Mapping[str, Any]], Reply]


class TimWebDriver:
    gaps: Mapping[str, str] = {}  # filled below from HANDLERS
    field_gaps = FIELD_GAPS
    conversation_gaps = CONVERSATION_GAPS

    def __init__(
        self,
        http_base: str,
        *,
        admin_key: str | None = None,
        timeout: float = 5.0,
        transport: Transport | None = None,
        binary: bool = True,
    ) -> None:
        # the admin API beside the face, over simtim/1's transport (whose open_events is our socket)
        self._admin = HttpDriver(
            http_base, admin_key=admin_key, timeout=timeout, transport=transport, events=False
        )
        self.transport = self._admin.transport
        self.timeout = timeout
        self.binary = binary
        self._instances: dict[str, Instance] = {}
        self._keys: OrderedDict[str, tuple[str, str, str]] = OrderedDict()
        self._streams: dict[str, EventStream] = {}
        self._lock = threading.Lock()

    # --- the Driver protocol ----------------------------------------------------------------
    def call(self, call: Call) -> Reply:
        try:
            return self._call(call)
        except DriverError as exc:
            return Reply.transport_failure(str(exc))
        except Exception as exc:  # a driver never crashes its caller (DESIGN rule 6)
            return Reply.transport_failure(f"{type(exc).__name__}: {exc}")

    def events(self, session: str) -> EventStream:
        with self._lock:
            stream = self._streams.get(session)
            if stream is None:
                stream = self._streams[session] = EventStream(session)
            return stream

    def admin(self, op: str, body: Mapping[str, Any]) -> Reply:
        if op in ADMIN_BY_MESSAGE_ID:  # its IDs are simtim/1's; this client only knows the wire's keys
            return Reply.not_supported(
                f"admin {op} names a message by its simtim/1 ID, unknown on the Web SDK wire"
            )
        reply = self._admin.admin(op, body)
        if op == "advanceClock" and reply.ok:
            self.keep_alive()
        return reply

    def close(self) -> None:
        for instance in list(self._instances.values()):
            if instance.socket is not None:
                instance.socket.close()
        self._admin.close()
        for stream in self._streams.values():
            stream.close()

    # --- dispatch -----------------------------------------------------------------------------
    def _call(self, call: Call) -> Reply:
        if call.method == "create":
            return self._create(call.args)
        if call.method == "login" and call.session is None:
            created = self._create(call.args)
            if not created.ok:
                return created
            session = str(created.data["session"])
            reply = self._call(Call("login", call.args, session))
            if not reply.ok:
                self._instances.pop(session, None)
                return reply
            return Reply(0, "", {**reply.data, "session": session})
        instance = self._instances.get(call.session or "")
        if instance is None:
            return Reply(int(Code.NOT_LOGGED_IN), "unknown session")
        handler = HANDLERS.get(call.method)
        if handler is None:
            return Reply.not_supported(f"the Web SDK wire has no command for {call.method} in this driver")
        if call.method in ("login", "logout", "destroy"):
            return handler(self, instance, call.args)
        if instance.state is not ONLINE or instance.socket is None:  # the SDK refuses without a request
            error = state_error(instance.state, conversation_api=call.method in CONVERSATION_APIS)
            return Reply(int(error.code), error.message)
        return handler(self, instance, call.args)

    def _create(self, args: Mapping[str, Any]) -> Reply:
        sdkappid = args.get("SDKAppID")
        if isinstance(sdkappid, bool) or not isinstance(sdkappid, int):
            return Reply(int(Code.INVALID_PARAMETERS), "SDKAppID must be an integer")
        session = secrets.token_urlsafe(18)
        platform = args.get("platform", "web")
        self._instances[session] = Instance(
            sdkappid, str(platform) if isinstance(platform, str) else "web", keys=self._keys
        )
        return Reply(0, "", {"session": session})

    # --- wire helpers ---------------------------------------------------------------------------
    def request(self, instance: Instance, servcmd: str, body: Mapping[str, Any]) -> Reply:
        """One command on the instance's socket: the reply body as a Reply (ErrorCode passes through)."""
        socket = instance.socket
        if socket is None:
            return Reply(int(Code.NOT_LOGGED_IN), "not logged in")
        answer = socket.request(servcmd, body)
        code = answer.get("ErrorCode", 0)
        if isinstance(code, bool) or not isinstance(code, int):
            return Reply.transport_failure(f"{servcmd}: the reply has no integer ErrorCode")
        data = {k: v for k, v in answer.items() if k not in ("ActionStatus", "ErrorCode", "ErrorInfo")}
        return Reply(code, str(answer.get("ErrorInfo", "")), data)

    def session_of(self, instance: Instance) -> str:
        for session, known in self._instances.items():
            if known is instance:
                return session
        return ""

    def _open_socket(self, instance: Instance, session: str) -> WebSocketSession:
        stream = self.events(session)

        def on_push(servcmd: str, body: dict[str, Any]) -> None:
            self._push(instance, stream, servcmd, body)

        def on_close() -> None:
            pass  # a dropped socket shows as 6010 on the next call

        return WebSocketSession(
            self.transport,
            sdkappid=instance.sdkappid,
            platform=PLATFORM_NUMBERS.get(instance.platform, wire.WEB_PLATFORM_NUMBER),
            timeout=self.timeout,
            on_push=on_push,
            on_close=on_close,
            binary=self.binary,
        )

    # --- pushes -> events ---------------------------------------------------------------------------
    def _push(self, instance: Instance, stream: EventStream, servcmd: str, body: dict[str, Any]) -> None:
        if servcmd == PUSH_MESSAGE:
            for item in body.get("EventArray") or []:
                if isinstance(item, dict):
                    timweb_messages.push_to_events(instance, stream, item)
        elif servcmd == PUSH_FORCE_OFFLINE:  # the notices at the top, or in EventArray entries
            holders = [body, *(e for e in body.get("EventArray") or [] if isinstance(e, dict))]
            for holder in holders:
                for notice in holder.get("C2cNotifyMsgArray") or []:
                    if isinstance(notice, dict) and isinstance(notice.get("KickoutMsgNotify"), dict):
                        self._kicked(instance, stream, notice["KickoutMsgNotify"])

    def keep_alive(self) -> None:
        """``heartbeat.alive`` on every logged-in instance, as the SDK's keep-alive timer does.

        Called after the clock moved (``advanceClock``): the server says a UserSig expired only in
        its answer to the next keep-alive (70001), which the SDK turns into kickedOut(userSigExpired)
        (INST-5).  Sending it when time has passed is what the SDK's timer would have done meanwhile.
        """
        for session, instance in list(self._instances.items()):
            if instance.state is not ONLINE or instance.socket is None:
                continue
            try:
                reply = self.request(instance, "heartbeat.alive", {})
            except DriverError:
                continue
            if reply.code == Code.USERSIG_EXPIRED:
                self._kicked(instance, self.events(session), {"KickType": KICK_TYPE_EXPIRED})

    def _kicked(self, instance: Instance, stream: EventStream, notify: dict[str, Any]) -> None:
        """INST-3..6: the server says this instance is offline; the SDK fires kickedOut, then not-ready."""
        reason = notify.get("KickType")
        kick_type = KICK_TYPES.get(reason, str(reason)) if isinstance(reason, int) else str(reason or "")
        with instance.lock:
            if instance.state is not ONLINE:
                return
            instance.state = EXPIRED if kick_type == KICK_USERSIG_EXPIRED else KICKED
        stream.put(KICKED_OUT, {"type": kick_type})
        stream.put(SDK_STATE_NOT_READY, {})


# --- handlers: one TIM method each -------------------------------------------------------------------
def _login(driver: TimWebDriver, instance: Instance, args: Mapping[str, Any]) -> Reply:
    if instance.state is DESTROYED:
        error = state_error(DESTROYED)
        return Reply(int(error.code), error.message)
    user_id = args.get("userID")
    if instance.state is ONLINE and instance.socket is not None:
        return Reply(0, "", {"repeatLogin": True})  # INST-2: the SDK resolves without a request
    sig = args.get("userSig")
    platform = args.get("platform", instance.platform)
    if platform is not None and platform not in PLATFORM_NUMBERS:  # INST-4: the wire's head.platform
        return Reply.not_supported(f"the Web SDK wire has no platform number for {platform!r}")
    instance.platform = str(platform) if platform is not None else instance.platform
    session = driver.session_of(instance)
    if instance.socket is not None:
        instance.socket.close()
    socket = driver._open_socket(instance, session)
    socket.identifier = str(user_id) if isinstance(user_id, str) else ""
    socket.usersig = str(sig) if isinstance(sig, str) else ""
    instance.socket = socket
    reply = driver.request(instance, "im_open_status.wslogin", {"State": "Online", "InstType": 0})
    if not reply.ok:
        socket.close()
        instance.socket = None
        return reply
    a2, tinyid = reply.data.get("A2Key"), reply.data.get("TinyId")
    if not isinstance(a2, str) or not a2 or tinyid in (None, ""):
        socket.close()
        instance.socket = None
        return Reply.transport_failure("wslogin answered without A2Key/TinyId")
    socket.a2, socket.tinyid = a2, str(tinyid)
    instid = reply.data.get("InstId")
    socket.instid = instid if isinstance(instid, int) else 0
    with instance.lock:
        instance.state = ONLINE
        instance.user_id = socket.identifier
    timweb_messages.read_own_profile(driver, instance)
    driver.events(session).put(SDK_STATE_READY, {})
    return Reply(0, "", {"repeatLogin": False})


def _logout(
    driver: TimWebDriver, instance: Instance, args: Mapping[str, Any], destroy: bool = False
) -> Reply:
    if instance.state is DESTROYED:
        error = state_error(DESTROYED)
        return Reply(int(error.code), error.message)
    was_online = instance.state is ONLINE
    if was_online and instance.socket is not None:
        reply = driver.request(instance, "im_open_status.wslogout", {})
        if not reply.ok and not destroy:
            return reply
    if instance.socket is not None:
        instance.socket.close()
        instance.socket = None
    with instance.lock:
        instance.state = DESTROYED if destroy else NEW
    if was_online:
        driver.events(driver.session_of(instance)).put(SDK_STATE_NOT_READY, {})
    return Reply(0, "", {})


def _destroy(driver: TimWebDriver, instance: Instance, args: Mapping[str, Any]) -> Reply:
    return _logout(driver, instance, args, destroy=True)


HANDLERS: dict[str, Handler] = {
    "login": _login,
    "logout": _logout,
    "destroy": _destroy,
    **timweb_messages.HANDLERS,
}


def _gaps() -> dict[str, str]:
    """Every TIM method without a handler (run on neither side by the cell), and the events above."""
    gaps = dict(EVENT_GAPS)
    for method in METHODS:
        if method not in HANDLERS and method != "create":
            gaps[method] = f"the timweb driver has no Web SDK command mapped for {method}"
    return gaps


TimWebDriver.gaps = _gaps()
