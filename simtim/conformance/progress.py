"""Progress of a conformance run that may wait minutes on a real clock.

On a terminal: one live line (scenarios done/total, which rule is waiting, seconds left),
redrawn every second.  Elsewhere (CI logs, pipes): one plain line per finished scenario.
"""

from __future__ import annotations

import sys
import threading
import time
from typing import TextIO


class Progress:
    def __init__(self, total: int, stream: TextIO | None = None, live: bool | None = None) -> None:
        self.total = total
        self.done = 0
        self.stream = stream or sys.stderr
        self.live = self.stream.isatty() if live is None else live
        self.waits: dict[str, tuple[str, float]] = {}  # scenario -> (rule, monotonic end)
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._ticker: threading.Thread | None = None
        self.started = time.monotonic()
        if self.live:
            self._ticker = threading.Thread(target=self._tick, name="simtim-progress", daemon=True)
            self._ticker.start()

    def waiting(self, scenario: str, rule: str, seconds: float) -> None:
        with self._lock:
            self.waits[scenario] = (rule, time.monotonic() + seconds)

    def stopped_waiting(self, scenario: str) -> None:
        with self._lock:
            self.waits.pop(scenario, None)

    def finished(self, scenario: str, summary: str) -> None:
        with self._lock:
            self.done += 1
            self.waits.pop(scenario, None)
            if not self.live:
                elapsed = time.monotonic() - self.started
                print(
                    f"[{self.done}/{self.total}] {scenario}: {summary} ({elapsed:.0f} s)",
                    file=self.stream,
                    flush=True,
                )

    def line(self) -> str:
        now = time.monotonic()
        with self._lock:
            waits = sorted(
                ((end - now, rule, name) for name, (rule, end) in self.waits.items()), reverse=True
            )
        text = f"[{self.done}/{self.total}] scenarios done"
        if waits:
            left, rule, name = waits[0]
            text += f"; waiting: {rule} ({name}) {max(0, left):.0f} s left"
            if len(waits) > 1:
                text += f", +{len(waits) - 1} more waiting"
        return text

    def _tick(self) -> None:
        while not self._stop.wait(1.0):
            self.stream.write("\r" + self.line().ljust(100)[:100])
            self.stream.flush()

    def close(self) -> None:
        self._stop.set()
        if self._ticker is not None:
            self._ticker.join(timeout=2)
            self.stream.write("\r" + " " * 100 + "\r")
            self.stream.flush()
