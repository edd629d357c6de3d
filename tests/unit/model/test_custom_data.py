"""A text message keeps its ``cloudCustomData`` inside its text's bytes, the harness's stamp packed
(``simtim/model/custom_data.py``): every reader still gets exactly the string the client sent."""

from __future__ import annotations

import pickle
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from simtim.conformance.delivery import read_stamp, stamp
from simtim.model.core import DEV_SDKAPPID
from simtim.model.custom_data import carries_data, data_of, join, text_of
from simtim.model.entities import Message
from simtim.protocol.rest.vocabulary import c2c_item
from tests.unit.model.test_message_storage import (
    BYTES_PER_MESSAGE_BUDGET,
    bytes_held_per_message,
    page,
    send,
    world_of,
)

HARNESS_STAMP = stamp("host-4242", "alice", 17, 12345.678901)

#: data that looks like a stamp but must not be packed (spelling it back would differ) or is none
LOOKALIKES = [
    HARNESS_STAMP,
    stamp("host-4242", "bob", 17, 12345.678901),  # another sender's stamp
    stamp("", "alice", 0, 0.0),
    stamp("wörker ✓", "alice", 2**32 - 1, 1e-7),
    stamp("host", "alice", 2**32, 1.5),  # wider than the packed uint32
    stamp("host", "alice", -1, 1.5),
    '{"simtim":["host","alice",17,12345.678900]}',  # a float spelled with a trailing zero
    '{"simtim":["host","alice",17,12345]}',  # an int time
    '{"simtim": ["host","alice",17,1.5]}',  # a space
    '{"simtim":["host","alice",17,1.5],"x":1}',
    '{"simtim":["host","alice",17,1.5,0]}',
    '{"simtim":["host","alice",17,1.5]',  # not JSON
    '{"simtim":["host","alice",true,1.5]}',
    '{"simtim":["h\\u00e9","alice",17,1.5]}',  # an escape orjson spells otherwise
    "",
    "plain data",
    "中文 😀 \x00 \udcff",  # CJK, emoji, NUL, a lone surrogate
]


def test_msg_4_cloud_custom_data_comes_back_exactly_to_every_reader() -> None:
    world, _clock, inst = world_of("alice", "bob")
    sent = [
        send(world, inst["alice"], "bob", f"t{i}", cloudCustomData=data) for i, data in enumerate(LOOKALIKES)
    ]
    assert [m["cloudCustomData"] for m in sent] == LOOKALIKES
    assert [m["payload"]["text"] for m in sent] == [f"t{i}" for i in range(len(LOOKALIKES))]
    listed = page(world, inst["bob"], "C2Calice", count=len(LOOKALIKES))["messageList"]  # a page: <= 15
    assert [m["cloudCustomData"] for m in listed] == LOOKALIKES[-len(listed) :] and len(listed) >= 10
    stored = world.apps[DEV_SDKAPPID].messages
    assert [stored[m["ID"]].cloud_custom_data for m in sent] == LOOKALIKES
    assert [c2c_item(stored[m["ID"]])["CloudCustomData"] for m in sent] == LOOKALIKES
    loaded = pickle.loads(pickle.dumps(world)).apps[DEV_SDKAPPID].messages
    assert [loaded[m["ID"]].view("bob") for m in sent] == [stored[m["ID"]].view("bob") for m in sent]


def test_msg_5_the_harness_reads_back_the_stamp_it_wrote() -> None:
    world, _clock, inst = world_of("alice", "bob")
    message = send(world, inst["alice"], "bob", "hi", cloudCustomData=HARNESS_STAMP)
    assert read_stamp(message["cloudCustomData"]) == ("host-4242", "alice", 17, 12345.678901)


def test_a_harness_stamp_is_packed_without_its_sender_and_others_are_kept_whole() -> None:
    packed = join(b"hi", HARNESS_STAMP, "alice")
    raw = join(b"hi", HARNESS_STAMP, "bob")  # bob did not send it: kept as it is
    assert packed is not None and raw is not None
    assert len(packed) < len(b"hi") + len(HARNESS_STAMP) - len("alice") < len(raw)
    assert (text_of(packed), data_of(packed, "alice")) == (b"hi", HARNESS_STAMP)
    assert (text_of(raw), data_of(raw, "bob")) == (b"hi", HARNESS_STAMP)
    for _ in range(2):  # spelled again, for another sender (a cache must not answer for the first)
        assert data_of(packed, "alice") == HARNESS_STAMP
        assert data_of(packed, "carol") == stamp("host-4242", "carol", 17, 12345.678901)


def test_data_longer_than_the_trailer_can_say_is_kept_beside_the_text() -> None:
    """MSG-2 refuses such a body from a client; an in-process caller may still set one."""
    msg = Message()
    msg.type, msg.sender, msg.payload = "TIMTextElem", "alice", {"text": "t"}
    assert join(b"t", "x" * 70_000, "alice") is None
    msg.cloud_custom_data = "x" * 70_000
    assert (msg.payload, msg.cloud_custom_data, msg.view("bob")["cloudCustomData"]) == (
        {"text": "t"},
        "x" * 70_000,
        "x" * 70_000,
    )


def test_msg_4_a_payload_set_again_keeps_the_message_data() -> None:
    world, _clock, inst = world_of("alice", "bob")
    sent = send(world, inst["alice"], "bob", "before", cloudCustomData=HARNESS_STAMP)
    msg = world.apps[DEV_SDKAPPID].messages[sent["ID"]]
    msg.payload = {"text": "after"}
    assert (msg.payload, msg.cloud_custom_data) == ({"text": "after"}, HARNESS_STAMP)
    msg.cloud_custom_data = ""
    assert (msg.payload, msg.cloud_custom_data) == ({"text": "after"}, "")


def test_msg_4_non_text_messages_keep_their_data_and_elements() -> None:
    world, _clock, inst = world_of("alice", "bob")
    custom = {"data": "d", "description": "", "extension": ""}
    body: dict[str, Any] = {
        "elements": [
            {"type": "TIMCustomElem", "payload": custom},
            {"type": "TIMTextElem", "payload": {"text": "t"}},
        ]
    }
    sent = world.call(
        inst["alice"],
        "sendMessage",
        {"message": {"to": "bob", "conversationType": "C2C", "cloudCustomData": "x", **body}},
    ).data["message"]
    listed = page(world, inst["bob"], "C2Calice")["messageList"][0]
    assert (listed["cloudCustomData"], listed["payload"], listed["elements"]) == (
        "x",
        custom,
        sent["elements"],
    )


@settings(max_examples=300, deadline=None)
@given(text=st.text(), data=st.text(), seq=st.integers(-1, 2**33), sent_at=st.floats(allow_nan=False))
def test_msg_4_any_text_and_data_round_trip(text: str, data: str, seq: int, sent_at: float) -> None:
    utf8 = text.encode("utf-8", "surrogatepass")
    assert not carries_data(utf8)  # a text without data is never read as one with
    for custom in (data, stamp(data, "alice", seq, sent_at)):
        joined = join(utf8, custom, "alice")
        assert joined is not None and carries_data(joined)
        assert (text_of(joined), data_of(joined, "alice")) == (utf8, custom)


def test_stamped_text_messages_fit_the_memory_budget() -> None:
    """20,000 texts, each with the harness's stamp as a load run sends them, per message."""
    world, clock, inst = world_of(*(f"user{i:02d}" for i in range(21)))
    seqs = iter(range(1, 10**6))

    def send_stamped(to: str, text: str) -> object:
        seq = next(seqs)
        return send(
            world, inst["user00"], to, text, cloudCustomData=stamp("vm-1234", "user00", seq, 900.0 + seq)
        )

    held = bytes_held_per_message(clock, send_stamped)
    assert len(world.apps[DEV_SDKAPPID].messages) == 20_000
    assert held <= BYTES_PER_MESSAGE_BUDGET


@pytest.mark.parametrize("data", ["", "d"])
def test_rest_4_a_backend_seq_and_data_live_together(data: str) -> None:
    world, _clock, _inst = world_of("alice", "bob")
    elements: list[tuple[Any, Any]] = [("TIMTextElem", {"text": "t"})]
    outcome = world.c2c_admin.send(
        DEV_SDKAPPID, "alice", "bob", elements, is_admin=False, random=1, msg_seq=77, cloud_custom_data=data
    )
    msg = outcome.data["message"]
    assert (msg.rest_seq, msg.cloud_custom_data, msg.msg_key.split("_")[0]) == (77, data, "77")
