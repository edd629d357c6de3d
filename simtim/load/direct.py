"""A cell without a shadow model (``--conformance off``): same interface, no comparison."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from simtim.conformance.cell import SIG_LIFETIME, StepResult, TargetInfo
from simtim.conformance.check import Mismatch, MismatchKind
from simtim.driver.base import Call, Driver, Reply
from simtim.errors import Code
from simtim.usersig import gen_usersig


class DirectCell:
    """Drives the target only; pushes are collected for latency, nothing is compared."""

    def __init__(
        self,
        target: Driver,
        info: TargetInfo,
        *,
        prefix: str,
        sdkappid: int | None = None,
        config: Mapping[str, Any] | None = None,
        **_: Any,
    ) -> None:
        self.target = target
        self.info = info
        self.prefix = prefix
        self.own_app = info.capabilities.app_config and sdkappid is not None
        self.sdkappid = sdkappid if self.own_app and sdkappid is not None else info.app.sdkappid
        self.secret_key = ("k" + prefix).ljust(32, "0") if self.own_app else info.app.secret_key
        self.sessions: dict[str, tuple[str, str]] = {}
        self.mismatches: list[Any] = []
        if self.own_app:
            reply = target.admin(
                "configureApp", {"SDKAppID": self.sdkappid, "secretKey": self.secret_key, **(config or {})}
            )
            if not reply.ok:
                raise RuntimeError(f"configureApp failed: {reply}")

    def user(self, name: str) -> str:
        return f"{self.prefix}{name}"

    def import_account(self, name: str, nick: str = "") -> None:
        if self.info.admin:
            self.target.admin(
                "importAccount", {"SDKAppID": self.sdkappid, "userID": self.user(name), "nick": nick}
            )

    def _now(self) -> int:
        reply = self.target.admin("snapshot", {"SDKAppID": self.sdkappid}) if self.info.admin else None
        return int(reply.data["now"]) if reply is not None and reply.ok else self.info.now

    def login(self, actor: str, platform: str = "web", rule: str = "INST-2", step: str = "") -> StepResult:
        user = self.user(actor.split("/", 1)[0])
        sig = gen_usersig(self.sdkappid, self.secret_key, user, SIG_LIFETIME, now=self._now())
        reply = self.target.call(
            Call("login", {"SDKAppID": self.sdkappid, "platform": platform, "userID": user, "userSig": sig})
        )
        if reply.ok:
            self.sessions[actor] = (reply.data["session"], reply.data["session"])
        return _unchecked(reply, rule, "login", step)

    def do(
        self,
        actor: str,
        method: str,
        args: Mapping[str, Any],
        *,
        rule: str,
        step: str = "",
        check_events: bool = True,
    ) -> StepResult:
        session = self.sessions.get(actor, (None, None))[1]
        reply = self.target.call(Call(method, dict(args), session))
        result = _unchecked(reply, rule, method, step)
        for name, (_, target_session) in self.sessions.items():
            result.matched.extend((name, e) for e in self.target.events(target_session).drain())
        return result

    def close(self) -> None:
        pass


def _unchecked(reply: Reply, rule: str, method: str, step: str) -> StepResult:
    """Nothing to compare with, but a call that got no answer (6010) is still a transport failure."""
    result = StepResult(reply, reply)
    if reply.code == Code.HTTP_REQUEST_FAILED:
        result.mismatches.append(
            Mismatch(rule, method, "code", "an answer", reply.code, step, MismatchKind.TRANSPORT)
        )
    return result
