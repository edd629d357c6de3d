"""The ASGI application: simtim/1 over HTTP, events over WebSocket, the admin API.

A raw ASGI app (no framework): on this machine a bare uvicorn+httptools+uvloop
app answers ~34k req/s on one core against ~22k for Starlette, and the
protocol needs nothing a framework adds.  Semantics live in
``simtim.protocol.service.Service``; this module only moves bytes.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable, Callable
from typing import Any
from urllib.parse import parse_qs

from simtim.callback_client import ask as ask_before_send
from simtim.durable.entries import READ_ONLY_ADMIN_OPS, READ_ONLY_METHODS, Entry, issues_token
from simtim.errors import Code
from simtim.gc_policy import FULL_COLLECTION_SECONDS, collect_dead_cycles, keep_long_lived_state_cheap
from simtim.limits import BODY_DISCARD_MAX_BYTES, BODY_MAX_BYTES, ENCODE_HELD_UP_TO, AppConfig
from simtim.model import METHODS, Event
from simtim.model.events import ERROR, SDK_STATE_READY
from simtim.model.lifecycle import DESTROYED, EXPIRED, KICKED, ONLINE, state_error
from simtim.protocol.envelope import decode, encode, error, event_frame
from simtim.protocol.openapi import openapi_document
from simtim.protocol.rest import envelope
from simtim.protocol.service import ADMIN_OPS, Service, admin_key_matches, new_token
from simtim.server.batched_ws import PUSH_EXTENSION, PushChannel
from simtim.server.journaling import CallbackSink, JournaledFront
from simtim.server.mailbox import (
    CLOSE_KICKED,
    CLOSE_REPLACED,
    CLOSE_UNKNOWN_TOKEN,
    OVERFLOW_ERROR,
    Close,
    Mailbox,
)
from simtim.server.websdk import is_web_path, serve_socket

Scope = dict[str, Any]
Receive = Callable[[], Awaitable[dict[str, Any]]]
Send = Callable[[dict[str, Any]], Awaitable[None]]

_JSON_HEADERS = [(b"content-type", b"application/json")]


DEFAULT_CONFIG = AppConfig()  # an instance whose app is gone still gets the default queue bound


class SimtimApp:
    """One server: a Service, its mailboxes and the HTTP/WebSocket plumbing."""

    def __init__(
        self,
        *,
        fake_clock: bool = False,
        clock_start: int | None = None,
        admin_key: str | None = None,
        seed: int | None = None,
        service: Service | None = None,
        durable: JournaledFront | None = None,
        app_defaults: dict[str, Any] | None = None,
    ) -> None:
        """``durable``: the journal of ``--data`` (its service is served, and every write goes
        through it); ``service``: a service built already (``--import`` without ``--data``).
        With neither, the server is the in-memory one, exactly as without this option."""
        if durable is not None:
            service = durable.service
        if service is None:
            service = Service(
                fake_clock=fake_clock, clock_start=clock_start, seed=seed, app_defaults=app_defaults
            )
        self.service = service
        service.sink = self._deliver
        self.durable = durable
        self.admin_key = admin_key or None
        self.mailboxes: dict[int, Mailbox] = {}
        self._openapi = encode(openapi_document())
        self._ticker: asyncio.Task[None] | None = None
        self._collector: asyncio.TimerHandle | None = None

    # --- event routing -----------------------------------------------------------------------
    def _mailbox(self, instance_id: int) -> Mailbox:
        box = self.mailboxes.get(instance_id)
        if box is None:
            inst = self.service.world.instances.get(instance_id)
            app = self.service.world.apps.get(inst.sdkappid) if inst is not None else None
            config = app.config if app is not None else DEFAULT_CONFIG
            box = self.mailboxes[instance_id] = Mailbox(config.event_queue_max)
        return box

    def _refresh_queue_limits(self) -> None:
        world = self.service.world
        for instance_id, box in self.mailboxes.items():
            inst = world.instances.get(instance_id)
            app = world.apps.get(inst.sdkappid) if inst is not None else None
            if app is not None:
                box.limit = app.config.event_queue_max

    def _deliver(self, events: list[Event]) -> None:
        """The Service's sink: encode each event once and queue it per instance, in order.

        An instance without a socket holds its events until one opens (or the queue overflows).
        A small delivery (a C2C send: ``ENCODE_HELD_UP_TO``) holds them encoded: each of its
        events is a tree of its own (a message view, a conversation), which costs more to keep
        alive and free cold at an overflow than to encode now.  A fan-out holds the events as
        they are: its members' events share the message view, which encoding would repeat per
        member (docs/decisions.md#d-held-events)."""
        events = self.service.web.take(events)  # Web SDK sessions get theirs as pushes
        cache: dict[tuple[str, int], str] = {}
        mailboxes = self.mailboxes
        encode_held = len(events) <= ENCODE_HELD_UP_TO
        for event in events:
            box = mailboxes.get(event.instance) or self._mailbox(event.instance)
            if box.connection is None:
                if event.name == SDK_STATE_READY:  # the next connection's first frame is sdkStateReady
                    continue
                if encode_held:  # a few events, their data rarely shared: no cache
                    box.hold(event.name, event_frame(event.name, event.data))
                else:
                    box.hold(event.name, (event.name, event.data))  # encoded only if ever sent
                continue
            key = (event.name, id(event.data))  # fan-out shares data objects: encode each once
            frame = cache.get(key)
            if frame is None:
                frame = cache[key] = event_frame(event.name, event.data)
            box.put(event.name, frame)

    def _schedule_collection(self) -> None:
        """Free dead reference cycles (closed connections) once a minute (simtim/gc_policy.py)."""
        self._collector = asyncio.get_running_loop().call_later(FULL_COLLECTION_SECONDS, self._collect)

    def _collect(self) -> None:
        collect_dead_cycles()
        self._schedule_collection()

    # --- ASGI entry ----------------------------------------------------------------------------
    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        kind = scope["type"]
        if kind == "http":
            await self._http(scope, receive, send)
        elif kind == "websocket":
            await self._websocket(scope, receive, send)
        elif kind == "lifespan":
            await self._lifespan(receive, send)

    async def _lifespan(self, receive: Receive, send: Send) -> None:
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                keep_long_lived_state_cheap()  # the model keeps every message (simtim/gc_policy.py)
                self._schedule_collection()
                if not self.service.fake_clock:
                    self._ticker = asyncio.create_task(self._tick_every_second())
                await send({"type": "lifespan.startup.complete"})
            elif message["type"] == "lifespan.shutdown":
                if self._ticker is not None:
                    self._ticker.cancel()
                if self._collector is not None:
                    self._collector.cancel()
                if self.durable is not None:
                    self.durable.close()
                await send({"type": "lifespan.shutdown.complete"})
                return

    async def _tick_every_second(self) -> None:
        while True:
            await asyncio.sleep(1.0)
            if self.durable is None:
                self.service.tick()  # INST-5 with a real clock
            elif self.service.world.state.expiries_due():  # journaled only when it has work
                await self.durable.submit(["tick", self.durable.now()])

    # --- HTTP -----------------------------------------------------------------------------------
    @staticmethod
    async def _respond(
        send: Send, status: int, body: bytes, close: bool = False, content_type: bytes = b"application/json"
    ) -> None:
        headers = [(b"content-type", content_type), (b"content-length", str(len(body)).encode())]
        if close:
            headers.append((b"connection", b"close"))
        await send({"type": "http.response.start", "status": status, "headers": headers})
        await send({"type": "http.response.body", "body": body})

    @staticmethod
    async def _read_body(receive: Receive) -> bytes | None:
        """The body, or None when it passed 1 MiB (the rest is read and dropped up to 16 MiB)."""
        message = await receive()
        if not message.get("more_body", False) and message["type"] == "http.request":
            body: bytes = message.get("body", b"")  # the usual request: one chunk, nothing to join
            return body if len(body) <= BODY_MAX_BYTES else None
        chunks: list[bytes] = []
        size = 0
        too_big = False
        while True:
            if message["type"] == "http.disconnect":
                return None
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > BODY_MAX_BYTES:
                too_big = True
                chunks.clear()
                if size > BODY_DISCARD_MAX_BYTES:
                    return None
            elif chunk:
                chunks.append(chunk)
            if not message.get("more_body", False):
                return None if too_big else b"".join(chunks)
            message = await receive()

    async def _http(self, scope: Scope, receive: Receive, send: Send) -> None:
        path: str = scope["path"]
        headers = scope["headers"]
        if path == "/v1/openapi.json" and scope["method"] in ("GET", "HEAD"):
            await self._respond(send, 200, self._openapi)
            return
        if path == "/healthz":
            await self._respond(send, 200, encode({"code": 0, "message": "", "data": {}}))
            return
        if path.startswith("/v4/"):
            await self._rest(scope, receive, send)
            return
        is_admin = path.startswith("/admin/v1/")
        if is_admin and self.admin_key is None:
            await self._respond(send, 404, encode(error(Code.UNKNOWN_METHOD, "admin API disabled")))
            return
        if not (is_admin or path.startswith("/v1/")):
            await self._respond(send, 404, encode(error(Code.UNKNOWN_METHOD, "no such path")))
            return
        if is_admin and not admin_key_matches(self.admin_key, _header(headers, b"x-admin-key")):
            await self._respond(send, 403, encode(error(Code.ADMIN_FORBIDDEN)))
            return
        if scope["method"] != "POST":
            await self._respond(send, 405, encode(error(Code.REQUEST_INVALID, "use POST")))
            return
        raw = await self._read_body(receive)
        if raw is None:
            await self._respond(
                send, 200, encode(error(Code.REQUEST_INVALID, "body larger than 1 MiB")), close=True
            )
            return
        if not is_admin and self.durable is None and self.answers_v1_now(path[len("/v1/") :]):
            reply = self.answer_v1(path[len("/v1/") :], headers, raw)
            assert reply is not None  # an in-memory server answers at once
            await self._respond(send, 200, reply)
            return
        try:
            body = decode(raw)
        except ValueError:
            await self._respond(send, 200, encode(error(Code.REQUEST_INVALID, "body is not JSON")))
            return
        if is_admin:
            op = path[len("/admin/v1/") :]
            durable = self.durable
            if (
                durable is not None
                and op in ADMIN_OPS
                and op not in READ_ONLY_ADMIN_OPS
                and isinstance(body, dict)
            ):
                envelope = await durable.submit(["admin", durable.now(), op, body])
            else:
                envelope = self.service.admin(op, body)
            if envelope["code"] == 0 and path == "/admin/v1/configureApp":
                self._refresh_queue_limits()  # a new eventQueueMax bounds existing queues too
        else:
            envelope = await self._call(path[len("/v1/") :], _bearer(headers), body)
        await self._respond(send, 200, encode(envelope))

    def answers_v1_now(self, method: str) -> bool:
        """Whether the protocol shortcut (simtim/server/fast_http.py) may take ``POST /v1/<method>``:
        not a sendMessage that may have to ask a before-send callback (MSG-8: that waits for I/O).
        On a journaled server the shortcut still takes it, and ``answer_v1`` answers it after the
        commit (``later``)."""
        return not (method == "sendMessage" and self.service.callback_urls)

    def answer_v1(
        self,
        method: str,
        headers: list[tuple[bytes, bytes]],
        raw: bytes,
        later: Callable[[bytes | BaseException], None] | None = None,
    ) -> bytes | None:
        """The reply body of ``POST /v1/<method>`` when ``answers_v1_now(method)``: JSON in, the
        envelope's bytes out, events queued on the way (always HTTP 200).  On a journaled server a
        write is journaled instead: None now, and ``later`` gets the reply's bytes (or the model's
        exception) once its group commit is done and it is applied."""
        try:
            body = decode(raw)
        except ValueError:
            return encode(error(Code.REQUEST_INVALID, "body is not JSON"))
        token = _bearer(headers)
        durable = self.durable
        entry = None if durable is None else self._v1_entry(durable, method, token, body)
        if entry is None:
            return encode(self.service.handle(method, token, body))
        assert durable is not None
        assert later is not None, "a journaled write needs somewhere to answer"
        durable.enqueue(entry, None, CallbackSink(later))
        return None

    def answer_rest(
        self,
        path: str,
        query: bytes,
        raw: bytes,
        later: Callable[[bytes | BaseException], None] | None = None,
    ) -> bytes | None:
        """The reply body of ``POST /v4/…`` (the protocol shortcut of simtim/server/fast_http.py;
        ``_rest`` below answers the same through ASGI).  On a journaled server: the refusal now, or
        None and ``later`` gets the reply once the call's journal entry is committed and applied."""
        durable = self.durable
        if durable is None:
            return encode(self.service.rest.handle("POST", path, query, raw))
        refused = self.service.rest.admit("POST", path, query, raw)
        if refused is not None:
            return encode(refused)
        assert later is not None, "a journaled write needs somewhere to answer"
        durable.enqueue(_rest_entry(durable, "POST", path, query, raw), None, CallbackSink(later))
        return None

    async def _rest(self, scope: Scope, receive: Receive, send: Send) -> None:
        """TIM's REST v4 face (docs/rest.md): always HTTP 200 and a TIM envelope (REST-1)."""
        raw = await self._read_body(receive)
        if raw is None:
            reply = envelope(Code.REQUEST_INVALID, "body larger than 1 MiB")
            await self._respond(send, 200, encode(reply), close=True)
            return
        method, path, query = scope["method"], scope["path"], scope.get("query_string", b"")
        durable = self.durable
        if durable is None:  # (the protocol shortcut answers most of these: ``answer_rest``)
            reply = self.service.rest.handle(method, path, query, raw)
        else:
            refused = self.service.rest.admit(method, path, query, raw)
            if refused is not None:
                reply = refused
            else:
                reply = await durable.submit(_rest_entry(durable, method, path, query, raw))
        await self._respond(send, 200, encode(reply))

    async def _call(self, method: str, token: str | None, body: Any) -> dict[str, Any]:
        if self.durable is not None:
            return await self._journaled_call(self.durable, method, token, body)
        if method == "sendMessage" and self.service.callback_urls:
            pending = self.service.callback_needed(token, body)
            if pending is not None and token is not None:
                url, request = pending
                verdict = await ask_before_send(url, request)  # MSG-8: 2 s, failure = proceed
                return self.service.send_with_verdict(token, body, verdict)
        return self.service.handle(method, token, body)

    async def _journaled_call(
        self, durable: JournaledFront, method: str, token: str | None, body: Any
    ) -> dict[str, Any]:
        """``_call`` of a server with ``--data``: reads and calls refused before the model (bad body,
        unknown method or token) are answered at once; every other call is journaled first."""
        service = self.service
        entry = self._v1_entry(durable, method, token, body)
        if entry is None:
            return service.handle(method, token, body)
        if method == "sendMessage" and service.callback_urls:
            pending = service.callback_needed(token, body)
            if pending is not None and token is not None:
                url, request = pending
                verdict = await ask_before_send(url, request)  # MSG-8: 2 s, failure = proceed
                return await durable.submit(["v1cb", durable.now(), token, body, verdict])
        return await durable.submit(entry)

    def _v1_entry(self, durable: JournaledFront, method: str, token: str | None, body: Any) -> Entry | None:
        """The journal entry of a simtim/1 call, or None for one the service answers without the
        journal: a read, a body that is no object, an unknown method, an unknown token."""
        issues = issues_token(method, token)
        if (
            method in READ_ONLY_METHODS
            or not isinstance(body, dict)
            or (method not in METHODS and method != "create")
            or (not issues and self.service.tokens.get(token or "") is None)
        ):
            return None
        return ["v1", durable.now(), method, token, body, new_token() if issues else None]

    # --- WebSocket --------------------------------------------------------------------------------
    async def _websocket(self, scope: Scope, receive: Receive, send: Send) -> None:
        if is_web_path(scope["path"]):
            await serve_socket(self.service.web, scope, receive, send, self.durable)  # the Web SDK face
            return
        message = await receive()
        if message["type"] != "websocket.connect":
            return
        token = (parse_qs(scope.get("query_string", b"").decode()).get("token") or [""])[0]
        instance_id = self.service.instance_of(token)
        await send({"type": "websocket.accept"})
        world = self.service.world
        inst = world.instances.get(instance_id) if instance_id is not None else None
        if inst is None or inst.state is DESTROYED:
            code = Code.NOT_LOGGED_IN if inst is None else state_error(DESTROYED).code
            await send(
                {
                    "type": "websocket.send",
                    "text": event_frame(ERROR, {"code": int(code), "message": "unknown token"}),
                }
            )
            await send({"type": "websocket.close", "code": CLOSE_UNKNOWN_TOKEN})
            return
        box = self._mailbox(inst.id)
        box.reopened()
        previous = box.connection
        channel: PushChannel | None = scope.get("extensions", {}).get(PUSH_EXTENSION)
        connection = _Connection(send, channel.push_text if channel is not None else None)
        if channel is not None:
            channel.unsent = lambda texts: box.unsent(texts, connection.greeting)
        box.connection = connection
        if previous is not None:
            await previous.close(CLOSE_REPLACED)  # a second socket replaces the first
            box.wake()  # let the old writer see it was replaced
        state = world.effective_state(inst)
        if state is ONLINE:
            await connection.send_text(event_frame(SDK_STATE_READY, {}))
        if box.overflowed:
            box.overflowed = False
            await connection.send_text(event_frame(ERROR, OVERFLOW_ERROR))
        if state in (KICKED, EXPIRED) and not box.frames:
            code = state_error(state).code  # INST-3 / INST-5
            await connection.send_text(event_frame(ERROR, {"code": code, "message": "not logged in"}))
            await connection.close(CLOSE_KICKED)
            box.connection = None
            return
        writer = asyncio.create_task(self._write(box, connection))
        try:
            while True:
                message = await receive()
                if message["type"] == "websocket.disconnect":
                    break
        finally:
            writer.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await writer
            if box.connection is connection:
                box.connection = None

    @staticmethod
    async def _write(box: Mailbox, connection: _Connection) -> None:
        """Send the queued frames in order; wait when there are none.  The loop a group send runs
        once per member: the ASGI send is called directly (one coroutine less per frame)."""
        frames, send = box.frames, connection.asgi_send
        while box.connection is connection and not connection.closed:
            while frames and box.connection is connection:
                frame = frames.popleft()
                if type(frame) is not str:
                    if isinstance(frame, Close):
                        await connection.close(frame.code)
                        box.connection = None
                        return
                    frame = event_frame(*frame)  # held while offline, not yet encoded
                try:
                    await send({"type": "websocket.send", "text": frame})
                except Exception:
                    frames.appendleft(frame)  # not delivered: keep it for the next socket
                    connection.closed = True
                    return
            await box.wait()


class _Connection:
    __slots__ = ("asgi_send", "closed", "greeting", "push_text")

    def __init__(self, send: Send, push_text: Callable[[str], bool] | None = None) -> None:
        self.asgi_send = send
        self.closed = False
        self.push_text = push_text  # the server's synchronous send (simtim/server/batched_ws.py), if any
        self.greeting: list[str] = []  # frames of this connection's own start, never queued again

    def push(self, frame: object) -> bool:
        """Hand an encoded frame to the socket now; False when it must be queued instead."""
        push_text = self.push_text
        return push_text is not None and not self.closed and type(frame) is str and push_text(frame)

    async def send_text(self, text: str) -> None:
        """A frame of this connection's start (``sdkStateReady``, an ``error``), not from the queue."""
        self.greeting.append(text)
        await self.asgi_send({"type": "websocket.send", "text": text})

    async def close(self, code: int) -> None:
        if not self.closed:
            self.closed = True
            with contextlib.suppress(Exception):
                await self.asgi_send({"type": "websocket.close", "code": code})


def _header(headers: list[tuple[bytes, bytes]], name: bytes) -> str | None:
    """ASGI headers are a short list with lowercased names: scanning beats building a dict."""
    for key, value in headers:
        if key == name:
            return value.decode("latin-1")
    return None


def _rest_entry(durable: JournaledFront, method: str, path: str, query: bytes, raw: bytes) -> Entry:
    """The journal entry of a REST v4 call ``admit`` let through (both paths: shortcut and ASGI)."""
    return ["rest", durable.now(), method, path, query.decode("latin-1"), raw.decode("latin-1")]


def _bearer(headers: list[tuple[bytes, bytes]]) -> str | None:
    """The token of ``Authorization: Bearer <token>``; compared and trimmed as bytes, decoding
    only the token (once per simtim/1 call, on the hot path)."""
    for key, value in headers:
        if key == b"authorization":
            if value[:7].lower() == b"bearer ":
                return value[7:].strip().decode("latin-1") or None
            return None
    return None
