"""Shared fixtures and the guards DESIGN "Tests and CI" asks for."""

from __future__ import annotations

import os
import shutil
import socket
from collections.abc import Callable

import pytest
from hypothesis import HealthCheck, settings

from simtim.model.core import DEV_SDKAPPID, DEV_SECRET_KEY
from simtim.sdk import TIM, SimTIM
from simtim.usersig import gen_usersig

settings.register_profile(
    "ci",
    max_examples=60,
    stateful_step_count=40,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.too_slow],
)
settings.register_profile(
    "dev",
    max_examples=40,
    stateful_step_count=30,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "dev"))


@pytest.fixture(autouse=True, scope="session")
def _socket_not_gevent_patched() -> None:
    """DESIGN: pytest never runs with gevent's monkey-patching (only Locust subprocesses do)."""
    if "gevent" in repr(socket.socket):
        pytest.fail("socket is gevent-patched inside pytest; Locust must run as a subprocess")


def require_tool(name: str) -> str:
    """Skip when a system tool is absent, unless CI demands it (SIMTIM_REQUIRE_TOOLS=1)."""
    path = shutil.which(name)
    if path is None:
        if os.environ.get("SIMTIM_REQUIRE_TOOLS") == "1":
            pytest.fail(f"{name} is required in CI but not installed")
        pytest.skip(f"{name} not installed")
    return path


@pytest.fixture
def service() -> SimTIM:
    """A fresh simulated service on a FakeClock at 1600000000, seed 0."""
    return SimTIM()


LoginFn = Callable[..., TIM]


@pytest.fixture
def login(service: SimTIM) -> LoginFn:
    """``login("alice", platform="web", expire=86400)`` -> a logged-in TIM instance, events cleared."""

    def _login(user: str, platform: str = "web", expire: int = 86400, keep_events: bool = False) -> TIM:
        tim = service.create({"SDKAppID": DEV_SDKAPPID, "platform": platform})
        sig = gen_usersig(DEV_SDKAPPID, DEV_SECRET_KEY, user, expire, now=service.clock.now())
        tim.login({"userID": user, "userSig": sig})
        if not keep_events:
            tim.take_events()
        return tim

    return _login


def text(to: str, body: str = "hi", conversation_type: str = "C2C", **extra: object) -> dict[str, object]:
    """A sendMessage Message option object with a text element."""
    return {
        "to": to,
        "conversationType": conversation_type,
        "type": "TIMTextElem",
        "payload": {"text": body},
        **extra,
    }


def names(tim: TIM) -> list[str]:
    """Event names received since the last call, clearing them."""
    return [name for name, _ in tim.take_events()]
