"""What a target can do, probed once at start: capabilities, its clock, the app to use.

Capabilities (DESIGN "Targets, capabilities and evidence"):

- ``admin``: the simtim admin API answers (``snapshot``);
- ``fake_clock``: its clock moves only when told (``advanceClock``), so time rules are exact;
- ``app_config``: the harness may create apps and change their settings (cells get own apps);
- ``callback``: a scripted before-send callback on this machine can be set and reached (MSG-8).

Without ``admin`` the user names the target's app (``--sdkappid``/``--secret-key``, the dev app by
default); the probe logs one throw-away account in, which proves the key and measures the clock
skew between the target and this machine from a message's server time.
"""

from __future__ import annotations

import secrets
import time
from collections.abc import Iterable
from dataclasses import dataclass, fields, replace

from simtim.driver.base import Call, Driver, Reply
from simtim.errors import Code
from simtim.model.core import DEV_SDKAPPID, DEV_SECRET_KEY
from simtim.usersig import gen_usersig

CAPABILITY_NAMES = ("admin", "fake_clock", "app_config", "callback")


@dataclass(frozen=True)
class Capabilities:
    admin: bool = False
    fake_clock: bool = False
    app_config: bool = False
    callback: bool = False

    @classmethod
    def all(cls) -> Capabilities:
        return cls(True, True, True, True)

    def has(self, name: str) -> bool:
        return bool(getattr(self, name, False))

    def missing(self, names: Iterable[str]) -> list[str]:
        return [name for name in names if not self.has(name)]

    def without(self, names: Iterable[str]) -> Capabilities:
        """These capabilities masked off (tests and ``--without`` run a capable target as a poorer one)."""
        masked = set(names)
        unknown = masked - set(CAPABILITY_NAMES)
        if unknown:
            raise ValueError(f"unknown capabilities {sorted(unknown)}; known: {', '.join(CAPABILITY_NAMES)}")
        return replace(self, **{name: False for name in masked})

    def describe(self) -> str:
        return ", ".join(
            f"{f.name.replace('_', ' ')} {'yes' if self.has(f.name) else 'no'}" for f in fields(self)
        )


@dataclass(frozen=True)
class AppCredentials:
    sdkappid: int = DEV_SDKAPPID
    secret_key: str = DEV_SECRET_KEY


@dataclass
class TargetInfo:
    capabilities: Capabilities
    now: int
    app: AppCredentials = AppCredentials()
    skew: float = 0.0  # target clock minus this machine's, seconds

    @property
    def admin(self) -> bool:
        return self.capabilities.admin

    @property
    def fake_clock(self) -> bool:
        return self.capabilities.fake_clock


class TargetProblem(Exception):
    """The target cannot be checked at all (unreachable, wrong key): said once, exit 1."""


def probe(
    driver: Driver,
    *,
    loopback: bool = True,
    app: AppCredentials | None = None,
    login: bool = True,
    without: Iterable[str] = (),
) -> TargetInfo:
    """Ask the admin API first; without one, prove the app key with one login (when ``login``).

    ``without`` masks capabilities the target has, so a capable target can stand in for a poorer one.
    """
    app = app or AppCredentials()
    masked = set(without)
    reply = driver.admin("snapshot", {})
    if reply.code == Code.HTTP_REQUEST_FAILED:
        raise TargetProblem(f"the target cannot be reached: {reply.message}")
    if reply.ok and "admin" in masked:
        fake = bool(reply.data.get("fakeClock"))
        info = TargetInfo(Capabilities(fake_clock=fake).without(masked), int(time.time()), app)
        if login:
            info.skew = 0.0 if fake else _skew_from_a_message(driver, app)
            info.now = int(reply.data.get("now", time.time())) if fake else int(time.time() + info.skew)
        return info
    if reply.ok:
        fake = bool(reply.data.get("fakeClock"))
        now = int(reply.data.get("now", time.time()))
        caps = Capabilities(admin=True, fake_clock=fake, app_config=True, callback=loopback).without(masked)
        return TargetInfo(caps, now, app, 0.0 if fake else now - time.time())
    info = TargetInfo(Capabilities(), int(time.time()), app)
    if login:
        info.skew = _skew_from_a_message(driver, app)
        info.now = int(time.time() + info.skew)
    return info


def _skew_from_a_message(driver: Driver, app: AppCredentials) -> float:
    """Log a throw-away account in and send it a message to itself: its server ``time`` gives
    the skew (to the second, which is all CLOCK-1 has), and the login proves the key."""
    user = f"probe_{secrets.token_hex(6)}"
    sig = gen_usersig(app.sdkappid, app.secret_key, user, 3600, now=int(time.time()))
    login = driver.call(Call("login", {"SDKAppID": app.sdkappid, "userID": user, "userSig": sig}))
    _refuse(login, app)
    session = str(login.data.get("session", ""))
    try:
        before = time.time()
        sent = driver.call(
            Call(
                "sendMessage",
                {
                    "message": {
                        "to": user,
                        "conversationType": "C2C",
                        "type": "TIMTextElem",
                        "payload": {"text": "clock probe"},
                    }
                },
                session,
            )
        )
        after = time.time()
        server_time = sent.data.get("message", {}).get("time") if sent.ok else None
        if not isinstance(server_time, int):
            return 0.0
        return server_time + 0.5 - (before + after) / 2  # integer seconds: the middle of the second
    finally:
        driver.call(Call("logout", {}, session))
        driver.call(Call("destroy", {}, session))


def _refuse(login: Reply, app: AppCredentials) -> None:
    if login.ok:
        return
    if login.code == Code.HTTP_REQUEST_FAILED:
        raise TargetProblem(f"the target cannot be reached: {login.message}")
    if login.code == Code.USERSIG_VERIFY_FAILED:
        raise TargetProblem(
            f"the secret key does not match this SDKAppID ({app.sdkappid}): every login fails with 70009 "
            "(give the app's key with --secret-key or SIMTIM_SECRET_KEY)"
        )
    if login.code == Code.SDKAPPID_NOT_FOUND:
        raise TargetProblem(f"the target does not know SDKAppID {app.sdkappid} (70020); give --sdkappid")
    raise TargetProblem(f"a probe login failed with {login.code}: {login.message}")
