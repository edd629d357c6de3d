"""Raw simtim/1 access for the server tests: bytes in, envelopes out, no driver in between.

The driver tests go through ``HttpDriver``; these helpers talk to the wire
directly (``http.client`` and websocket-client), so a server answering
something that is not simtim/1 shows up as an assertion here rather than as a
driver's 6010.  Every answer is checked for "never a 5xx".
"""

from __future__ import annotations

import http.client
import struct
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

import orjson
import websocket

from simtim.model.core import DEV_SDKAPPID, DEV_SECRET_KEY
from simtim.usersig import gen_usersig
from tests.integration.server_process import ADMIN_KEY

MONTH = 30 * 86400


@dataclass
class Answer:
    status: int
    headers: dict[str, str]
    raw: bytes

    @property
    def envelope(self) -> dict[str, Any]:
        """The simtim/1 envelope: a JSON object with an int ``code`` and a str ``message``."""
        value = orjson.loads(self.raw)
        assert isinstance(value, dict), self.raw[:200]
        code = value.get("code")
        assert isinstance(code, int) and not isinstance(code, bool), self.raw[:200]
        assert isinstance(value.get("message"), str), self.raw[:200]
        if code == 0:
            assert isinstance(value.get("data"), dict), self.raw[:200]
        return value


class Wire:
    """One keep-alive HTTP connection to a simtim/1 server, counting what it sends."""

    def __init__(self, url: str, admin_key: str | None = ADMIN_KEY, timeout: float = 10.0) -> None:
        parts = urlsplit(url)
        assert parts.hostname and parts.port
        self.url = url
        self.host, self.port = parts.hostname, parts.port
        self.admin_key = admin_key
        self.timeout = timeout
        self.sent = 0
        self._conn: http.client.HTTPConnection | None = None

    def close(self) -> None:
        if self._conn is not None:
            self._conn.close()
            self._conn = None

    def request(
        self, verb: str, path: str, body: bytes | None = None, headers: Mapping[str, str] | None = None
    ) -> Answer:
        """One request; a 5xx is a test failure wherever it happens."""
        for attempt in (1, 2):
            reused = self._conn is not None
            conn = self._conn or http.client.HTTPConnection(self.host, self.port, timeout=self.timeout)
            self._conn = conn
            try:
                conn.request(verb, path, body=body, headers=dict(headers or {}))
                response = conn.getresponse()
                raw = response.read()
            except (http.client.RemoteDisconnected, ConnectionResetError, BrokenPipeError):
                self.close()
                if reused and attempt == 1:
                    continue  # a kept-alive connection the server had closed: once more, fresh
                raise
            except BaseException:
                self.close()  # never reuse a connection left mid-request
                raise
            self.sent += 1
            answer = Answer(response.status, {k.lower(): v for k, v in response.getheaders()}, raw)
            if answer.headers.get("connection", "").lower() == "close":
                self.close()
            assert answer.status < 500, (verb, path, answer.status, raw[:300])
            return answer
        raise AssertionError("unreachable")

    def post(
        self,
        path: str,
        body: bytes | object = None,
        token: str | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> Answer:
        payload = body if isinstance(body, bytes) else orjson.dumps({} if body is None else body)
        all_headers = {"Content-Type": "application/json"}
        if token is not None:
            all_headers["Authorization"] = f"Bearer {token}"
        all_headers.update(headers or {})
        return self.request("POST", path, payload, all_headers)

    def call(self, method: str, body: bytes | object = None, token: str | None = None) -> dict[str, Any]:
        """``POST /v1/<method>``: HTTP 200 and a simtim/1 envelope, always."""
        answer = self.post(f"/v1/{method}", body, token)
        assert answer.status == 200, (method, answer.status, answer.raw[:300])
        return answer.envelope

    def ok(self, method: str, body: object = None, token: str | None = None) -> dict[str, Any]:
        envelope = self.call(method, body, token)
        assert envelope["code"] == 0, (method, body, envelope)
        data: dict[str, Any] = envelope["data"]
        return data

    def admin(self, op: str, body: object = None) -> dict[str, Any]:
        assert self.admin_key is not None
        answer = self.post(f"/admin/v1/{op}", body, headers={"X-Admin-Key": self.admin_key})
        assert answer.status == 200, (op, answer.status, answer.raw[:300])
        envelope = answer.envelope
        assert envelope["code"] == 0, (op, body, envelope)
        data: dict[str, Any] = envelope["data"]
        return data

    def digest(self) -> str:
        return str(self.admin("snapshot", {"digest": True})["digest"])

    def now(self, sdkappid: int = DEV_SDKAPPID) -> int:
        return int(self.admin("snapshot", {"SDKAppID": sdkappid})["now"])

    def sig(
        self,
        user: str,
        *,
        sdkappid: int = DEV_SDKAPPID,
        key: str = DEV_SECRET_KEY,
        expire: int = MONTH,
        now: int | None = None,
    ) -> str:
        """A UserSig minted at the server's current (fake) time unless ``now`` is given."""
        return gen_usersig(sdkappid, key, user, expire, now=self.now(sdkappid) if now is None else now)

    def login(
        self,
        user: str,
        *,
        sdkappid: int = DEV_SDKAPPID,
        key: str = DEV_SECRET_KEY,
        expire: int = MONTH,
        platform: str = "web",
    ) -> str:
        """The login shortcut: a new instance, logged in; returns its token."""
        data = self.ok(
            "login",
            {
                "SDKAppID": sdkappid,
                "platform": platform,
                "userID": user,
                "userSig": self.sig(user, sdkappid=sdkappid, key=key, expire=expire),
            },
        )
        return str(data["token"])

    def refused(self, method: str, body: bytes | object, token: str | None, code: int) -> dict[str, Any]:
        """A call that must answer ``code`` and change nothing (ORDER-1): digest before == after."""
        before = self.digest()
        envelope = self.call(method, body, token)
        assert envelope["code"] == code, (method, body, envelope)
        assert "data" not in envelope or envelope["data"] in ({}, None), envelope
        assert self.digest() == before, f"refused {method} changed the state"
        return envelope


def text(to: str, body: str = "hi", conversation_type: str = "C2C", **extra: object) -> dict[str, Any]:
    """A sendMessage body with one text element."""
    return {
        "message": {
            "to": to,
            "conversationType": conversation_type,
            "type": "TIMTextElem",
            "payload": {"text": body},
            **extra,
        }
    }


# --- WebSocket --------------------------------------------------------------------------------


@dataclass(frozen=True)
class Frame:
    """A text frame (``event`` set) or the server's close (``close`` set to its code)."""

    event: str | None = None
    data: Any = None
    close: int | None = None


def open_events(url: str, token: str, timeout: float = 5.0) -> websocket.WebSocket:
    parts = urlsplit(url)
    return websocket.create_connection(
        f"ws://{parts.hostname}:{parts.port}/v1/events?token={token}", timeout=timeout
    )


def next_frame(ws: websocket.WebSocket, timeout: float = 5.0) -> Frame | None:
    """The next text or close frame (pings and pongs are skipped), or None after ``timeout``."""
    deadline = time.monotonic() + timeout
    while True:
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            return None
        ws.settimeout(remaining)
        try:
            opcode, frame = ws.recv_data_frame(True)
        except websocket.WebSocketTimeoutException:
            return None
        except websocket.WebSocketConnectionClosedException:
            return Frame(close=-1)  # closed without a close frame
        if opcode == websocket.ABNF.OPCODE_TEXT:
            value = orjson.loads(frame.data)
            assert isinstance(value, dict) and set(value) == {"event", "data"}, value
            return Frame(event=value["event"], data=value["data"])
        if opcode == websocket.ABNF.OPCODE_CLOSE:
            data = frame.data
            return Frame(close=struct.unpack("!H", data[:2])[0] if len(data) >= 2 else None)
        assert opcode in (websocket.ABNF.OPCODE_PING, websocket.ABNF.OPCODE_PONG), opcode


def frames_until(ws: websocket.WebSocket, stop: Callable[[Frame], bool], timeout: float = 5.0) -> list[Frame]:
    """Every frame up to and including the first one ``stop`` accepts; fails on timeout."""
    taken: list[Frame] = []
    deadline = time.monotonic() + timeout
    while True:
        frame = next_frame(ws, max(0.0, deadline - time.monotonic()))
        assert frame is not None, f"timed out; got {taken}"
        taken.append(frame)
        if stop(frame):
            return taken
        if frame.close is not None:
            raise AssertionError(f"socket closed early: {taken}")


def quiet_for(ws: websocket.WebSocket, seconds: float) -> list[Frame]:
    """Frames that arrive within ``seconds`` (expected: none)."""
    taken: list[Frame] = []
    deadline = time.monotonic() + seconds
    while (remaining := deadline - time.monotonic()) > 0:
        frame = next_frame(ws, remaining)
        if frame is None:
            break
        taken.append(frame)
        if frame.close is not None:
            break
    return taken


def proc_status(pid: int, key: str) -> int:
    """A ``/proc/<pid>/status`` value in kB (VmRSS, VmHWM)."""
    with open(f"/proc/{pid}/status") as status:
        for line in status:
            if line.startswith(key + ":"):
                return int(line.split()[1])
    raise KeyError(key)
