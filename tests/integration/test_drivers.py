"""One driver suite, run unchanged against InProcDriver and HttpDriver + a real ``simtim serve``.

Each step asserts what a user relies on; the last test runs the whole script
on both targets and asserts identical transcripts modulo server-chosen IDs
and times (a bijection, so two different IDs can never map to one).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from simtim.driver.base import Call, Driver, Reply
from simtim.driver.http import HttpDriver
from simtim.driver.inproc import InProcDriver
from simtim.model.core import DEV_SDKAPPID, DEV_SECRET_KEY
from simtim.usersig import gen_usersig
from tests.integration.server_process import ADMIN_KEY, CLOCK_START, ServerProcess

EVENT_TIMEOUT = 5.0


@pytest.fixture(params=["inproc", "http"])
def driver(request: pytest.FixtureRequest) -> Iterator[Driver]:
    if request.param == "inproc":
        inproc = InProcDriver(fake_clock=True, clock_start=CLOCK_START, seed=0)
        yield inproc
        inproc.close()
    else:
        yield request.getfixturevalue("http_driver")


def login(driver: Driver, user: str, now: int = CLOCK_START) -> str:
    sig = gen_usersig(DEV_SDKAPPID, DEV_SECRET_KEY, user, 86400 * 30, now=now)
    reply = driver.call(Call("login", {"SDKAppID": DEV_SDKAPPID, "userID": user, "userSig": sig}))
    assert reply.ok, reply
    return str(reply.data["session"])


def text(to: str, body: str, conversation_type: str = "C2C") -> dict[str, Any]:
    return {
        "message": {
            "to": to,
            "conversationType": conversation_type,
            "type": "TIMTextElem",
            "payload": {"text": body},
        }
    }


def test_login_gives_sdk_state_ready_first(driver: Driver) -> None:
    alice = login(driver, "alice")
    first = driver.events(alice).wait_for(lambda e: True, EVENT_TIMEOUT)
    assert first is not None and first.name == "sdkStateReady"


def test_c2c_send_is_pushed_to_the_peer(driver: Driver) -> None:
    alice, bob = login(driver, "alice"), login(driver, "bob")
    sent = driver.call(Call("sendMessage", text("bob", "hello"), alice))
    assert sent.ok and sent.data["message"]["flow"] == "out"
    pushed = driver.events(bob).wait_for(lambda e: e.name == "onMessageReceived", EVENT_TIMEOUT)
    assert pushed is not None
    assert pushed.data[0]["ID"] == sent.data["message"]["ID"]
    assert pushed.data[0]["flow"] == "in" and pushed.data[0]["payload"] == {"text": "hello"}
    conv = driver.events(bob).wait_for(lambda e: e.name == "onConversationListUpdated", EVENT_TIMEOUT)
    assert conv is not None and conv.data[0]["unreadCount"] == 1


def test_errors_are_values_with_spec_codes(driver: Driver) -> None:
    alice = login(driver, "alice")
    assert driver.call(Call("sendMessage", text("nobody", "x"), alice)).code == 20003
    assert driver.call(Call("getMyProfile", {}, "not-a-token")).code == 6014
    assert driver.call(Call("noSuchMethod", {}, alice)).code == 60009
    assert driver.call(Call("getMessageList", {"conversationID": "C2Calice", "count": 0}, alice)).code == 6017
    assert (
        driver.call(
            Call(
                "sendMessage",
                {"message": {"to": "alice", "conversationType": "C2C", "type": "TIMNopeElem", "payload": {}}},
                alice,
            )
        ).code
        == 6016
    )


def test_kick_reaches_the_older_instance(driver: Driver) -> None:
    first = login(driver, "carol")
    driver.events(first).drain()
    login(driver, "carol")
    kicked = driver.events(first).wait_for(lambda e: e.name == "kickedOut", EVENT_TIMEOUT)
    assert kicked is not None and kicked.data == {"type": "multipleAccount"}
    assert driver.call(Call("getMyProfile", {}, first)).code == 6208


def test_fake_clock_revoke_window(driver: Driver) -> None:
    alice, _bob = login(driver, "alice"), login(driver, "bob")
    configured = driver.admin("configureApp", {"SDKAppID": 1400000001, "secretKey": "k" * 16})
    assert configured.ok
    m1 = driver.call(Call("sendMessage", text("bob", "a"), alice)).data["message"]
    assert driver.admin("advanceClock", {"SDKAppID": DEV_SDKAPPID, "seconds": 120}).ok
    assert driver.call(Call("revokeMessage", {"message": m1}, alice)).ok
    m2 = driver.call(Call("sendMessage", text("bob", "b"), alice)).data["message"]
    assert driver.admin("advanceClock", {"SDKAppID": DEV_SDKAPPID, "seconds": 121}).ok
    assert driver.call(Call("revokeMessage", {"message": m2}, alice)).code == 20016


# --- identical transcripts ---------------------------------------------------------------------
_VOLATILE_KEYS = {
    "ID",
    "nextReqMessageID",
    "session",
    "token",
    "random",
    "time",
    "createTime",
    "joinTime",
    "clientTime",
    "now",
    "muteUntil",
}


class Normaliser:
    """Maps server-chosen values to stable placeholders, one-to-one in both directions."""

    def __init__(self) -> None:
        self.forward: dict[tuple[str, Any], str] = {}

    def token(self, key: str, value: Any) -> Any:
        if value in ("", None, 0):
            return value
        kind = "time" if key in {"time", "createTime", "joinTime", "clientTime", "now", "muteUntil"} else key
        slot = (kind, value)
        if slot not in self.forward:
            self.forward[slot] = f"<{kind}#{sum(1 for k in self.forward if k[0] == kind)}>"
        return self.forward[slot]

    def __call__(self, value: Any, key: str = "") -> Any:
        if isinstance(value, dict):
            return {k: self(v, k) for k, v in value.items()}
        if isinstance(value, list):
            return [self(v, key) for v in value]
        if key in _VOLATILE_KEYS or (isinstance(value, str) and value.startswith("@TGS#")):
            return self.token(key or "gid", value)
        if isinstance(value, str) and value.startswith("GROUP@TGS#"):
            return "GROUP" + self.token("groupID", value[5:])
        return value


def script(driver: Driver) -> list[tuple[str, Reply]]:
    """A walk through C2C, paging, revoke, groups and errors, recording every reply."""
    out: list[tuple[str, Reply]] = []

    def do(label: str, session: str | None, method: str, args: dict[str, Any]) -> Reply:
        reply = driver.call(Call(method, args, session))
        out.append((label, reply))
        return reply

    a, b, c = login(driver, "ann"), login(driver, "ben"), login(driver, "cat")
    for i in range(17):
        do(f"send{i}", a, "sendMessage", text("ben", f"m{i}"))
    page = do("page1", b, "getMessageList", {"conversationID": "C2Cann"})
    do(
        "page2",
        b,
        "getMessageList",
        {"conversationID": "C2Cann", "nextReqMessageID": page.data["nextReqMessageID"]},
    )
    do("convs", b, "getConversationList", {})
    do("read", b, "setMessageRead", {"conversationID": "C2Cann"})
    last = do("last", a, "sendMessage", text("ben", "to revoke")).data["message"]
    do("revoke", a, "revokeMessage", {"message": last})
    do("revoke-again", a, "revokeMessage", {"message": last})
    group = do(
        "create", a, "createGroup", {"name": "g", "type": "Public", "memberList": [{"userID": "ben"}]}
    ).data["group"]
    gid = group["groupID"]
    do("join", c, "joinGroup", {"groupID": gid})
    do("gsend", b, "sendMessage", text(gid, "hi all", "GROUP"))
    do("mute", a, "setGroupMemberMuteTime", {"groupID": gid, "userID": "ben", "muteTime": 60})
    do("muted-send", b, "sendMessage", text(gid, "shh", "GROUP"))
    do("members", a, "getGroupMemberList", {"groupID": gid, "count": 2})
    do("ghistory", c, "getMessageList", {"conversationID": "GROUP" + gid})
    do("not-member", c, "getGroupMemberList", {"groupID": "@TGS#nope"})
    do("profile", a, "updateMyProfile", {"nick": "Ann"})
    do("quit", c, "quitGroup", {"groupID": gid})
    do("owner-quit", a, "quitGroup", {"groupID": gid})
    do("logout", b, "logout", {})
    do("after-logout", b, "getMyProfile", {})
    do("conv-after-logout", b, "getConversationList", {})
    do("destroy", c, "destroy", {})
    do("after-destroy", c, "getMyProfile", {})
    return out


def test_identical_replies_inproc_and_http(server: ServerProcess) -> None:
    http = HttpDriver(server.url, admin_key=ADMIN_KEY)
    assert http.admin("reset", {}).ok
    inproc = InProcDriver(fake_clock=True, clock_start=CLOCK_START, seed=0)
    try:
        left = script(inproc)
        right = script(http)
    finally:
        http.close()
        inproc.close()
    norm_left, norm_right = Normaliser(), Normaliser()
    assert [label for label, _ in left] == [label for label, _ in right]
    for (label, a), (_, b) in zip(left, right, strict=True):
        assert (a.code, norm_left(a.data)) == (b.code, norm_right(b.data)), label
    codes = {label: reply.code for label, reply in left}
    assert codes["revoke-again"] == 20023 and codes["muted-send"] == 10017
    assert codes["owner-quit"] == 10009 and codes["after-logout"] == 6014
    assert codes["conv-after-logout"] == 6004 and codes["after-destroy"] == 6013
