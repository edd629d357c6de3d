#!/usr/bin/env python3
"""One reader process of group_push_bench.py: many simtim/1 event sockets, gevent + websocket-client.

    python benchmarks/group_push_reader.py --url ws://127.0.0.1:PORT --tokens tokens.json \
        --shared counters.bin --slot K --out result.json

Opens ``GET /v1/events?token=...`` for every token in ``--tokens`` (a JSON list), then reads each
socket's frames itself (``FrameReader``: one ``recv`` per chunk of many frames), one greenlet per
socket, yielding to the hub after every chunk so no socket starves the others.  A group message of
the bench carries ``gp<seq>`` as its text; every ``onMessageReceived`` frame holding one is
counted, and each socket checks that the sequence numbers arrive exactly once and in order (the
sender sends one at a time).  Other frames (the member-join tip, conversation updates) are counted
apart.

Progress goes to a shared file the bench maps too (``--shared``, slot ``K`` of 4 int64 each):
sockets open, deliveries so far, the lowest last sequence over this process's sockets (the bench's
sender keeps at most a window of messages ahead of it, so no queue on the server overflows), and a
stop word the bench writes.  On stop it writes per-socket results to ``--out`` and exits.
"""

from __future__ import annotations

from gevent import monkey

monkey.patch_all()

import argparse  # noqa: E402
import mmap  # noqa: E402
import struct  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402
from pathlib import Path  # noqa: E402
from typing import Any  # noqa: E402

import gevent  # noqa: E402
import orjson  # noqa: E402
import websocket  # noqa: E402

SLOT = struct.Struct("<qqqq")  # sockets open, deliveries, lowest last seq, stop (written by the bench)
PROGRESS = struct.Struct("<qqq")  # the part of the slot this process writes
MESSAGE_PREFIX = b'{"event":"onMessageReceived"'
MARK = b'"text":"gp'
RECV_BYTES = 256 * 1024
OP_TEXT, OP_CLOSE, OP_PING = 0x1, 0x8, 0x9


class FrameReader:
    """Unmasked server frames out of a byte stream, any number per ``recv``: one system call per
    chunk instead of websocket-client's two or three per frame, which made the readers, not the
    server, set the pace.  A fragmented message is refused (the server sends one event per frame)."""

    __slots__ = ("buffer",)

    def __init__(self) -> None:
        self.buffer = b""

    def feed(self, chunk: bytes) -> list[tuple[int, bytes]]:
        buffer = self.buffer + chunk if self.buffer else chunk
        out: list[tuple[int, bytes]] = []
        at, end = 0, len(buffer)
        while end - at >= 2:
            first, size = buffer[at], buffer[at + 1] & 0x7F
            head = 2
            if size == 126:
                if end - at < 4:
                    break
                size, head = int.from_bytes(buffer[at + 2 : at + 4], "big"), 4
            elif size == 127:
                if end - at < 10:
                    break
                size, head = int.from_bytes(buffer[at + 2 : at + 10], "big"), 10
            if end - at < head + size:
                break
            if not first & 0x80:
                raise ValueError("fragmented frame: the server sends one event per frame")
            out.append((first & 0x0F, buffer[at + head : at + head + size]))
            at += head + size
        self.buffer = buffer[at:]
        return out


def pong(payload: bytes) -> bytes:
    """A masked pong (client frames are masked; a zero key leaves the payload as it is)."""
    return bytes((0x8A, 0x80 | len(payload))) + b"\0\0\0\0" + payload


class Socket:
    __slots__ = ("bad", "count", "first_bad", "last", "others", "ws")

    def __init__(self, ws: Any) -> None:
        self.ws = ws
        self.count = 0  # bench messages received
        self.last = -1  # last sequence seen
        self.others = 0  # other frames
        self.bad = 0  # out of order, duplicated or skipped
        self.first_bad = ""


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--url", required=True, help="ws://HOST:PORT of the server")
    parser.add_argument("--tokens", type=Path, required=True, help="JSON list of Bearer tokens")
    parser.add_argument("--shared", type=Path, required=True, help="the bench's counter file")
    parser.add_argument("--slot", type=int, required=True, help="this process's slot in --shared")
    parser.add_argument("--out", type=Path, required=True, help="per-socket results (JSON) on stop")
    args = parser.parse_args(argv)

    tokens: list[str] = orjson.loads(args.tokens.read_bytes())
    with open(args.shared, "r+b") as shared_file:
        shared = mmap.mmap(shared_file.fileno(), 0)
    offset = args.slot * SLOT.size
    sockets: list[Socket] = []
    for token in tokens:
        ws = websocket.create_connection(
            f"{args.url}/v1/events?token={token}", timeout=30, skip_utf8_validation=True
        )
        ws.settimeout(None)
        sockets.append(Socket(ws))
    total = [0]

    def read(sock: Socket) -> None:
        raw = sock.ws.sock  # websocket-client's handshake reads byte by byte: nothing is left buffered
        frames = FrameReader()
        while True:
            try:
                chunk = raw.recv(RECV_BYTES)
            except OSError:
                return
            if not chunk:
                return
            for opcode, payload in frames.feed(chunk):
                if opcode == OP_PING:
                    raw.sendall(pong(payload))
                    continue
                if opcode == OP_CLOSE:
                    return
                if opcode != OP_TEXT or not payload.startswith(MESSAGE_PREFIX):
                    sock.others += 1
                    continue
                at = payload.find(MARK)
                if at < 0:
                    sock.others += 1
                    continue
                at += len(MARK)
                seq = int(payload[at : payload.index(b'"', at)])
                if seq != sock.last + 1:
                    sock.bad += 1
                    if not sock.first_bad:
                        sock.first_bad = f"seq {seq} after {sock.last}"
                if seq > sock.last:
                    sock.last = seq
                sock.count += 1
                total[0] += 1
            gevent.sleep(0)  # one chunk at a time, so no socket starves the others

    readers = [gevent.spawn(read, sock) for sock in sockets]
    PROGRESS.pack_into(shared, offset, len(sockets), 0, -1)
    while SLOT.unpack_from(shared, offset)[3] == 0:
        gevent.sleep(0.01)
        lowest = min((s.last for s in sockets), default=-1)
        PROGRESS.pack_into(shared, offset, len(sockets), total[0], lowest)
    gevent.sleep(0.05)
    gevent.killall(readers, timeout=5)  # the readers own the sockets' reads; close() reads the reply
    for sock in sockets:
        sock.ws.close(timeout=1)
    rows = [
        {"count": s.count, "last": s.last, "others": s.others, "bad": s.bad, "first_bad": s.first_bad}
        for s in sockets
    ]
    args.out.write_bytes(orjson.dumps({"sockets": rows, "cpu": time.process_time()}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
