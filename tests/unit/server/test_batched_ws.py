"""``BatchedWebSocketProtocol``: frames a client's WebSocket parser accepts, one message per event,
in order, several per write; the synchronous push steps aside when the socket cannot take more."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from uvicorn.config import Config
from uvicorn.server import ServerState
from websockets.frames import Frame, Opcode
from websockets.protocol import State
from websockets.streams import StreamReader

from simtim.server.batched_ws import BatchedWebSocketProtocol, text_frame


def parse(raw: bytes) -> list[Frame]:
    """Server frames as a client reads them (unmasked; websockets' own parser)."""
    reader = StreamReader()
    reader.feed_data(raw)
    frames: list[Frame] = []
    while reader.buffer:
        parser = Frame.parse(reader.read_exact, mask=False)
        try:
            next(parser)
        except StopIteration as done:
            frames.append(done.value)
    return frames


@pytest.mark.parametrize("size", [0, 125, 126, 65535, 65536, 70000])
def test_a_text_frame_parses_back_to_its_payload_at_every_length_encoding(size: int) -> None:
    payload = ("é" * size).encode()[:size]
    (frame,) = parse(text_frame(payload))
    assert (frame.opcode, frame.fin, frame.data) == (Opcode.TEXT, True, payload)


class FakeTransport:
    def __init__(self) -> None:
        self.writes: list[bytes] = []

    def write(self, data: bytes) -> None:
        self.writes.append(data)

    def is_closing(self) -> bool:
        return False

    def close(self) -> None:
        pass


def open_protocol(loop: asyncio.AbstractEventLoop) -> tuple[BatchedWebSocketProtocol, FakeTransport]:
    """A protocol past its handshake, on a fake transport (the state machine is the real one)."""

    async def app(scope: Any, receive: Any, send: Any) -> None:  # never started here
        raise AssertionError

    config = Config(app, ws="websockets-sansio", lifespan="off")
    config.load()
    protocol = BatchedWebSocketProtocol(config, ServerState(), {}, _loop=loop)
    transport = FakeTransport()
    protocol.transport = transport  # type: ignore[assignment]
    protocol.conn.state = State.OPEN
    protocol.handshake_complete = True
    return protocol, transport


def test_frames_sent_in_one_loop_turn_leave_in_one_write_each_its_own_message() -> None:
    loop = asyncio.new_event_loop()
    try:
        protocol, transport = open_protocol(loop)

        async def turn() -> None:
            await protocol.send({"type": "websocket.send", "text": '{"event":"a"}'})
            assert protocol.push_text('{"event":"b"}')
            await protocol.send({"type": "websocket.send", "text": '{"event":"c"}'})
            assert transport.writes == []  # nothing written before the turn ends
            await asyncio.sleep(0)

        loop.run_until_complete(turn())
        assert len(transport.writes) == 1
        assert [f.data for f in parse(transport.writes[0])] == [
            b'{"event":"a"}',
            b'{"event":"b"}',
            b'{"event":"c"}',
        ]
    finally:
        loop.close()


def test_a_close_goes_after_the_frames_before_it() -> None:
    loop = asyncio.new_event_loop()
    try:
        protocol, transport = open_protocol(loop)

        async def turn() -> None:
            assert protocol.push_text("last words")
            await protocol.send({"type": "websocket.close", "code": 4001})

        loop.run_until_complete(turn())
        frames = parse(b"".join(transport.writes))
        assert [f.opcode for f in frames] == [Opcode.TEXT, Opcode.CLOSE]
        assert frames[0].data == b"last words"
    finally:
        loop.close()


def test_push_steps_aside_while_the_transport_is_full_or_the_socket_is_gone() -> None:
    loop = asyncio.new_event_loop()
    try:
        protocol, _ = open_protocol(loop)
        protocol.pause_writing()
        assert not protocol.push_text("wait")  # the caller queues it; its writer awaits send()
        protocol.resume_writing()
        assert protocol.push_text("now")
        protocol.disconnected = True
        assert not protocol.push_text("gone")
    finally:
        loop.close()


def test_frames_the_connection_closed_on_before_the_turn_ended_go_back_to_the_app() -> None:
    loop = asyncio.new_event_loop()
    try:
        protocol, transport = open_protocol(loop)
        taken_back: list[list[str]] = []
        protocol._channel.unsent = taken_back.append
        closing = [False]
        transport.is_closing = lambda: closing[0]  # type: ignore[method-assign]

        async def turn() -> None:
            assert protocol.push_text("one")
            assert protocol.push_text("two")
            closing[0] = True  # the peer's FIN is read later in the same turn
            assert not protocol.push_text("three")  # refused: the caller queues it
            await asyncio.sleep(0)

        loop.run_until_complete(turn())
        assert transport.writes == []
        assert taken_back == [["one", "two"]]
    finally:
        loop.close()
