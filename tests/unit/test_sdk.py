"""The TIM-like facade: pages and instances, local message factories, events (INST-1, MSG-6)."""

from __future__ import annotations

from typing import Any

import pytest

from simtim.sdk import TIM, SimTIM
from tests.conftest import LoginFn, names
from tests.helpers import DEV, code_of, history_ids, sig_for

FACTORIES = [
    ("create_text_message", "TIMTextElem", {"text": "hi"}),
    ("create_image_message", "TIMImageElem", {"imageFormat": 1, "uuid": "u", "imageInfoArray": []}),
    ("create_audio_message", "TIMSoundElem", {"url": "https://cdn.example/a.mp3", "size": 1, "second": 1}),
    (
        "create_video_message",
        "TIMVideoFileElem",
        {
            "videoUrl": "https://cdn.example/v.mp4",
            "videoSize": 1,
            "videoSecond": 1,
            "thumbUrl": "https://cdn.example/t",
        },
    ),
    (
        "create_file_message",
        "TIMFileElem",
        {"fileUrl": "https://cdn.example/f", "fileName": "f", "fileSize": 1},
    ),
    ("create_custom_message", "TIMCustomElem", {"data": "d"}),
    ("create_face_message", "TIMFaceElem", {"index": 1}),
    ("create_location_message", "TIMLocationElem", {"longitude": 1.5, "latitude": 2.5}),
]


def _login(service: SimTIM, tim: TIM, user: str) -> None:
    tim.login({"userID": user, "userSig": sig_for(service, user)})


def test_inst_1_create_on_the_same_page_returns_the_same_instance(service: SimTIM) -> None:
    first = service.create({"SDKAppID": DEV}, page="p1")
    assert service.create({"SDKAppID": DEV, "platform": "web"}, page="p1") is first
    assert service.create({"SDKAppID": DEV}, page="p2") is not first
    assert service.create({"SDKAppID": DEV}) is not first
    assert service.create({"SDKAppID": DEV}) is not service.create({"SDKAppID": DEV})
    assert service.create({"SDKAppID": 1400000001}, page="p1") is not first
    _login(service, first, "alice")
    again = service.create({"SDKAppID": DEV}, page="p1")
    assert again.get_my_profile()["profile"]["userID"] == "alice"  # still logged in: the same one


def test_inst_1_a_destroyed_page_instance_is_replaced_on_create(service: SimTIM) -> None:
    first = service.create({"SDKAppID": DEV}, page="p1")
    first.destroy()
    second = service.create({"SDKAppID": DEV}, page="p1")
    assert second is not first
    _login(service, second, "alice")
    assert names(second) == ["sdkStateReady"]
    assert service.create({"SDKAppID": DEV}, page="p1") is second
    assert code_of(first.get_my_profile) == 6013


@pytest.mark.parametrize(
    "options",
    [
        None,
        "x",
        {"SDKAppID": "1400000000"},
        {"SDKAppID": 0},
        {"SDKAppID": True},
        {"SDKAppID": DEV, "platform": "windows"},
    ],
)
def test_inst_1_create_needs_a_positive_integer_sdkappid_and_a_known_platform(
    service: SimTIM, options: Any
) -> None:
    assert code_of(service.create, options) == 6017


@pytest.mark.parametrize(("factory", "elem_type", "payload"), FACTORIES)
def test_inst_1_message_factories_work_before_login_and_their_messages_send(
    service: SimTIM, factory: str, elem_type: str, payload: dict[str, Any]
) -> None:
    alice = service.create({"SDKAppID": DEV})
    service.import_account("bob")
    created = getattr(alice, factory)({"to": "bob", "conversationType": "C2C", "payload": payload})
    assert (created["type"], created["payload"], created["to"]) == (elem_type, payload, "bob")
    assert (created["ID"], created["status"], created["flow"]) == ("", "unSend", "out")
    assert names(alice) == []
    _login(service, alice, "alice")
    sent = alice.send_message(created)["message"]
    assert (sent["type"], sent["payload"], sent["status"]) == (elem_type, payload, "success")


def test_msg_6_sending_the_same_created_message_twice_stores_it_once(service: SimTIM, login: LoginFn) -> None:
    alice, bob = login("alice"), login("bob")
    created = alice.create_text_message({"to": "bob", "conversationType": "C2C", "payload": {"text": "x"}})
    first = alice.send_message(created)["message"]
    assert alice.send_message(created) == {"message": first}
    assert alice.resend_message(created) == {"message": first}
    assert history_ids(bob, "C2Calice") == [first["ID"]]


def test_inst_1_everything_is_6013_after_destroy(service: SimTIM, login: LoginFn) -> None:
    alice = login("alice")
    alice.destroy()
    for factory, _, payload in FACTORIES:
        assert (
            code_of(getattr(alice, factory), {"to": "bob", "conversationType": "C2C", "payload": payload})
            == 6013
        )
    assert code_of(alice.login, {"userID": "alice", "userSig": sig_for(service, "alice")}) == 6013
    assert code_of(alice.logout) == 6013
    assert code_of(alice.get_conversation_list) == 6013
    assert code_of(alice.call, "getGroupList") == 6013


def test_sdk_on_and_off_route_events_to_handlers(service: SimTIM, login: LoginFn) -> None:
    alice, bob = login("alice"), login("bob")
    got: list[Any] = []

    def handler(data: Any) -> None:
        got.append(data)

    bob.on("onMessageReceived", handler)
    sent = alice.send_message(
        {"to": "bob", "conversationType": "C2C", "type": "TIMTextElem", "payload": {"text": "one"}}
    )["message"]
    assert [[m["ID"] for m in data] for data in got] == [[sent["ID"]]]
    bob.off("onMessageReceived", handler)
    bob.off("onMessageReceived", handler)  # removing twice is harmless
    alice.send_message(
        {"to": "bob", "conversationType": "C2C", "type": "TIMTextElem", "payload": {"text": "two"}}
    )
    assert len(got) == 1
    assert names(bob).count("onMessageReceived") == 2  # the log still records every event
    assert names(alice) == ["onConversationListUpdated", "onConversationListUpdated"]
