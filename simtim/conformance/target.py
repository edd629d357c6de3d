"""What a target can do, probed once at start: capabilities, its clock, the app to use.

Capabilities (DESIGN "Targets, capabilities and evidence"):

- ``admin``: the simtim admin API answers (``snapshot``);
- ``fake_clock``: its clock moves only when told (``advanceClock``), so time rules are exact;
- ``app_config``: the harness may create apps and change their settings (cells get own apps);
- ``callback``: a scripted before-send callback on this machine can be set and reached (MSG-8);
- ``sdk``: the harness can drive its client side (simtim/1 today); a server reached only through
  TIM's REST API has none, and every SDK step is skipped with that reason;
- ``rest``: TIM's REST API v4 answers as the App admin (``timrest+http://`` or ``--rest``): the REST
  rules run, accounts are imported through it, and REST steps stand in for admin ones (INST-6 kick,
  REV-4 recall) on servers without the simtim admin API.

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
from simtim.driver.timrest import DEFAULT_ADMIN, RestCaller, RestFactory
from simtim.errors import Code
from simtim.model.core import DEV_SDKAPPID, DEV_SECRET_KEY
from simtim.usersig import gen_usersig

CAPABILITY_NAMES = ("admin", "fake_clock", "app_config", "callback", "sdk", "rest")


@dataclass(frozen=True)
class Capabilities:
    admin: bool = False
    fake_clock: bool = False
    app_config: bool = False
    callback: bool = False
    sdk: bool = True
    rest: bool = False

    @classmethod
    def all(cls) -> Capabilities:
        return cls(True, True, True, True, True, True)

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
    server: str = ""  # what the target says it runs (e.g. "Synapse 1.163.2"), when its admin channel tells

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
    rest: RestFactory | None = None,
    admin_identifier: str = DEFAULT_ADMIN,
) -> TargetInfo:
    """Ask the admin API first; without one, prove the app key with one login (when ``login``).
    With a REST channel, prove it with one ``account_check``; a target that answers REST but no
    client protocol is checked on what REST reaches (``sdk`` no).

    ``without`` masks capabilities the target has, so a capable target can stand in for a poorer one.
    """
    app = app or AppCredentials()
    masked = set(without)
    channel = rest(app.sdkappid, app.secret_key, admin_identifier, time.time) if rest is not None else None
    try:
        has_rest = (
            channel is not None and "rest" not in masked and _rest_answers(channel, app, admin_identifier)
        )
        reply = driver.admin("snapshot", {})
        if reply.code == Code.HTTP_REQUEST_FAILED:
            if not has_rest or channel is None:
                raise TargetProblem(f"the target cannot be reached: {reply.message}")
            skew = _skew_from_rest(channel) if login else 0.0
            caps = Capabilities(sdk=False, rest=True).without(masked)
            return TargetInfo(caps, int(time.time() + skew), app, skew)
    finally:
        if channel is not None:
            channel.close()
    if reply.ok and "admin" in masked:
        fake = bool(reply.data.get("fakeClock"))
        info = TargetInfo(Capabilities(fake_clock=fake, rest=has_rest).without(masked), int(time.time()), app)
        if login:
            info.skew = 0.0 if fake else _skew_from_a_message(driver, app)
            info.now = int(reply.data.get("now", time.time())) if fake else int(time.time() + info.skew)
        return info
    if reply.ok:
        fake = bool(reply.data.get("fakeClock"))
        now = int(reply.data.get("now", time.time()))
        # a driver's admin channel may lack app settings or callbacks (Matrix): it says so in the reply
        caps = Capabilities(
            admin=True,
            fake_clock=fake,
            app_config=bool(reply.data.get("appConfig", True)),
            callback=loopback and bool(reply.data.get("callback", True)),
            rest=has_rest,
        ).without(masked)
        server = str(reply.data.get("server") or "")
        return TargetInfo(caps, now, app, 0.0 if fake else now - time.time(), server)
    info = TargetInfo(Capabilities(rest=has_rest).without(masked), int(time.time()), app)
    if login and info.capabilities.sdk:
        info.skew = _skew_from_a_message(driver, app)
        info.now = int(time.time() + info.skew)
    return info


def _rest_answers(channel: RestCaller, app: AppCredentials, identifier: str) -> bool:
    """One ``account_check`` as the admin: True if REST v4 answers; a key or admin problem is said
    once (TargetProblem); no REST face at all (unreachable, unknown command) is just "no"."""
    reply = channel.call("account_check", {"CheckItem": [{"UserID": identifier}]})
    if reply.ok:
        return True
    if reply.code in (Code.HTTP_REQUEST_FAILED, Code.UNKNOWN_METHOD):
        return False
    if reply.code == Code.USERSIG_VERIFY_FAILED:
        raise TargetProblem(
            f"REST: the secret key does not match this SDKAppID ({app.sdkappid}): {reply.code} "
            "(give the app's key with --secret-key or SIMTIM_SECRET_KEY)"
        )
    if reply.code == Code.REST_NEEDS_ADMIN:
        raise TargetProblem(
            f"REST: {identifier!r} is not an App admin of {app.sdkappid} ({reply.code}); give --admin-identifier"
        )
    raise TargetProblem(f"REST: account_check failed with {reply.code}: {reply.message}")


def _skew_from_rest(channel: RestCaller) -> float:
    """The server time of a message sent to a throw-away account (then deleted), as the SDK probe does."""
    user = f"probe_{secrets.token_hex(6)}"
    channel.call("account_import", {"UserID": user})
    try:
        before = time.time()
        sent = channel.call(
            "sendmsg",
            {
                "To_Account": user,
                "MsgRandom": secrets.randbelow(2**32),
                "MsgBody": [{"MsgType": "TIMTextElem", "MsgContent": {"Text": "clock probe"}}],
            },
        )
        after = time.time()
        server_time = sent.data.get("MsgTime") if sent.ok else None
        if not isinstance(server_time, int):
            return 0.0
        return server_time + 0.5 - (before + after) / 2
    finally:
        channel.call("account_delete", {"DeleteItem": [{"UserID": user}]})


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
            f"the secret key does not match this SDKAppID ({app.sdkappid}): every login fails with {login.code} "
            "(give the app's key with --secret-key or SIMTIM_SECRET_KEY)"
        )
    if login.code == Code.SDKAPPID_NOT_FOUND:
        raise TargetProblem(
            f"the target does not know SDKAppID {app.sdkappid} ({login.code}); give --sdkappid"
        )
    raise TargetProblem(f"a probe login failed with {login.code}: {login.message}")
