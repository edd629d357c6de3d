"""A mixed workload as journal entries (every face: simtim/1, admin, REST v4, the expiry sweep), and
the state a test compares: everything a snapshot holds, as ``tests/world_snapshot.structure`` sees it."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

import orjson

from simtim.durable.entries import Entry
from simtim.durable.recovery import ServerConfig
from simtim.model.core import DEV_SDKAPPID, DEV_SECRET_KEY
from simtim.protocol.service import Service
from simtim.usersig import gen_usersig
from tests.integration.wire import text
from tests.world_snapshot import structure

__all__ = ["CONFIG", "GROUP", "START", "USERS", "sig", "state_of", "text", "token", "workload"]

START = 1_700_000_000
CONFIG = ServerConfig(fake_clock=False, clock_start=None, seed=11)
USERS = ("alice", "bob", "carol")
GROUP = "room1"


def token(user: str) -> str:
    return f"token-of-{user}"


def sig(user: str, now: int, lifetime: int = 86400) -> str:
    return gen_usersig(DEV_SDKAPPID, DEV_SECRET_KEY, user, lifetime, now=now)


def workload(messages: int = 20) -> list[Entry]:
    """Logins, C2C and group messages, group membership and a mute, a read mark, an admin import,
    a REST send, a login whose UserSig runs out, and the sweep that kicks it (INST-5)."""
    t = START
    entries: list[Entry] = [["admin", t, "importAccount", {"SDKAppID": DEV_SDKAPPID, "userID": "dave"}]]
    for user in USERS:
        body = {"SDKAppID": DEV_SDKAPPID, "userID": user, "userSig": sig(user, t)}
        entries.append(["v1", t, "login", None, body, token(user)])
    entries.append(
        [
            "v1",
            t,
            "login",
            None,
            {"SDKAppID": DEV_SDKAPPID, "userID": "dave", "userSig": sig("dave", t, 5)},
            token("dave"),
        ]
    )
    group = {"type": "Public", "groupID": GROUP, "name": "room", "memberList": [{"userID": "bob"}]}
    entries.append(["v1", t, "createGroup", token("alice"), group, None])
    entries.append(["v1", t, "joinGroup", token("carol"), {"groupID": GROUP}, None])
    for i in range(messages):
        t += 1
        sender, to = USERS[i % 3], USERS[(i + 1) % 3]
        entries.append(["v1", t, "sendMessage", token(sender), text(to, f"c2c {i}"), None])
        entries.append(["v1", t, "sendMessage", token(sender), text(GROUP, f"group {i}", "GROUP"), None])
    mute = {"groupID": GROUP, "userID": "carol", "muteTime": 600}
    entries.append(["v1", t, "setGroupMemberMuteTime", token("alice"), mute, None])
    entries.append(
        ["v1", t, "sendMessage", token("carol"), text(GROUP, "muted", "GROUP"), None]
    )  # refused: 10017
    entries.append(["v1", t, "setMessageRead", token("bob"), {"conversationID": "C2Calice"}, None])
    query = urlencode(
        {
            "sdkappid": DEV_SDKAPPID,
            "identifier": "administrator",
            "usersig": sig("administrator", t),
            "random": 1,
        }
    )
    rest_body = {
        "From_Account": "alice",
        "To_Account": "bob",
        "MsgRandom": 7,
        "MsgBody": [{"MsgType": "TIMTextElem", "MsgContent": {"Text": "from the backend"}}],
    }
    entries.append(
        ["rest", t, "POST", "/v4/openim/sendmsg", query, orjson.dumps(rest_body).decode("latin-1")]
    )
    entries.append(["tick", t + 10])  # dave's 5 s UserSig ran out
    return entries


def state_of(service: Service) -> Any:
    """Everything a snapshot holds, canonical (sharing counts, identities do not)."""
    return structure((service.world, service.tokens, service.callback_urls))
