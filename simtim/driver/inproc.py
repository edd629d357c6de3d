"""InProcDriver: the simtim/1 Service in this process, no sockets.

Because it drives the same ``Service`` the server wraps, a reply that differs
between this driver and ``HttpDriver`` points at the transport, not the model.
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Mapping
from typing import Any

from simtim.driver.base import Call, EventStream, Reply
from simtim.errors import IMError
from simtim.model import Event
from simtim.protocol.envelope import Envelope
from simtim.protocol.service import Service


def _reply(envelope: Envelope) -> Reply:
    return Reply(envelope["code"], envelope.get("message", ""), envelope.get("data") or {})


class InProcDriver:
    """The Service in this process. ``ticking`` adds what ``simtim serve`` does on a real clock:
    a sweep every second (INST-5 expiries); calls are then serialised with a lock."""

    def __init__(
        self,
        *,
        fake_clock: bool = True,
        clock_start: int | None = 1_600_000_000,
        seed: int | None = 0,
        service: Service | None = None,
        ticking: bool = False,
    ) -> None:
        self.service = service or Service(fake_clock=fake_clock, clock_start=clock_start, seed=seed)
        self.service.sink = self._route
        self._streams: dict[str, EventStream] = {}
        self._session_of_instance: dict[int, str] = {}
        self._lock = threading.RLock()
        self._closed = threading.Event()
        if ticking:
            threading.Thread(target=self._tick, name="simtim-inproc-sweep", daemon=True).start()

    def _tick(self) -> None:
        while not self._closed.wait(1.0):
            with self._lock:
                self.service.tick()

    def _route(self, events: list[Event]) -> None:
        for event in events:
            session = self._session_of_instance.get(event.instance)
            if session is None:
                session = self._remember(event.instance)
            if session is not None:
                self.events(session).put(event.name, event.data)

    def _remember(self, instance_id: int) -> str | None:
        for token, known in self.service.tokens.items():
            if known == instance_id:
                self._session_of_instance[instance_id] = token
                return token
        return None

    def call(self, call: Call) -> Reply:
        body = dict(call.args)
        with self._lock:
            envelope = self.service.handle(call.method, call.session, body)
        reply = _reply(envelope)
        if reply.ok and "token" in reply.data:
            data = dict(reply.data)
            data["session"] = data.pop("token")
            return Reply(reply.code, reply.message, data)
        return reply

    def events(self, session: str) -> EventStream:
        stream = self._streams.get(session)
        if stream is None:
            stream = self._streams[session] = EventStream(session)
        return stream

    def admin(self, op: str, body: Mapping[str, Any]) -> Reply:
        with self._lock:
            return _reply(self.service.admin(op, dict(body)))

    def rest(self, path: str, query: str, body: bytes) -> dict[str, Any]:
        """One REST v4 request on the Service's REST face (``timrest.InProcRest`` speaks through it)."""
        with self._lock:
            return self.service.rest.handle("POST", path, query, body)

    def cut(self, session: str) -> None:
        """The instance loses its network (NET-1: the model defers its events)."""
        self.set_network(session, False)

    def reconnect(self, session: str) -> None:
        """The network is back: ``netStateChange`` and the deferred events, once, in order (NET-1)."""
        self.set_network(session, True)

    def set_network(self, session: str, connected: bool) -> None:
        with self._lock:
            instance_id = self.service.instance_of(session)
            if instance_id is not None:
                with contextlib.suppress(IMError):  # a logged-out instance has no network to lose
                    self._route(self.service.world.set_network(instance_id, connected))

    def close(self) -> None:
        self._closed.set()
        for stream in self._streams.values():
            stream.close()
