"""The Web SDK face of ``simtim serve``: the official TIM Web SDK's wire protocol on the same world.

A socket on ``/binfo`` (binary frames) or ``/info`` (text frames) carries JSON requests
``{"head": {..., "servcmd": "<svc>.<cmd>", "seq": N}, "body": {...}}``; each is answered by the
handler its ``servcmd`` names in ``COMMANDS`` (``simtim/protocol/web/commands.py``), with the request
head echoed.  Handlers only translate: bodies use the REST v4 vocabulary (shared with the REST face,
``simtim/protocol/rest/vocabulary.py``) and every decision is a model call as the session's
instance, so an SDK user, a simtim/1 user and a REST call share one world.  Model events
become pushes (``pushes.py``).  Unknown commands are answered OK, logged once per name with their
body keys and counted, so gaps show.  A frame the face cannot read gets a 60003 reply and
the socket stays open.
"""

from __future__ import annotations

import logging
import os
from collections import Counter
from collections.abc import Callable
from typing import Any

from simtim.errors import Code, IMError
from simtim.model.events import KICK_USERSIG_EXPIRED, KICKED_OUT, Event
from simtim.model.world import World
from simtim.protocol.web import c2c, codec, groups
from simtim.protocol.web.commands import BEFORE_LOGIN, COMMANDS, EMPTY_REPLIES, QUIET_WITHOUT_SESSION
from simtim.protocol.web.context import WebCtx
from simtim.protocol.web.pushes import frames_for, modified_frame
from simtim.protocol.web.session import Outlet, StandIn, TinyIds, WebSession

#: commands that keep their own check order while the app is disabled: keep-alives (no model call)
#: and logout (the model's logout decides, AUTH-4)
OWN_ORDER = frozenset({"heartbeat.alive", "im_open_status.wshello", "im_open_status.wslogout"})

log = logging.getLogger("simtim.web")

#: ``handle`` without a callback answer
NO_VERDICT: Any = object()
#: commands that change nothing, model or face, and so are not journaled (``simtim serve --data``):
#: those answered without a session (the keep-alive every few seconds, the SDK's usage reports)
#: except the login
UNJOURNALED = BEFORE_LOGIN - {"im_open_status.wslogin"}
#: ``journal_kind`` answers
NOT_JOURNALED, JOURNALED, JOURNALED_LOGIN = "", "write", "login"
#: send commands -> the model's sendMessage options of their body (MSG-8 asks with these)
SEND_OPTIONS: dict[str, Callable[[dict[str, Any]], dict[str, Any]]] = {
    "openim.sendmsg": c2c.send_options,
    "group_open_http_svc.send_group_msg": groups.send_options,
}

Sink = Callable[[list[Event]], None]


class WebFace:
    """Sessions, dispatch and push routing of the Web SDK face; the transport only moves frames."""

    def __init__(self, world: World, sink: Sink, callback_urls: Callable[[], dict[int, str]] = dict) -> None:
        self.world = world
        self.sink = sink
        #: the server's before-send callback URLs by app (MSG-8), read at each send
        self.callback_urls = callback_urls
        self.by_a2: dict[str, WebSession] = {}
        self.by_instance: dict[int, WebSession] = {}
        #: a2 of sessions a kick or expiry ended -> the code their requests get (70001 or 6208)
        self.ended: dict[str, int] = {}
        self.tinyids = TinyIds()
        self.unknown: Counter[str] = Counter()
        self.requests = 0
        self.bad_frames = 0
        self.trace = os.environ.get("SIMTIM_WEB_TRACE") == "1"  # every request and its code, to stderr
        #: journal replay: socket ID -> the stand-in of a socket not closed yet (``stand_in``)
        self.stand_ins: dict[str, StandIn] = {}

    # --- requests ----------------------------------------------------------------------------
    def pending_callback(
        self, raw: bytes | str, *, binary: bool, expect_binary: bool
    ) -> tuple[str, dict[str, Any]] | None:
        """(url, callback body) when this frame is a send the app backend must see first (MSG-8);
        the transport awaits the answer and hands it to ``handle`` as ``verdict``.  Anything the
        model would refuse before the callback gives None: ``handle`` answers it as usual."""
        urls = self.callback_urls()
        if not urls:
            return None
        try:
            request = codec.decode(raw, binary=binary, expect_binary=expect_binary)
        except codec.FrameError:
            return None
        options_of = SEND_OPTIONS.get(request.servcmd)
        a2 = request.head.get("a2")
        session = self.by_a2.get(a2) if isinstance(a2, str) else None
        if options_of is None or session is None or session.sdkappid not in urls:
            return None
        inst = self.world.instances.get(session.instance_id)
        if inst is None:
            return None
        try:
            body = self.world.callback_request(inst, options_of(request.body))
        except IMError:
            return None  # the real call refuses with the right code
        return None if body is None else (urls[session.sdkappid], body)

    def handle(
        self,
        outlet: Outlet,
        raw: bytes | str,
        *,
        binary: bool,
        expect_binary: bool,
        verdict: Any = NO_VERDICT,
        issued_a2: str | None = None,
    ) -> None:
        """One received frame: its reply, then the pushes it caused, go to ``outlet`` (never raises
        for anything a client sends).  ``verdict``: the before-send callback's answer, when the
        transport asked it (``pending_callback``); ``issued_a2``: the a2 a login hands out, when the
        journal drew it first."""
        self.requests += 1
        try:
            request = codec.decode(raw, binary=binary, expect_binary=expect_binary)
        except codec.FrameError as exc:
            self.bad_frames += 1
            body = codec.fail(exc.code, exc.message)
            outlet.push(codec.encode(codec.reply_head(exc.head, body), body))
            return
        ctx = WebCtx(self, outlet, request, None, issued_a2=issued_a2)
        if verdict is not NO_VERDICT:
            ctx.verdict, ctx.asked = verdict, True
        try:
            fields = self._dispatch(ctx)
            body = codec.ok(fields)
        except IMError as exc:
            body = codec.fail(exc.code, exc.message)
        outlet.push(codec.encode(codec.reply_head(request.head, body), body))
        if ctx.modified is not None and ctx.session is not None:
            outlet.push(modified_frame(self.world, self.tinyids, ctx.session, ctx.modified))
        if self.trace:
            log.warning("web face: %s %s -> %s", request.servcmd, sorted(request.body), body["ErrorCode"])
        if ctx.events:
            self.sink(ctx.events)  # pushes go out after the reply that caused them

    def journal_kind(self, raw: bytes | str, *, binary: bool, expect_binary: bool) -> str:
        """Whether a durable server journals this frame before it runs (``simtim serve --data``):
        every frame that may change the model or the face's sessions does, reads included (a sync
        moves the session's cookie, any session frame can re-attach it to a socket, NET-1); a frame
        the face cannot read, a keep-alive and a usage report do not.  A login needs its a2 drawn."""
        try:
            request = codec.decode(raw, binary=binary, expect_binary=expect_binary)
        except codec.FrameError:
            return NOT_JOURNALED
        if request.servcmd in UNJOURNALED:
            return NOT_JOURNALED
        return JOURNALED_LOGIN if request.servcmd == "im_open_status.wslogin" else JOURNALED

    def stand_in(self, socket_id: str) -> StandIn:
        """The replay's outlet for a journaled socket: one per socket, until its close is replayed."""
        outlet = self.stand_ins.get(socket_id)
        if outlet is None:
            outlet = self.stand_ins[socket_id] = StandIn(socket_id)
        return outlet

    def close_socket(self, socket_id: str, outlet: Outlet | None) -> None:
        """A journaled socket closed: ``outlet`` live, or its stand-in on a replay."""
        stand_in = self.stand_ins.pop(socket_id, None)
        closed = outlet if outlet is not None else stand_in
        if closed is not None:
            self.disconnected(closed)

    def _dispatch(self, ctx: WebCtx) -> dict[str, Any]:
        servcmd = ctx.request.servcmd
        handler = COMMANDS.get(servcmd)
        if handler is not None and servcmd in BEFORE_LOGIN:
            return handler(ctx)
        if servcmd in QUIET_WITHOUT_SESSION and self.by_a2.get(str(ctx.request.head.get("a2"))) is None:
            return {}  # INST-1: logging out of an ended session (kicked, expired) just resolves
        ctx.session = self.session_of(ctx)
        if handler is not None:
            app = self.world.apps.get(ctx.session.sdkappid)
            if servcmd not in OWN_ORDER and app is not None and app.disabled:
                # ORDER-1: a disabled app answers 60016 before any body shape is looked at, as the
                # model does for every call of a logged-in instance (AUTH-4)
                raise IMError(Code.APP_DISABLED, rule="AUTH-4")
            return handler(ctx)
        empty = EMPTY_REPLIES.get(servcmd)
        if empty is not None:
            return dict(empty)
        if servcmd not in self.unknown:  # once per name, with what the SDK sent
            log.warning("web face: unknown command %s, body keys %s", servcmd, sorted(ctx.body))
        self.unknown[servcmd] += 1
        return {}

    def session_of(self, ctx: WebCtx) -> WebSession:
        """The head's ``a2`` -> its session (70001 when unknown or expired, which the SDK reads as
        'UserSig expired'); a new socket with a known a2 takes the session over (reconnect)."""
        a2 = ctx.request.head.get("a2")
        session = self.by_a2.get(a2) if isinstance(a2, str) else None
        if session is None:
            ended = self.ended.get(a2) if isinstance(a2, str) else None
            if ended is not None:
                raise IMError(ended, "this session ended: log in again")
            raise IMError(Code.USERSIG_EXPIRED, "unknown or missing a2: log in again")
        tinyid = ctx.request.head.get("tinyid")
        if tinyid is not None and str(tinyid) != session.tinyid:
            raise IMError(Code.USERSIG_EXPIRED, "tinyid does not belong to this a2")
        if session.outlet is not ctx.outlet:
            self.attach(session, ctx.outlet)
        return session

    # --- sessions ------------------------------------------------------------------------------
    def open_session(self, session: WebSession) -> None:
        self.by_a2[session.a2] = session
        self.by_instance[session.instance_id] = session

    def close_session(self, session: WebSession) -> None:
        self.by_a2.pop(session.a2, None)
        self.by_instance.pop(session.instance_id, None)

    def attach(self, session: WebSession, outlet: Outlet) -> None:
        """A socket (back) for the session: the model replays what it missed (NET-1)."""
        session.outlet = outlet
        inst = self.world.instances.get(session.instance_id)
        if inst is not None and not inst.connected:
            self.sink(self.world.set_network(session.instance_id, True))

    def disconnected(self, outlet: Outlet) -> None:
        """The socket closed: its sessions stay logged in and the model keeps their events (NET-1)."""
        for session in list(self.by_instance.values()):
            if session.outlet is outlet:
                session.outlet = None
                if session.instance_id in self.world.instances:
                    self.world.set_network(session.instance_id, False)

    # --- pushes ----------------------------------------------------------------------------------
    def take(self, events: list[Event]) -> list[Event]:
        """Push the events addressed to Web SDK sessions; return the others, in order."""
        by_instance = self.by_instance
        if not by_instance:
            return events
        rest: list[Event] = []
        for event in events:
            session = by_instance.get(event.instance)
            if session is None:
                rest.append(event)
                continue
            if event.name == KICKED_OUT:
                self._kicked(session, event)
            if session.outlet is None:
                continue
            for frame in frames_for(self.world, self.tinyids, session, event):
                session.outlet.push(frame)
        return rest

    def _kicked(self, session: WebSession, event: Event) -> None:
        """INST-3..6: the session's a2 stops working (the next request gets 70001, which is how the
        SDK learns of a UserSig expiry, INST-5); the instance stays mapped so its last events are
        still pushed (a kick's ``stat_forceoffline``), not routed elsewhere."""
        self.by_a2.pop(session.a2, None)
        expired = event.data.get("type") == KICK_USERSIG_EXPIRED
        self.ended[session.a2] = Code.USERSIG_EXPIRED if expired else Code.KICKED_BY_OTHER

    def reset(self) -> None:
        """The admin reset forgot every instance: the sessions go with them."""
        self.by_a2.clear()
        self.by_instance.clear()
        self.ended.clear()

    # --- durable state (simtim serve --data) -----------------------------------------------------
    def durable_state(self) -> tuple[Any, ...]:
        """What a snapshot keeps of the face: sessions (each with its socket's stand-in, never the
        socket), ended a2s and tinyids; counters are per run."""
        return (self.by_a2, self.by_instance, self.ended, self.tinyids)

    def restore(self, state: tuple[Any, ...]) -> None:
        """Take over a snapshot's sessions; each socket they were on is a stand-in again, until the
        server closes the ones that died with the last run (``open_sockets``)."""
        self.by_a2, self.by_instance, self.ended, self.tinyids = state
        for session in self.by_instance.values():
            if isinstance(session.outlet, StandIn):  # sessions on one socket share its stand-in again
                session.outlet = self.stand_in(session.outlet.socket_id)

    def open_sockets(self) -> list[str]:
        """Journaled sockets whose close was never journaled: after a restart, sockets of the last
        run; the server journals their close so their instances go offline (NET-1 keeps their pushes)."""
        return sorted(self.stand_ins)

    def stats(self) -> dict[str, Any]:
        """For the admin snapshot: how much the face did and which commands it does not know."""
        return {
            "sessions": len(self.by_a2),
            "requests": self.requests,
            "badFrames": self.bad_frames,
            "unknownCommands": dict(self.unknown),
        }


def refusal(outlet: Outlet, frame: str, *, binary: bool, expect_binary: bool) -> None:
    """A journaled frame whose commit failed (``simtim serve --data``): its reply says 70500 and
    nothing ran, as for every other face's writes (docs/durability.md)."""
    raw = frame.encode("latin-1") if binary else frame
    request = codec.decode(raw, binary=binary, expect_binary=expect_binary)  # it was read before
    body = codec.fail(Code.STORAGE_FAILED, Code.STORAGE_FAILED.phrase)
    outlet.push(codec.encode(codec.reply_head(request.head, body), body))
