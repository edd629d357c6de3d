"""The world's state every component shares: apps, accounts, instances, clock, IDs.

Rules of the model (DESIGN rule 1): no I/O, no wall clock, no threads.  An
operation either raises ``IMError`` before touching state (ORDER-1) or mutates
and returns an ``Outcome`` with TIM's reply data and the events it caused.
``WorldState`` holds the nouns and the app/account/instance bookkeeping; the
components in ``world.py``'s map hold the rules.
"""

from __future__ import annotations

import heapq
from collections.abc import Callable, Mapping
from dataclasses import fields
from typing import Any

from simtim.clock import Clock
from simtim.errors import Code, IMError
from simtim.ids import IdSource
from simtim.limits import NICK_MAX_BYTES, PLATFORMS, USER_ID_MAX_BYTES, WEB_PLATFORMS, AppConfig
from simtim.model import retention
from simtim.model.args import is_int
from simtim.model.entities import Account, App, Instance
from simtim.model.lifecycle import ONLINE

#: Public sample key of the official TLSSigAPIv2 README (DESIGN: the dev app).
DEV_SDKAPPID = 1400000000
DEV_SECRET_KEY = "5bd2850fff3ecb11d7c805251c51ee463a25727bddc2385f3fa8bfee1bb93b5e"

#: A before-send callback as the model sees it: the REST callback body in,
#: the app backend's JSON reply out, or ``None`` for timeout/error (MSG-8).
BeforeSend = Callable[[dict[str, Any]], "Mapping[str, Any] | None"]


def _config_with(base: AppConfig, changes: dict[str, Any]) -> AppConfig:
    """``base`` with ``changes`` applied, each value of its setting's type (6017 otherwise).

    Booleans stay booleans, counts are non-negative integers, per-group-type tables
    keep their keys (a partial table keeps the other types' values) and hold booleans
    or, for limits, positive integers or null.
    """
    if not changes:
        return base
    known = {f.name for f in fields(base)}
    checked: dict[str, Any] = {}
    for name, value in changes.items():
        current = getattr(base, name) if name in known else None
        if name not in known:
            ok = False
        elif isinstance(current, bool):
            ok = isinstance(value, bool)
        elif isinstance(current, int):
            ok = is_int(value) and value >= 0
        elif isinstance(current, dict):
            flags = all(isinstance(v, bool) for v in current.values())
            ok = (
                isinstance(value, dict)
                and set(value) <= set(current)
                and all(
                    isinstance(v, bool) if flags else v is None or (is_int(v) and v > 0)
                    for v in value.values()
                )
            )
            value = {**current, **value} if ok else value
        elif isinstance(current, list):
            ok = isinstance(value, list) and all(isinstance(v, str) and v for v in value)
            value = list(value) if ok else value
        else:
            ok = current is None or isinstance(value, type(current))
        if not ok:
            raise IMError(Code.INVALID_PARAMETERS, f"invalid config field {name}={value!r}")
        checked[name] = value
    return base.updated(checked)


class WorldState:
    """Apps (with their accounts, threads, groups), instances, the clock and the ID source.

    The clock is required: a model that silently fell back to the wall clock would make a
    seeded run irreproducible (DESIGN rule 1).
    """

    def __init__(self, clock: Clock, ids: IdSource | None = None, *, dev_app: bool = True) -> None:
        if not callable(getattr(clock, "now", None)):
            raise TypeError("the model needs a clock with now(): FakeClock() or SystemClock()")
        self.clock: Clock = clock
        self.ids = ids if ids is not None else IdSource(0)
        self.apps: dict[int, App] = {}
        self.instances: dict[int, Instance] = {}
        self._last_instance_id = 0
        self._expiry: dict[int, list[tuple[int, int, int]]] = {}  # INST-5 heaps per app
        self.before_send: dict[int, BeforeSend] = {}
        if dev_app:
            self.configure_app(DEV_SDKAPPID, DEV_SECRET_KEY)

    # --- apps and accounts -------------------------------------------------
    def configure_app(
        self,
        sdkappid: int,
        secret_key: str | None = None,
        *,
        disabled: bool | None = None,
        clock: Clock | None = None,
        **config: Any,
    ) -> App:
        """Create or update an app; omitted settings keep their values.

        Everything is checked before anything changes (ORDER-1): a refused call
        leaves no half-made app, key or setting behind.
        """
        if not is_int(sdkappid) or sdkappid <= 0:
            raise IMError(Code.INVALID_PARAMETERS, "SDKAppID must be a positive integer")
        if secret_key is not None and not isinstance(secret_key, str):
            raise IMError(Code.INVALID_PARAMETERS, "secretKey must be a string")
        if disabled is not None and not isinstance(disabled, bool):
            raise IMError(Code.INVALID_PARAMETERS, "disabled must be a boolean")
        if clock is not None and not callable(getattr(clock, "now", None)):
            raise IMError(Code.INVALID_PARAMETERS, "clock must have now()")
        app = self.apps.get(sdkappid)
        if app is None and not secret_key:
            raise IMError(Code.INVALID_PARAMETERS, "secretKey is required for a new app")
        new_config = _config_with(app.config if app is not None else AppConfig(), config)
        if app is None:
            app = App(sdkappid, secret_key or "", new_config, clock if clock is not None else self.clock)
            self.apps[sdkappid] = app
            self._expiry[sdkappid] = []
        elif secret_key:
            app.secret_key = secret_key
        if clock is not None:
            app.clock = clock
        app.config = new_config
        if disabled is not None:
            app.disabled = disabled  # AUTH-4
        return app

    def import_account(self, sdkappid: int, user_id: str, nick: str = "", avatar: str = "") -> Account:
        """AUTH-5: an account exists once imported (or once it has logged in)."""
        app = self.app_of(sdkappid)
        self.check_user_id(user_id)
        if (
            not isinstance(nick, str)
            or not isinstance(avatar, str)
            or len(nick.encode("utf-8", "surrogatepass")) > NICK_MAX_BYTES
        ):  # PROF-1
            raise IMError(Code.INVALID_PARAMETERS, "nick and avatar must be strings (nick <= 500 bytes)")
        account = app.accounts.get(user_id)
        if account is None:
            account = app.accounts[user_id] = Account(user_id)
        if nick:
            account.nick = nick
        if avatar:
            account.avatar = avatar
        return account

    def set_before_send(self, sdkappid: int, callback: BeforeSend | None) -> None:
        """MSG-8: the model takes the backend's verdict as input, never does I/O."""
        self.app_of(sdkappid)
        if callback is None:
            self.before_send.pop(sdkappid, None)
        else:
            self.before_send[sdkappid] = callback

    def app_of(self, sdkappid: int) -> App:
        if not is_int(sdkappid):
            raise IMError(Code.INVALID_PARAMETERS, "SDKAppID must be an integer")
        app = self.apps.get(sdkappid)
        if app is None:
            raise IMError(Code.SDKAPPID_NOT_FOUND, rule="AUTH-2")
        return app

    @staticmethod
    def check_user_id(user_id: object) -> str:
        """AUTH-3: 1..32 bytes of printable ASCII."""
        if (
            not isinstance(user_id, str)
            or not user_id
            or len(user_id) > USER_ID_MAX_BYTES
            or not all(" " <= ch <= "~" for ch in user_id)
        ):
            raise IMError(Code.INVALID_USER_ID, rule="AUTH-3")
        return user_id

    # --- instances -----------------------------------------------------------
    def create_instance(self, sdkappid: object, platform: object = "web") -> Instance:
        """TIM.create: a new page's instance (INST-1). Unknown apps fail at login (AUTH-2)."""
        if not is_int(sdkappid) or sdkappid <= 0:
            raise IMError(Code.INVALID_PARAMETERS, "SDKAppID must be a positive integer", rule="INST-1")
        if platform is None:
            platform = "web"
        if not isinstance(platform, str) or platform not in PLATFORMS:
            raise IMError(Code.INVALID_PARAMETERS, f"unknown platform {platform!r}", rule="INST-4")
        self._last_instance_id += 1
        inst = Instance(self._last_instance_id, int(sdkappid), str(platform))
        self.instances[inst.id] = inst
        return inst

    def forget_instance(self, instance_id: int) -> None:
        """Drop an instance nobody ever saw (the server's login shortcut that failed)."""
        inst = self.instances.pop(instance_id, None)
        if inst is not None and inst.state is ONLINE:
            raise RuntimeError("an online instance cannot be forgotten")

    def reset_state(self) -> None:
        """Admin ``reset``: drop accounts, messages, groups and instances; keep app configs and clocks."""
        for sdkappid, app in list(self.apps.items()):
            fresh = App(sdkappid, app.secret_key, app.config, app.clock)
            fresh.disabled = app.disabled
            self.apps[sdkappid] = fresh
            self._expiry[sdkappid] = []
        self.instances.clear()

    def instance(self, instance_id: int) -> Instance:
        exact = instance_id.__class__ is int  # a server's own ints: no is_int call on the hot path
        inst = self.instances.get(instance_id) if exact or is_int(instance_id) else None  # not True for 1
        if inst is None:
            raise IMError(Code.NOT_LOGGED_IN, "unknown instance", rule="INST-1")
        return inst

    def schedule_expiry(self, app: App, inst: Instance) -> None:
        heapq.heappush(self._expiry[app.sdkappid], (inst.sig_expires_at, inst.login_order, inst.id))

    def expiries_due(self) -> bool:
        """INST-5 and PAGE-2: whether a sweep now would pop an expiry or drop a message past
        retention (a read: a journaled server records a sweep only when it has work)."""
        for app in self.apps.values():
            heap = self._expiry.get(app.sdkappid)
            if heap and heap[0][0] < app.clock.now():
                return True
            if retention.due(app):
                return True
        return False

    def due_expiries(self, app: App) -> list[Instance]:
        """INST-5: instances whose UserSig ran out, popped from the app's heap."""
        heap = self._expiry[app.sdkappid]
        now = app.clock.now()
        due: list[Instance] = []
        while heap and heap[0][0] < now:
            expires_at, login_order, inst_id = heapq.heappop(heap)
            inst = self.instances.get(inst_id)
            if (
                inst is not None
                and inst.state is ONLINE
                and inst.login_order == login_order
                and inst.sig_expires_at == expires_at
            ):
                due.append(inst)
        return due

    @staticmethod
    def is_web(inst: Instance) -> bool:
        return inst.platform in WEB_PLATFORMS


__all__ = ["DEV_SDKAPPID", "DEV_SECRET_KEY", "BeforeSend", "WorldState"]
