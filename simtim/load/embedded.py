"""The embedded default target: ``simtim serve --port 0`` as a subprocess of the Locust master.

Never an asyncio server inside the gevent-patched Locust process, never at
import time (``--processes`` imports the locustfile before forking); output
goes to a log file, never an unread pipe.
"""

from __future__ import annotations

import os
import secrets
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path


class EmbeddedServer:
    def __init__(self, *, fake_clock: bool = True) -> None:
        self.admin_key = secrets.token_urlsafe(24)
        handle, log_name = tempfile.mkstemp(prefix="simtim-embedded-", suffix=".log")
        os.close(handle)
        self.log_path = Path(log_name)
        self._log = self.log_path.open("w")
        args = [sys.executable, "-m", "simtim", "serve", "--port", "0", "--admin-key", self.admin_key]
        if fake_clock:
            args.append("--fake-clock")
        self.proc = subprocess.Popen(args, stdout=self._log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
        self.url = self._wait_for_url()

    def _wait_for_url(self, timeout: float = 20.0) -> str:
        prefix = "simtim serve listening on "
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            for line in self.log_path.read_text().splitlines():
                if line.startswith(prefix):
                    return line[len(prefix):].strip()
            if self.proc.poll() is not None:
                break
            time.sleep(0.05)
        self.stop()
        raise RuntimeError(f"the embedded simtim serve did not start; its log:\n{self.log_path.read_text()}")

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(6)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self._log.close()
