"""The official TIM Web SDKs, unmodified, against a real ``simtim serve`` (WEB-1..WEB-3).

Each test drives ``tim-js-sdk@2.27.6`` and ``@tencentcloud/chat@3.6.6`` (installed by npm into a cache
outside the repo) in Node processes and asserts what the SDK's promises resolve to and which events
it fires.  Pairs run both ways across versions, so every scenario is cross-version chat.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from simtim.driver.http import HttpDriver
from simtim.server.process import ServeProcess
from tests.integration.websdk_harness import NodeSdk, SdkError, install_sdks

ADMIN_KEY = "websdk-admin-key"
PAIRS = [("tim", "chat"), ("chat", "tim")]


class Server:
    def __init__(self) -> None:
        self.now = int(time.time())
        self.proc = ServeProcess(
            ["--seed", "0", "--fake-clock", "--clock-start", str(self.now), "--admin-key", ADMIN_KEY]
        )
        self.url = self.proc.url
        self.ws_url = self.url.replace("http://", "ws://")
        self.admin = HttpDriver(self.url, admin_key=ADMIN_KEY)

    def stop(self) -> None:
        self.admin.close()
        self.proc.stop()


@pytest.fixture(scope="module")
def sdk_cache() -> Path:
    return install_sdks()


@pytest.fixture(scope="module")
def server(sdk_cache: Path) -> Iterator[Server]:
    srv = Server()
    yield srv
    srv.stop()


@pytest.fixture
def open_sdk(server: Server, sdk_cache: Path) -> Iterator[Callable[[str], NodeSdk]]:
    assert server.admin.admin("reset", {}).ok
    opened: list[NodeSdk] = []

    def start(flavour: str) -> NodeSdk:
        sdk = NodeSdk(flavour, server.ws_url, cache=sdk_cache)
        opened.append(sdk)
        return sdk

    yield start
    for sdk in opened:
        assert sdk.guard == [], f"{sdk.flavour} tried to leave loopback: {sdk.guard}"
        sdk.close()


def texts(messages: list[dict]) -> list[str]:
    return [m["payload"]["text"] for m in messages if m["type"] == "TIMTextElem"]


@pytest.mark.parametrize(("first", "second"), PAIRS)
def test_web_1_login_send_push_and_history_across_versions(
    server: Server, open_sdk: Callable[[str], NodeSdk], first: str, second: str
) -> None:
    alice, bob = open_sdk(first), open_sdk(second)
    login = alice.login("alice", now=server.now)
    assert isinstance(login["tinyID"], str) and login["a2Key"]
    bob.login("bob", now=server.now)

    sent = alice.text("bob", "hello bob")["message"]
    assert sent["status"] == "success" and sent["from"] == "alice" and sent["to"] == "bob"
    received = bob.event("onMessageReceived", lambda data: texts(data) == ["hello bob"])
    assert received[0]["ID"] == sent["ID"]  # one message, one ID on both sides
    assert received[0]["conversationID"] == "C2Calice" and received[0]["flow"] == "in"

    reply = bob.text("alice", "hi alice")["message"]
    alice.event("onMessageReceived", lambda data: texts(data) == ["hi alice"])

    for sdk, peer in ((alice, "bob"), (bob, "alice")):
        history = sdk.call("getMessageList", {"conversationID": "C2C" + peer})
        assert texts(history["messageList"]) == ["hello bob", "hi alice"]
        assert [m["ID"] for m in history["messageList"]] == [sent["ID"], reply["ID"]]
        assert history["isCompleted"] is True


@pytest.mark.parametrize("flavour", ["tim", "chat"])
def test_web_1_a_bad_usersig_rejects_login_with_the_models_code(
    server: Server, open_sdk: Callable[[str], NodeSdk], flavour: str
) -> None:
    sdk = open_sdk(flavour)
    with pytest.raises(SdkError) as refused:
        sdk.call("login", {"userID": "mallory", "userSig": "not-a-usersig"})
    assert refused.value.code == 70003  # AUTH-2: undecodable UserSig, passed through unchanged
