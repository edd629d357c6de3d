"""Cross-cutting rules: check order, the clock, reply shapes, no `error` events (ORDER-1, CLOCK-1,
REPLY-1, EVT-1)."""

from __future__ import annotations

from typing import Any

import pytest

from simtim.errors import IMError
from simtim.sdk import TIM, SimTIM
from tests.conftest import LoginFn, names, text
from tests.helpers import (
    C2C_CONVERSATION_FIELDS,
    DAY,
    DEV,
    MESSAGE_FIELDS,
    PROFILE_FIELDS,
    code_of,
    history,
    new_tim,
    record,
    sig_for,
)

BAD_SEND = 42  # not an options object: a shape error (6017) if nothing earlier fails


def _snapshot(tims: dict[str, TIM]) -> dict[str, Any]:
    """What each account can observe: profile, conversation list and every history."""
    state: dict[str, Any] = {}
    for label, tim in tims.items():
        conversations = tim.get_conversation_list()["conversationList"]
        state[label] = {
            "profile": tim.get_my_profile()["profile"],
            "conversations": conversations,
            "histories": {c["conversationID"]: history(tim, c["conversationID"]) for c in conversations},
        }
    return state


# --- ORDER-1 ---------------------------------------------------------------------------
def test_order_1_destroyed_is_checked_first(service: SimTIM, login: LoginFn) -> None:
    alice = login("alice")
    alice.destroy()
    service.world.configure_app(DEV, disabled=True)
    assert code_of(alice.call, "sendMessage", BAD_SEND) == 6013
    assert code_of(alice.call, "getMessageList", {"conversationID": 5, "count": 0}) == 6013
    assert code_of(alice.call, "login", BAD_SEND) == 6013


def test_order_1_instance_state_beats_disabled_app_and_arguments(service: SimTIM, login: LoginFn) -> None:
    fresh = new_tim(service)
    kicked = login("alice")
    login("alice")
    expired = login("bob", expire=10)
    service.advance(11)
    for tim in (fresh, kicked, expired):
        tim.take_events()
    service.world.configure_app(DEV, disabled=True)
    assert code_of(fresh.call, "sendMessage", BAD_SEND) == 6014
    assert code_of(fresh.call, "getMessageList", {"conversationID": 5, "count": 0}) == 6004
    assert code_of(fresh.call, "getConversationList", BAD_SEND) == 6004
    assert code_of(kicked.call, "sendMessage", BAD_SEND) == 6208
    assert code_of(kicked.call, "getMessageList", {"conversationID": 5, "count": 0}) == 6208
    assert code_of(expired.call, "sendMessage", BAD_SEND) == 6206
    assert code_of(expired.call, "getMessageList", {"conversationID": 5, "count": 0}) == 6206


def test_order_1_disabled_app_beats_arguments(service: SimTIM, login: LoginFn) -> None:
    alice = login("alice")
    service.world.configure_app(DEV, disabled=True)
    assert code_of(alice.call, "sendMessage", BAD_SEND) == 60016
    assert code_of(alice.call, "getMessageList", {"conversationID": 5, "count": 0}) == 60016
    assert code_of(alice.send_message, text("nobody", "")) == 60016


def test_order_1_arguments_beat_target_existence(login: LoginFn) -> None:
    alice = login("alice")
    assert code_of(alice.call, "sendMessage", BAD_SEND) == 6017
    assert code_of(alice.call, "sendMessage", {"message": "hi"}) == 6017
    assert code_of(alice.send_message, text("nobody", conversation_type="SYSTEM")) == 6017
    assert code_of(alice.send_message, text("nobody", priority="Urgent")) == 6017
    assert code_of(alice.send_message, text("nobody", clientTime=-1)) == 6017
    assert code_of(alice.send_message, text("nobody", "")) == 6016  # the rule's specific code
    assert code_of(alice.get_message_list, {"conversationID": "C2Cnobody", "count": 0}) == 6017
    assert code_of(alice.send_message, text("nobody")) == 20003


def test_order_1_a_refused_call_changes_nothing_and_emits_nothing(service: SimTIM, login: LoginFn) -> None:
    alice, bob, carol = login("alice"), login("bob"), login("carol")
    old = alice.send_message(text("bob", "old"))["message"]
    to_carol = alice.send_message(text("carol"))["message"]
    service.advance(121)
    fresh = bob.send_message(text("alice", "fresh"))["message"]
    tims = {"alice": alice, "bob": bob, "carol": carol}
    for tim in tims.values():
        tim.take_events()
    before = _snapshot(tims)
    log = record(tims)
    refusals = [
        (alice.send_message, (text("nobody"),), 20003),
        (alice.send_message, (text("bob", ""),), 6016),
        (alice.send_message, (text("bob", "x" * 13000),), 80002),
        (alice.revoke_message, (old,), 20016),
        (alice.revoke_message, (fresh,), 20022),
        (alice.delete_message, ([old, to_carol],), 6017),
        (alice.get_message_list, ({"conversationID": "C2Cbob", "count": 0},), 6017),
        (alice.update_my_profile, ({"nick": "n" * 501},), 6017),
        (alice.delete_conversation, ("C2Cnobody",), 6004),
        (alice.set_message_read, ("C2Cbob",), 6017),
    ]
    for call, args, code in refusals:
        assert code_of(call, *args) == code
    service.world.set_before_send(DEV, lambda _body: {"ErrorCode": 1})
    assert code_of(alice.send_message, text("bob", "rejected")) == 20006
    service.world.set_before_send(DEV, None)
    assert log == []
    assert _snapshot(tims) == before


# --- CLOCK-1 ---------------------------------------------------------------------------
def test_clock_1_server_time_is_the_injected_clock_in_integer_seconds(
    service: SimTIM, login: LoginFn
) -> None:
    alice, _bob = login("alice"), login("bob")
    start = service.clock.now()
    first = alice.send_message(text("bob", clientTime=start - 500))["message"]
    service.advance(7)
    second = alice.send_message(text("bob"))["message"]
    assert type(first["time"]) is int and type(second["time"]) is int
    assert (first["time"], second["time"]) == (start, start + 7)


def test_clock_1_time_rules_are_inclusive_at_the_boundary(service: SimTIM, login: LoginFn) -> None:
    """now - time <= window (revoke), <= retention (kept); now <= time + expire (UserSig)."""
    alice, bob = login("alice", expire=8 * DAY), login("bob", expire=8 * DAY)
    service.world.configure_app(DEV, revoke_window_seconds=10, retention_seconds=20)
    ms = [alice.send_message(text("bob", str(i)))["message"] for i in range(2)]
    late_sig = sig_for(service, "carol", expire=20)
    service.advance(10)
    alice.revoke_message(ms[0])
    service.advance(1)
    assert code_of(alice.revoke_message, ms[1]) == 20016
    service.advance(9)  # 20 s: kept, and carol's sig is at time + expire
    assert len(history(bob, "C2Calice")) == 2
    carol = new_tim(service)
    carol.login({"userID": "carol", "userSig": late_sig})
    service.advance(1)
    assert history(bob, "C2Calice") == []
    assert carol.take_events() == [
        ("sdkStateReady", {}),
        ("kickedOut", {"type": "userSigExpired"}),
        ("sdkStateNotReady", {}),
    ]


def test_clock_1_expiry_fires_on_the_first_step_that_crosses_the_boundary(
    service: SimTIM, login: LoginFn
) -> None:
    alice = login("alice", expire=50)
    bob = login("bob", expire=10)
    carol = login("carol", expire=10 * DAY)
    service.advance(0)
    service.advance(10)
    assert names(bob) == [] and names(alice) == []
    service.advance(1000)  # one big step crosses both boundaries
    for tim in (alice, bob):
        assert tim.take_events() == [("kickedOut", {"type": "userSigExpired"}), ("sdkStateNotReady", {})]
    service.advance(1)
    service.advance(DAY)
    assert names(alice) == [] and names(bob) == [] and names(carol) == []


# --- REPLY-1 ---------------------------------------------------------------------------
def test_reply_1_c2c_and_conversation_reply_shapes(service: SimTIM, login: LoginFn) -> None:
    alice = new_tim(service)
    login_reply = alice.login({"userID": "alice", "userSig": sig_for(service, "alice")})
    assert set(login_reply) == {"repeatLogin"}
    assert set(alice.login({"userID": "alice", "userSig": ""})) == {"repeatLogin"}
    bob = login("bob")
    sent = alice.send_message(text("bob"))
    assert set(sent) == {"message"} and set(sent["message"]) == MESSAGE_FIELDS
    resent = alice.resend_message(sent["message"])
    assert set(resent) == {"message"} and set(resent["message"]) == MESSAGE_FIELDS
    revoked = alice.revoke_message(sent["message"])
    assert set(revoked) == {"message"} and set(revoked["message"]) == MESSAGE_FIELDS
    other = alice.send_message(text("bob", "other"))["message"]
    deleted = alice.delete_message([other])
    assert set(deleted) == {"messageList"}
    assert [set(m) for m in deleted["messageList"]] == [MESSAGE_FIELDS]
    listed = bob.get_message_list({"conversationID": "C2Calice"})
    assert set(listed) == {"messageList", "nextReqMessageID", "isCompleted"}
    assert [set(m) for m in listed["messageList"]] == [MESSAGE_FIELDS, MESSAGE_FIELDS]
    assert bob.set_message_read({"conversationID": "C2Calice"}) == {}
    conversations = bob.get_conversation_list()
    assert set(conversations) == {"conversationList"}
    assert [set(c) for c in conversations["conversationList"]] == [C2C_CONVERSATION_FIELDS]
    profile = bob.get_conversation_profile("C2Calice")
    assert set(profile) == {"conversation"} and set(profile["conversation"]) == C2C_CONVERSATION_FIELDS
    assert bob.delete_conversation("C2Calice") == {"conversationID": "C2Calice"}
    mine = bob.get_my_profile()
    assert set(mine) == {"profile"} and set(mine["profile"]) == PROFILE_FIELDS
    updated = bob.update_my_profile({"nick": "Bob"})
    assert set(updated) == {"profile"} and set(updated["profile"]) == PROFILE_FIELDS
    assert bob.logout() == {}
    assert alice.destroy() == {}


def test_reply_1_admin_recall_reply_shape(login: LoginFn, service: SimTIM) -> None:
    alice, _bob = login("alice"), login("bob")
    sent = alice.send_message(text("bob"))["message"]
    recalled = service.recall(sent["ID"])
    assert set(recalled) == {"message"} and set(recalled["message"]) == MESSAGE_FIELDS


# --- EVT-1 -----------------------------------------------------------------------------
def test_evt_1_the_model_never_emits_error(service: SimTIM, login: LoginFn) -> None:
    service.world.configure_app(DEV, web_instances=2)
    tims = {
        "a_web": login("alice", keep_events=True),
        "a_pc": login("alice", "pc", keep_events=True),
        "b_web": login("bob", keep_events=True),
        "carol": login("carol", expire=30, keep_events=True),
    }
    seen: list[str] = [name for tim in tims.values() for name, _ in tim.take_events()]
    log = record(tims)
    a_web, a_pc, b_web, carol = tims.values()
    for i in range(5):
        a_web.send_message(text("bob", f"m{i}"))
        b_web.send_message(text("alice", f"r{i}"))
    first = a_pc.send_message(text("carol"))["message"]
    a_pc.revoke_message(first)
    service.recall(a_web.send_message(text("bob", "recall me"))["message"]["ID"])
    b_web.set_message_read({"conversationID": "C2Calice"})
    a_web.update_my_profile({"nick": "A"})
    group = a_web.call("createGroup", {"name": "g", "type": "Public", "memberList": [{"userID": "bob"}]})[
        "group"
    ]["groupID"]
    b_web.send_message(text(group, "to the group", conversation_type="GROUP"))
    b_web.call("quitGroup", {"groupID": group})
    for call, args in (
        (a_web.send_message, (text("nobody"),)),
        (b_web.revoke_message, (first,)),
        (carol.get_message_list, ({"conversationID": "C2Cbob", "count": 0},)),
    ):
        with pytest.raises(IMError):
            call(*args)
    service.set_network(b_web, False)
    a_web.send_message(text("bob", "while away"))
    service.set_network(b_web, True)
    service.advance(31)  # carol's sig expires
    service.kick("bob")
    login("alice", keep_events=True)  # kicks a web instance
    a_pc.delete_conversation("C2Cbob")
    seen += [name for _, name in log]
    for expected in (
        "sdkStateReady",
        "onMessageReceived",
        "onMessageRevoked",
        "onConversationListUpdated",
        "onProfileUpdated",
        "onGroupListUpdated",
        "kickedOut",
        "sdkStateNotReady",
        "netStateChange",
    ):
        assert expected in seen
    assert "error" not in seen
