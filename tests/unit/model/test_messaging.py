"""C2C sending, dedup, the before-send callback, deleting and revoking (MSG-3..MSG-9, REV-*)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import pytest

from simtim.sdk import SimTIM
from tests.conftest import LoginFn, names, text
from tests.helpers import DAY, DEV, MESSAGE_FIELDS, code_of, history, history_ids, received


def _no_events(*tims: Any) -> bool:
    return all(tim.take_events() == [] for tim in tims)


# --- MSG-3 (C2C) -----------------------------------------------------------------------
def test_msg_3_c2c_to_an_unknown_account_is_20003(login: LoginFn) -> None:
    alice, bob = login("alice"), login("bob")
    assert code_of(alice.send_message, text("nobody")) == 20003
    assert code_of(alice.send_message, text("Bob")) == 20003  # IDs are case-sensitive
    assert _no_events(alice, bob)
    assert alice.get_conversation_list() == {"conversationList": []}
    assert alice.send_message(text("bob"))["message"]["to"] == "bob"


def test_msg_3_shape_and_element_checks_come_before_20003(login: LoginFn) -> None:
    alice = login("alice")
    assert code_of(alice.send_message, text("nobody", priority="Urgent")) == 6017
    assert code_of(alice.send_message, text("nobody", random=-1)) == 6017
    assert code_of(alice.send_message, text("nobody", cloudCustomData=5)) == 6017
    assert code_of(alice.send_message, text("", "hi")) == 6017
    assert code_of(alice.send_message, text("nobody", "")) == 6016


# --- MSG-4 -----------------------------------------------------------------------------
def test_msg_4_message_fields_server_time_and_sequence(service: SimTIM, login: LoginFn) -> None:
    alice, bob = login("alice"), login("bob")
    service.advance(5)
    cloud = '{"k": [1, "\u00e9"]}  '
    sent = alice.send_message(text("bob", "one", cloudCustomData=cloud, clientTime=1))["message"]
    assert set(sent) == MESSAGE_FIELDS
    assert {k: v for k, v in sent.items() if k not in ("ID", "random", "sequence")} == {
        "type": "TIMTextElem",
        "payload": {"text": "one"},
        "conversationID": "C2Cbob",
        "conversationType": "C2C",
        "to": "bob",
        "from": "alice",
        "flow": "out",
        "time": service.clock.now(),
        "status": "success",
        "isRevoked": False,
        "priority": "Normal",
        "nick": "",
        "avatar": "",
        "cloudCustomData": cloud,
    }
    assert isinstance(sent["ID"], str) and sent["ID"]
    [got] = received(bob)
    assert set(got) == MESSAGE_FIELDS
    assert got == {**sent, "flow": "in", "conversationID": "C2Calice"}
    reply = bob.send_message(text("alice", "two"))["message"]
    service.advance(3)
    third = alice.send_message(text("bob", "three"))["message"]
    assert sent["sequence"] < reply["sequence"] < third["sequence"]
    assert third["time"] == sent["time"] + 3
    assert history_ids(alice, "C2Cbob") == [sent["ID"], reply["ID"], third["ID"]]
    assert history_ids(bob, "C2Calice") == [sent["ID"], reply["ID"], third["ID"]]


def test_msg_4_ids_are_unique_and_priority_is_echoed(login: LoginFn) -> None:
    alice, _bob = login("alice"), login("bob")
    sent = [
        alice.send_message(text("bob", str(i), priority=p))["message"]
        for i, p in enumerate(("High", "Normal", "Low", "Lowest"))
    ]
    assert len({m["ID"] for m in sent}) == 4
    assert [m["priority"] for m in sent] == ["High", "Normal", "Low", "Lowest"]


# --- MSG-5 -----------------------------------------------------------------------------
def test_msg_5_delivery_to_recipients_and_the_senders_other_instances(login: LoginFn) -> None:
    a_web, a_pc = login("alice"), login("alice", "pc")
    b_web, b_ios = login("bob"), login("bob", "ios")
    carol = login("carol")
    sent = a_web.send_message(text("bob"))["message"]
    assert names(a_web) == ["onConversationListUpdated"]  # never its own message back
    pc_events = a_pc.take_events()
    assert [name for name, _ in pc_events] == ["onMessageReceived", "onConversationListUpdated"]
    assert pc_events[0][1] == [sent]
    for tim in (b_web, b_ios):
        events = tim.take_events()
        assert [name for name, _ in events] == ["onMessageReceived", "onConversationListUpdated"]
        assert events[0][1] == [{**sent, "flow": "in", "conversationID": "C2Calice"}]
    assert names(carol) == []


def test_msg_5_offline_recipient_sees_history_and_unread(service: SimTIM, login: LoginFn) -> None:
    alice = login("alice")
    bob = login("bob")
    bob.logout()
    ids = [alice.send_message(text("bob", str(i)))["message"]["ID"] for i in range(2)]
    assert names(bob) == ["sdkStateNotReady"]
    bob = login("bob", keep_events=True)
    assert names(bob) == ["sdkStateReady"]
    assert history_ids(bob, "C2Calice") == ids
    assert bob.get_conversation_profile("C2Calice")["conversation"]["unreadCount"] == 2


# --- MSG-6 -----------------------------------------------------------------------------
def test_msg_6_same_random_and_client_time_within_120s_is_deduplicated(
    service: SimTIM, login: LoginFn
) -> None:
    alice, bob = login("alice"), login("bob")
    opts = text("bob", random=42, clientTime=service.clock.now())
    first = alice.send_message(opts)["message"]
    assert first["random"] == 42
    alice.take_events()
    bob.take_events()
    service.advance(120)
    assert alice.send_message(opts) == {"message": first}
    assert _no_events(alice, bob)
    assert history_ids(bob, "C2Calice") == [first["ID"]]
    assert bob.get_conversation_profile("C2Calice")["conversation"]["unreadCount"] == 1
    service.advance(1)
    third = alice.send_message(opts)["message"]
    assert third["ID"] != first["ID"]
    assert [m["ID"] for m in received(bob)] == [third["ID"]]
    assert history_ids(bob, "C2Calice") == [first["ID"], third["ID"]]


@pytest.mark.parametrize("change", ["random", "clientTime", "to", "sender"])
def test_msg_6_the_key_is_sender_conversation_random_and_client_time(
    service: SimTIM, login: LoginFn, change: str
) -> None:
    alice, bob = login("alice"), login("bob")
    service.import_account("carol")
    now = service.clock.now()
    opts = text("bob", random=7, clientTime=now)
    first = alice.send_message(opts)["message"]
    sender = alice
    if change == "random":
        opts = {**opts, "random": 8}
    elif change == "clientTime":
        opts = {**opts, "clientTime": now - 1}
    elif change == "to":
        opts = {**opts, "to": "carol"}
    else:
        sender, opts = bob, {**opts, "to": "alice"}
    second = sender.send_message(opts)["message"]
    assert second["ID"] != first["ID"]


def test_msg_6_resend_of_a_stored_message_returns_it_and_stores_nothing(login: LoginFn) -> None:
    alice, bob = login("alice"), login("bob")
    sent = alice.send_message(text("bob"))["message"]
    alice.take_events()
    bob.take_events()
    assert alice.resend_message(sent) == {"message": sent}
    assert alice.resend_message({"ID": sent["ID"]}) == {"message": sent}
    assert _no_events(alice, bob)
    assert history_ids(bob, "C2Calice") == [sent["ID"]]
    unsent = alice.resend_message(text("bob", "never sent before"))["message"]
    assert unsent["ID"] != sent["ID"]
    assert history_ids(bob, "C2Calice") == [sent["ID"], unsent["ID"]]


def test_msg_6_without_random_the_server_draws_a_fresh_one(service: SimTIM, login: LoginFn) -> None:
    alice, bob = login("alice"), login("bob")
    opts = text("bob", clientTime=service.clock.now())
    first = alice.send_message(opts)["message"]
    second = alice.send_message(opts)["message"]
    assert first["ID"] != second["ID"]
    for message in (first, second):
        assert isinstance(message["random"], int) and 0 <= message["random"] <= 2**32 - 1
    assert first["random"] != second["random"]
    assert len(history(bob, "C2Calice")) == 2


# --- MSG-8 (C2C) -----------------------------------------------------------------------
def _callback(service: SimTIM, reply: Any) -> list[dict[str, Any]]:
    seen: list[dict[str, Any]] = []

    def callback(body: dict[str, Any]) -> Mapping[str, Any] | None:
        seen.append(body)
        if isinstance(reply, Exception):
            raise reply
        return reply

    service.world.set_before_send(DEV, callback)
    return seen


def test_msg_8_callback_gets_the_rest_body_and_error_code_0_proceeds(service: SimTIM, login: LoginFn) -> None:
    alice, bob = login("alice"), login("bob")
    seen = _callback(service, {"ErrorCode": 0})
    sent = alice.send_message(text("bob", "hello", random=7, cloudCustomData="c"))["message"]
    [body] = seen
    assert body["CallbackCommand"] == "C2C.CallbackBeforeSendMsg"
    assert (body["From_Account"], body["To_Account"]) == ("alice", "bob")
    assert body["MsgRandom"] == 7
    assert body["MsgBody"] == [{"MsgType": "TIMTextElem", "MsgContent": {"text": "hello"}}]
    assert body["CloudCustomData"] == "c"
    assert sent["payload"] == {"text": "hello"}
    assert [m["ID"] for m in received(bob)] == [sent["ID"]]


def test_msg_8_a_returned_msg_body_replaces_the_body(service: SimTIM, login: LoginFn) -> None:
    alice, bob = login("alice"), login("bob")
    _callback(
        service, {"ErrorCode": 0, "MsgBody": [{"MsgType": "TIMTextElem", "MsgContent": {"text": "***"}}]}
    )
    sent = alice.send_message(text("bob", "damn"))["message"]
    assert sent["payload"] == {"text": "***"}
    assert [m["payload"] for m in received(bob)] == [{"text": "***"}]
    assert [m["payload"] for m in history(bob, "C2Calice")] == [{"text": "***"}]


@pytest.mark.parametrize(
    ("reply", "code"),
    [
        ({"ErrorCode": 1}, 20006),
        ({"ErrorCode": 120001}, 120001),
        ({"ErrorCode": 120005, "ErrorInfo": "blocked"}, 120005),
        ({"ErrorCode": 130000}, 130000),
    ],
)
def test_msg_8_rejections_store_nothing(
    service: SimTIM, login: LoginFn, reply: dict[str, Any], code: int
) -> None:
    alice, bob = login("alice"), login("bob")
    _callback(service, reply)
    opts = text("bob", random=9, clientTime=service.clock.now())
    assert code_of(alice.send_message, opts) == code
    assert _no_events(alice, bob)
    assert history(bob, "C2Calice") == []
    assert bob.get_conversation_list() == {"conversationList": []}
    service.world.set_before_send(DEV, None)
    assert alice.send_message(opts)["message"]["random"] == 9  # no dedup entry was left behind
    assert len(history(bob, "C2Calice")) == 1


@pytest.mark.parametrize(
    "reply",
    [
        None,  # timeout
        RuntimeError("backend down"),  # error
        "not an object",
        {},
        {"ErrorCode": "1"},
        {"ErrorCode": 0, "MsgBody": "not a list"},
        {"ErrorCode": 0, "MsgBody": [{"MsgType": "TIMTextElem", "MsgContent": {"text": ""}}]},
        {"ErrorCode": 130001},
    ],
)
def test_msg_8_timeout_error_or_malformed_reply_proceeds(service: SimTIM, login: LoginFn, reply: Any) -> None:
    alice, bob = login("alice"), login("bob")
    seen = _callback(service, reply)
    sent = alice.send_message(text("bob", "kept"))["message"]
    assert len(seen) == 1
    assert sent["payload"] == {"text": "kept"}
    assert [m["ID"] for m in received(bob)] == [sent["ID"]]


def test_msg_8_callback_is_not_asked_for_refused_sends(service: SimTIM, login: LoginFn) -> None:
    alice, _bob = login("alice"), login("bob")
    seen = _callback(service, {"ErrorCode": 1})
    assert code_of(alice.send_message, text("bob", "")) == 6016
    assert code_of(alice.send_message, text("nobody")) == 20003
    alice.logout()
    assert code_of(alice.send_message, text("bob")) == 6014
    assert seen == []


# --- MSG-9 (C2C) -----------------------------------------------------------------------
def test_msg_9_deleted_messages_disappear_for_the_callers_account_only(
    service: SimTIM, login: LoginFn
) -> None:
    a_web, a_pc, bob = login("alice"), login("alice", "pc"), login("bob")
    m1, m2, m3 = (a_web.send_message(text("bob", s))["message"] for s in ("1", "2", "3"))
    for tim in (a_web, a_pc, bob):
        tim.take_events()
    reply = a_web.delete_message([m1, m2])
    assert set(reply) == {"messageList"}
    assert [m["ID"] for m in reply["messageList"]] == [m1["ID"], m2["ID"]]
    assert history_ids(a_web, "C2Cbob") == [m3["ID"]]
    assert history_ids(a_pc, "C2Cbob") == [m3["ID"]]
    assert history_ids(bob, "C2Calice") == [m1["ID"], m2["ID"], m3["ID"]]
    assert _no_events(a_web, a_pc, bob)  # the last message did not change
    a_pc.delete_message([m3])
    for tim in (a_web, a_pc):
        [(name, [conversation])] = tim.take_events()
        assert name == "onConversationListUpdated"
        assert conversation["conversationID"] == "C2Cbob"
    assert names(bob) == []
    assert history(a_web, "C2Cbob") == []


def test_msg_9_messages_of_two_conversations_are_6017_and_nothing_is_deleted(
    service: SimTIM, login: LoginFn
) -> None:
    alice, bob, carol = login("alice"), login("bob"), login("carol")
    to_bob = alice.send_message(text("bob"))["message"]
    to_carol = alice.send_message(text("carol"))["message"]
    for tim in (alice, bob, carol):
        tim.take_events()
    assert code_of(alice.delete_message, [to_bob, to_carol]) == 6017
    assert history_ids(alice, "C2Cbob") == [to_bob["ID"]]
    assert history_ids(alice, "C2Ccarol") == [to_carol["ID"]]
    assert code_of(carol.delete_message, [to_bob]) == 6017  # not in any of carol's conversations
    assert code_of(alice.delete_message, [to_bob, {"ID": "nope"}]) == 6017
    assert code_of(alice.delete_message, []) == 6017
    assert history_ids(alice, "C2Cbob") == [to_bob["ID"]]
    assert history_ids(bob, "C2Calice") == [to_bob["ID"]]
    assert _no_events(alice, bob, carol)


# --- REV-1 -----------------------------------------------------------------------------
def test_rev_1_revoke_at_120s_allowed_at_121s_refused(service: SimTIM, login: LoginFn) -> None:
    alice, bob = login("alice"), login("bob")
    m1 = alice.send_message(text("bob", "one"))["message"]
    m2 = alice.send_message(text("bob", "two"))["message"]
    bob.take_events()
    service.advance(120)
    assert alice.revoke_message(m1)["message"]["isRevoked"] is True
    assert names(bob)[0] == "onMessageRevoked"
    service.advance(1)
    assert code_of(alice.revoke_message, m2) == 20016
    assert names(bob) == []
    assert [m["isRevoked"] for m in history(bob, "C2Calice")] == [True, False]


def test_rev_1_only_the_sender_revokes(login: LoginFn) -> None:
    alice, bob = login("alice"), login("bob")
    sent = alice.send_message(text("bob"))["message"]
    alice.take_events()
    assert code_of(bob.revoke_message, sent) == 20022
    assert names(alice) == []
    assert history(alice, "C2Cbob")[0]["isRevoked"] is False


def test_rev_1_revoke_window_is_configurable(service: SimTIM, login: LoginFn) -> None:
    alice, _bob = login("alice"), login("bob")
    service.world.configure_app(DEV, revoke_window_seconds=300)
    m1 = alice.send_message(text("bob", "one"))["message"]
    m2 = alice.send_message(text("bob", "two"))["message"]
    service.advance(300)
    alice.revoke_message(m1)
    service.advance(1)
    assert code_of(alice.revoke_message, m2) == 20016


# --- REV-2 -----------------------------------------------------------------------------
def test_rev_2_revoke_notifies_everyone_but_the_caller(login: LoginFn) -> None:
    a_web, a_pc = login("alice"), login("alice", "pc")
    b_web, b_ios = login("bob"), login("bob", "ios")
    carol = login("carol")
    sent = a_web.send_message(text("bob"))["message"]
    for tim in (a_web, a_pc, b_web, b_ios):
        tim.take_events()
    reply = a_web.revoke_message(sent)
    assert reply == {"message": {**sent, "isRevoked": True}}
    caller_events = a_web.take_events()
    assert [name for name, _ in caller_events] == ["onConversationListUpdated"]
    assert caller_events[0][1][0]["lastMessage"]["isRevoked"] is True
    pc_events = a_pc.take_events()
    assert [name for name, _ in pc_events] == ["onMessageRevoked", "onConversationListUpdated"]
    assert pc_events[0][1] == [{**sent, "isRevoked": True}]
    for tim in (b_web, b_ios):
        events = tim.take_events()
        assert [name for name, _ in events] == ["onMessageRevoked", "onConversationListUpdated"]
        assert events[0][1] == [{**sent, "isRevoked": True, "flow": "in", "conversationID": "C2Calice"}]
        [conversation] = events[1][1]
        assert conversation["unreadCount"] == 0  # it was unread: the count drops by 1
        assert conversation["lastMessage"]["isRevoked"] is True
    assert names(carol) == []
    assert history(a_web, "C2Cbob")[0]["isRevoked"] is True
    assert history(b_web, "C2Calice")[0]["isRevoked"] is True
    listed = b_ios.get_conversation_list()["conversationList"][0]
    assert (listed["unreadCount"], listed["lastMessage"]["isRevoked"]) == (0, True)


def test_rev_2_unread_drops_only_for_a_message_still_unread(login: LoginFn) -> None:
    alice, bob = login("alice"), login("bob")
    m1 = alice.send_message(text("bob", "1"))["message"]
    alice.send_message(text("bob", "2"))
    bob.take_events()
    alice.take_events()
    alice.revoke_message(m1)
    events = bob.take_events()
    assert [name for name, _ in events] == ["onMessageRevoked", "onConversationListUpdated"]
    assert events[1][1][0]["unreadCount"] == 1
    assert names(alice) == []  # alice's last message (m2) did not change
    bob.set_message_read({"conversationID": "C2Calice"})
    m3 = alice.send_message(text("bob", "3"))["message"]
    bob.set_message_read({"conversationID": "C2Calice"})
    bob.take_events()
    alice.revoke_message(m3)
    events = bob.take_events()
    assert [name for name, _ in events] == ["onMessageRevoked", "onConversationListUpdated"]
    assert events[1][1][0]["unreadCount"] == 0
    assert bob.get_conversation_profile("C2Calice")["conversation"]["unreadCount"] == 0


# --- REV-3 (C2C) -----------------------------------------------------------------------
def test_rev_3_c2c_check_order(service: SimTIM, login: LoginFn) -> None:
    alice, bob, carol = login("alice"), login("bob"), login("carol")
    old = alice.send_message(text("bob", "old"))["message"]
    service.advance(121)
    fresh = alice.send_message(text("bob", "fresh"))["message"]
    assert code_of(alice.revoke_message, {**fresh, "ID": "no-such-id"}) == 20022  # not found
    assert code_of(carol.revoke_message, fresh) == 20022  # not in carol's conversations
    assert code_of(bob.revoke_message, fresh) == 20022  # caller is not the sender
    assert code_of(bob.revoke_message, old) == 20022  # the sender check comes before the window
    assert code_of(alice.revoke_message, old) == 20016
    alice.revoke_message(fresh)
    assert code_of(alice.revoke_message, fresh) == 20023  # already revoked
    assert code_of(bob.revoke_message, fresh) == 20023  # already revoked beats caller != sender
    service.advance(1000)
    assert code_of(alice.revoke_message, fresh) == 20023  # already revoked beats the window
    assert code_of(alice.revoke_message, {"ID": 5}) == 6017


# --- REV-4 -----------------------------------------------------------------------------
def test_rev_4_admin_recall_has_no_time_window(service: SimTIM, login: LoginFn) -> None:
    a_web, a_pc = login("alice", expire=10 * DAY), login("alice", "pc", expire=10 * DAY)
    bob = login("bob", expire=10 * DAY)
    sent = a_web.send_message(text("bob"))["message"]
    other = a_web.send_message(text("bob", "other"))["message"]
    service.advance(3 * DAY)
    assert code_of(a_web.revoke_message, other) == 20016
    for tim in (a_web, a_pc, bob):
        tim.take_events()
    reply = service.recall(sent["ID"])
    assert reply == {"message": {**sent, "isRevoked": True}}
    for tim in (a_web, a_pc):  # no calling instance: every instance hears of it
        assert tim.take_events() == [("onMessageRevoked", [{**sent, "isRevoked": True}])]
    bob_events = bob.take_events()
    assert [name for name, _ in bob_events] == ["onMessageRevoked", "onConversationListUpdated"]
    assert bob_events[1][1][0]["unreadCount"] == 1  # sent was unread, other still is
    assert [m["isRevoked"] for m in history(bob, "C2Calice")] == [True, False]
    assert code_of(service.recall, sent["ID"]) == 20023
    assert code_of(service.recall, "no-such-id") == 20022
