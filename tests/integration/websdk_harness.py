"""The official TIM Web SDKs from npm, driven from pytest through a small Node process each.

The SDKs are installed by ``npm`` into a cache outside the repository (``~/.cache/simtim/websdk-node``,
or ``$SIMTIM_WEBSDK_CACHE``), never vendored.  ``tests/integration/websdk/client.js`` loads one SDK
behind a loopback-only network guard and takes one JSON command a line; this module wraps it.
Everything skips when node/npm are absent, unless ``SIMTIM_REQUIRE_TOOLS=1`` (CI) makes that a failure.
"""

from __future__ import annotations

import contextlib
import json
import os
import queue
import subprocess
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from simtim.model.core import DEV_SDKAPPID, DEV_SECRET_KEY
from simtim.usersig import gen_usersig
from tests.conftest import require_tool

#: the pinned SDK versions (docs/websdk.md lists the same)
SDKS = {"tim": ("tim-js-sdk", "2.27.6"), "chat": ("@tencentcloud/chat", "3.6.6")}
WS_VERSION = "8.18.0"
HERE = Path(__file__).parent / "websdk"
WAIT_SECONDS = 20.0


def cache_dir() -> Path:
    return Path(os.environ.get("SIMTIM_WEBSDK_CACHE", Path.home() / ".cache" / "simtim" / "websdk-node"))


def _installed(cache: Path) -> bool:
    for package, version in SDKS.values():
        manifest = cache / "node_modules" / package / "package.json"
        if not manifest.exists() or json.loads(manifest.read_text()).get("version") != version:
            return False
    return (cache / "node_modules" / "ws" / "package.json").exists()


def install_sdks() -> Path:
    """``npm install`` the pinned SDKs into the cache once (a no-op when already there)."""
    require_tool("node")
    npm = require_tool("npm")
    cache = cache_dir()
    if _installed(cache):
        return cache
    cache.mkdir(parents=True, exist_ok=True)
    manifest = cache / "package.json"
    if not manifest.exists():
        manifest.write_text('{"name": "simtim-websdk-cache", "private": true}\n')
    specs = [f"{package}@{version}" for package, version in SDKS.values()] + [f"ws@{WS_VERSION}"]
    result = subprocess.run(
        [npm, "install", "--no-audit", "--no-fund", "--save-exact", *specs],
        cwd=cache,
        capture_output=True,
        text=True,
        timeout=300,
    )
    if result.returncode != 0 or not _installed(cache):
        message = f"npm install of the Web SDKs failed:\n{result.stdout}\n{result.stderr}"
        if os.environ.get("SIMTIM_REQUIRE_TOOLS") == "1":
            pytest.fail(message)
        pytest.skip(message)
    return cache


def eventually(check: Callable[[], bool], timeout: float = WAIT_SECONDS) -> bool:
    """Whether ``check`` comes true within ``timeout``: SDK caches follow pushes, not the call
    that caused them, so a state another client caused is polled for, never read once."""
    deadline = time.monotonic() + timeout
    while not check():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.2)
    return True


def usersig(user_id: str, *, now: int, expire: int = 86400, sdkappid: int = DEV_SDKAPPID) -> str:
    return gen_usersig(sdkappid, DEV_SECRET_KEY, user_id, expire, now=now)


class SdkError(Exception):
    def __init__(self, code: Any, message: str) -> None:
        super().__init__(f"{code}: {message}")
        self.code = code
        self.message = message


class NodeSdk:
    """One SDK instance in one Node process: ``call`` awaits a promise, ``event`` waits for an event."""

    def __init__(self, flavour: str, ws_url: str, *, cache: Path, sdkappid: int = DEV_SDKAPPID) -> None:
        self.flavour = flavour
        env = {**os.environ, "NODE_PATH": str(cache / "node_modules")}
        self.proc = subprocess.Popen(
            ["node", str(HERE / "client.js"), flavour, ws_url, str(sdkappid)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env=env,
        )
        self.replies: queue.Queue[dict[str, Any]] = queue.Queue()
        self.events: list[dict[str, Any]] = []
        self.guard: list[str] = []
        self.console: list[str] = []
        self.crash = ""  # an exception the SDK threw outside any promise (the process exits)
        self._events_changed = threading.Condition()
        self._next_id = 0
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()
        self.ready = self.replies.get(timeout=WAIT_SECONDS)

    def _read(self) -> None:
        assert self.proc.stdout is not None
        for line in self.proc.stdout:
            try:
                value = json.loads(line)
            except json.JSONDecodeError:
                self.console.append(line.rstrip())  # the SDK's own console output
                continue
            if "event" in value:
                with self._events_changed:
                    self.events.append(value)
                    self._events_changed.notify_all()
            elif "guard" in value:
                self.guard.append(value["guard"])
            elif "crash" in value:
                self.crash = str(value["crash"])
            else:
                self.replies.put(value)

    def _command(self, command: dict[str, Any]) -> Any:
        self._next_id += 1
        command["id"] = self._next_id
        assert self.proc.stdin is not None
        self.proc.stdin.write(json.dumps(command) + "\n")
        self.proc.stdin.flush()
        while True:
            try:
                reply = self.replies.get(timeout=WAIT_SECONDS)
            except queue.Empty:
                raise AssertionError(f"{self.flavour}: no reply to {command}; crash: {self.crash}") from None
            if reply.get("id") == command["id"]:
                break
        if not reply["ok"]:
            raise SdkError(reply.get("code"), reply.get("message", ""))
        return reply["data"]

    def call(self, method: str, *args: Any) -> Any:
        return self._command({"op": "call", "method": method, "args": list(args)})

    def text(self, to: str, text: str, conversation_type: str = "C2C") -> Any:
        return self._command({"op": "text", "to": to, "type": conversation_type, "text": text})

    def frames_sent(self) -> int:
        return int(self._command({"op": "stats"})["framesSent"])

    def login(self, user_id: str, *, now: int, expire: int = 86400) -> Any:
        data = self.call("login", {"userID": user_id, "userSig": usersig(user_id, now=now, expire=expire)})
        self.event("sdkStateReady")
        return data

    def event(
        self, name: str, where: Callable[[Any], bool] = lambda data: True, timeout: float = WAIT_SECONDS
    ) -> Any:
        """The data of the first ``name`` event matching ``where`` (seen before or arriving in time)."""
        deadline = time.monotonic() + timeout
        with self._events_changed:
            while True:
                for item in self.events:
                    if item["event"] == name and where(item.get("data")):
                        return item.get("data")
                left = deadline - time.monotonic()
                if left <= 0:
                    seen = [e["event"] for e in self.events]
                    raise AssertionError(f"{self.flavour}: no {name} event in time; saw {seen}")
                self._events_changed.wait(left)

    def names(self) -> list[str]:
        with self._events_changed:
            return [e["event"] for e in self.events]

    def close(self) -> None:
        if self.proc.poll() is None:
            with contextlib.suppress(Exception):
                self._command({"op": "exit"})
            try:
                self.proc.wait(5)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        for stream in (self.proc.stdin, self.proc.stdout, self.proc.stderr):
            if stream is not None:
                stream.close()
