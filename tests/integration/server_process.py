"""Start a real ``simtim serve`` subprocess for tests (output to a log file, never an unread pipe)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ADMIN_KEY = "test-admin-key"
CLOCK_START = 1_600_000_000


class ServerProcess:
    def __init__(self, *extra: str, fake_clock: bool = True, admin_key: str | None = ADMIN_KEY,
                 seed: int = 0, env: dict[str, str] | None = None) -> None:
        self.log_path = Path(tempfile.mkstemp(prefix="simtim-serve-", suffix=".log")[1])
        args = [sys.executable, "-m", "simtim", "serve", "--port", "0", "--seed", str(seed)]
        if fake_clock:
            args += ["--fake-clock", "--clock-start", str(CLOCK_START)]
        if admin_key:
            args += ["--admin-key", admin_key]
        args += list(extra)
        self._log = self.log_path.open("w")
        self.proc = subprocess.Popen(args, stdout=self._log, stderr=subprocess.STDOUT,
                                     env={**os.environ, **(env or {})})
        self.url = self._wait_for_url()
        self.admin_key = admin_key

    def _wait_for_url(self, timeout: float = 15.0) -> str:
        deadline = time.monotonic() + timeout
        prefix = "simtim serve listening on "
        while time.monotonic() < deadline:
            for line in self.log_path.read_text().splitlines():
                if line.startswith(prefix):
                    return line[len(prefix):].strip()
            if self.proc.poll() is not None:
                break
            time.sleep(0.05)
        self.stop()
        raise RuntimeError(f"simtim serve did not start:\n{self.log_path.read_text()}")

    def stop(self, timeout: float = 5.0) -> int:
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
