"""EVT-1: a connected client that cannot keep up costs the server a bounded queue, then gets
``error {6010, "event queue overflow"}`` and close 4008; its next connection starts clean."""

from __future__ import annotations

import asyncio
from typing import Any

import orjson

from simtim.model.core import DEV_SDKAPPID
from simtim.server.mailbox import CLOSE_OVERFLOW
from tests.unit.server.asgi_wire import AsgiWire

LIMIT = 5


class SlowClient:
    """An events socket whose client stops reading after the first frame until ``release``."""

    def __init__(self, wire: AsgiWire, token: str) -> None:
        self.wire = wire
        self.sent: list[dict[str, Any]] = []
        self.reading = asyncio.Event()
        self.done = asyncio.Event()
        scope = {
            "type": "websocket",
            "path": "/v1/events",
            "query_string": f"token={token}".encode(),
            "headers": [],
        }
        self.task = wire.loop.create_task(wire.app(scope, self._receive, self._send))

    async def _receive(self) -> dict[str, Any]:
        if not self.sent:
            return {"type": "websocket.connect"}
        await self.done.wait()
        return {"type": "websocket.disconnect", "code": 1000}

    async def _send(self, message: dict[str, Any]) -> None:
        if len(self.sent) >= 2:  # accept and sdkStateReady went through; then the socket stalls
            await self.reading.wait()
        self.sent.append(message)
        if message["type"] == "websocket.close":
            self.done.set()

    def frames(self) -> list[Any]:
        return [
            orjson.loads(m["text"])["event"] if m["type"] == "websocket.send" else m.get("code")
            for m in self.sent[1:]
        ]


def test_evt_1_a_client_that_cannot_keep_up_gets_error_then_close_4008() -> None:
    wire = AsgiWire()
    wire.admin("configureApp", {"SDKAppID": DEV_SDKAPPID, "eventQueueMax": LIMIT})
    alice, bob = wire.login("alice"), wire.login("bob")
    slow = SlowClient(wire, bob)
    wire.loop.run_until_complete(asyncio.sleep(0.01))
    for index in range(LIMIT * 3):  # two events each for bob: the message and his conversation
        body = {
            "message": {
                "to": "bob",
                "conversationType": "C2C",
                "type": "TIMTextElem",
                "payload": {"text": f"{index}"},
            }
        }
        assert wire.call("sendMessage", body, alice)["code"] == 0
        box = wire.app.mailboxes[wire.app.service.instance_of(bob) or 0]
        assert len(box.frames) <= LIMIT + 2  # bounded: never more than the limit and the notice
    slow.reading.set()
    wire.loop.run_until_complete(asyncio.wait_for(slow.done.wait(), 5))
    frames = slow.frames()
    assert frames[0] == "sdkStateReady"
    assert frames[-2:] == ["error", CLOSE_OVERFLOW], frames
    error = orjson.loads(slow.sent[-2]["text"])["data"]
    assert error == {"code": 6010, "message": "event queue overflow"}
    wire.loop.run_until_complete(slow.task)
    # the next connection is not closed for the old overflow: sdkStateReady, then what came after
    later = wire.websocket(f"token={bob}".encode(), [])
    events = [orjson.loads(m["text"])["event"] for m in later if m["type"] == "websocket.send"]
    assert events[:1] == ["sdkStateReady"] and CLOSE_OVERFLOW not in [m.get("code") for m in later]
    wire.close()
