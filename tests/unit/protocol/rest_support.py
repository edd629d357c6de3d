"""A Service with its REST face and SDK users side by side, for the REST v4 tests (REST-9: one world)."""

from __future__ import annotations

import hashlib
import pickle
from typing import Any

import orjson

from simtim.model.core import DEV_SDKAPPID, DEV_SECRET_KEY
from simtim.model.events import Event
from simtim.protocol.service import Service
from simtim.usersig import gen_usersig

START = 1_700_000_000
ADMIN = "administrator"


class RestWorld:
    """``rest(command, body)`` as the dev app's admin; ``login(user)`` an SDK user whose events are kept."""

    def __init__(self) -> None:
        self.events: list[Event] = []
        self.service = Service(fake_clock=True, clock_start=START, seed=5, sink=self.events.extend)
        self.tokens: dict[str, str] = {}
        self.wall = 0.0
        self.service.rest.clock = lambda: self.wall  # rate limits count these seconds

    @property
    def world(self) -> Any:
        return self.service.world

    @property
    def app(self) -> Any:
        return self.world.apps[DEV_SDKAPPID]

    def now(self) -> int:
        return int(self.app.clock.now())

    def sig(
        self, user: str = ADMIN, lifetime: int = 86400, key: str = DEV_SECRET_KEY, app: int = DEV_SDKAPPID
    ) -> str:
        return gen_usersig(app, key, user, lifetime, now=self.now())

    def query(self, **override: Any) -> str:
        parts = {
            "sdkappid": str(DEV_SDKAPPID),
            "identifier": ADMIN,
            "usersig": self.sig(),
            "random": "1",
            "contenttype": "json",
            **{k: str(v) for k, v in override.items()},
        }
        return "&".join(f"{k}={v}" for k, v in parts.items() if v != "None")

    def raw(self, path: str, body: bytes, method: str = "POST", query: str | None = None) -> dict[str, Any]:
        return self.service.rest.handle(method, path, query if query is not None else self.query(), body)

    def rest(self, command: str, body: Any = None, **query: Any) -> dict[str, Any]:
        service = {
            "account_import": "im_open_login_svc",
            "multiaccount_import": "im_open_login_svc",
            "account_check": "im_open_login_svc",
            "account_delete": "im_open_login_svc",
            "kick": "im_open_login_svc",
            "portrait_set": "profile",
            "portrait_get": "profile",
        }.get(command, "openim" if command in OPENIM else "group_open_http_svc")
        payload = b"" if body is None else orjson.dumps(body)
        return self.raw(f"/v4/{service}/{command}", payload, query=self.query(**query) if query else None)

    def ok(self, command: str, body: Any = None) -> dict[str, Any]:
        reply = self.rest(command, body)
        assert reply["ActionStatus"] == "OK" and reply["ErrorCode"] == 0, reply
        return reply

    def code(self, command: str, body: Any = None) -> int:
        reply = self.rest(command, body)
        assert (reply["ActionStatus"] == "OK") == (reply["ErrorCode"] == 0), reply
        return int(reply["ErrorCode"])

    # --- SDK users ------------------------------------------------------------------------------
    def login(self, user: str, platform: str = "web") -> str:
        reply = self.service.handle(
            "login",
            None,
            {"SDKAppID": DEV_SDKAPPID, "userID": user, "userSig": self.sig(user), "platform": platform},
        )
        assert reply["code"] == 0, reply
        token = str(reply["data"]["token"])
        self.tokens[user if user not in self.tokens else f"{user}/{len(self.tokens)}"] = token
        return token

    def sdk(self, token: str, method: str, body: dict[str, Any] | None = None) -> dict[str, Any]:
        return self.service.handle(method, token, body or {})

    def taken(self) -> list[Event]:
        events, self.events[:] = list(self.events), []
        return events

    def names_for(self, token: str, events: list[Event]) -> list[str]:
        instance = self.service.tokens[token]
        return [e.name for e in events if e.instance == instance]

    def digest(self) -> str:
        world = self.world
        return hashlib.sha256(pickle.dumps((world.apps, world.instances))).hexdigest()


OPENIM = {
    "sendmsg",
    "batchsendmsg",
    "importmsg",
    "admin_getroammsg",
    "admin_msgwithdraw",
    "admin_set_msg_read",
    "get_c2c_unread_msg_num",
    "query_online_status",
    "querystate",
}


def text(value: str) -> list[dict[str, Any]]:
    return [{"MsgType": "TIMTextElem", "MsgContent": {"Text": value}}]
