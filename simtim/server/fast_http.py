"""uvicorn's httptools protocol with one shortcut: a simtim/1 or REST v4 call answered without an ASGI task.

Measured (benchmarks/server_bench.py, docs/performance.md): uvicorn spends ~18 µs of CPU per
request around any ASGI app (a task, an ``asyncio.Event``, a ``RequestResponseCycle``, four
message dicts, two ``transport.write`` calls), which is as much as the model's send and the
whole service together.  A ``POST /v1/<method>`` on an in-memory server needs none of it: the
service answers synchronously, so this protocol parses the request with the same httptools
parser, asks the app's ``answer_v1`` for the reply bytes as soon as the body is complete and
writes status line, headers and body in one write.

A ``POST /v4/<service>/<command>?…`` (TIM's REST API) takes the same shortcut through the app's
``answer_rest``: the REST face answers synchronously too when there is no journal.

On a journaled server (``--data``) the shortcut takes the same requests, but a write is answered
later: the app hands its journal entry to the group commit and returns nothing; the reply is written
from the commit's callback, after the entry is committed and applied (the durability promise is the
ASGI path's).  Until then a ``_PendingReply`` stands in uvicorn's ``cycle``, so a pipelined request
queues behind it in uvicorn's own pipeline and a shutdown or a lost connection sees a response
still running.

Everything else takes uvicorn's path unchanged: WebSocket upgrades, the admin API, a path with
percent-escapes, ``/healthz``, methods other than POST, HTTP/1.0, ``Expect: 100-continue``, bodies without a
Content-Length or larger than ``FAST_BODY_MAX_BYTES``, pipelined requests behind a running one,
an app that has no ``answer_v1`` (such as benchmarks/echo_app.py) or that declines the shortcut
(a before-send callback, which must wait for I/O).  The reply bytes come from
the same function the ASGI path uses, so both paths answer identically.
"""

from __future__ import annotations

import asyncio
import logging
import weakref
from collections.abc import Callable
from typing import Any, Protocol

from uvicorn.protocols.http.httptools_impl import STATUS_LINE, HttpToolsProtocol

from simtim.limits import FAST_BODY_MAX_BYTES

log = logging.getLogger("uvicorn.error")

_V1 = b"/v1/"
_V4 = b"/v4/"
_KEEP_ALIVE_HEAD = b"HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: "
_ERROR_500 = (
    STATUS_LINE[500] + b"content-type: text/plain; charset=utf-8\r\ncontent-length: 21\r\n"
    b"connection: close\r\n\r\nInternal Server Error"
)


class AnswersV1(Protocol):
    """What the app offers the shortcut (``SimtimApp``)."""

    def answers_v1_now(self, method: str) -> bool:
        """False when the call may need I/O other than the journal first (a before-send callback)."""

    def answer_v1(
        self, method: str, headers: list[tuple[bytes, bytes]], raw: bytes, later: Later | None = None
    ) -> bytes | None:
        """The JSON reply of ``POST /v1/<method>`` (always HTTP 200), or None when ``later`` gets it."""

    def answer_rest(self, path: str, query: bytes, raw: bytes, later: Later | None = None) -> bytes | None:
        """The JSON reply of ``POST /v4/…`` (always HTTP 200, REST-1), or None when ``later`` gets it."""


#: the journaled reply's callback: the reply's bytes, or the exception the model raised
Later = Callable[[bytes | BaseException], None]


class _NoEvent:
    """uvicorn sets a cycle's ``message_event`` when the connection is lost; nothing waits on ours."""

    @staticmethod
    def set() -> None:
        return None


class _PendingReply:
    """Stands in uvicorn's ``HttpToolsProtocol.cycle`` while a journaled shortcut request waits for
    its commit: the attributes uvicorn reads and writes on a cycle that has not responded yet."""

    __slots__ = ("disconnected", "keep_alive", "response_complete")
    message_event = _NoEvent

    def __init__(self, keep_alive: bool) -> None:
        self.response_complete = False
        self.disconnected = False
        self.keep_alive = keep_alive  # uvicorn's ``shutdown`` clears it: close after the reply


class SimtimHttpProtocol(HttpToolsProtocol):
    """``HttpToolsProtocol`` plus the synchronous ``POST /v1/<method>`` shortcut."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        answers = getattr(self.app, "answer_v1", None) and getattr(self.app, "answer_rest", None)
        self._fast_app: AnswersV1 | None = self.app if answers is not None else None
        self._fast_method: str | None = None  # set while a shortcut request's body arrives
        self._fast_query = b""  # the REST shortcut's query string (``_fast_method`` is its path)
        self._fast_rest = False
        self._fast_body: list[bytes] = []
        self._idle_since: float | None = None  # loop time the last response ended; None while busy
        self._pending_reply: _PendingReply | None = None  # a journaled request waiting for its commit
        self._replies = _replies_of(self.loop)

    def on_message_begin(self) -> None:
        """What uvicorn's ``on_message_begin`` sets up, minus the ASGI scope: a shortcut request
        never reads it, and building it (a dict, a nested dict, a copy of the app state) was ~2% of
        the server's samples under wrk.  ``_begin_asgi`` builds it for every other request."""
        self.url = b""
        self.expect_100_continue = False
        self.headers = []

    def _begin_asgi(self) -> None:
        """uvicorn's own ``on_message_begin`` for a request that takes its path, keeping what the
        parser delivered since (the URL and the headers, which the scope shares)."""
        url, expect, headers = self.url, self.expect_100_continue, self.headers
        super().on_message_begin()
        self.url, self.expect_100_continue, self.headers = url, expect, headers
        self.scope["headers"] = headers

    def on_headers_complete(self) -> None:
        app = self._fast_app
        parser = self.parser
        url = self.url
        if (
            app is not None
            and (url.startswith(_V1) or url.startswith(_V4))
            and parser.get_method() == b"POST"
            and parser.get_http_version() == "1.1"
            and not self.expect_100_continue
            and not parser.should_upgrade()
            and (self.cycle is None or self.cycle.response_complete)  # nothing running on this connection
            and _content_length(self.headers) <= FAST_BODY_MAX_BYTES
        ):
            path, _, query = url.partition(b"?")
            if b"%" not in path:
                if url.startswith(_V4):
                    self._fast_method, self._fast_query, self._fast_rest = path.decode("ascii"), query, True
                    self._fast_body = []
                    return
                elif not query:
                    method = path[len(_V1) :].decode("ascii")
                    if app.answers_v1_now(method):
                        self._fast_method, self._fast_rest = method, False
                        self._fast_body = []
                        return
        self._fast_method = None
        self._begin_asgi()
        super().on_headers_complete()

    def on_body(self, body: bytes) -> None:
        if self._fast_method is None:
            super().on_body(body)
        else:
            self._fast_body.append(body)

    def on_message_complete(self) -> None:
        method = self._fast_method
        if method is None:
            super().on_message_complete()
            return
        self._fast_method = None
        body = self._fast_body
        raw = body[0] if len(body) == 1 else b"".join(body)
        self._fast_body = []
        app = self._fast_app
        assert app is not None
        keep_alive = self.parser.should_keep_alive()
        try:
            if self._fast_rest:
                reply = app.answer_rest(method, self._fast_query, raw, self._journaled_reply)
            else:
                reply = app.answer_v1(method, self.headers, raw, self._journaled_reply)
        except Exception:
            log.exception("Exception in call %s", method)
            self._replies.add(self.transport, _ERROR_500, True)
            return
        if reply is None:  # journaled: ``_journaled_reply`` writes it after the commit (a later turn)
            self._pending_reply = self.cycle = _PendingReply(keep_alive)  # type: ignore[assignment]
            return
        self._write_reply(reply, keep_alive)

    def _journaled_reply(self, reply: bytes | BaseException) -> None:
        """The group commit's callback for this connection's one journaled request in flight
        (another cannot take the shortcut while ``cycle`` is unfinished)."""
        pending = self._pending_reply
        assert pending is not None
        self._pending_reply = None
        pending.response_complete = True
        if pending.disconnected or self.transport.is_closing():
            self.server_state.total_requests += 1  # applied all the same, like an ASGI request
            return
        if isinstance(reply, BaseException):
            log.error("Exception in journaled call", exc_info=reply)
            self._replies.add(self.transport, _ERROR_500, True)
        else:
            self._write_reply(reply, pending.keep_alive)

    def _write_reply(self, reply: bytes, keep_alive: bool) -> None:
        replies = self._replies
        default_headers = self.server_state.default_headers  # uvicorn renews the list every second
        if default_headers is not replies.headers:
            replies.renew_head(default_headers)
        length = str(len(reply)).encode()
        if keep_alive:
            replies.add(self.transport, b"".join((_KEEP_ALIVE_HEAD, length, replies.head, reply)), False)
            self.on_response_complete()  # counts the request, re-arms the keep-alive timeout
        else:
            head = (_KEEP_ALIVE_HEAD, length, replies.head[:-2], b"connection: close\r\n\r\n", reply)
            replies.add(self.transport, b"".join(head), True)
            self.server_state.total_requests += 1

    def shutdown(self) -> None:
        """uvicorn's graceful shutdown closes idle connections at once: the replies of this loop
        turn leave first."""
        self._replies.flush()
        super().shutdown()

    # --- keep-alive timer --------------------------------------------------------------------------
    # uvicorn cancels its keep-alive timer on every ``data_received`` and arms a new one after every
    # response: a libuv timer per request (~1-1.6 µs measured on uvloop, several % of a
    # sendMessage).  Here one timer stays armed while requests come and go: data marks the
    # connection busy, a finished response marks when idleness began, and the timer, when due,
    # closes the connection only if it has been idle for the whole timeout, else waits the rest.

    def _unset_keepalive_if_required(self) -> None:
        self._idle_since = None

    def on_response_complete(self) -> None:
        """uvicorn's ``on_response_complete`` with the timer kept armed (see above)."""
        self.server_state.total_requests += 1
        if self.transport.is_closing():
            return
        self._idle_since = None
        if self.flow.read_paused:
            self.flow.resume_reading()
        if self.pipeline:  # pipelined requests waiting behind this one
            cycle, app = self.pipeline.pop()
            self._start_asgi_task(cycle, app)
            return
        self._idle_since = self.loop.time()
        if self.timeout_keep_alive_task is None:
            self.timeout_keep_alive_task = self.loop.call_later(self.timeout_keep_alive, self._keep_alive_due)

    def _keep_alive_due(self) -> None:
        self.timeout_keep_alive_task = None
        since = self._idle_since
        if since is None or self.transport.is_closing():
            return  # busy: the response that ends this request arms the timer again
        remaining = since + self.timeout_keep_alive - self.loop.time()
        if remaining > 0:
            self.timeout_keep_alive_task = self.loop.call_later(remaining, self._keep_alive_due)
        else:
            self.timeout_keep_alive_handler()

    def connection_lost(self, exc: Exception | None) -> None:
        super().connection_lost(exc)
        task = self.timeout_keep_alive_task
        if task is not None:  # the timer would otherwise hold the protocol until it is due
            task.cancel()
            self.timeout_keep_alive_task = None


class _ReplyBatch:
    """The shortcut's replies of one loop turn, written together when the turn's I/O is done.

    A reply written at once makes the kernel wake a client that waits for it (on these VMs the
    wake-up of the other core is most of a ``write``'s cost); replies written back to back after
    the turn's requests find the client awake after the first.  Measured with
    ``benchmarks/server_bench.py`` (sendMessage, wrk -c32): 31-32 µs of server CPU per request
    instead of 36-37, and wrk's own CPU 27% instead of 43% (docs/decisions.md, "Replies written
    per loop turn").
    Every write of the shortcut goes through here, so a connection's replies keep their order."""

    __slots__ = ("head", "headers", "pending")

    def __init__(self) -> None:
        self.pending: list[tuple[Any, bytes, bool]] = []
        #: uvicorn's current ``default_headers`` (a date and the server's name) and the end of a
        #: reply's head they give: ``\r\n`` after the content length, the headers, the blank line
        self.headers: list[tuple[bytes, bytes]] | None = None
        self.head = b""

    def renew_head(self, default_headers: list[tuple[bytes, bytes]]) -> None:
        lines = [name + b": " + value + b"\r\n" for name, value in default_headers]
        self.headers, self.head = default_headers, b"".join([b"\r\n", *lines, b"\r\n"])

    def add(self, transport: Any, data: bytes, close: bool) -> None:
        """Write ``data`` (then close, if ``close``) once this turn's callbacks are done."""
        pending = self.pending
        if not pending:  # (no reference to the loop kept: it is the key of ``_BATCHES``)
            asyncio.get_running_loop().call_soon(self.flush)
        pending.append((transport, data, close))

    def flush(self) -> None:
        pending, self.pending = self.pending, []
        for transport, data, close in pending:
            if not transport.is_closing():  # a connection lost meanwhile takes no reply
                transport.write(data)
                if close:
                    transport.close()


_BATCHES: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, _ReplyBatch] = weakref.WeakKeyDictionary()


def _replies_of(loop: asyncio.AbstractEventLoop) -> _ReplyBatch:
    """One batch per event loop (tests run servers on loops in several threads)."""
    batch = _BATCHES.get(loop)
    if batch is None:
        batch = _BATCHES[loop] = _ReplyBatch()
    return batch


def _content_length(headers: list[tuple[bytes, bytes]]) -> int:
    """The declared body size; a body without one (chunked) is never taken by the shortcut."""
    for name, value in headers:
        if name == b"content-length":
            return int(value) if value.isdigit() else FAST_BODY_MAX_BYTES + 1
    return FAST_BODY_MAX_BYTES + 1
