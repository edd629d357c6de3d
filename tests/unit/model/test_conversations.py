"""History paging, conversations, unread counts and profiles (PAGE-*, CONV-*, UNREAD-1, PROF-1)."""

from __future__ import annotations

from typing import Any

import pytest

from simtim.sdk import TIM, SimTIM
from tests.conftest import LoginFn, names, text
from tests.helpers import (
    C2C_CONVERSATION_FIELDS,
    DAY,
    DEV,
    MESSAGE_FIELDS,
    PROFILE_FIELDS,
    code_of,
    history_ids,
)

EMPTY_PAGE = {"messageList": [], "nextReqMessageID": "", "isCompleted": True}


def send_many(service: SimTIM, sender: TIM, to: str, count: int) -> list[str]:
    """``count`` messages, two per server second, oldest first."""
    ids = []
    for i in range(count):
        if i and i % 2 == 0:
            service.advance(1)
        ids.append(sender.send_message(text(to, f"m{i}"))["message"]["ID"])
    return ids


def page(tim: TIM, conversation_id: str, **opts: Any) -> dict[str, Any]:
    return tim.get_message_list({"conversationID": conversation_id, **opts})


def page_ids(reply: dict[str, Any]) -> list[str]:
    return [m["ID"] for m in reply["messageList"]]


# --- PAGE-1 ----------------------------------------------------------------------------
def test_page_1_empty_conversation(login: LoginFn) -> None:
    alice, _bob = login("alice"), login("bob")
    assert page(alice, "C2Cbob") == EMPTY_PAGE


def test_page_1_exactly_15_messages_is_one_completed_page(service: SimTIM, login: LoginFn) -> None:
    alice, _bob = login("alice"), login("bob")
    ids = send_many(service, alice, "bob", 15)
    reply = page(alice, "C2Cbob")
    assert page_ids(reply) == ids
    assert (reply["nextReqMessageID"], reply["isCompleted"]) == ("", True)


def test_page_1_sixteen_messages_page_newest_first_each_page_ascending(
    service: SimTIM, login: LoginFn
) -> None:
    alice, bob = login("alice"), login("bob")
    ids = send_many(service, alice, "bob", 8) + send_many(service, bob, "alice", 8)
    first = page(alice, "C2Cbob")
    assert page_ids(first) == ids[1:]
    assert (first["nextReqMessageID"], first["isCompleted"]) == (ids[1], False)
    times = [(m["time"], m["sequence"]) for m in first["messageList"]]
    assert times == sorted(times)
    second = page(alice, "C2Cbob", nextReqMessageID=first["nextReqMessageID"])
    assert second == {**EMPTY_PAGE, "messageList": second["messageList"]}
    assert page_ids(second) == ids[:1]
    assert set(second["messageList"][0]) == MESSAGE_FIELDS


def test_page_1_count_default_cap_and_cursor(service: SimTIM, login: LoginFn) -> None:
    alice, _bob = login("alice"), login("bob")
    ids = send_many(service, alice, "bob", 20)
    assert page_ids(page(alice, "C2Cbob")) == ids[5:]
    assert page_ids(page(alice, "C2Cbob", count=None)) == ids[5:]
    assert page_ids(page(alice, "C2Cbob", count=20)) == ids[5:]
    four = page(alice, "C2Cbob", count=4)
    assert page_ids(four) == ids[16:]
    assert four["nextReqMessageID"] == ids[16]
    older = page(alice, "C2Cbob", count=4, nextReqMessageID=ids[16])
    assert page_ids(older) == ids[12:16]
    last = page(alice, "C2Cbob", count=4, nextReqMessageID=ids[4])
    assert (page_ids(last), last["nextReqMessageID"], last["isCompleted"]) == (ids[:4], "", True)
    assert page(alice, "C2Cbob", nextReqMessageID=ids[0]) == EMPTY_PAGE


@pytest.mark.parametrize("count", [0, -1, "5", 1.5, True, [15]])
def test_page_1_count_must_be_a_positive_integer(login: LoginFn, count: Any) -> None:
    alice, _bob = login("alice"), login("bob")
    alice.send_message(text("bob"))
    assert code_of(page, alice, "C2Cbob", count=count) == 6017


def test_page_1_cursor_not_in_this_conversation_is_6017(login: LoginFn) -> None:
    alice, _bob, _carol = login("alice"), login("bob"), login("carol")
    alice.send_message(text("bob"))
    to_carol = alice.send_message(text("carol"))["message"]["ID"]
    assert code_of(page, alice, "C2Cbob", nextReqMessageID=to_carol) == 6017
    assert code_of(page, alice, "C2Cbob", nextReqMessageID="no-such-id") == 6017
    assert code_of(page, alice, "C2Cbob", nextReqMessageID=5) == 6017


# --- PAGE-2 ----------------------------------------------------------------------------
def test_page_2_a_message_exactly_7_days_old_is_kept_one_second_more_is_gone(
    service: SimTIM, login: LoginFn
) -> None:
    alice, bob = login("alice", expire=30 * DAY), login("bob", expire=30 * DAY)
    old = alice.send_message(text("bob", "old"))["message"]["ID"]
    service.advance(1)
    newer = alice.send_message(text("bob", "newer"))["message"]["ID"]
    service.advance(7 * DAY - 1)  # old is now exactly 7 days old
    assert history_ids(bob, "C2Calice") == [old, newer]
    assert page_ids(page(bob, "C2Calice", count=1)) == [newer]
    assert page(bob, "C2Calice", count=1)["isCompleted"] is False
    service.advance(1)
    assert history_ids(bob, "C2Calice") == [newer]
    only = page(bob, "C2Calice", count=1)
    assert (page_ids(only), only["nextReqMessageID"], only["isCompleted"]) == ([newer], "", True)
    assert bob.get_conversation_list()["conversationList"][0]["lastMessage"]["ID"] == newer
    service.advance(1)
    assert page(bob, "C2Calice") == EMPTY_PAGE
    assert bob.get_conversation_list() == {"conversationList": []}
    assert bob.get_conversation_profile("C2Calice")["conversation"]["lastMessage"] is None


def test_page_2_retention_is_configurable(service: SimTIM, login: LoginFn) -> None:
    alice, _bob = login("alice"), login("bob")
    service.world.configure_app(DEV, retention_seconds=60)
    sent = alice.send_message(text("bob"))["message"]["ID"]
    service.advance(60)
    assert history_ids(alice, "C2Cbob") == [sent]
    service.advance(1)
    assert history_ids(alice, "C2Cbob") == []


# --- PAGE-3 ----------------------------------------------------------------------------
def test_page_3_revoked_messages_stay_deleted_ones_vanish_for_the_deleter(
    service: SimTIM, login: LoginFn
) -> None:
    alice, bob = login("alice"), login("bob")
    ids = send_many(service, alice, "bob", 17)
    revoked = alice.send_message(text("bob", "oops"))["message"]
    alice.revoke_message(revoked)
    deleted = [{"ID": ids[3]}, {"ID": ids[10]}]
    alice.delete_message(deleted)
    kept = [i for i in ids if i not in (ids[3], ids[10])] + [revoked["ID"]]
    first = page(alice, "C2Cbob")
    assert page_ids(first) == kept[1:]
    assert first["messageList"][-1]["isRevoked"] is True
    assert (first["isCompleted"], first["nextReqMessageID"]) == (False, kept[1])
    assert history_ids(alice, "C2Cbob") == kept
    assert history_ids(bob, "C2Calice") == [*ids, revoked["ID"]]


# --- CONV-1 ----------------------------------------------------------------------------
@pytest.mark.parametrize("conversation_id", ["C2Cbob", "@TIM#SYSTEM"])
def test_conv_1_valid_empty_conversations(service: SimTIM, login: LoginFn, conversation_id: str) -> None:
    alice = login("alice")
    service.import_account("bob")
    conversation = alice.get_conversation_profile(conversation_id)["conversation"]
    assert conversation["conversationID"] == conversation_id
    assert (conversation["unreadCount"], conversation["lastMessage"]) == (0, None)
    assert page(alice, conversation_id) == EMPTY_PAGE
    assert alice.set_message_read({"conversationID": conversation_id}) == {}
    assert names(alice) == []


def test_conv_1_c2c_and_system_conversation_types(service: SimTIM, login: LoginFn) -> None:
    alice = login("alice")
    service.import_account("bob", nick="Bob")
    c2c = alice.get_conversation_profile("C2Cbob")["conversation"]
    assert set(c2c) == C2C_CONVERSATION_FIELDS
    assert (c2c["type"], c2c["userProfile"]) == ("C2C", {"userID": "bob", "nick": "Bob", "avatar": ""})
    system = alice.get_conversation_profile("@TIM#SYSTEM")["conversation"]
    assert system["type"] == "@TIM#SYSTEM"


@pytest.mark.parametrize(
    "conversation_id", ["C2Cnobody", "GROUPnope", "nonsense", "c2cbob", "C2C", "@TIM#SYSTEMx"]
)
def test_conv_1_anything_else_is_6004(service: SimTIM, login: LoginFn, conversation_id: str) -> None:
    alice = login("alice")
    service.import_account("bob")
    assert code_of(alice.get_conversation_profile, conversation_id) == 6004
    assert code_of(page, alice, conversation_id) == 6004
    assert code_of(alice.set_message_read, {"conversationID": conversation_id}) == 6004
    assert code_of(alice.delete_conversation, conversation_id) == 6004
    assert names(alice) == []


@pytest.mark.parametrize("conversation_id", [None, 5, ""])
def test_conv_1_conversation_id_must_be_a_non_empty_string(login: LoginFn, conversation_id: Any) -> None:
    alice = login("alice")
    assert code_of(alice.get_conversation_profile, conversation_id) == 6017
    assert code_of(page, alice, conversation_id) == 6017


def test_conv_1_conversation_apis_before_login_are_6004(service: SimTIM) -> None:
    tim = service.create({"SDKAppID": DEV})
    service.import_account("bob")
    assert code_of(tim.get_conversation_list) == 6004
    assert code_of(tim.get_conversation_profile, "C2Cbob") == 6004
    assert code_of(page, tim, "C2Cbob") == 6004
    assert code_of(tim.set_message_read, {"conversationID": "C2Cbob"}) == 6004
    assert code_of(tim.delete_conversation, "C2Cbob") == 6004


# --- CONV-2 ----------------------------------------------------------------------------
def test_conv_2_list_ordered_by_last_message_newest_first(service: SimTIM, login: LoginFn) -> None:
    alice, bob, carol = login("alice"), login("bob"), login("carol")
    login("dave")
    service.import_account("carol", nick="Carol", avatar="https://cdn.example/c.png")
    alice.send_message(text("bob", "a->b"))
    service.advance(1)
    from_carol = carol.send_message(text("alice", "c->a"))["message"]
    service.advance(1)
    to_dave = alice.send_message(text("dave", "a->d"))["message"]
    service.advance(1)
    from_bob = bob.send_message(text("alice", "b->a"))["message"]
    listed = alice.get_conversation_list()
    assert set(listed) == {"conversationList"}
    rows = listed["conversationList"]
    assert [row["conversationID"] for row in rows] == ["C2Cbob", "C2Cdave", "C2Ccarol"]
    for row in rows:
        assert set(row) == C2C_CONVERSATION_FIELDS
        assert (row["type"], row["messageRemindType"]) == ("C2C", "AcceptAndNotify")
        assert set(row["lastMessage"]) == MESSAGE_FIELDS
    assert [row["lastMessage"]["ID"] for row in rows] == [from_bob["ID"], to_dave["ID"], from_carol["ID"]]
    assert [row["unreadCount"] for row in rows] == [1, 0, 1]
    assert rows[2]["userProfile"] == {
        "userID": "carol",
        "nick": "Carol",
        "avatar": "https://cdn.example/c.png",
    }
    assert alice.get_conversation_profile("C2Cdave") == {"conversation": rows[1]}


def test_conv_2_same_second_ties_go_to_the_later_arrival(login: LoginFn) -> None:
    alice, _bob, _carol = login("alice"), login("bob"), login("carol")
    for i in range(3):
        alice.send_message(text("bob", str(i)))  # C2Cbob reaches sequence 3 this second
    alice.send_message(text("carol"))  # C2Ccarol has sequence 1, but arrived last
    rows = alice.get_conversation_list()["conversationList"]
    assert [row["conversationID"] for row in rows] == ["C2Ccarol", "C2Cbob"]


def test_conv_2_list_is_capped_at_the_configured_maximum(service: SimTIM, login: LoginFn) -> None:
    alice = login("alice")
    for user in ("u1", "u2", "u3"):
        service.import_account(user)
        service.advance(1)
        alice.send_message(text(user))
    assert len(alice.get_conversation_list()["conversationList"]) == 3
    service.world.configure_app(DEV, conversation_list_max=2)
    rows = alice.get_conversation_list()["conversationList"]
    assert [row["conversationID"] for row in rows] == ["C2Cu3", "C2Cu2"]


def test_conv_2_default_cap_is_100(service: SimTIM, login: LoginFn) -> None:
    alice = login("alice")
    for i in range(101):
        service.import_account(f"u{i}")
        alice.send_message(text(f"u{i}"))
    rows = alice.get_conversation_list()["conversationList"]
    assert len(rows) == 100
    assert rows[0]["conversationID"] == "C2Cu100"
    assert "C2Cu0" not in {row["conversationID"] for row in rows}


# --- CONV-3 ----------------------------------------------------------------------------
def test_conv_3_delete_hides_and_zeroes_keeps_history_and_comes_back(service: SimTIM, login: LoginFn) -> None:
    a_web, a_pc, bob, carol = login("alice"), login("alice", "pc"), login("bob"), login("carol")
    old = [bob.send_message(text("alice", s))["message"]["ID"] for s in ("1", "2")]
    carol.send_message(text("alice"))
    for tim in (a_web, a_pc, bob):
        tim.take_events()
    assert a_web.delete_conversation("C2Cbob") == {"conversationID": "C2Cbob"}
    for tim in (a_web, a_pc):
        [(name, rows)] = tim.take_events()
        assert name == "onConversationListUpdated"
        assert "C2Cbob" not in {row["conversationID"] for row in rows}
    assert names(bob) == []
    assert [r["conversationID"] for r in a_pc.get_conversation_list()["conversationList"]] == ["C2Ccarol"]
    assert a_pc.get_conversation_profile("C2Cbob")["conversation"]["unreadCount"] == 0
    assert history_ids(a_web, "C2Cbob") == old
    assert history_ids(bob, "C2Calice") == old
    service.advance(1)
    new = bob.send_message(text("alice", "3"))["message"]["ID"]
    rows = a_web.get_conversation_list()["conversationList"]
    assert [r["conversationID"] for r in rows] == ["C2Cbob", "C2Ccarol"]
    assert (rows[0]["unreadCount"], rows[0]["lastMessage"]["ID"]) == (1, new)
    assert history_ids(a_web, "C2Cbob") == [*old, new]


def test_conv_3_own_message_brings_a_deleted_conversation_back(login: LoginFn) -> None:
    alice, _bob = login("alice"), login("bob")
    alice.send_message(text("bob"))
    alice.delete_conversation("C2Cbob")
    assert alice.get_conversation_list() == {"conversationList": []}
    alice.send_message(text("bob"))
    [row] = alice.get_conversation_list()["conversationList"]
    assert (row["conversationID"], row["unreadCount"]) == ("C2Cbob", 0)


# --- CONV-4 ----------------------------------------------------------------------------
def test_conv_4_send_updates_every_instance_once_with_the_changed_conversation(login: LoginFn) -> None:
    a_web, a_pc = login("alice"), login("alice", "pc")
    b_web, b_ios, carol = login("bob"), login("bob", "ios"), login("carol")
    sent = a_web.send_message(text("bob"))["message"]
    for tim, conversation_id, unread in (
        (a_web, "C2Cbob", 0),
        (a_pc, "C2Cbob", 0),
        (b_web, "C2Calice", 1),
        (b_ios, "C2Calice", 1),
    ):
        updates = [data for name, data in tim.take_events() if name == "onConversationListUpdated"]
        assert len(updates) == 1
        [conversation] = updates[0]
        assert set(conversation) == C2C_CONVERSATION_FIELDS
        assert (conversation["conversationID"], conversation["unreadCount"]) == (conversation_id, unread)
        assert conversation["lastMessage"]["ID"] == sent["ID"]
    assert names(carol) == []


def test_conv_4_set_message_read_updates_only_when_something_changed(login: LoginFn) -> None:
    alice, b_web, b_ios = login("alice"), login("bob"), login("bob", "ios")
    alice.send_message(text("bob"))
    for tim in (alice, b_web, b_ios):
        tim.take_events()
    assert b_web.set_message_read({"conversationID": "C2Calice"}) == {}
    for tim in (b_web, b_ios):
        [(name, [conversation])] = tim.take_events()
        assert (name, conversation["conversationID"], conversation["unreadCount"]) == (
            "onConversationListUpdated",
            "C2Calice",
            0,
        )
    assert names(alice) == []
    assert b_web.set_message_read({"conversationID": "C2Calice"}) == {}
    assert names(b_web) == [] and names(b_ios) == []


def test_conv_4_deleting_a_conversation_not_in_the_list_changes_nothing(
    service: SimTIM, login: LoginFn
) -> None:
    alice, _bob = login("alice"), login("bob")
    service.import_account("carol")
    alice.send_message(text("bob"))
    alice.take_events()
    assert alice.delete_conversation("C2Ccarol") == {"conversationID": "C2Ccarol"}
    assert names(alice) == []
    alice.delete_conversation("C2Cbob")
    assert names(alice) == ["onConversationListUpdated"]
    alice.delete_conversation("C2Cbob")
    assert names(alice) == []


# --- UNREAD-1 --------------------------------------------------------------------------
def test_unread_1_counts_received_messages_across_instances_never_own(login: LoginFn) -> None:
    alice, b_web, b_ios = login("alice"), login("bob"), login("bob", "ios")
    for i in range(3):
        alice.send_message(text("bob", str(i)))
    b_ios.send_message(text("alice", "reply"))
    for tim in (b_web, b_ios):
        assert tim.get_conversation_profile("C2Calice")["conversation"]["unreadCount"] == 3
    assert alice.get_conversation_profile("C2Cbob")["conversation"]["unreadCount"] == 1
    for tim in (alice, b_web, b_ios):
        tim.take_events()
    assert b_ios.set_message_read({"conversationID": "C2Calice"}) == {}
    for tim in (b_web, b_ios):
        assert tim.get_conversation_profile("C2Calice")["conversation"]["unreadCount"] == 0
    assert names(alice) == []  # nothing reaches the peer
    assert alice.get_conversation_profile("C2Cbob")["conversation"]["unreadCount"] == 1
    alice.send_message(text("bob", "later"))
    assert b_web.get_conversation_profile("C2Calice")["conversation"]["unreadCount"] == 1


def test_unread_1_offline_account_counts_too(service: SimTIM, login: LoginFn) -> None:
    alice = login("alice")
    service.import_account("bob")
    alice.send_message(text("bob"))
    alice.send_message(text("bob"))
    bob = login("bob")
    assert bob.get_conversation_profile("C2Calice")["conversation"]["unreadCount"] == 2


# --- PROF-1 ----------------------------------------------------------------------------
def test_prof_1_get_my_profile(service: SimTIM, login: LoginFn) -> None:
    service.import_account("alice", nick="Alice", avatar="https://cdn.example/a.png")
    alice = login("alice")
    assert alice.get_my_profile() == {
        "profile": {"userID": "alice", "nick": "Alice", "avatar": "https://cdn.example/a.png"}
    }


def test_prof_1_update_notifies_other_instances_and_applies_to_later_messages(login: LoginFn) -> None:
    a_web, a_pc, bob = login("alice"), login("alice", "pc"), login("bob")
    before = a_web.send_message(text("bob", "before"))["message"]
    for tim in (a_web, a_pc, bob):
        tim.take_events()
    reply = a_web.update_my_profile({"nick": "Alice", "avatar": "https://cdn.example/a.png"})
    profile = {"userID": "alice", "nick": "Alice", "avatar": "https://cdn.example/a.png"}
    assert reply == {"profile": profile}
    assert set(reply["profile"]) == PROFILE_FIELDS
    assert a_pc.take_events() == [("onProfileUpdated", [profile])]
    assert names(a_web) == [] and names(bob) == []
    assert a_pc.get_my_profile() == {"profile": profile}
    after = a_web.send_message(text("bob", "after"))["message"]
    assert (after["nick"], after["avatar"]) == ("Alice", "https://cdn.example/a.png")
    stored = {m["ID"]: m for m in bob.get_message_list({"conversationID": "C2Calice"})["messageList"]}
    assert (stored[before["ID"]]["nick"], stored[before["ID"]]["avatar"]) == ("", "")
    assert stored[after["ID"]]["nick"] == "Alice"
    a_web.update_my_profile({"avatar": ""})
    assert a_web.get_my_profile()["profile"] == {**profile, "avatar": ""}  # omitted fields keep values


def test_prof_1_nick_is_at_most_500_bytes(login: LoginFn) -> None:
    a_web, a_pc = login("alice"), login("alice", "pc")
    a_web.update_my_profile({"nick": "\u00e9" * 250})
    a_pc.take_events()
    assert code_of(a_web.update_my_profile, {"nick": "\u00e9" * 250 + "x"}) == 6017
    assert code_of(a_web.update_my_profile, {"nick": 5}) == 6017
    assert code_of(a_web.update_my_profile, {"avatar": 5}) == 6017
    assert a_web.get_my_profile()["profile"]["nick"] == "\u00e9" * 250
    assert names(a_pc) == [] and names(a_web) == []
