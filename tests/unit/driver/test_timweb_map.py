"""The wire bodies as SDK values: message fields, IDs that turn back into wire cursors, profiles."""

from __future__ import annotations

from simtim.driver import timweb_map as wire


def test_msg_4_a_c2c_item_reads_as_the_sdk_message_of_each_side() -> None:
    item = {
        "From_Account": "alice",
        "To_Account": "bob",
        "MsgSeq": 3,
        "MsgRandom": 99,
        "MsgTimeStamp": 1700000000,
        "MsgKey": "3_99_1700000000",
        "MsgBody": [{"MsgType": "TIMTextElem", "MsgContent": {"Text": "hi"}}],
        "MsgFlagBits": 8,
    }
    mine, theirs = wire.c2c_message(item, "alice"), wire.c2c_message(item, "bob")
    assert mine["flow"] == "out" and mine["conversationID"] == "C2Cbob"
    assert theirs["flow"] == "in" and theirs["conversationID"] == "C2Calice"
    assert mine["ID"] == theirs["ID"] == "C2C|alice|bob|3_99_1700000000"
    assert wire.parse_c2c_message_id(mine["ID"]) == ("alice", "bob", "3_99_1700000000")
    assert wire.parse_c2c_message_id("C2C|alice|3_99_1") is None
    assert mine["payload"] == {"text": "hi"} and mine["type"] == "TIMTextElem"
    assert mine["isRevoked"] is True  # MsgFlagBits 8: recalled
    assert wire.c2c_key_parts("3_99_1700000000") == (3, 99, 1700000000)
    assert wire.c2c_key_parts("nope") is None


def test_a_group_item_has_an_id_that_gives_back_its_group_and_seq() -> None:
    item = {
        "From_Account": "carol",
        "MsgSeq": 12,
        "MsgTimeStamp": 1700000001,
        "MsgPriority": 1,
        "MsgBody": [{"MsgType": "TIMFileElem", "MsgContent": {"Url": "u", "FileName": "f"}}],
    }
    message = wire.group_message(item, "@TGS#2AB-C", "dave")
    assert message["conversationID"] == "GROUP@TGS#2AB-C" and message["priority"] == "High"
    assert message["payload"] == {"fileUrl": "u", "fileName": "f"}
    assert wire.parse_group_message_id(message["ID"]) == ("@TGS#2AB-C", 12)
    assert wire.parse_group_message_id("not-a-group-id") is None


def test_several_elements_go_out_and_come_back_as_elements() -> None:
    sent = {
        "elements": [
            {"type": "TIMTextElem", "payload": {"text": "a"}},
            {"type": "TIMFaceElem", "payload": {"index": 1, "data": "x"}},
        ]
    }
    body = wire.body_to_wire(sent)
    assert body[0] == {"MsgType": "TIMTextElem", "MsgContent": {"Text": "a"}}
    back = wire.body_from_wire(body)
    assert back["elements"] == sent["elements"] and back["type"] == "TIMTextElem"


def test_prof_1_profile_tags_both_ways() -> None:
    items = wire.profile_items({"nick": "Al", "avatar": "http://a"})
    assert items == [
        {"Tag": "Tag_Profile_IM_Nick", "Value": "Al"},
        {"Tag": "Tag_Profile_IM_Image", "Value": "http://a"},
    ]
    assert wire.profile_from_wire("al", items) == {"userID": "al", "nick": "Al", "avatar": "http://a"}
    assert wire.profile_items({"selfSignature": "x"}) is None  # no tag this driver knows: unsupported
