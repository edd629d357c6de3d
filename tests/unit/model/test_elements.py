"""Message elements and the send-time content checks (MSG-1, MSG-2)."""

from __future__ import annotations

import json
from typing import Any

import pytest

from simtim.sdk import SimTIM
from tests.conftest import LoginFn, names, text
from tests.helpers import DEV, code_of, history, received

MB = 1024 * 1024

#: MSG-1: one valid payload per element type.
VALID: dict[str, dict[str, Any]] = {
    "TIMTextElem": {"text": "hi"},
    "TIMImageElem": {
        "imageFormat": 1,
        "uuid": "img-1",
        "imageInfoArray": [
            {"type": 0, "size": 1024, "width": 64, "height": 64, "url": "https://cdn.example/i.png"}
        ],
    },
    "TIMSoundElem": {"url": "https://cdn.example/a.mp3", "size": 4096, "second": 3},
    "TIMVideoFileElem": {
        "videoUrl": "https://cdn.example/v.mp4",
        "videoSize": 8192,
        "videoSecond": 10,
        "thumbUrl": "https://cdn.example/t.jpg",
    },
    "TIMFileElem": {"fileUrl": "https://cdn.example/f.pdf", "fileName": "f.pdf", "fileSize": 2048},
    "TIMCustomElem": {"data": "d", "description": "desc", "extension": "ext"},
    "TIMFaceElem": {"index": 1, "data": "smile"},
    "TIMLocationElem": {"description": "here", "longitude": 113.94, "latitude": 22.54},
}

#: Fields a client may leave out (the rest of VALID's fields are required).
OPTIONAL = {
    "TIMCustomElem": {"description", "extension"},
    "TIMFaceElem": {"data"},
    "TIMLocationElem": {"description"},
}

REQUIRED = [
    (elem, field)
    for elem, payload in VALID.items()
    for field in payload
    if field not in OPTIONAL.get(elem, set())
]


def msg(elem_type: str, payload: Any, to: str = "bob", **extra: Any) -> dict[str, Any]:
    return {"to": to, "conversationType": "C2C", "type": elem_type, "payload": payload, **extra}


def body_bytes(elements: list[tuple[str, Any]], cloud_custom_data: str = "") -> int:
    """MSG-2's measure: compact JSON of the element list, UTF-8, plus cloudCustomData."""
    body = [{"type": t, "payload": p} for t, p in elements]
    compact = json.dumps(body, separators=(",", ":"), ensure_ascii=False)
    return len(compact.encode()) + len(cloud_custom_data.encode())


def text_of_body_size(size: int, filler: str = "a") -> str:
    """A text whose single-element body measures exactly ``size`` bytes."""
    overhead = body_bytes([("TIMTextElem", {"text": ""})])
    unit = len(filler.encode())
    count, rest = divmod(size - overhead, unit)
    return filler * count + "a" * rest


# --- MSG-1 -----------------------------------------------------------------------------
@pytest.mark.parametrize("elem_type", sorted(VALID))
def test_msg_1_every_element_type_is_sent_and_delivered(login: LoginFn, elem_type: str) -> None:
    alice, bob = login("alice"), login("bob")
    sent = alice.send_message(msg(elem_type, VALID[elem_type]))["message"]
    assert (sent["type"], sent["payload"]) == (elem_type, VALID[elem_type])
    [got] = received(bob)
    assert (got["ID"], got["type"], got["payload"]) == (sent["ID"], elem_type, VALID[elem_type])


@pytest.mark.parametrize("elem_type", sorted(OPTIONAL))
def test_msg_1_optional_fields_may_be_left_out(login: LoginFn, elem_type: str) -> None:
    alice, _bob = login("alice"), login("bob")
    payload = {k: v for k, v in VALID[elem_type].items() if k not in OPTIONAL[elem_type]}
    assert alice.send_message(msg(elem_type, payload))["message"]["payload"] == payload


@pytest.mark.parametrize(("elem_type", "field"), REQUIRED)
def test_msg_1_missing_required_field_is_6016(login: LoginFn, elem_type: str, field: str) -> None:
    alice, bob = login("alice"), login("bob")
    payload = {k: v for k, v in VALID[elem_type].items() if k != field}
    assert code_of(alice.send_message, msg(elem_type, payload)) == 6016
    assert code_of(alice.send_message, msg(elem_type, {**payload, field: None})) == 6016
    assert names(alice) == [] and names(bob) == []


@pytest.mark.parametrize(
    ("elem_type", "payload"),
    [
        ("TIMTextElem", {"text": ""}),
        ("TIMTextElem", {"text": 5}),
        ("TIMTextElem", "hi"),
        ("TIMTextElem", None),
        ("TIMFileElem", {**VALID["TIMFileElem"], "fileSize": "2048"}),
        ("TIMFileElem", {**VALID["TIMFileElem"], "fileSize": -1}),
        ("TIMSoundElem", {**VALID["TIMSoundElem"], "second": True}),
        ("TIMImageElem", {**VALID["TIMImageElem"], "imageInfoArray": "none"}),
        ("TIMImageElem", {**VALID["TIMImageElem"], "imageInfoArray": [{"size": -5}]}),
        ("TIMLocationElem", {**VALID["TIMLocationElem"], "latitude": float("nan")}),
        ("TIMLocationElem", {**VALID["TIMLocationElem"], "longitude": "113"}),
        ("TIMFaceElem", {"index": 1.5}),
        ("TIMUnknownElem", {"text": "hi"}),
        ("TIMGroupTipElem", {"operationType": 1}),
        (None, {"text": "hi"}),
    ],
)
def test_msg_1_invalid_elements_are_6016(login: LoginFn, elem_type: Any, payload: Any) -> None:
    alice, bob = login("alice"), login("bob")
    assert code_of(alice.send_message, msg(elem_type, payload)) == 6016
    assert names(alice) == [] and names(bob) == []
    assert history(bob, "C2Calice") == []


def test_msg_1_several_elements_text_and_face(login: LoginFn) -> None:
    alice, bob = login("alice"), login("bob")
    elements = [
        {"type": "TIMTextElem", "payload": {"text": "hello "}},
        {"type": "TIMFaceElem", "payload": {"index": 3, "data": "wave"}},
        {"type": "TIMCustomElem", "payload": {"data": "one custom is fine"}},
    ]
    sent = alice.send_message({"to": "bob", "conversationType": "C2C", "elements": elements})["message"]
    assert (sent["type"], sent["payload"]) == ("TIMTextElem", {"text": "hello "})
    assert sent["elements"] == elements
    [got] = received(bob)
    assert got["elements"] == elements


def test_msg_1_at_most_one_custom_element(login: LoginFn) -> None:
    alice, bob = login("alice"), login("bob")
    custom = {"type": "TIMCustomElem", "payload": {"data": "d"}}
    two = {"to": "bob", "conversationType": "C2C", "elements": [custom, custom]}
    assert code_of(alice.send_message, two) == 6016
    none = {"to": "bob", "conversationType": "C2C", "elements": []}
    assert code_of(alice.send_message, none) == 6016
    assert names(bob) == []


# --- MSG-2 -----------------------------------------------------------------------------
def test_msg_2_body_at_exactly_12288_bytes_is_sent_one_more_is_80002(login: LoginFn) -> None:
    alice, bob = login("alice"), login("bob")
    exact = text_of_body_size(12288)
    assert body_bytes([("TIMTextElem", {"text": exact})]) == 12288
    assert alice.send_message(text("bob", exact))["message"]["payload"] == {"text": exact}
    received(bob)
    assert code_of(alice.send_message, text("bob", exact + "a")) == 80002
    assert names(bob) == []
    assert len(history(bob, "C2Calice")) == 1


def test_msg_2_body_length_counts_utf8_bytes(login: LoginFn) -> None:
    alice, _bob = login("alice"), login("bob")
    exact = text_of_body_size(12288, filler="\u00e9")  # 2 bytes each
    assert body_bytes([("TIMTextElem", {"text": exact})]) == 12288
    alice.send_message(text("bob", exact))
    longer = exact + "\u00e9"
    assert len(longer) < 12288 - 100  # far fewer characters than the limit: bytes decide
    assert code_of(alice.send_message, text("bob", longer)) == 80002


def test_msg_2_body_limit_applies_to_several_elements_and_cloud_custom_data(login: LoginFn) -> None:
    alice, _bob = login("alice"), login("bob")
    face = ("TIMFaceElem", {"index": 1})
    overhead = body_bytes([("TIMTextElem", {"text": ""}), face])
    fits = "a" * (12288 - overhead)
    elements = [{"type": "TIMTextElem", "payload": {"text": fits}}, {"type": face[0], "payload": face[1]}]
    ok = {"to": "bob", "conversationType": "C2C", "elements": elements}
    alice.send_message(ok)
    elements[0] = {"type": "TIMTextElem", "payload": {"text": fits + "a"}}
    assert code_of(alice.send_message, ok) == 80002
    half = text_of_body_size(12000)
    assert code_of(alice.send_message, text("bob", half, cloudCustomData="c" * 289)) == 80002
    alice.send_message(text("bob", half, cloudCustomData="c" * 288))


def test_msg_2_body_limit_is_configurable(service: SimTIM, login: LoginFn) -> None:
    alice, _bob = login("alice"), login("bob")
    service.world.configure_app(DEV, message_max_bytes=100)
    alice.send_message(text("bob", text_of_body_size(100)))
    assert code_of(alice.send_message, text("bob", text_of_body_size(101))) == 80002


@pytest.mark.parametrize(
    ("elem_type", "field", "limit"),
    [
        ("TIMFileElem", "fileSize", 100 * MB),
        ("TIMVideoFileElem", "videoSize", 100 * MB),
        ("TIMSoundElem", "size", 20 * MB),
    ],
)
def test_msg_2_declared_size_at_the_limit_is_sent_one_byte_more_is_7005(
    login: LoginFn, elem_type: str, field: str, limit: int
) -> None:
    alice, bob = login("alice"), login("bob")
    alice.send_message(msg(elem_type, {**VALID[elem_type], field: limit}))
    received(bob)
    assert code_of(alice.send_message, msg(elem_type, {**VALID[elem_type], field: limit + 1})) == 7005
    assert names(bob) == []
    assert len(history(bob, "C2Calice")) == 1


def test_msg_2_image_declared_size_over_20mb_is_7005(login: LoginFn) -> None:
    alice, _bob = login("alice"), login("bob")
    info = VALID["TIMImageElem"]["imageInfoArray"][0]
    ok = {**VALID["TIMImageElem"], "imageInfoArray": [info, {**info, "size": 20 * MB}]}
    alice.send_message(msg("TIMImageElem", ok))
    big = {**VALID["TIMImageElem"], "imageInfoArray": [info, {**info, "size": 20 * MB + 1}]}
    assert code_of(alice.send_message, msg("TIMImageElem", big)) == 7005


def test_msg_2_check_order_6016_then_80002_then_7005_then_20003(login: LoginFn) -> None:
    alice = login("alice")
    huge = "x" * 20000
    invalid_and_long = {
        "to": "nobody",
        "conversationType": "C2C",
        "elements": [
            {"type": "TIMTextElem", "payload": {"text": huge}},
            {"type": "TIMFaceElem", "payload": {}},
        ],
    }
    assert code_of(alice.send_message, invalid_and_long) == 6016
    long_and_large = {**VALID["TIMFileElem"], "fileName": huge, "fileSize": 200 * MB}
    assert code_of(alice.send_message, msg("TIMFileElem", long_and_large, to="nobody")) == 80002
    large = {**VALID["TIMFileElem"], "fileSize": 200 * MB}
    assert code_of(alice.send_message, msg("TIMFileElem", large, to="nobody")) == 7005
    assert code_of(alice.send_message, msg("TIMFileElem", VALID["TIMFileElem"], to="nobody")) == 20003
    assert names(alice) == []
