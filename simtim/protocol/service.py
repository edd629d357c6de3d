"""simtim/1 semantics without a transport: tokens, the method table, admin ops.

The ASGI server and the in-process driver both drive this one class, so the
two targets answer identically by construction and the server only adds
HTTP, WebSocket and the real before-send callback.  Check order for
``/v1/<method>`` (DESIGN): body is a JSON object (60003) -> method exists
(60009) -> token (6014) -> SPEC ORDER-1 inside the model.
"""

from __future__ import annotations

import hashlib
import hmac
import pickle
import secrets
import time
from collections.abc import Callable
from typing import Any

from simtim.callback_client import ask_blocking
from simtim.clock import Clock, FakeClock, SystemClock
from simtim.errors import Code, IMError
from simtim.ids import IdSource
from simtim.limits import TOKEN_RANDOM_BYTES, AppConfig
from simtim.model import METHODS, Event, World
from simtim.model.args import is_int
from simtim.model.entities import App
from simtim.model.lifecycle import DESTROYED, ONLINE, state_error
from simtim.protocol.envelope import Envelope, error, from_error, ok
from simtim.protocol.rest import RestFace
from simtim.protocol.web import WebFace

EventSink = Callable[[list[Event]], None]

#: configureApp's camelCase fields -> AppConfig fields
CONFIG_FIELDS: dict[str, str] = {
    "webInstances": "web_instances",
    "revokeWindowSeconds": "revoke_window_seconds",
    "messageMaxBytes": "message_max_bytes",
    "retentionSeconds": "retention_seconds",
    "maxMessagesPerConversation": "max_messages_per_conversation",
    "maxMessages": "max_messages",
    "conversationListMax": "conversation_list_max",
    "groupMessageRatePerSecond": "group_message_rate_per_second",
    "eventQueueMax": "event_queue_max",
    "chatroomMemberTips": "chatroom_member_tips",
    "maxMemberNum": "max_member_num",
    "historyBeforeJoin": "history_before_join",
    "restAdmins": "rest_admins",
    "restRatePerSecond": "rest_rate_per_second",
    "restAddMemberMax": "rest_add_member_max",
}
ADMIN_OPS = (
    "configureApp",
    "reset",
    "importAccount",
    "kick",
    "advanceClock",
    "snapshot",
    "setCallback",
    "recallMessage",
    "sendGroupSystemNotice",
    "addGroupMember",
)


def new_token() -> str:
    """>= 128 random bits in URL-safe characters (DESIGN: tokens)."""
    return secrets.token_urlsafe(TOKEN_RANDOM_BYTES)


def _bad(why: str) -> IMError:
    return IMError(Code.INVALID_PARAMETERS, why)


def _platform(body: dict[str, Any]) -> str | None:
    """The create/login ``platform`` (None = web); a non-string would crash the model's set lookup."""
    platform = body.get("platform")
    if platform is not None and not isinstance(platform, str):
        raise _bad("platform must be a string")
    return platform


def _config_value(name: str, value: object) -> Any:
    field = CONFIG_FIELDS[name]
    default = getattr(AppConfig(), field)
    if isinstance(default, bool):
        if not isinstance(value, bool):
            raise _bad(f"{name} must be a boolean")
    elif isinstance(default, int):
        if not is_int(value) or value < 0:
            raise _bad(f"{name} must be a non-negative integer")
    elif isinstance(default, dict):
        if not isinstance(value, dict) or not set(value) <= set(default):
            raise _bad(f"{name} must be an object keyed by group type")
        return {**default, **value}
    elif isinstance(default, list):
        if not isinstance(value, list) or not all(isinstance(v, str) and v for v in value):
            raise _bad(f"{name} must be a list of non-empty strings")
        return list(value)
    return value


class Service:
    """One simtim/1 endpoint's state: a World, tokens, clocks, callback URLs."""

    def __init__(
        self,
        *,
        fake_clock: bool = False,
        clock_start: int | None = None,
        seed: int | None = None,
        sink: EventSink | None = None,
        real_clock: Clock | None = None,
        app_defaults: dict[str, Any] | None = None,
    ) -> None:
        """``real_clock`` replaces the system clock of a real-clock service (a conformance shadow
        that follows a target's clock uses an ``OffsetClock``); ``app_defaults`` (AppConfig fields,
        e.g. ``simtim serve --max-messages``) apply to the dev app and to every new app."""
        self.fake_clock = fake_clock
        self.base_clock: Clock = (
            FakeClock(clock_start if clock_start is not None else int(time.time()))
            if fake_clock
            else (real_clock or SystemClock())
        )
        self.world = World(self.base_clock, IdSource(seed if seed is not None else secrets.randbits(32)))
        self.tokens: dict[str, int] = {}
        self.callback_urls: dict[int, str] = {}
        # without a server (a journal replay, tests) only the Web SDK face's sessions see events: a
        # kick ends a session's a2 there, which is state a replay must repeat
        self.sink: EventSink = sink or self._web_sessions_only
        self.started = time.time()
        # TIM's server API on the same world; events go through whatever sink is current (REST-9)
        self.rest = RestFace(self.world, lambda events: self.sink(events))
        # the official Web SDK's wire protocol on the same world
        self.web = WebFace(self.world, lambda events: self.sink(events), lambda: self.callback_urls)
        self.app_defaults = dict(app_defaults or {})
        for app in self.world.apps.values():
            self.world.configure_app(app.sdkappid, **self.app_defaults)

    # --- /v1 ---------------------------------------------------------------------------
    def handle(
        self, method: str, token: str | None, body: object, issued_token: str | None = None
    ) -> Envelope:
        """One ``POST /v1/<method>`` after the body was parsed.

        ``issued_token`` is the token a create or login-without-token hands out when the caller
        drew it already (a journaled server records it, so a replay issues the same one)."""
        if not isinstance(body, dict):
            return error(Code.REQUEST_INVALID, "the body must be a JSON object")
        if method == "create":
            return self._create(body, issued_token)
        if method not in METHODS:
            return error(Code.UNKNOWN_METHOD, f"unknown method {method!r}")
        if method == "login" and not token:
            return self._login_shortcut(body, issued_token)
        instance_id = self.tokens.get(token or "")
        if instance_id is None:
            return error(Code.NOT_LOGGED_IN, "missing or unknown token")
        if method == "sendMessage" and self.callback_urls and token:
            pending = self.callback_needed(token, body)
            if pending is not None:  # MSG-8 without an event loop: a blocking POST, 2 s limit
                return self.send_with_verdict(token, body, ask_blocking(*pending))
        try:
            outcome = self.world.call(instance_id, method, body)
        except IMError as exc:
            return from_error(exc)
        self.sink(outcome.events)
        return ok(outcome.data)

    def _web_sessions_only(self, events: list[Event]) -> None:
        self.web.take(events)

    def restore(
        self,
        base_clock: Clock,
        world: World,
        tokens: dict[str, int],
        callback_urls: dict[int, str],
        web_state: tuple[Any, ...] | None = None,
    ) -> None:
        """Take over a state loaded from a snapshot (``simtim.durable``); the REST and Web SDK faces
        follow it (the Web SDK face with its sessions, when the snapshot has them)."""
        self.base_clock = base_clock
        self.world = world
        self.tokens = tokens
        self.callback_urls = callback_urls
        self.rest = RestFace(self.world, lambda events: self.sink(events))
        self.web = WebFace(self.world, lambda events: self.sink(events), lambda: self.callback_urls)
        if web_state is not None:
            self.web.restore(web_state)

    def instance_of(self, token: str) -> int | None:
        return self.tokens.get(token)

    def _create(self, body: dict[str, Any], issued_token: str | None) -> Envelope:
        try:
            inst = self.world.create_instance(body.get("SDKAppID"), _platform(body))
        except IMError as exc:
            return from_error(exc)
        token = issued_token or new_token()
        self.tokens[token] = inst.id
        return ok({"token": token})

    def _login_shortcut(self, body: dict[str, Any], issued_token: str | None) -> Envelope:
        """``POST /v1/login`` with SDKAppID and no token: create + login, or nothing at all."""
        try:
            inst = self.world.create_instance(body.get("SDKAppID"), _platform(body))
        except IMError as exc:
            return from_error(exc)
        try:
            outcome = self.world.call(inst.id, "login", body)
        except IMError as exc:
            self.world.forget_instance(inst.id)  # a refused call leaves nothing behind (ORDER-1)
            return from_error(exc)
        token = issued_token or new_token()
        self.tokens[token] = inst.id
        self.sink(outcome.events)
        return ok({"token": token, "repeatLogin": False})

    # --- before-send callback (MSG-8) for servers with an HTTP callback URL ------------------
    def callback_needed(self, token: str | None, body: object) -> tuple[str, dict[str, Any]] | None:
        """(url, REST callback body) when this sendMessage must ask the app backend first."""
        instance_id = self.tokens.get(token or "")
        if instance_id is None or not isinstance(body, dict):
            return None
        inst = self.world.instances.get(instance_id)
        if inst is None or inst.sdkappid not in self.callback_urls:
            return None
        try:
            request = self.world.callback_request(inst, body)
        except IMError:
            return None  # the real call will refuse with the right code
        if request is None:
            return None
        return self.callback_urls[inst.sdkappid], request

    def send_with_verdict(self, token: str, body: dict[str, Any], verdict: object) -> Envelope:
        instance_id = self.tokens.get(token)
        if instance_id is None:
            return error(Code.NOT_LOGGED_IN)
        inst = self.world.instances[instance_id]
        try:
            if inst.state is DESTROYED:
                raise state_error(DESTROYED)  # INST-1
            outcome = self.world.send_message(inst, body, verdict)
        except IMError as exc:
            return from_error(exc)
        self.sink(outcome.events)
        return ok(outcome.data)

    # --- clock ------------------------------------------------------------------------------
    def tick(self) -> None:
        """Apply UserSig expiries (INST-5): every clock step, and every second on a real clock."""
        events = self.world.sweep()
        if events:
            self.sink(events)

    # --- /admin/v1 --------------------------------------------------------------------------
    def admin(self, op: str, body: object) -> Envelope:
        if op not in ADMIN_OPS:
            return error(Code.UNKNOWN_METHOD, f"unknown admin op {op!r}")
        if not isinstance(body, dict):
            return error(Code.REQUEST_INVALID, "the body must be a JSON object")
        try:
            handler: Callable[[dict[str, Any]], Any] = getattr(self, "_admin_" + op)
            return ok(handler(body))
        except IMError as exc:
            return from_error(exc)

    def _app_of(self, body: dict[str, Any]) -> App:
        sdkappid = body.get("SDKAppID")
        if not is_int(sdkappid):
            raise _bad("SDKAppID must be an integer")
        app = self.world.apps.get(sdkappid)
        if app is None:
            raise IMError(Code.SDKAPPID_NOT_FOUND)
        return app

    @staticmethod
    def app_view(app: App) -> dict[str, Any]:
        view: dict[str, Any] = {"SDKAppID": app.sdkappid, "disabled": app.disabled}
        for camel, field in CONFIG_FIELDS.items():
            view[camel] = getattr(app.config, field)
        return view

    def _admin_configureApp(self, body: dict[str, Any]) -> dict[str, Any]:
        sdkappid = body.get("SDKAppID")
        if not is_int(sdkappid) or sdkappid <= 0:
            raise _bad("SDKAppID must be a positive integer")
        secret_key = body.get("secretKey")
        if secret_key is not None and (not isinstance(secret_key, str) or not secret_key):
            raise _bad("secretKey must be a non-empty string")
        if sdkappid not in self.world.apps and secret_key is None:
            raise _bad("secretKey is required for a new app")
        disabled = body.get("disabled")
        if disabled is not None and not isinstance(disabled, bool):
            raise _bad("disabled must be a boolean")
        config = {CONFIG_FIELDS[k]: _config_value(k, v) for k, v in body.items() if k in CONFIG_FIELDS}
        clock = None
        if sdkappid not in self.world.apps:
            config = {**self.app_defaults, **config}
            if self.fake_clock:
                clock = FakeClock(self.base_clock.now())  # each app steps alone (advanceClock)
        app = self.world.configure_app(sdkappid, secret_key, disabled=disabled, clock=clock, **config)
        return {"app": self.app_view(app)}

    def _admin_reset(self, body: dict[str, Any]) -> dict[str, Any]:
        self.world.reset_state()
        self.tokens.clear()
        self.web.reset()
        return {}

    def _admin_importAccount(self, body: dict[str, Any]) -> dict[str, Any]:
        app = self._app_of(body)
        nick, avatar = body.get("nick", ""), body.get("avatar", "")
        if not isinstance(nick, str) or not isinstance(avatar, str):
            raise _bad("nick and avatar must be strings")
        account = self.world.import_account(app.sdkappid, body.get("userID"), nick, avatar)  # type: ignore[arg-type]
        return {"profile": account.profile()}

    def _admin_kick(self, body: dict[str, Any]) -> dict[str, Any]:
        app = self._app_of(body)
        user_id = body.get("userID")
        if not isinstance(user_id, str):
            raise _bad("userID must be a string")
        self.sink(self.world.admin_kick(app.sdkappid, user_id))
        return {}

    def _admin_advanceClock(self, body: dict[str, Any]) -> dict[str, Any]:
        if not self.fake_clock:
            raise IMError(Code.UNKNOWN_METHOD, "advanceClock needs a server started with --fake-clock")
        seconds = body.get("seconds")
        if not is_int(seconds) or not 0 <= seconds <= 2**32:  # bounded: times must stay JSON-encodable
            raise _bad("seconds must be an integer from 0 to 2**32")
        if body.get("SDKAppID") is not None:
            clocks = [self._app_of(body).clock]
        else:
            clocks = [self.base_clock] + [app.clock for app in self.world.apps.values()]
        for clock in {id(c): c for c in clocks}.values():
            assert isinstance(clock, FakeClock)
            clock.advance(seconds)
        self.tick()
        return {"now": clocks[0].now()}

    def _admin_snapshot(self, body: dict[str, Any]) -> dict[str, Any]:
        world = self.world
        counts = {
            "apps": len(world.apps),
            "accounts": sum(len(a.accounts) for a in world.apps.values()),
            "instances": len(world.instances),
            "online": sum(1 for i in world.instances.values() if i.state is ONLINE),
            "messages": sum(len(a.messages) for a in world.apps.values()),
            "groups": sum(len(a.groups) for a in world.apps.values()),
            "historyMessages": sum(a.held for a in world.apps.values()),  # PAGE-2: in history now
            "evictedByRetention": sum(a.evicted["retention"] for a in world.apps.values()),
            "evictedByCap": sum(a.evicted["cap"] for a in world.apps.values()),
        }
        data: dict[str, Any] = {
            "now": self.base_clock.now(),
            "fakeClock": self.fake_clock,
            "counts": counts,
            "web": self.web.stats(),  # unknown Web SDK commands are counted, not silent
        }
        if body.get("SDKAppID") is not None:
            data["now"] = self._app_of(body).clock.now()
        if body.get("digest") is True:  # tests compare it around refused calls
            data["digest"] = hashlib.sha256(
                pickle.dumps((world.apps, world.instances, self.tokens))
            ).hexdigest()
        return data

    def _admin_setCallback(self, body: dict[str, Any]) -> dict[str, Any]:
        app = self._app_of(body)
        url = body.get("url")
        if url is None:
            self.callback_urls.pop(app.sdkappid, None)
        elif isinstance(url, str) and url.startswith(("http://", "https://")):
            self.callback_urls[app.sdkappid] = url
        else:
            raise _bad("url must be an http(s) URL or null")
        return {}

    def _admin_recallMessage(self, body: dict[str, Any]) -> dict[str, Any]:
        app = self._app_of(body)
        message = body.get("message")
        if not isinstance(message, dict) or not isinstance(message.get("ID"), str):
            raise _bad("message.ID must be a string")
        outcome = self.world.admin_recall(app.sdkappid, message["ID"])
        self.sink(outcome.events)
        return outcome.data

    def _admin_sendGroupSystemNotice(self, body: dict[str, Any]) -> dict[str, Any]:
        app = self._app_of(body)
        outcome = self.world.admin_send_group_system_notice(
            app.sdkappid,
            body.get("groupID"),  # type: ignore[arg-type]
            body.get("content"),  # type: ignore[arg-type]
            body.get("userIDList"),
        )
        self.sink(outcome.events)
        return outcome.data

    def _admin_addGroupMember(self, body: dict[str, Any]) -> dict[str, Any]:
        app = self._app_of(body)
        outcome = self.world.admin_add_group_member(
            app.sdkappid,
            body.get("groupID"),  # type: ignore[arg-type]
            body.get("userIDList"),  # type: ignore[arg-type]
        )
        self.sink(outcome.events)
        return outcome.data


def admin_key_matches(expected: str | None, given: str | None) -> bool:
    """Constant-time comparison of the admin key (DESIGN: security)."""
    if not expected or given is None:
        return False
    return hmac.compare_digest(expected.encode(), given.encode())
