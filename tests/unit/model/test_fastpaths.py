"""The send hot path renders conversations without ``conversation_view``; they must agree (CONV-2)."""

from __future__ import annotations

from simtim.sdk import SimTIM
from tests.conftest import LoginFn, text


def test_conv_2_fast_c2c_conversation_equals_conversation_view(service: SimTIM, login: LoginFn) -> None:
    alice, bob = login("alice"), login("bob")
    alice.update_my_profile({"nick": "Alice", "avatar": "a.png"})
    bob.take_events()
    alice.send_message(text("bob", "one"))
    alice.send_message(text("bob", "two"))
    pushed = [data for name, data in bob.take_events() if name == "onConversationListUpdated"][-1][0]
    world = service.world
    app = world.apps[1400000000]
    slow = world.conversation_view(app, app.accounts["bob"], "C2Calice")
    assert pushed == slow
    assert pushed["unreadCount"] == 2 and pushed["userProfile"]["nick"] == "Alice"
    mine = [data for name, data in alice.take_events() if name == "onConversationListUpdated"][-1][0]
    assert mine == world.conversation_view(app, app.accounts["alice"], "C2Cbob")


def test_conv_2_fast_group_conversation_equals_conversation_view(service: SimTIM, login: LoginFn) -> None:
    owner, member = login("owner"), login("member")
    group = owner.call("createGroup", {"name": "g", "type": "Public", "memberList": [{"userID": "member"}]})[
        "group"
    ]
    gid = group["groupID"]
    member.take_events()
    owner.take_events()
    owner.send_message(text(gid, "hi", "GROUP"))  # a message (fan-out path)
    owner.call("updateGroupProfile", {"groupID": gid, "name": "renamed"})  # a tip (emit_tip path)
    world = service.world
    app = world.apps[1400000000]
    updates = [data[0] for name, data in member.take_events() if name == "onConversationListUpdated"]
    assert len(updates) == 2
    assert updates[-1] == world.conversation_view(app, app.accounts["member"], "GROUP" + gid)
    assert updates[0]["unreadCount"] == 1 and updates[-1]["groupProfile"]["name"] == "renamed"
    mine = [data[0] for name, data in owner.take_events() if name == "onConversationListUpdated"]
    assert mine[-1] == world.conversation_view(app, app.accounts["owner"], "GROUP" + gid)


def test_conv_2_group_fan_out_item_equals_conversation_view_for_sender_and_member(
    service: SimTIM, login: LoginFn
) -> None:
    owner, member = login("owner"), login("member")
    gid = owner.call("createGroup", {"name": "g", "type": "Public", "memberList": [{"userID": "member"}]})[
        "group"
    ]["groupID"]
    owner.send_message(text(gid, "first", "GROUP"))
    member.take_events()
    owner.take_events()
    owner.send_message(text(gid, "second", "GROUP"))  # the fan-out loop renders these items
    world = service.world
    app = world.apps[1400000000]
    for client, user_id in ((member, "member"), (owner, "owner")):
        pushed = [data[0] for name, data in client.take_events() if name == "onConversationListUpdated"]
        assert pushed == [world.conversation_view(app, app.accounts[user_id], "GROUP" + gid)]
    assert pushed[0]["lastMessage"]["payload"] == {"text": "second"}
