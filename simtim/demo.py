"""A short, scripted walk through the reference model (``simtim demo``).

It shows what the model decides, step by step, with a fake clock, so a new
user sees the rules (kicks, revoke window, paging, unread) without a server.
"""

from __future__ import annotations

from collections.abc import Callable

from simtim.errors import IMError
from simtim.model.core import DEV_SDKAPPID, DEV_SECRET_KEY
from simtim.sdk import TIM, SimTIM
from simtim.usersig import gen_usersig


def run_demo(say: Callable[[str], None]) -> int:
    service = SimTIM()
    now = service.clock.now

    def login(user: str) -> TIM:
        tim = service.create({"SDKAppID": DEV_SDKAPPID})
        tim.login(
            {"userID": user, "userSig": gen_usersig(DEV_SDKAPPID, DEV_SECRET_KEY, user, 86400, now=now())}
        )
        return tim

    alice, bob = login("alice"), login("bob")
    say(
        "alice and bob logged in: "
        + ", ".join(f"{n}={e[0][0]}" for n, e in (("alice", alice.take_events()), ("bob", bob.take_events())))
    )
    second_alice = login("alice")
    say(f"INST-3: alice logs in on a second page; the first page gets {[n for n, _ in alice.take_events()]}")
    try:
        alice.get_my_profile()
    except IMError as exc:
        say(f"        and its next call fails with {exc.code} ({exc.message})")
    alice = second_alice
    alice.take_events()
    for i in range(20):
        alice.send_message(
            alice.create_text_message(
                {"to": "bob", "conversationType": "C2C", "payload": {"text": f"hello {i}"}}
            )
        )
    received = [n for n, _ in bob.take_events()]
    say(f"MSG-5: alice sent 20 texts; bob received {received.count('onMessageReceived')} onMessageReceived")
    conversation = bob.get_conversation_profile("C2Calice")["conversation"]
    say(f"UNREAD-1: bob's unreadCount in C2Calice is {conversation['unreadCount']}")
    page = bob.get_message_list({"conversationID": "C2Calice"})
    say(f"PAGE-1: first page has {len(page['messageList'])} messages, isCompleted={page['isCompleted']}")
    page2 = bob.get_message_list({"conversationID": "C2Calice", "nextReqMessageID": page["nextReqMessageID"]})
    say(f"        second page has {len(page2['messageList'])}, isCompleted={page2['isCompleted']}")
    last = alice.send_message(
        alice.create_text_message({"to": "bob", "conversationType": "C2C", "payload": {"text": "oops"}})
    )["message"]
    service.advance(120)
    alice.revoke_message(last)
    say(
        "REV-1: revoke at 120 s after sending: allowed; bob got "
        f"{[n for n, _ in bob.take_events() if n == 'onMessageRevoked']}"
    )
    late = alice.send_message(
        alice.create_text_message({"to": "bob", "conversationType": "C2C", "payload": {"text": "too late"}})
    )["message"]
    service.advance(121)
    try:
        alice.revoke_message(late)
    except IMError as exc:
        say(f"REV-1: revoke at 121 s: refused with {exc.code} ({exc.message})")
    bob.set_message_read({"conversationID": "C2Calice"})
    say(
        f"UNREAD-1: after setMessageRead bob's count is "
        f"{bob.get_conversation_profile('C2Calice')['conversation']['unreadCount']}"
    )
    return 0
