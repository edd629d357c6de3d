"""The embedded default target: ``simtim serve --port 0`` as a subprocess of the Locust master.

Never an asyncio server inside the gevent-patched Locust process, never at
import time (``--processes`` imports the locustfile before forking).
"""

from __future__ import annotations

import secrets

from simtim.server.process import ServeProcess


class EmbeddedServer(ServeProcess):
    def __init__(self, *, fake_clock: bool = True) -> None:
        self.admin_key = secrets.token_urlsafe(24)
        # one argument "--admin-key=KEY": a key may start with "-", which argparse would take for an option
        super().__init__([f"--admin-key={self.admin_key}", *(["--fake-clock"] if fake_clock else [])])
