"""How the model stores messages compactly (issue 15: <= 400 bytes a stored text message, indexes
included) without changing anything a caller sees: IDs, lookups, paging, texts, profiles."""

from __future__ import annotations

import gc
import pickle
import random
import tracemalloc
from collections.abc import Callable
from typing import Any

import pytest

from simtim.clock import FakeClock
from simtim.errors import IMError
from simtim.ids import IdSource, message_id_of
from simtim.model import World
from simtim.model.core import DEV_SDKAPPID, DEV_SECRET_KEY
from simtim.model.entities import Message
from simtim.usersig import gen_usersig

#: the issue's budget for one stored text message, indexes included
BYTES_PER_MESSAGE_BUDGET = 400


def world_of(*users: str) -> tuple[World, FakeClock, dict[str, int]]:
    clock = FakeClock()
    world = World(clock, IdSource(0))
    instances = {}
    for user in users:
        inst = world.create_instance(DEV_SDKAPPID)
        sig = gen_usersig(DEV_SDKAPPID, DEV_SECRET_KEY, user, 86400 * 30, now=clock.now())
        world.call(inst.id, "login", {"userID": user, "userSig": sig})
        instances[user] = inst.id
    return world, clock, instances


def send(world: World, inst: int, to: str, text: str, **extra: Any) -> dict[str, Any]:
    body = {"to": to, "conversationType": "C2C", "type": "TIMTextElem", "payload": {"text": text}, **extra}
    message: dict[str, Any] = world.call(inst, "sendMessage", {"message": body}).data["message"]
    return message


def page(world: World, inst: int, conversation: str, **extra: Any) -> dict[str, Any]:
    data: dict[str, Any] = world.call(inst, "getMessageList", {"conversationID": conversation, **extra}).data
    return data


def test_message_ids_are_the_ones_a_journal_written_before_replays_to() -> None:
    """The key the model keeps spells exactly the ID the model drew before keys existed: the
    world's counter, then 24 random bits of the seeded generator, as ``sender-time-counter-random``."""
    draws, new = random.Random(7), IdSource(7)
    for counter, when in enumerate((1, 1, 2, 1_700_000_000), start=1):
        before = f"al-ice-{when}-{counter}-{draws.getrandbits(24)}"
        assert message_id_of("al-ice", when, new.message_key()) == before


def test_msg_4_a_message_is_found_by_its_id_and_only_by_its_exact_id() -> None:
    world, _clock, inst = world_of("alice", "bob")
    sent = send(world, inst["alice"], "bob", "hi")
    app = world.apps[DEV_SDKAPPID]
    stored = app.messages[sent["ID"]]
    assert stored.id == sent["ID"] and sent["ID"] in app.messages and len(app.messages) == 1
    counter_and_random = sent["ID"].split("-", 2)[2]
    for other in (
        f"bob-{sent['time']}-{counter_and_random}",  # same key, another sender
        f"alice-{sent['time'] + 1}-{counter_and_random}",  # same key, another time
        sent["ID"] + "0",
        "alice-1-²-3",  # a digit int() refuses
        "alice-1-" + "9" * 5000 + "-1",  # longer than int() converts
        "alice-1-5-99999999",  # a random part wider than 24 bits
        "no-dashes",
        "",
    ):
        assert app.messages.get(other) is None and other not in app.messages
    with pytest.raises(IMError):
        world.call(
            inst["alice"], "revokeMessage", {"message": {"ID": f"bob-{sent['time']}-{counter_and_random}"}}
        )


def test_page_1_cursor_paging_works_after_evictions_and_refuses_other_threads() -> None:
    world, _clock, inst = world_of("alice", "bob", "carol")
    world.configure_app(DEV_SDKAPPID, max_messages_per_conversation=5)
    texts = [f"m{i}" for i in range(12)]
    for text in texts:
        send(world, inst["alice"], "bob", text)
    other = send(world, inst["alice"], "carol", "elsewhere")
    newest = page(world, inst["bob"], "C2Calice", count=3)
    assert [m["payload"]["text"] for m in newest["messageList"]] == ["m9", "m10", "m11"]
    older = page(world, inst["bob"], "C2Calice", count=3, nextReqMessageID=newest["nextReqMessageID"])
    assert [m["payload"]["text"] for m in older["messageList"]] == ["m7", "m8"]  # the cap kept 5
    for cursor in (other["ID"], "alice-1-1-1"):
        with pytest.raises(IMError):
            page(world, inst["bob"], "C2Calice", nextReqMessageID=cursor)


def test_rest_4_an_imported_message_keeps_cursor_paging_right() -> None:
    """An import placed by time breaks 'index = sequence - 1'; the thread then indexes positions."""
    world, clock, inst = world_of("alice", "bob")
    clock.advance(100)
    for i in range(4):
        send(world, inst["alice"], "bob", f"live{i}")
        clock.advance(1)
    text = [("TIMTextElem", {"text": "imported"})]
    world.c2c_admin.import_message(
        DEV_SDKAPPID, "bob", "alice", text, msg_seq=1, random=5, timestamp=clock.now() - 4, realtime=False
    )
    texts = ["live0", "imported", "live1", "live2", "live3"]
    whole = page(world, inst["alice"], "C2Cbob")
    assert [m["payload"]["text"] for m in whole["messageList"]] == texts
    for index in range(1, len(texts)):
        cursor = whole["messageList"][index]["ID"]
        before = page(world, inst["alice"], "C2Cbob", nextReqMessageID=cursor)
        assert [m["payload"]["text"] for m in before["messageList"]] == texts[:index]


@pytest.mark.parametrize("text", ["plain", "中文消息 with 😀 and é"])
def test_msg_4_texts_come_back_exactly(text: str) -> None:
    world, _clock, inst = world_of("alice", "bob")
    sent = send(world, inst["alice"], "bob", text)
    assert sent["payload"] == {"text": text}
    assert page(world, inst["bob"], "C2Calice")["messageList"][0]["payload"] == {"text": text}


def test_msg_4_sequence_and_random_are_kept_apart() -> None:
    world, _clock, inst = world_of("alice", "bob")
    for i in range(300):
        sent = send(world, inst["alice"], "bob", "x", random=2**32 - 1 - i)
    assert (sent["sequence"], sent["random"]) == (300, 2**32 - 300)
    msg = world.apps[DEV_SDKAPPID].messages[sent["ID"]]
    msg.sequence = 301
    assert (msg.sequence, msg.random) == (301, 2**32 - 300)
    with pytest.raises(ValueError):
        Message().random = 2**32


def test_prof_1_a_message_keeps_the_profile_it_was_sent_under() -> None:
    world, _clock, inst = world_of("alice", "bob")
    world.call(inst["alice"], "updateMyProfile", {"nick": "Al"})
    first, second = send(world, inst["alice"], "bob", "a"), send(world, inst["alice"], "bob", "b")
    world.call(inst["alice"], "updateMyProfile", {"nick": "Alice", "avatar": "a.png"})
    third = send(world, inst["alice"], "bob", "c")
    messages = world.apps[DEV_SDKAPPID].messages
    assert [(m["nick"], m["avatar"]) for m in page(world, inst["bob"], "C2Calice")["messageList"]] == [
        ("Al", ""),
        ("Al", ""),
        ("Alice", "a.png"),
    ]
    assert messages[first["ID"]].card is messages[second["ID"]].card  # one tuple, not one per message
    assert messages[third["ID"]].card is not messages[first["ID"]].card


def test_a_pickled_world_finds_every_message_again() -> None:
    """A durable server's snapshot: the index comes back from the messages themselves."""
    world, _clock, inst = world_of("alice", "bob")
    ids = [send(world, inst["alice"], "bob", f"m{i}")["ID"] for i in range(20)]
    loaded = pickle.loads(pickle.dumps(world))
    messages = loaded.apps[DEV_SDKAPPID].messages
    assert [messages[i].id for i in ids] == ids and len(messages) == 20
    assert all(messages[i].key is next(m for m in messages.values() if m.id == i).key for i in ids)


def test_stored_text_messages_fit_the_memory_budget() -> None:
    """20,000 C2C texts over 20 conversations: what the world holds afterwards, per message."""
    world, clock, inst = world_of(*(f"user{i:02d}" for i in range(21)))
    held = bytes_held_per_message(clock, lambda to, text: send(world, inst["user00"], to, text))
    assert len(world.apps[DEV_SDKAPPID].messages) == SENDS
    assert held <= BYTES_PER_MESSAGE_BUDGET


#: the same texts sent as the TIM SDK sends them, with ``random`` and ``clientTime``: MSG-6 keeps a
#: dedup key for each while it is within its window (simtim/model/dedup.py): 476 bytes measured;
#: a key of a fresh conversation-ID string and two ints, and a clientTime int of its own, held 570
SDK_BYTES_PER_MESSAGE_BUDGET = 520


def test_msg_6_messages_sent_with_random_and_client_time_keep_compact_dedup_keys() -> None:
    world, clock, inst = world_of(*(f"user{i:02d}" for i in range(21)))
    randoms = iter(range(SENDS))

    def send_one(to: str, text: str) -> object:
        client_time = int(str(clock.now()))  # a new int, as a server parses it from each request
        return send(world, inst["user00"], to, text, random=next(randoms), clientTime=client_time)

    held = bytes_held_per_message(clock, send_one)
    assert len(world.apps[DEV_SDKAPPID].messages) == SENDS
    assert len(world.apps[DEV_SDKAPPID].dedup) == SENDS  # all within the window: every key kept
    assert held <= SDK_BYTES_PER_MESSAGE_BUDGET, held


SENDS = 20_000


def bytes_held_per_message(clock: FakeClock, send_one: Callable[[str, str], object]) -> float:
    """Traced memory the world holds after ``SENDS`` six-word texts to 20 peers, per message."""
    words = ["the", "quick", "brown", "fox", "jumps", "over", "a", "lazy", "dog"]
    gc.collect()
    tracemalloc.start()
    try:
        before = tracemalloc.get_traced_memory()[0]
        for i in range(SENDS):
            text = " ".join(words[(i + k) % len(words)] for k in range(6))
            to = "".join(["user", f"{1 + i % 20:02d}"])  # a new string each time, as a server parses it
            send_one(to, text)
            if i % 1000 == 999:
                clock.advance(1)
        gc.collect()
        return (tracemalloc.get_traced_memory()[0] - before) / SENDS
    finally:
        tracemalloc.stop()


#: a REST-sent message also keeps REST-4's dedup key (sender, peer, MsgSeq, MsgRandom, content) for
#: as long as the message lives: ~380 bytes measured on top of the stored message
REST_BYTES_PER_MESSAGE_BUDGET = 1_000


def test_rest_4_backend_sent_messages_keep_their_dedup_keys_compact() -> None:
    """20,000 sendmsg texts through the model's REST path: what the world holds, per message.  A
    dedup key that kept orjson's output bytes held a 4 KB buffer each (~4.9 KB a message)."""
    clock = FakeClock()
    world = World(clock, IdSource(0))
    for i in range(21):
        world.import_account(DEV_SDKAPPID, f"user{i:02d}")
    sends = iter(range(SENDS))

    def send_one(to: str, text: str) -> object:
        elements: list[tuple[Any, Any]] = [("TIMTextElem", {"text": text})]
        return world.c2c_admin.send(DEV_SDKAPPID, "user00", to, elements, is_admin=False, random=next(sends))

    held = bytes_held_per_message(clock, send_one)
    assert len(world.apps[DEV_SDKAPPID].messages) == SENDS
    assert held <= REST_BYTES_PER_MESSAGE_BUDGET
