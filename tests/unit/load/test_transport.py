"""The Locust transport lets go of event sockets whose readers ended (a cut or closed socket), so a
flapping user's reconnects do not pile up dead sockets for the whole run (issue 15's soak)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import gevent
import gevent.event
import pytest

from simtim.load import transport as transport_module
from simtim.load.transport import GeventTransport


class Socket:
    """Stands in for a websocket: its reader runs until the socket is cut."""

    def __init__(self) -> None:
        self.cut = gevent.event.Event()
        self.closed = False

    def close(self) -> None:
        self.closed = True
        self.cut.set()


def test_reconnects_do_not_keep_the_sockets_they_replaced(monkeypatch: pytest.MonkeyPatch) -> None:
    opened: list[Socket] = []

    def connect(host: str, port: int, path: str, timeout: float) -> Socket:
        opened.append(Socket())
        return opened[-1]

    def read_frames(ws: Socket, on_frame: Any, on_close: Callable[[], None], *rest: Any) -> None:
        ws.cut.wait()
        on_close()

    monkeypatch.setattr(transport_module.events_socket, "connect", connect)
    monkeypatch.setattr(transport_module.events_socket, "read_frames", read_frames)
    transport = GeventTransport("http://127.0.0.1:9")
    closes: list[int] = []
    for _ in range(50):  # one user flapping: cut, reconnect, again and again
        transport.open_events("/v1/events?token=t", lambda frame: None, lambda: closes.append(1))
        gevent.sleep(0)
        opened[-1].cut.set()
        gevent.sleep(0)
    live = transport.open_events("/v1/events?token=t", lambda frame: None, lambda: None)
    gevent.sleep(0)
    assert len(closes) == 50 and transport.open_event_sockets() == 1
    assert len(transport._events) == 1 and transport._events[0][0] is live  # the 50 cut ones are gone
    transport.close()
    assert live.closed and transport.open_event_sockets() == 0
