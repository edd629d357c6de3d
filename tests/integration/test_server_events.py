"""Events over WebSocket (DESIGN "Events"), with websocket-client directly: sdkStateReady first,
queueing while the socket is down (exactly once, in order; NET-1), replacement (4000), kicks
(INST-3, INST-5, INST-6: kickedOut, sdkStateNotReady, close 4001), unknown tokens (6014, 4401),
queue overflow (error 6010 then a resync) and keepalive.
"""

from __future__ import annotations

import time
from collections.abc import Iterator

import pytest
import websocket

from simtim.model.core import DEV_SDKAPPID
from tests.integration.server_process import ServerProcess
from tests.integration.wire import Frame, Wire, frames_until, next_frame, open_events, quiet_for, text

QUEUE_APP, QUEUE_KEY = 1400000321, "queue-app-secret"


@pytest.fixture
def wire(server: ServerProcess) -> Iterator[Wire]:
    w = Wire(server.url)
    w.admin("reset", {})
    yield w
    w.close()


@pytest.fixture
def sockets() -> Iterator[list[websocket.WebSocket]]:
    """Sockets a test opened, closed at the end whatever happened."""
    opened: list[websocket.WebSocket] = []
    yield opened
    for ws in opened:
        ws.close(timeout=0.5)


def connect(wire: Wire, token: str, sockets: list[websocket.WebSocket]) -> websocket.WebSocket:
    ws = open_events(wire.url, token)
    sockets.append(ws)
    return ws


def ready(ws: websocket.WebSocket) -> None:
    first = next_frame(ws)
    assert first == Frame("sdkStateReady", {}), first


def disconnect(ws: websocket.WebSocket) -> None:
    """Close from the client side and give the server a moment to notice."""
    ws.close()
    time.sleep(0.15)


def received_ids(frames: list[Frame]) -> list[str]:
    return [m["ID"] for f in frames if f.event == "onMessageReceived" for m in f.data]


def test_first_frame_after_login_is_sdk_state_ready(wire: Wire, sockets: list[websocket.WebSocket]) -> None:
    # connected after login
    ws = connect(wire, wire.login("alice"), sockets)
    ready(ws)
    assert quiet_for(ws, 0.3) == []
    # connected before login: nothing until the login, then sdkStateReady first
    created = wire.ok("create", {"SDKAppID": DEV_SDKAPPID})["token"]
    early = connect(wire, created, sockets)
    assert quiet_for(early, 0.3) == []
    assert wire.ok("login", {"userID": "bob", "userSig": wire.sig("bob")}, created) == {"repeatLogin": False}
    ready(early)
    # and every later connection of a logged-in instance starts with it too
    disconnect(ws)
    again = connect(wire, sockets=sockets, token=wire.login("carol"))
    ready(again)


def test_events_raised_while_down_are_delivered_once_in_order(
    wire: Wire, sockets: list[websocket.WebSocket]
) -> None:
    alice, bob = wire.login("alice"), wire.login("bob")
    ws = connect(wire, bob, sockets)
    ready(ws)
    disconnect(ws)
    sent = [wire.ok("sendMessage", text("bob", f"m{i}"), alice)["message"]["ID"] for i in range(6)]
    ws = connect(wire, bob, sockets)
    frames = frames_until(ws, lambda f: len(received_ids([f])) > 0 and f.data[0]["ID"] == sent[-1])
    assert frames[0] == Frame("sdkStateReady", {})
    assert received_ids(frames) == sent
    assert [f.event for f in frames[1:]] == ["onMessageReceived", "onConversationListUpdated"] * 5 + [
        "onMessageReceived"
    ]
    tail = quiet_for(ws, 0.5)
    assert [f.event for f in tail] == ["onConversationListUpdated"]
    assert tail[0].data[0]["unreadCount"] == 6
    # nothing is replayed on the next connection, and live delivery still works, once
    disconnect(ws)
    ws = connect(wire, bob, sockets)
    ready(ws)
    assert quiet_for(ws, 0.3) == []
    live = wire.ok("sendMessage", text("bob", "live"), alice)["message"]["ID"]
    frames = frames_until(ws, lambda f: f.event == "onMessageReceived")
    assert received_ids(frames) == [live]
    assert [f.event for f in quiet_for(ws, 0.4)] == ["onConversationListUpdated"]


@pytest.mark.parametrize("listeners", [1, 9])
def test_a_group_send_held_for_a_socket_that_is_down_arrives_as_a_live_socket_got_it(
    wire: Wire, sockets: list[websocket.WebSocket], listeners: int
) -> None:
    """A delivery of a few events holds them encoded, a larger fan-out as objects encoded when sent
    (``SimtimApp._deliver``, docs/decisions.md#d-held-events): 1 listener gives 5 events, 9 give 21;
    either way the socket that comes back gets what a live one got."""
    alice, bob, carol = wire.login("alice"), wire.login("bob"), wire.login("carol")
    others = [f"member{i}" for i in range(listeners - 1)]
    for user in others:
        wire.login(user)
    members = [{"userID": user} for user in ["bob", "carol", *others]]
    wire.ok(
        "createGroup", {"type": "Public", "name": "held", "groupID": "held", "memberList": members}, alice
    )
    down, live = connect(wire, bob, sockets), connect(wire, carol, sockets)
    ready(down)
    ready(live)
    quiet_for(live, 0.2)  # the group's creation
    disconnect(down)
    sent = wire.ok("sendMessage", text("held", "while down", "GROUP"), alice)["message"]["ID"]
    got_live = frames_until(live, lambda f: f.event == "onConversationListUpdated")
    down = connect(wire, bob, sockets)
    frames = frames_until(down, lambda f: f.event == "onConversationListUpdated" and f.data[0]["unreadCount"])
    assert frames[0] == Frame("sdkStateReady", {})
    held = [f for f in frames if f.event in ("onMessageReceived", "onConversationListUpdated")]
    assert [f.event for f in held[-2:]] == ["onMessageReceived", "onConversationListUpdated"]
    assert received_ids(held) == [sent]
    assert held[-2:] == got_live[-2:]  # the same message view and the same conversation


def test_a_second_socket_replaces_the_first(wire: Wire, sockets: list[websocket.WebSocket]) -> None:
    alice, bob = wire.login("alice"), wire.login("bob")
    first = connect(wire, bob, sockets)
    ready(first)
    second = connect(wire, bob, sockets)
    ready(second)
    assert frames_until(first, lambda f: f.close is not None)[-1] == Frame(close=4000)
    message = wire.ok("sendMessage", text("bob", "to the new socket"), alice)["message"]["ID"]
    assert received_ids(frames_until(second, lambda f: f.event == "onMessageReceived")) == [message]
    # the instance itself is untouched
    assert wire.ok("getMyProfile", {}, bob)["profile"]["userID"] == "bob"


def test_a_kicked_instance_gets_kicked_out_then_not_ready_then_4001(
    wire: Wire, sockets: list[websocket.WebSocket]
) -> None:
    older = wire.login("carol")
    ws = connect(wire, older, sockets)
    ready(ws)
    newer = wire.login("carol")  # webInstances 1: the earliest web instance is kicked (INST-3)
    frames = frames_until(ws, lambda f: f.close is not None)
    assert frames == [
        Frame("kickedOut", {"type": "multipleAccount"}),
        Frame("sdkStateNotReady", {}),
        Frame(close=4001),
    ]
    assert wire.call("getMyProfile", {}, older)["code"] == 6208
    assert wire.ok("getMyProfile", {}, newer)["profile"]["userID"] == "carol"
    # connecting again with the kicked token: told so, never sdkStateReady
    again = connect(wire, older, sockets)
    assert frames_until(again, lambda f: f.close is not None) == [
        Frame("error", {"code": 6208, "message": "not logged in"}),
        Frame(close=4001),
    ]


def test_a_kick_while_the_socket_is_down_is_delivered_on_connect(
    wire: Wire, sockets: list[websocket.WebSocket]
) -> None:
    older = wire.login("dora")
    ws = connect(wire, older, sockets)
    ready(ws)
    disconnect(ws)
    wire.login("dora")
    ws = connect(wire, older, sockets)
    assert frames_until(ws, lambda f: f.close is not None) == [
        Frame("kickedOut", {"type": "multipleAccount"}),
        Frame("sdkStateNotReady", {}),
        Frame(close=4001),
    ]


@pytest.mark.parametrize("token", ["never-issued", "", "A" * 32])
def test_an_unknown_token_gets_one_error_frame_and_4401(
    wire: Wire, sockets: list[websocket.WebSocket], token: str
) -> None:
    ws = connect(wire, token, sockets)
    frames = frames_until(ws, lambda f: f.close is not None)
    assert len(frames) == 2 and frames[0].event == "error" and frames[0].data["code"] == 6014
    assert isinstance(frames[0].data["message"], str)
    assert frames[1] == Frame(close=4401)


def test_a_destroyed_instance_is_refused_like_an_unknown_token(
    wire: Wire, sockets: list[websocket.WebSocket]
) -> None:
    token = wire.login("erin")
    wire.ok("destroy", {}, token)
    frames = frames_until(connect(wire, token, sockets), lambda f: f.close is not None)
    assert [f.event for f in frames[:-1]] == ["error"] and frames[0].data["code"] == 6013
    assert frames[-1] == Frame(close=4401)


def test_events_of_another_instance_never_reach_a_socket(
    wire: Wire, sockets: list[websocket.WebSocket]
) -> None:
    alice, bob, carol = wire.login("alice"), wire.login("bob"), wire.login("carol")
    carol_ws = connect(wire, carol, sockets)
    ready(carol_ws)
    wire.ok("sendMessage", text("bob", "not for carol"), alice)
    wire.ok("updateMyProfile", {"nick": "Bobby"}, bob)
    assert quiet_for(carol_ws, 0.4) == []


@pytest.mark.parametrize("configure_first", [True, False], ids=["configured-before-login", "after-login"])
def test_queue_overflow_drops_the_queue_and_says_so(
    wire: Wire, sockets: list[websocket.WebSocket], configure_first: bool
) -> None:
    limit = 4
    wire.admin("configureApp", {"SDKAppID": QUEUE_APP, "secretKey": QUEUE_KEY, "eventQueueMax": 1000})
    if configure_first:
        wire.admin("configureApp", {"SDKAppID": QUEUE_APP, "eventQueueMax": limit})
    alice = wire.login("alice", sdkappid=QUEUE_APP, key=QUEUE_KEY)
    bob = wire.login("bob", sdkappid=QUEUE_APP, key=QUEUE_KEY)
    ws = connect(wire, bob, sockets)
    ready(ws)
    disconnect(ws)
    if not configure_first:  # configureApp affects later decisions: the overflow is one
        wire.admin("configureApp", {"SDKAppID": QUEUE_APP, "eventQueueMax": limit})
    try:
        # each message raises two events for bob: onMessageReceived, onConversationListUpdated
        sent = [wire.ok("sendMessage", text("bob", f"m{i}"), alice)["message"]["ID"] for i in range(7)]
        ws = connect(wire, bob, sockets)
        assert next_frame(ws) == Frame("sdkStateReady", {})
        assert next_frame(ws) == Frame("error", {"code": 6010, "message": "event queue overflow"})
        rest = quiet_for(ws, 0.5)
        # no stale events: what was queued before the overflow is gone; anything left is the newest few
        ids = received_ids(rest)
        assert len(rest) < limit and ids == sent[len(sent) - len(ids) :]
        assert sent[0] not in ids
        # the client resyncs from history (NET-1): every message is there
        page = wire.ok("getMessageList", {"conversationID": "C2Calice"}, bob)
        assert [m["ID"] for m in page["messageList"]] == sent
        # the next connection is clean: no second overflow error, live events flow again
        disconnect(ws)
        ws = connect(wire, bob, sockets)
        ready(ws)
        assert quiet_for(ws, 0.3) == []
        live = wire.ok("sendMessage", text("bob", "live"), alice)["message"]["ID"]
        assert received_ids(frames_until(ws, lambda f: f.event == "onMessageReceived")) == [live]
    finally:
        wire.admin("configureApp", {"SDKAppID": QUEUE_APP, "eventQueueMax": 1000})


def test_usersig_expiry_kicks_with_the_fake_clock(wire: Wire, sockets: list[websocket.WebSocket]) -> None:
    token = wire.login("fay", expire=60)
    other = wire.login("gil")
    ws = connect(wire, token, sockets)
    ready(ws)
    wire.admin("advanceClock", {"SDKAppID": DEV_SDKAPPID, "seconds": 30})
    assert quiet_for(ws, 0.3) == []  # not yet
    assert wire.ok("getMyProfile", {}, token)["profile"]["userID"] == "fay"
    wire.admin("advanceClock", {"SDKAppID": DEV_SDKAPPID, "seconds": 31})
    frames = frames_until(ws, lambda f: f.close is not None)
    assert frames == [
        Frame("kickedOut", {"type": "userSigExpired"}),
        Frame("sdkStateNotReady", {}),
        Frame(close=4001),
    ]
    for method in ("getMyProfile", "sendMessage", "getConversationList"):
        assert wire.call(method, text("gil"), token)["code"] == 6206
    assert wire.ok("getMyProfile", {}, other)["profile"]["userID"] == "gil"  # a 30-day sig lives on


def test_admin_kick_is_rest_api_kick_on_every_instance(
    wire: Wire, sockets: list[websocket.WebSocket]
) -> None:
    web = wire.login("hal")
    ios = wire.login("hal", platform="ios")
    bystander = wire.login("ida")
    web_ws, ios_ws, by_ws = (connect(wire, t, sockets) for t in (web, ios, bystander))
    for ws in (web_ws, ios_ws, by_ws):
        ready(ws)
    wire.admin("kick", {"SDKAppID": DEV_SDKAPPID, "userID": "hal"})
    for ws in (web_ws, ios_ws):
        assert frames_until(ws, lambda f: f.close is not None) == [
            Frame("kickedOut", {"type": "REST_API_Kick"}),
            Frame("sdkStateNotReady", {}),
            Frame(close=4001),
        ]
    assert quiet_for(by_ws, 0.3) == []
    for token in (web, ios):
        assert wire.call("getMyProfile", {}, token)["code"] == 6208
    assert wire.ok("getMyProfile", {}, bystander)["profile"]["userID"] == "ida"


def test_keepalive_pings_and_an_idle_connection_stays_open(
    wire: Wire, sockets: list[websocket.WebSocket]
) -> None:
    alice, bob = wire.login("alice"), wire.login("bob")
    ws = connect(wire, bob, sockets)
    ready(ws)
    ws.ping(b"are you there")
    ws.settimeout(3)
    opcode, frame = ws.recv_data_frame(True)
    assert opcode == websocket.ABNF.OPCODE_PONG and frame.data == b"are you there"
    assert quiet_for(ws, 1.5) == []  # idle: no frames and no close
    assert ws.connected
    message = wire.ok("sendMessage", text("bob", "still here"), alice)["message"]["ID"]
    assert received_ids(frames_until(ws, lambda f: f.event == "onMessageReceived")) == [message]
