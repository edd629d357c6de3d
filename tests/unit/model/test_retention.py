"""PAGE-2 in memory: messages past retention or past a cap leave the store, as if expired."""

from __future__ import annotations

from typing import Any

from simtim.clock import FakeClock
from simtim.errors import IMError
from simtim.ids import IdSource
from simtim.model import World
from simtim.model.core import DEV_SDKAPPID, DEV_SECRET_KEY
from simtim.model.retention import GLOBAL_CAP_SLACK
from simtim.protocol.service import Service
from simtim.usersig import gen_usersig


def world_with(**config: Any) -> tuple[World, FakeClock, dict[str, int]]:
    clock = FakeClock()
    world = World(clock, IdSource(0))
    world.configure_app(DEV_SDKAPPID, **config)
    instances = {}
    for user in ("alice", "bob", "carol"):
        inst = world.create_instance(DEV_SDKAPPID)
        sig = gen_usersig(DEV_SDKAPPID, DEV_SECRET_KEY, user, 86400 * 30, now=clock.now())
        world.call(inst.id, "login", {"userID": user, "userSig": sig})
        instances[user] = inst.id
    return world, clock, instances


def send(world: World, inst: int, to: str, text: str) -> dict[str, Any]:
    body = {
        "message": {"to": to, "conversationType": "C2C", "type": "TIMTextElem", "payload": {"text": text}}
    }
    message: dict[str, Any] = world.call(inst, "sendMessage", body).data["message"]
    return message


def history(world: World, inst: int, conversation: str, **extra: Any) -> list[str]:
    data = world.call(inst, "getMessageList", {"conversationID": conversation, **extra}).data
    return [m["payload"]["text"] for m in data["messageList"]]


def code(call: Any) -> int:
    try:
        call()
    except IMError as exc:
        return int(exc.code)
    return 0


def test_page_2_the_sweep_drops_messages_past_retention_from_memory() -> None:
    world, clock, inst = world_with(retention_seconds=60)
    old = send(world, inst["alice"], "bob", "old")
    clock.advance(30)
    send(world, inst["alice"], "bob", "new")
    app = world.apps[DEV_SDKAPPID]
    clock.advance(31)  # "old" is past retention; the read filter already hides it
    assert history(world, inst["bob"], "C2Calice") == ["new"]
    expired_code = code(lambda: world.call(inst["alice"], "deleteMessage", {"messageList": [old]}))
    world.sweep()
    assert old["ID"] not in app.messages and app.evicted == {"retention": 1, "cap": 0} and app.held == 1
    assert history(world, inst["bob"], "C2Calice") == ["new"]  # as if expired: nothing changed for readers
    assert code(lambda: world.call(inst["alice"], "deleteMessage", {"messageList": [old]})) == expired_code
    assert expired_code == 6017  # MSG-9: a message past retention is not found, swept or not
    resent = world.call(inst["alice"], "resendMessage", {"message": old}).data["message"]
    assert resent["ID"] != old["ID"]  # MSG-6: gone from the store, so a resend sends it anew


def test_page_2_a_conversation_cap_keeps_its_newest_messages() -> None:
    world, _, inst = world_with(max_messages_per_conversation=3)
    sent = [send(world, inst["alice"], "bob", f"m{i}") for i in range(5)]
    send(world, inst["alice"], "carol", "other")
    app = world.apps[DEV_SDKAPPID]
    assert history(world, inst["bob"], "C2Calice") == ["m2", "m3", "m4"]
    assert history(world, inst["carol"], "C2Calice") == ["other"]
    assert app.evicted["cap"] == 2 and app.held == 4
    assert sent[0]["ID"] not in app.messages and sent[2]["ID"] in app.messages
    assert code(lambda: world.call(inst["alice"], "revokeMessage", {"message": sent[0]})) != 0


def test_page_2_paging_cursors_survive_eviction_at_the_front() -> None:
    world, _, inst = world_with(max_messages_per_conversation=5)
    for i in range(9):
        send(world, inst["alice"], "bob", f"m{i}")
    first = world.call(inst["bob"], "getMessageList", {"conversationID": "C2Calice", "count": 2}).data
    assert [m["payload"]["text"] for m in first["messageList"]] == ["m7", "m8"]
    rest = history(world, inst["bob"], "C2Calice", count=10, nextReqMessageID=first["nextReqMessageID"])
    assert rest == ["m4", "m5", "m6"]


def test_page_2_the_app_cap_evicts_the_oldest_across_conversations() -> None:
    cap = 2 * GLOBAL_CAP_SLACK  # evicting past it drops cap // 64 = 2 more at once
    world, _, inst = world_with(max_messages=cap)
    sent = [send(world, inst["alice"], "bob" if i % 2 else "carol", f"m{i}")["ID"] for i in range(cap)]
    app = world.apps[DEV_SDKAPPID]
    assert app.held == cap and app.evicted["cap"] == 0
    send(world, inst["alice"], "bob", "one more")
    assert app.held == cap - 2 and app.evicted["cap"] == 3
    assert [i for i, message_id in enumerate(sent) if message_id not in app.messages] == [0, 1, 2]


def test_page_2_evictions_are_counted_in_the_admin_snapshot() -> None:
    service = Service(fake_clock=True, clock_start=1_600_000_000)
    service.admin("configureApp", {"SDKAppID": DEV_SDKAPPID, "maxMessagesPerConversation": 1})
    token = service.handle(
        "login", None, {"SDKAppID": DEV_SDKAPPID, "userID": "alice", "userSig": sig("alice")}
    )
    service.handle("login", None, {"SDKAppID": DEV_SDKAPPID, "userID": "bob", "userSig": sig("bob")})
    for text in ("a", "b", "c"):
        body = {
            "message": {
                "to": "bob",
                "conversationType": "C2C",
                "type": "TIMTextElem",
                "payload": {"text": text},
            }
        }
        assert service.handle("sendMessage", token["data"]["token"], body)["code"] == 0
    counts = service.admin("snapshot", {})["data"]["counts"]
    assert (counts["historyMessages"], counts["evictedByCap"], counts["evictedByRetention"]) == (1, 2, 0)
    refused = service.admin("configureApp", {"SDKAppID": DEV_SDKAPPID, "maxMessages": -1})
    assert refused["code"] != 0


def sig(user: str) -> str:
    return gen_usersig(DEV_SDKAPPID, DEV_SECRET_KEY, user, 86400, now=1_600_000_000)


def test_page_2_a_sweep_is_due_when_a_message_is_past_retention() -> None:
    """A journaled server records a sweep only when ``expiries_due`` says it has work; retention
    evictions count as work, or a replay would hold messages the live server had dropped."""
    world, clock, inst = world_with(retention_seconds=60)
    send(world, inst["alice"], "bob", "old")
    assert not world.state.expiries_due()
    clock.advance(61)
    assert world.state.expiries_due()
    world.sweep()
    assert not world.state.expiries_due()
