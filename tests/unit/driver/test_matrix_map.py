"""The TIM <-> Matrix mapping of the Matrix driver, without a homeserver."""

from __future__ import annotations

import re
from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from simtim.driver.matrix_map import (
    ADMIN_LOCALPART,
    ERRCODES,
    GROUP_TYPES,
    MSGTYPES,
    RoomInfo,
    content_of,
    dm_alias_localpart,
    element_of,
    group_id_of_room,
    localpart_of,
    message_view,
    power_levels,
    role_of,
    room_of_default_group,
    tim_code,
    tim_user,
    tip_payloads,
    txn_id,
    user_id_of_localpart,
)
from simtim.errors import Code

LOCALPART = re.compile(r"^[a-z0-9._=\-/+]+$")
TIM_USER_IDS = st.text(st.characters(min_codepoint=0x21, max_codepoint=0x7E), min_size=1, max_size=32)


@given(TIM_USER_IDS)
def test_user_ids_map_to_valid_localparts_and_back(user_id: str) -> None:
    localpart = localpart_of(user_id)
    assert LOCALPART.match(localpart), localpart
    assert not localpart.startswith("_")  # Synapse keeps those for application services
    assert localpart != ADMIN_LOCALPART
    assert user_id_of_localpart(localpart) == user_id
    assert tim_user(f"@{localpart}:hs.test") == user_id


def test_the_escaping_is_readable_for_plain_ids_and_exact_for_the_rest() -> None:
    assert localpart_of("alice") == "alice"
    assert localpart_of("alice_Bo") == "alice___bo"
    assert localpart_of("Alice") == "=41lice"
    assert localpart_of("a b#") == "a=20b=23"
    assert localpart_of("alice") != localpart_of("Alice")
    assert tim_user("@_someone:hs.test") == "@_someone:hs.test"  # not made by the escaping
    assert tim_user("@a=41:hs.test") == "@a=41:hs.test"  # A is _a inside a localpart


def test_ids_of_rooms_groups_and_transactions() -> None:
    assert group_id_of_room("!AbCdEf:hs.test") == "@TGS#AbCdEf"
    assert room_of_default_group("@TGS#AbCdEf", "hs.test") == "!AbCdEf:hs.test"
    assert dm_alias_localpart("a", "b") == dm_alias_localpart("b", "a")
    assert dm_alias_localpart("a", "b") != dm_alias_localpart("a", "c")
    same = txn_id("alice", "C2Cbob", 7, 100)
    assert same is not None and same == txn_id("alice", "C2Cbob", 7, 100)
    assert same != txn_id("alice", "C2Cbob", 8, 100)
    assert same != txn_id("alice", "C2Cbob", 7, None)
    assert txn_id("alice", "C2Cbob", None, 100) is None  # no random: every send is new (MSG-6)


ELEMENTS: dict[str, dict[str, Any]] = {
    "TIMTextElem": {"text": "hello"},
    "TIMImageElem": {
        "imageFormat": 1,
        "uuid": "u1",
        "imageInfoArray": [{"url": "http://x/i.png", "size": 10}],
    },
    "TIMSoundElem": {"url": "http://x/a.mp3", "size": 100, "second": 3},
    "TIMVideoFileElem": {"videoUrl": "http://x/v.mp4", "videoSize": 9, "videoSecond": 2, "thumbUrl": "t"},
    "TIMFileElem": {"fileUrl": "http://x/f", "fileName": "f.txt", "fileSize": 3},
    "TIMCustomElem": {"data": '{"k":1}', "description": "d", "extension": "e"},
    "TIMFaceElem": {"index": 1, "data": "smile"},
    "TIMLocationElem": {"description": "here", "longitude": 113.9, "latitude": 22.5},
}


def test_every_element_type_has_a_msgtype_and_survives_the_round_trip() -> None:
    assert set(MSGTYPES) == set(ELEMENTS)
    for elem_type, payload in ELEMENTS.items():
        message = {"type": elem_type, "payload": payload, "cloudCustomData": "stamp", "random": 3}
        content = content_of(message)
        assert content["msgtype"] == MSGTYPES[elem_type]
        assert isinstance(content["body"], str)
        assert element_of(content) == (elem_type, payload, None)
        assert content["org.simtim.cloud_custom_data"] == "stamp"
    location = content_of({"type": "TIMLocationElem", "payload": ELEMENTS["TIMLocationElem"]})
    assert location["geo_uri"] == "geo:22.5,113.9"


def test_a_location_event_holds_no_float_because_synapse_refuses_them() -> None:
    """Canonical JSON (room versions >= 6) has no floats: Synapse answers M_BAD_JSON otherwise."""
    content = content_of({"type": "TIMLocationElem", "payload": ELEMENTS["TIMLocationElem"]})

    def floats(value: object) -> list[float]:
        if isinstance(value, float):
            return [value]
        if isinstance(value, dict):
            return [f for v in value.values() for f in floats(v)]
        if isinstance(value, list):
            return [f for v in value for f in floats(v)]
        return []

    assert floats(content) == []
    assert element_of(content)[1] == ELEMENTS["TIMLocationElem"]
    assert (
        content_of({"type": "TIMImageElem", "payload": ELEMENTS["TIMImageElem"]})["url"] == "http://x/i.png"
    )


def test_a_message_from_another_matrix_client_gets_the_nearest_element() -> None:
    assert element_of({"msgtype": "m.text", "body": "hi"}) == ("TIMTextElem", {"text": "hi"}, None)
    assert element_of({"msgtype": "m.notice", "body": "n"})[0] == "TIMTextElem"
    assert element_of({"msgtype": "m.file", "body": "f", "url": "mxc://x"})[0] == "TIMFileElem"


ROOM = RoomInfo("!r:hs", "C2C", ("alice", "bob"))
GROUP_ROOM = RoomInfo("!g:hs", "GROUP", group_id="@TGS#g", group_type="Public", creator="alice")


def _event(**fields: Any) -> dict[str, Any]:
    return {"event_id": "$e", "origin_server_ts": 1_700_000_000_123, "sender": "@alice:hs", **fields}


def test_a_message_event_is_tims_message_for_each_viewer() -> None:
    content = content_of(
        {"type": "TIMTextElem", "payload": {"text": "hi"}, "cloudCustomData": "c", "random": 9}
    )
    event = _event(type="m.room.message", content=content)
    for_bob = message_view(event, ROOM, "bob", {"@alice:hs": ("Al", "av")})
    assert for_bob["conversationID"] == "C2Calice" and for_bob["flow"] == "in"
    assert (for_bob["from"], for_bob["to"], for_bob["time"]) == ("alice", "bob", 1_700_000_000)
    assert (for_bob["cloudCustomData"], for_bob["random"], for_bob["nick"]) == ("c", 9, "Al")
    for_alice = message_view(event, ROOM, "alice", {})
    assert for_alice["conversationID"] == "C2Cbob" and for_alice["flow"] == "out"
    redacted = message_view(
        _event(type="m.room.message", content={}, unsigned={"redacted_because": {}}), ROOM, "bob", {}
    )
    assert redacted["isRevoked"] is True


def _member(state_key: str, membership: str, sender: str, before: str | None = None) -> dict[str, Any]:
    unsigned = {"prev_content": {"membership": before}, "replaces_state": "$p"} if before else {}
    return _event(
        type="m.room.member",
        state_key=state_key,
        sender=sender,
        content={"membership": membership},
        unsigned=unsigned,
    )


def test_membership_events_become_tips_but_creating_a_group_does_not() -> None:
    assert tip_payloads(_member("@alice:hs", "join", "@alice:hs"), GROUP_ROOM) == []  # GRP-1: no tip
    joined = tip_payloads(_member("@bob:hs", "join", "@bob:hs"), GROUP_ROOM)
    assert joined == [{"operationType": 1, "operatorID": "bob", "userIDList": ["bob"]}]
    assert tip_payloads(_member("@bob:hs", "leave", "@bob:hs", "join"), GROUP_ROOM)[0]["operationType"] == 2
    assert tip_payloads(_member("@bob:hs", "leave", "@alice:hs", "join"), GROUP_ROOM)[0]["operationType"] == 3
    assert tip_payloads(_member("@bob:hs", "invite", "@alice:hs"), GROUP_ROOM) == []


def _levels(before: dict[str, int] | None, after: dict[str, int]) -> dict[str, Any]:
    unsigned = {"prev_content": {"users": before}, "replaces_state": "$p"} if before is not None else {}
    return _event(type="m.room.power_levels", state_key="", content={"users": after}, unsigned=unsigned)


def test_power_level_changes_become_role_and_mute_tips() -> None:
    assert tip_payloads(_levels(None, {"@alice:hs": 100}), GROUP_ROOM) == []  # the initial levels
    admin = tip_payloads(_levels({"@alice:hs": 100}, {"@alice:hs": 100, "@bob:hs": 50}), GROUP_ROOM)
    assert [(t["operationType"], t["userIDList"]) for t in admin] == [(4, ["bob"])]
    cancel = tip_payloads(_levels({"@bob:hs": 50}, {"@bob:hs": 0}), GROUP_ROOM)
    assert cancel[0]["operationType"] == 5
    mute = tip_payloads(_levels({"@bob:hs": 0}, {"@bob:hs": -1}), GROUP_ROOM)
    assert mute[0]["operationType"] == 7 and mute[0]["memberList"] == [{"userID": "bob", "muteTime": -1}]
    renamed = _event(
        type="m.room.name", state_key="", content={"name": "n2"}, unsigned={"replaces_state": "$p"}
    )
    assert tip_payloads(renamed, GROUP_ROOM)[0]["newGroupProfile"] == {"name": "n2"}


def test_group_types_roles_and_power_levels() -> None:
    assert {t: g.join_rule for t, g in GROUP_TYPES.items()} == {
        "Private": "invite",
        "Public": "knock",
        "ChatRoom": "public",
        "AVChatRoom": "public",
    }
    assert GROUP_TYPES["AVChatRoom"].history_visibility == "joined"
    assert GROUP_TYPES["ChatRoom"].history_visibility == "shared"  # PAGE-2: history before join
    private, public = power_levels("@o:hs", "Private"), power_levels("@o:hs", "Public")
    assert private["users"] == {"@o:hs": 100} and private["invite"] == 0 and public["invite"] == 50
    assert public["events_default"] == 0 and public["events"]["m.room.power_levels"] == 50
    assert [role_of(level) for level in (100, 50, 0, -1)] == ["Owner", "Admin", "Member", "Member"]


def test_errcodes_map_to_tim_codes_by_context() -> None:
    assert tim_code("M_FORBIDDEN", "group") == Code.GROUP_PERMISSION_DENIED
    assert tim_code("M_NOT_FOUND", "group") == Code.GROUP_NOT_FOUND
    assert tim_code("M_NOT_FOUND", "c2c") == Code.ACCOUNT_NOT_FOUND
    assert tim_code("M_NOT_FOUND", "c2c_message") == Code.C2C_MESSAGE_NOT_FOUND
    assert tim_code("M_ROOM_IN_USE", "group") == Code.GROUP_ID_TAKEN
    assert tim_code("M_SOMETHING_NEW", "group") is None
    assert all(code in {int(c) for c in Code} for row in ERRCODES.values() for code in row.values())


def test_docs_carry_the_drivers_tables() -> None:
    from pathlib import Path

    from simtim.driver.matrix import GAPS, OPERATIONS, markdown_table

    doc = (Path(__file__).resolve().parents[3] / "docs" / "matrix.md").read_text()
    assert markdown_table() in doc  # regenerate the section from simtim.driver.matrix.markdown_table()
    for errcode in ERRCODES:
        assert f"| `{errcode}` |" in doc
    assert not set(OPERATIONS) & set(GAPS)  # a method is translated or unsupported, never both


def test_matrix_declares_the_system_conversation_a_gap_not_a_field() -> None:
    """CONV-2: Matrix has no group system notices, so ``@TIM#SYSTEM`` is a conversation the target
    never lists (counted unsupported by the checker), not a key left out of every comparison."""
    from simtim.driver.base import conversation_gaps_of, field_gaps_of
    from simtim.driver.matrix import MatrixDriver
    from simtim.model.entities import SYSTEM_CONVERSATION_ID

    assert SYSTEM_CONVERSATION_ID in conversation_gaps_of(MatrixDriver)
    assert SYSTEM_CONVERSATION_ID not in field_gaps_of(MatrixDriver)
