"""Crash test, Jepsen-style (issue 15 item 2): chat load against ``simtim serve --data``, ``kill -9`` at
a random moment, restart on the same directory, check the history against what clients saw acknowledged.

Senders (one thread and keep-alive connection each) send C2C and group messages; one more thread
changes group membership and a mute, one operation at a time.  Every reply with code 0 is an
acknowledged operation; a request in flight at the kill is indeterminate (it may or may not have been
stored: it was never acknowledged).  After each restart:

* every acknowledged message is in its conversation's history with the same ID, sequence and time;
* no message ID appears twice in a history, and no (sender, random) pair was stored twice;
* the group's members and who is muted equal the reference model's after the acknowledged membership
  operations (plus the indeterminate one, if it was stored: either outcome is accepted, no other);
* the restarted server takes new writes.

The cycle runs ``KILL_POINTS`` times on the same directory, so later restarts replay longer journals.
"""

from __future__ import annotations

import http.client
import os
import random
import signal
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import orjson
import pytest

from simtim.limits import MESSAGE_PAGE_MAX
from simtim.model.core import DEV_SDKAPPID, DEV_SECRET_KEY
from simtim.sdk import SimTIM
from simtim.server.process import ServeProcess
from simtim.usersig import gen_usersig

pytestmark = pytest.mark.slow

KILL_POINTS = 5
SENDERS = ("alice", "bob", "carol", "erin")
TOGGLED = "dave"  # joins and quits the group
MUTED = "carol"  # muted and unmuted by the owner
GROUP = "crashroom"
ADMIN_KEY = "crash-admin"
SIG_LIFETIME = 7 * 86400


class Client:
    """One keep-alive connection, no retries: a retried send could be stored twice."""

    def __init__(self, url: str) -> None:
        host, port = url.removeprefix("http://").split(":")
        self.conn = http.client.HTTPConnection(host, int(port), timeout=10)

    def call(self, method: str, body: dict[str, Any], token: str | None = None) -> dict[str, Any]:
        headers = {"Content-Type": "application/json"}
        if token:
            headers["Authorization"] = f"Bearer {token}"
        self.conn.request("POST", f"/v1/{method}", orjson.dumps(body), headers)
        reply: dict[str, Any] = orjson.loads(self.conn.getresponse().read())
        return reply

    def ok(self, method: str, body: dict[str, Any], token: str | None = None) -> dict[str, Any]:
        reply = self.call(method, body, token)
        assert reply["code"] == 0, (method, body, reply)
        data: dict[str, Any] = reply["data"]
        return data

    def close(self) -> None:
        self.conn.close()


@dataclass
class Acked:
    """What clients saw acknowledged, and what was in flight when the server died."""

    messages: dict[str, dict[str, Any]] = field(default_factory=dict)  # ID -> (conversation, sequence, time)
    membership: list[tuple[str, int]] = field(default_factory=list)  # acknowledged ops, in order
    in_flight_membership: tuple[str, int] | None = None
    lock: threading.Lock = field(default_factory=threading.Lock)


def sender_loop(url: str, user: str, token: str, seed: int, acked: Acked, stop: threading.Event) -> None:
    rng = random.Random(seed)
    client = Client(url)
    try:
        while not stop.is_set():
            if rng.random() < 0.3:
                to, kind = GROUP, "GROUP"
            else:
                to, kind = rng.choice([u for u in SENDERS if u != user]), "C2C"
            body = {
                "message": {
                    "to": to,
                    "conversationType": kind,
                    "type": "TIMTextElem",
                    "payload": {"text": f"{user} {rng.getrandbits(40)}"},
                    "random": rng.getrandbits(32),
                }
            }
            reply = client.call("sendMessage", body, token)
            if reply["code"] == 0:
                message = reply["data"]["message"]
                with acked.lock:
                    acked.messages[message["ID"]] = {
                        "reader": user,
                        "conversationID": message["conversationID"],
                        "sequence": message["sequence"],
                        "time": message["time"],
                        "random": message["random"],
                    }
    except (OSError, http.client.HTTPException):
        return  # the server died under us: this request is indeterminate
    finally:
        client.close()


MEMBERSHIP_OPS = (("join", 0), ("mute", 600), ("quit", 0), ("mute", 0))


def membership_loop(url: str, tokens: dict[str, str], acked: Acked, stop: threading.Event) -> None:
    client = Client(url)
    step = len(acked.membership)
    try:
        while not stop.is_set():
            op = MEMBERSHIP_OPS[step % len(MEMBERSHIP_OPS)]
            acked.in_flight_membership = op
            if op[0] == "join":
                reply = client.call("joinGroup", {"groupID": GROUP}, tokens[TOGGLED])
            elif op[0] == "quit":
                reply = client.call("quitGroup", {"groupID": GROUP}, tokens[TOGGLED])
            else:
                body = {"groupID": GROUP, "userID": MUTED, "muteTime": op[1]}
                reply = client.call("setGroupMemberMuteTime", body, tokens["alice"])
            assert reply["code"] == 0, (op, reply)
            acked.membership.append(op)
            acked.in_flight_membership = None
            step += 1
            time.sleep(0.01)
    except (OSError, http.client.HTTPException):
        return
    finally:
        client.close()


def model_membership(ops: list[tuple[str, int]]) -> tuple[set[str], set[str]]:
    """(members, muted) after ``ops`` in the reference model, set up as the server was."""
    service = SimTIM()
    tims = {}
    for user in (*SENDERS, TOGGLED):
        tim = service.create({"SDKAppID": DEV_SDKAPPID})
        tim.login(
            {
                "userID": user,
                "userSig": gen_usersig(
                    DEV_SDKAPPID, DEV_SECRET_KEY, user, SIG_LIFETIME, now=service.clock.now()
                ),
            }
        )
        tims[user] = tim
    tims["alice"].call(
        "createGroup",
        {
            "type": "Public",
            "groupID": GROUP,
            "name": "crash",
            "memberList": [{"userID": u} for u in SENDERS[1:]],
        },
    )
    for op, seconds in ops:
        if op == "join":
            tims[TOGGLED].call("joinGroup", {"groupID": GROUP})
        elif op == "quit":
            tims[TOGGLED].call("quitGroup", {"groupID": GROUP})
        else:
            tims["alice"].call(
                "setGroupMemberMuteTime", {"groupID": GROUP, "userID": MUTED, "muteTime": seconds}
            )
    members = tims["alice"].call("getGroupMemberList", {"groupID": GROUP, "count": 100})["memberList"]
    return {m["userID"] for m in members}, {m["userID"] for m in members if m["muteUntil"]}


def server_membership(client: Client, token: str) -> tuple[set[str], set[str]]:
    members = client.ok("getGroupMemberList", {"groupID": GROUP, "count": 100}, token)["memberList"]
    return {m["userID"] for m in members}, {m["userID"] for m in members if m["muteUntil"]}


def history(client: Client, token: str, conversation_id: str) -> list[dict[str, Any]]:
    """Every message of a conversation, paging back from the newest."""
    messages: list[dict[str, Any]] = []
    cursor = ""
    while True:
        body: dict[str, Any] = {"conversationID": conversation_id, "count": MESSAGE_PAGE_MAX}
        if cursor:
            body["nextReqMessageID"] = cursor
        page = client.ok("getMessageList", body, token)
        messages.extend(page["messageList"])
        if page["isCompleted"]:
            return messages
        cursor = page["nextReqMessageID"]


SNAPSHOT_EVERY = 3000  # entries: snapshots are forked during the load, and some kills land mid-write


def start(directory: Path) -> ServeProcess:
    options = ["--data", str(directory), "--admin-key", ADMIN_KEY, "--snapshot-every", str(SNAPSHOT_EVERY)]
    return ServeProcess(options, start_timeout=30.0)


def set_up(url: str) -> dict[str, str]:
    client = Client(url)
    tokens = {}
    now = int(time.time())
    for user in (*SENDERS, TOGGLED):
        sig = gen_usersig(DEV_SDKAPPID, DEV_SECRET_KEY, user, SIG_LIFETIME, now=now)
        tokens[user] = client.ok("login", {"SDKAppID": DEV_SDKAPPID, "userID": user, "userSig": sig})["token"]
    group = {
        "type": "Public",
        "groupID": GROUP,
        "name": "crash",
        "memberList": [{"userID": u} for u in SENDERS[1:]],
    }
    client.ok("createGroup", group, tokens["alice"])
    client.close()
    return tokens


def verify(url: str, tokens: dict[str, str], acked: Acked) -> dict[str, int]:
    client = Client(url)
    try:
        conversations = {(m["reader"], m["conversationID"]) for m in acked.messages.values()}
        stored: dict[str, dict[str, Any]] = {}
        duplicates = 0
        for reader, conversation_id in sorted(conversations):
            listing = history(client, tokens[reader], conversation_id)
            ids = [m["ID"] for m in listing]
            pairs = [(m["from"], m["random"]) for m in listing]  # one send stored twice under two IDs
            duplicates += len(ids) - len(set(ids)) + len(pairs) - len(set(pairs))
            stored.update((m["ID"], m) for m in listing)
        lost = changed = 0
        for message_id, seen in acked.messages.items():
            now = stored.get(message_id)
            if now is None:
                lost += 1
            elif (now["sequence"], now["time"]) != (seen["sequence"], seen["time"]):
                changed += 1
        members = server_membership(client, tokens["alice"])
        candidates = [model_membership(acked.membership)]
        if acked.in_flight_membership is not None:
            candidates.append(model_membership([*acked.membership, acked.in_flight_membership]))
        assert members in candidates, (members, candidates, acked.membership[-3:], acked.in_flight_membership)
        if members != candidates[0]:  # the in-flight op was stored: it is acknowledged from now on
            assert acked.in_flight_membership is not None
            acked.membership.append(acked.in_flight_membership)
        acked.in_flight_membership = None
        client.ok(
            "sendMessage",
            {
                "message": {
                    "to": "bob",
                    "conversationType": "C2C",
                    "type": "TIMTextElem",
                    "payload": {"text": "after restart"},
                }
            },
            tokens["alice"],
        )
        return {"acked": len(acked.messages), "lost": lost, "duplicated": duplicates, "changed": changed}
    finally:
        client.close()


def test_kill_9_at_random_moments_loses_no_acknowledged_write(tmp_path: Path) -> None:
    rng = random.Random(int(os.environ.get("SIMTIM_CRASH_SEED", "15")))
    server = start(tmp_path)
    tokens = set_up(server.url)
    acked = Acked()
    results = []
    started_from_snapshot = 0
    try:
        for kill_point in range(KILL_POINTS):
            stop = threading.Event()
            threads = [
                threading.Thread(
                    target=sender_loop, args=(server.url, u, tokens[u], rng.getrandbits(32), acked, stop)
                )
                for u in SENDERS
            ]
            threads.append(threading.Thread(target=membership_loop, args=(server.url, tokens, acked, stop)))
            for thread in threads:
                thread.start()
            time.sleep(rng.uniform(0.5, 2.5))  # a random moment under load
            os.kill(server.proc.pid, signal.SIGKILL)
            server.proc.wait()
            stop.set()
            for thread in threads:
                thread.join(timeout=15)
            server.stop()
            server = start(tmp_path)
            started_from_snapshot += "after snapshot 0 " not in server.log()
            result = verify(server.url, tokens, acked)
            results.append(result)
            assert result["lost"] == 0 and result["duplicated"] == 0 and result["changed"] == 0, (
                kill_point,
                result,
            )
    finally:
        server.stop()
    print(
        f"\ncrash test: {KILL_POINTS} kill points, {started_from_snapshot} restarts from a snapshot; {results}"
    )
    assert results[-1]["acked"] > KILL_POINTS * 50  # the load really ran
    assert started_from_snapshot  # snapshots were written under load and used
