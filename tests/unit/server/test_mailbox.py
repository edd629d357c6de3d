"""The event-socket writer's queue: frames in order, a waiting writer resumed by each put."""

from __future__ import annotations

import asyncio

from simtim.model.events import KICKED_OUT, MESSAGE_RECEIVED, SDK_STATE_NOT_READY
from simtim.server.mailbox import _OVERFLOW_FRAME, CLOSE_KICKED, CLOSE_OVERFLOW, Close, Mailbox


def test_a_put_resumes_the_waiting_writer_with_the_frame() -> None:
    async def scenario() -> list[str | tuple[str, object] | Close]:
        box = Mailbox(limit=10)
        got: list[str | tuple[str, object] | Close] = []

        async def writer() -> None:
            while len(got) < 2:
                while box.frames:
                    got.append(box.frames.popleft())
                if len(got) < 2:
                    await box.wait()

        task = asyncio.create_task(writer())
        await asyncio.sleep(0)  # the writer is waiting now
        assert box.waiter is not None
        box.put(MESSAGE_RECEIVED, "first")
        await asyncio.sleep(0)
        box.put(MESSAGE_RECEIVED, "second")
        await asyncio.wait_for(task, 1)
        return got

    assert asyncio.run(scenario()) == ["first", "second"]


def test_wake_without_a_writer_and_a_cancelled_wait_leave_no_waiter_behind() -> None:
    async def scenario() -> Mailbox:
        box = Mailbox(limit=10)
        box.wake()  # nobody waits: nothing happens
        task = asyncio.create_task(box.wait())
        await asyncio.sleep(0)
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
        return box

    assert asyncio.run(scenario()).waiter is None


def test_evt_1_a_live_socket_that_cannot_keep_up_gets_the_error_then_close_4008() -> None:
    box = Mailbox(limit=2)
    for text in ("a", "b", "c"):
        box.put(MESSAGE_RECEIVED, text)
    error, close, last = box.frames  # the queue is dropped; the client resyncs from history (NET-1)
    assert error == _OVERFLOW_FRAME and isinstance(close, Close) and close.code == CLOSE_OVERFLOW
    assert last == "c"  # what came after waits for the next connection


def test_overflow_while_offline_drops_the_queue_and_the_next_socket_is_told() -> None:
    box = Mailbox(limit=2)
    for text in ("a", "b", "c"):
        box.hold(MESSAGE_RECEIVED, ("event", text))
    assert box.overflowed and list(box.frames) == [("event", "c")]


def test_a_kick_queues_the_close_after_its_frames() -> None:
    box = Mailbox(limit=10)
    box.put(KICKED_OUT, "kicked")
    box.put(SDK_STATE_NOT_READY, "not ready")
    first, second, last = box.frames
    assert (first, second) == ("kicked", "not ready")
    assert isinstance(last, Close) and last.code == CLOSE_KICKED


class _Socket:
    """A live connection that takes frames while ``open``."""

    def __init__(self) -> None:
        self.open = True
        self.taken: list[object] = []

    def push(self, frame: object) -> bool:
        if self.open:
            self.taken.append(frame)
        return self.open


def test_a_frame_goes_straight_to_a_socket_that_keeps_up_and_queues_when_it_does_not() -> None:
    box = Mailbox(limit=10)
    socket = _Socket()
    box.connection = socket
    box.put(MESSAGE_RECEIVED, "direct")
    socket.open = False
    box.put(MESSAGE_RECEIVED, "queued")
    socket.open = True
    box.put(MESSAGE_RECEIVED, "behind it")  # never overtakes a queued frame
    assert socket.taken == ["direct"]
    assert list(box.frames) == ["queued", "behind it"]


def test_frames_a_socket_never_wrote_go_back_in_front_without_its_own_start_frames() -> None:
    box = Mailbox(limit=10)
    box.frames.append("later")
    ready = '{"event":"sdkStateReady","data":{}}'
    box.unsent([ready, "first", "second"], greeting=[ready])
    assert list(box.frames) == ["first", "second", "later"]
