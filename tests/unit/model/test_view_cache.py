"""History pages from kept renderings answer exactly what a fresh rendering answers (PAGE-1,
REV-2), for every reader, and the set of kept renderings stays bounded (simtim/model/view_cache.py)."""

from __future__ import annotations

from simtim.model.entities import Message
from simtim.model.view_cache import RECENT_VIEWS, RecentViews
from simtim.sdk import SimTIM
from tests.conftest import LoginFn, text


def _page(tim: object, conversation_id: str) -> list[dict[str, object]]:
    return tim.get_message_list({"conversationID": conversation_id})["messageList"]  # type: ignore[attr-defined]


def _fresh(service: SimTIM, viewer: str, conversation_id: str, ids: list[str]) -> list[dict[str, object]]:
    app = next(iter(service.world.apps.values()))
    return [app.messages[i].view(viewer, conversation_id) for i in ids]


def test_page_1_a_page_read_again_and_by_the_other_side_is_what_a_fresh_rendering_gives(
    service: SimTIM, login: LoginFn
) -> None:
    alice, bob = login("alice"), login("bob")
    for i in range(5):
        alice.send_message(text("bob", f"a{i}", cloudCustomData=f"data {i}"))
        bob.send_message(text("alice", f"b{i}"))
    first = _page(alice, "C2Cbob")
    again = _page(alice, "C2Cbob")  # from the kept renderings
    other_side = _page(bob, "C2Calice")
    ids = [m["ID"] for m in first]
    assert first == again == _fresh(service, "alice", "C2Cbob", ids)
    assert other_side == _fresh(service, "bob", "C2Calice", ids)
    assert {m["flow"] for m in other_side} == {"in", "out"} and other_side != first


def test_rev_2_a_revoked_message_reads_revoked_from_then_on(service: SimTIM, login: LoginFn) -> None:
    alice, bob = login("alice"), login("bob")
    sent = alice.send_message(text("bob", "oops"))["message"]
    assert _page(bob, "C2Calice")[0]["isRevoked"] is False  # kept now
    alice.revoke_message(sent)
    for tim, conversation_id in ((bob, "C2Calice"), (alice, "C2Cbob")):
        assert _page(tim, conversation_id)[0]["isRevoked"] is True


def test_page_1_a_caller_changing_its_page_changes_no_later_page(login: LoginFn) -> None:
    alice, bob = login("alice"), login("bob")
    alice.send_message(text("bob", "hello"))
    mine = _page(bob, "C2Calice")
    mine[0]["isRevoked"] = True
    mine[0]["ID"] = "changed"
    assert _page(bob, "C2Calice")[0]["ID"] != "changed"
    assert _page(bob, "C2Calice")[0]["isRevoked"] is False


def test_the_kept_renderings_stay_within_two_generations() -> None:
    views = RecentViews(capacity=8)
    messages = []
    for i in range(100):
        message = Message()
        message.sender, message.to, message.body, message.time = "alice", "bob", b"hi", i
        messages.append(message)
        views.view(message, "bob", "C2Calice")
        assert len(views) <= 16
    assert views.view(messages[0], "bob", "C2Calice") == messages[0].view("bob", "C2Calice")
    assert len(RECENT_VIEWS) <= 2 * RECENT_VIEWS.capacity
