"""The event WebSocket of simtim/1, shared by the blocking and the gevent transports.

``connect`` opens ``GET /v1/events?token=...``; ``read_frames`` is the reader
loop, with a hook the gevent transport uses to yield to its hub every few frames.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import websocket  # websocket-client

from simtim.driver.base import DriverError


def connect(host: str, port: int, path: str, timeout: float) -> Any:
    try:
        # skip_utf8_validation: websocket-client's pure-Python UTF-8 check cost ~3/4 of a reader's CPU
        # (benchmarks/harness_bench.py); recv() still decodes text frames in C, which rejects bad UTF-8
        ws = websocket.create_connection(
            f"ws://{host}:{port}{path}", timeout=timeout, skip_utf8_validation=True
        )
    except Exception as exc:
        raise DriverError(f"websocket: {exc}") from exc
    ws.settimeout(None)
    return ws


def read_frames(
    ws: Any,
    on_frame: Callable[[str], None],
    on_close: Callable[[], None],
    after_frame: Callable[[int], None] | None = None,
) -> None:
    """Deliver text frames until the socket ends; any error ends it too (the caller sees on_close)."""
    count = 0
    try:
        while True:
            frame = ws.recv()
            if not frame:
                break
            on_frame(frame if isinstance(frame, str) else frame.decode("utf-8", "replace"))
            count += 1
            if after_frame is not None:
                after_frame(count)
    except Exception:
        pass
    finally:
        on_close()
