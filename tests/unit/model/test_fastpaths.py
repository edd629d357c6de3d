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
