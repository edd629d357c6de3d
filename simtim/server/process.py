"""``simtim serve`` as a child process: started, its URL read from its first line, stopped.

Used by the Locust harness (the embedded default target) and by the tests.  The
child's output goes to a log file, never to a pipe nobody reads (a full pipe
would block the server).
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path

LISTENING = "simtim serve listening on "


class ServeProcess:
    def __init__(
        self,
        options: Sequence[str] = (),
        *,
        env: dict[str, str] | None = None,
        start_timeout: float = 20.0,
        module: str = "simtim",
    ) -> None:
        """``module`` is what ``python -m`` runs with ``serve --port 0 OPTIONS`` (tests start a
        deliberately wrong server this way)."""
        handle, name = tempfile.mkstemp(prefix="simtim-serve-", suffix=".log")
        os.close(handle)
        self.log_path = Path(name)
        self._log = self.log_path.open("w")
        command = [sys.executable, "-m", module, "serve", "--port", "0", *options]
        self.proc = subprocess.Popen(
            command,
            stdout=self._log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            env={**os.environ, **(env or {})},
        )
        self.url = self._wait_for_url(start_timeout)

    def _wait_for_url(self, timeout: float) -> str:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            for line in self.log_path.read_text().splitlines():
                if line.startswith(LISTENING):
                    return line[len(LISTENING) :].strip()
            if self.proc.poll() is not None:
                break
            time.sleep(0.05)
        self.stop()
        raise RuntimeError(f"simtim serve did not start; its log:\n{self.log_path.read_text()}")

    def stop(self, timeout: float = 6.0) -> int:
        """SIGTERM (simtim serve exits 0 within 5 s), then kill if it did not."""
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self._log.close()
        return self.proc.returncode

    def log(self) -> str:
        return self.log_path.read_text()
