"""``simtim.conformance.check``: compare, the ID bijection, volatile fields, argument translation."""

from __future__ import annotations

import gc
import tracemalloc
from typing import Any
from unittest.mock import ANY

from simtim.conformance.check import IdMap, Mismatch, MismatchKind, code_mismatch, compare
from simtim.conformance.delivery import DELIVERY_RULE, SEEN_WINDOW, DeliveryTracker, read_stamp
from simtim.conformance.delivery import stamp as stamp_of
from simtim.conformance.evidence import Ledger
from simtim.errors import Code


def diff(expected: Any, actual: Any, ids: IdMap | None = None, **kwargs: Any) -> list[Mismatch]:
    return compare(
        expected, actual, ids if ids is not None else IdMap(), rule="MSG-4", method="sendMessage", **kwargs
    )


def paths(found: list[Mismatch]) -> list[str]:
    return sorted(m.path for m in found)


# --- plain differences, readable paths -----------------------------------------------------------
def test_equal_values_give_no_mismatch() -> None:
    value = {
        "message": {"payload": {"text": "hi"}, "flow": "out", "isRevoked": False, "priority": "Normal"},
        "list": [1, 2, {"a": None}],
    }
    assert diff(value, value) == []


def test_a_changed_leaf_is_reported_with_its_path_and_both_values() -> None:
    found = diff({"message": {"payload": {"text": "hi"}}}, {"message": {"payload": {"text": "ho"}}})
    assert len(found) == 1
    mismatch = found[0]
    assert (mismatch.path, mismatch.expected, mismatch.actual) == ("data.message.payload.text", "hi", "ho")
    assert (mismatch.rule, mismatch.method) == ("MSG-4", "sendMessage")


def test_a_code_difference_in_an_envelope_is_a_mismatch() -> None:
    found = diff({"code": 10017, "message": ""}, {"code": 0, "message": ""}, path="reply")
    assert [(m.path, m.expected, m.actual) for m in found] == [("reply.code", 10017, 0)]


def test_list_elements_are_addressed_by_index() -> None:
    found = diff(
        {"messageList": [{"sequence": 1}, {"sequence": 2}]},
        {"messageList": [{"sequence": 1}, {"sequence": 3}]},
    )
    assert paths(found) == ["data.messageList[1].sequence"]


def test_a_mismatch_deep_in_a_list_names_its_index_and_keys() -> None:
    expected = {"messageList": [{"payload": {"text": "a"}}, {"payload": {"text": "b"}}]}
    actual = {"messageList": [{"payload": {"text": "a"}}, {"payload": {"text": "B"}, "extra": 1}]}
    found = diff(expected, actual)
    assert sorted((m.path, m.expected, m.actual) for m in found) == [
        ("data.messageList[1].extra", "<absent>", 1),
        ("data.messageList[1].payload.text", "b", "B"),
    ]


def test_a_list_of_another_length_is_one_length_mismatch() -> None:
    found = diff({"messageList": [1, 2, 3]}, {"messageList": [1, 2]})
    assert [(m.path, m.expected, m.actual) for m in found] == [("data.messageList.length", 3, 2)]


def test_missing_and_extra_keys_are_named() -> None:
    found = diff({"a": 1, "b": 2}, {"a": 1, "c": 3})
    by_path = {m.path: (m.expected, m.actual) for m in found}
    assert by_path == {"data.b": (2, "<missing>"), "data.c": ("<absent>", 3)}


def test_types_must_match_not_just_values() -> None:
    assert paths(diff({"unreadCount": 1}, {"unreadCount": True})) == ["data.unreadCount"]
    assert paths(diff({"unreadCount": 1}, {"unreadCount": "1"})) == ["data.unreadCount"]
    assert paths(diff({"group": {"x": 1}}, {"group": [1]})) == ["data.group"]


def test_describe_is_one_readable_line_naming_rule_step_method_and_path() -> None:
    found = diff({"isCompleted": True}, {"isCompleted": False}, step="step 3 (getMessageList by bob)")
    text = found[0].describe()
    assert text.startswith("[MSG-4] step 3 (getMessageList by bob) sendMessage data.isCompleted")
    assert "expected True, got False" in text
    assert "\n" not in text


# --- server-chosen IDs: a bijection --------------------------------------------------------------
def test_message_ids_are_mapped_not_compared_raw() -> None:
    ids = IdMap()
    assert diff({"message": {"ID": "model-1"}}, {"message": {"ID": "target-X"}}, ids) == []
    assert ids.to_target == {"model-1": "target-X"} and ids.to_model == {"target-X": "model-1"}
    # the same pair again (e.g. in the pushed copy) is consistent
    assert diff({"ID": "model-1"}, {"ID": "target-X"}, ids) == []


def test_one_model_id_cannot_map_to_two_target_ids() -> None:
    ids = IdMap()
    assert diff({"ID": "m1"}, {"ID": "t1"}, ids) == []
    found = diff({"ID": "m1"}, {"ID": "t2"}, ids)
    assert [(m.path, m.expected, m.actual) for m in found] == [("data.ID", "m1", "t2")]


def test_two_model_ids_mapped_to_one_target_id_is_a_mismatch() -> None:
    ids = IdMap()
    found = diff(
        {"messageList": [{"ID": "m1"}, {"ID": "m2"}]}, {"messageList": [{"ID": "t1"}, {"ID": "t1"}]}, ids
    )
    assert paths(found) == ["data.messageList[1].ID"]
    assert ids.to_target == {"m1": "t1"}


def test_bind_reports_conflicts_on_either_side() -> None:
    ids = IdMap()
    assert ids.bind("m1", "t1")
    assert ids.bind("m1", "t1")  # idempotent
    assert not ids.bind("m1", "t2")
    assert not ids.bind("m2", "t1")
    assert ids.to_target == {"m1": "t1"}


def test_next_req_message_id_is_mapped_and_empty_cursor_compared_raw() -> None:
    ids = IdMap()
    assert diff({"nextReqMessageID": "m9"}, {"nextReqMessageID": "t9"}, ids) == []
    assert ids.target_value("m9") == "t9"
    assert diff({"nextReqMessageID": ""}, {"nextReqMessageID": ""}, ids) == []
    assert paths(diff({"nextReqMessageID": ""}, {"nextReqMessageID": "t9"}, ids)) == ["data.nextReqMessageID"]


def test_a_mapped_id_must_be_a_string_or_number() -> None:
    found = diff({"ID": "m1"}, {"ID": None})
    assert paths(found) == ["data.ID"]


def test_default_group_ids_are_mapped_wherever_they_appear() -> None:
    ids = IdMap()
    expected = {"group": {"groupID": "@TGS#1AAAA"}, "message": {"to": "@TGS#1AAAA"}}
    actual = {"group": {"groupID": "@TGS#2BBBB"}, "message": {"to": "@TGS#2BBBB"}}
    assert diff(expected, actual, ids) == []
    assert ids.to_target == {"@TGS#1AAAA": "@TGS#2BBBB"}
    found = diff({"groupID": "@TGS#1AAAA"}, {"groupID": "@TGS#3CCCC"}, ids)
    assert paths(found) == ["data.groupID"]


def test_group_conversation_ids_are_mapped_through_the_group_id() -> None:
    ids = IdMap()
    assert diff({"conversationID": "GROUP@TGS#1AAAA"}, {"conversationID": "GROUP@TGS#2BBBB"}, ids) == []
    assert ids.to_target == {"@TGS#1AAAA": "@TGS#2BBBB"}
    # consistent with the group ID itself...
    assert diff({"groupID": "@TGS#1AAAA"}, {"groupID": "@TGS#2BBBB"}, ids) == []
    # ...and a conversation of another group (or not a group conversation) is a mismatch
    assert paths(diff({"conversationID": "GROUP@TGS#1AAAA"}, {"conversationID": "GROUP@TGS#3CCCC"}, ids)) == [
        "data.conversationID"
    ]
    assert paths(diff({"conversationID": "GROUP@TGS#1AAAA"}, {"conversationID": "C2C@TGS#2BBBB"}, ids)) == [
        "data.conversationID"
    ]


def test_a_group_conversation_bound_twice_to_one_target_group_is_a_mismatch() -> None:
    ids = IdMap()
    found = diff(
        [{"conversationID": "GROUP@TGS#1AAAA"}, {"conversationID": "GROUP@TGS#1BBBB"}],
        [{"conversationID": "GROUP@TGS#2XXXX"}, {"conversationID": "GROUP@TGS#2XXXX"}],
        ids,
    )
    assert paths(found) == ["data[1].conversationID"]


def test_custom_group_and_user_ids_are_compared_exactly() -> None:
    assert diff({"conversationID": "GROUPmine"}, {"conversationID": "GROUPmine"}) == []
    assert paths(diff({"conversationID": "GROUPmine"}, {"conversationID": "GROUPyours"})) == [
        "data.conversationID"
    ]
    assert paths(diff({"from": "alice"}, {"from": "bob"})) == ["data.from"]
    assert paths(diff({"conversationID": "C2Calice"}, {"conversationID": "C2Cbob"})) == [
        "data.conversationID"
    ]


# --- volatile fields --------------------------------------------------------------------------
def test_times_are_compared_within_the_tolerance() -> None:
    assert diff({"time": 100, "joinTime": 50}, {"time": 102, "joinTime": 48}, time_tolerance=2) == []
    found = diff({"time": 100, "joinTime": 50}, {"time": 103, "joinTime": 50}, time_tolerance=2)
    assert [(m.path, m.expected, m.actual) for m in found] == [("data.time", 100, 103)]
    assert paths(diff({"message": {"time": 100}}, {"message": {"time": 101}}, time_tolerance=0)) == [
        "data.message.time"
    ]


def test_a_time_of_another_type_is_a_mismatch() -> None:
    assert paths(diff({"time": 100}, {"time": "100"})) == ["data.time"]


def test_non_time_integers_are_exact() -> None:
    assert paths(diff({"sequence": 100}, {"sequence": 101}, time_tolerance=5)) == ["data.sequence"]


def test_random_is_ignored() -> None:
    assert diff({"message": {"random": 1, "text": "x"}}, {"message": {"random": 2, "text": "x"}}) == []
    assert diff({"messageList": [{"random": 7}]}, {"messageList": [{"random": "anything"}]}) == []


# --- translating model-space arguments -------------------------------------------------------
def test_translate_maps_bound_ids_anywhere_in_the_arguments() -> None:
    ids = IdMap()
    ids.bind("m1", "t1")
    ids.bind("@TGS#1AAAA", "@TGS#2BBBB")
    args = {
        "messageList": [{"ID": "m1", "conversationID": "GROUP@TGS#1AAAA", "to": "@TGS#1AAAA"}],
        "groupID": "@TGS#1AAAA",
        "count": 15,
        "flag": True,
        "note": None,
    }
    assert ids.translate(args) == {
        "messageList": [{"ID": "t1", "conversationID": "GROUP@TGS#2BBBB", "to": "@TGS#2BBBB"}],
        "groupID": "@TGS#2BBBB",
        "count": 15,
        "flag": True,
        "note": None,
    }


def test_translate_leaves_unknown_values_alone_and_does_not_mutate() -> None:
    ids = IdMap()
    ids.bind("m1", "t1")
    args = {"ID": "m2", "conversationID": "GROUP@TGS#unbound", "userID": "alice", "nested": {"ID": "m1"}}
    out = ids.translate(args)
    assert out == {
        "ID": "m2",
        "conversationID": "GROUP@TGS#unbound",
        "userID": "alice",
        "nested": {"ID": "t1"},
    }
    assert args["nested"] == {"ID": "m1"}
    assert ids.target_value("m2") == "m2"


def test_an_id_bound_by_compare_translates_the_next_call() -> None:
    """The cell's loop: the model's reply binds the target's ID, the next call uses it."""
    ids = IdMap()
    assert (
        diff(
            {"message": {"ID": "m1", "conversationID": "GROUP@TGS#1A"}},
            {"message": {"ID": "t1", "conversationID": "GROUP@TGS#2B"}},
            ids,
        )
        == []
    )
    assert ids.translate(
        {"message": {"ID": "m1"}, "conversationID": "GROUP@TGS#1A", "groupID": "@TGS#1A"}
    ) == {"message": {"ID": "t1"}, "conversationID": "GROUP@TGS#2B", "groupID": "@TGS#2B"}


# --- the kind says what a mismatch is about (consumers never parse paths or values) ---------------
def test_compare_stamps_every_mismatch_with_the_kind_and_event_it_was_asked_for() -> None:
    found = diff(
        {"a": 1, "b": [1, 2], "c": "x"},
        {"a": 2, "b": [1], "d": "y"},
        path="event[bob].onMessageReceived",
        kind=MismatchKind.EVENT_DATA,
        event="onMessageReceived",
    )
    assert len(found) == 4
    assert {(m.kind, m.event) for m in found} == {(MismatchKind.EVENT_DATA, "onMessageReceived")}
    assert {m.kind for m in diff({"a": 1}, {"a": 2})} == {MismatchKind.REPLY_DATA}  # the default


def test_a_code_the_model_never_answers_6010_is_a_transport_failure() -> None:
    assert code_mismatch("MSG-4", "sendMessage", "code", 0, int(Code.HTTP_REQUEST_FAILED)).kind is (
        MismatchKind.TRANSPORT
    )
    assert code_mismatch("MSG-4", "sendMessage", "code", 0, 20009).kind is MismatchKind.REPLY_CODE


def test_event_kinds_are_grouped_for_their_consumers() -> None:
    events = {k for k in MismatchKind if k.is_event}
    assert events == {
        MismatchKind.EVENT_DATA,
        MismatchKind.EVENT_LOST,
        MismatchKind.EVENT_LATE,
        MismatchKind.EVENT_UNEXPECTED,
    }
    assert {k for k in MismatchKind if k.is_missing_event} == {
        MismatchKind.EVENT_LOST,
        MismatchKind.EVENT_LATE,
    }


def test_duplicated_and_reordered_deliveries_are_kinds_of_their_own() -> None:
    ledger = Ledger()
    tracker = DeliveryTracker("w", ledger)
    first, second = tracker.next_stamp("alice"), tracker.next_stamp("alice")
    for stamp in (second, first, first):  # out of order, then twice
        tracker.received("bob", stamp)
    evidence = ledger.rules[DELIVERY_RULE]
    assert evidence.checks == 3
    assert [m.kind for m in evidence.mismatches] == [
        MismatchKind.DELIVERY_REORDERED,
        MismatchKind.DELIVERY_DUPLICATED,
    ]


def test_a_cell_forgets_the_oldest_message_ids_but_never_a_group_id() -> None:
    """A long run's ID map stays bounded: message pairs past the limit go, a group ID stays."""
    assert IdMap().message_limit == 0  # conformance cells remember every pair
    ids = IdMap(message_limit=3)
    assert ids.bind("@TGS#model", "@TGS#target")
    for n in range(5):
        assert ids.bind(f"m{n}", f"t{n}", message=True)
    assert "m0" not in ids.to_target and "t1" not in ids.to_model and ids.to_target["m4"] == "t4"
    assert ids.to_target["@TGS#model"] == "@TGS#target"
    assert ids.bind("m0", "t0", message=True)  # a forgotten pair seen again is bound again
    assert not ids.bind("m4", "t0")  # and the bijection still holds


def test_msg_5_delivery_memory_is_a_window_per_sender_and_receiver() -> None:
    tracker = DeliveryTracker("w")
    for seq in range(1, SEEN_WINDOW + 11):
        tracker.received("bob", stamp_of("w", "alice", seq, 0.0))
    tracker.received("bob", stamp_of("w", "alice", SEEN_WINDOW + 10, 0.0))  # a copy of the newest
    tracker.received("bob", stamp_of("w", "alice", 11, 0.0))  # of the oldest the window holds
    tracker.received("bob", stamp_of("w", "alice", 10, 0.0))  # older than the window: reordered
    assert sum(b.duplicated for b in tracker.buckets.values()) == 2
    assert sum(b.reordered for b in tracker.buckets.values()) == 1


def test_msg_5_a_late_message_inside_the_window_counts_once_as_reordered() -> None:
    tracker = DeliveryTracker("w")
    for seq in (1, 2, 5, 3, 3, 4, 6):  # 3 and 4 overtaken by 5; 3 arrives twice
        tracker.received("bob", stamp_of("w", "alice", seq, 0.0))
    buckets = tracker.buckets.values()
    assert (sum(b.reordered for b in buckets), sum(b.duplicated for b in buckets)) == (2, 1)
    assert sum(b.delivered for b in buckets) == 6


def test_msg_5_delivery_memory_per_pair_stays_small_in_a_long_run() -> None:
    """What the Locust process keeps per (receiver, sender): a window of seqs as dict keys cost ~4 KB
    a pair and filled for minutes in a soak (its RSS kept rising); bits in one int do not."""
    tracker = DeliveryTracker("w")
    stamps = [stamp_of("w", f"s{s}", seq, 0.0) for s in range(50) for seq in range(1, 200)]
    tracemalloc.start()
    try:
        for stamp in stamps:
            tracker.received("bob", stamp)
        tracker.buckets.clear()  # per-second counts: written out and dropped by the harness
        gc.collect()
        held = tracemalloc.get_traced_memory()[0]
    finally:
        tracemalloc.stop()
    assert held / 50 < 600


def test_msg_5_a_dropped_cells_senders_are_forgotten() -> None:
    """A soak builds new cells as old ones fail: what the tracker keeps is the live cells' only."""
    tracker = DeliveryTracker("w")
    for sender in ("u1_a0", "u1_a1", "u2_a0"):
        tracker.received("a1", tracker.next_stamp(sender))
    tracker.forget("u1_")
    assert [read_stamp(tracker.next_stamp(s)) for s in ("u1_a0", "u2_a0")] == [
        ("w", "u1_a0", 1, ANY),  # counted afresh
        ("w", "u2_a0", 2, ANY),
    ]
    assert list(tracker._highest) == [("a1", "u2_a0")]
