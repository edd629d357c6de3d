"""Authorization matrix: every operation that reads or changes another account's or a group's
data, called by an account with no right to it, is refused with its TIM code, changes nothing
(state digest) and reveals nothing - no conversation, message, member or profile of others in the
reply. Driven through the ASGI app of ``simtim serve`` (simtim/1 and REST v4 faces alike).

Actors: ``eve`` belongs to nothing; ``bob`` is a plain Member where only the Owner/Admin may act.
Each row names the rule whose refusal it pins (group operations: GRP-*, MBR-*, ROLE-*, MUTE-1;
messages: MSG-3, MSG-6, MSG-9, REV-3; conversations: CONV-1, CONV-2); REST-2: only an App admin
calls REST v4.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import orjson
import pytest

from simtim.model.core import DEV_SDKAPPID, DEV_SECRET_KEY
from simtim.protocol.rest.face import COMMANDS
from simtim.usersig import gen_usersig
from tests.integration.server_process import CLOCK_START
from tests.unit.server.asgi_wire import AsgiWire

#: what only the members and the two parties know: no refused reply may contain any of it
SECRETS = ("SECRET", "secret-", "dave")


@dataclass
class World:
    wire: AsgiWire
    tokens: dict[str, str]
    messages: dict[str, dict[str, Any]]


def text(to: str, kind: str, body: str) -> dict[str, Any]:
    return {"message": {"to": to, "conversationType": kind, "type": "TIMTextElem", "payload": {"text": body}}}


@pytest.fixture(scope="module")
def world() -> Iterator[World]:
    wire = AsgiWire()
    tokens = {user: wire.login(user) for user in ("alice", "bob", "dave", "eve")}
    for gid, kind in (("priv", "Private"), ("pub", "Public"), ("room", "ChatRoom")):
        wire.ok(
            "createGroup",
            {
                "name": f"secret-{gid}",
                "groupID": gid,
                "type": kind,
                "introduction": "SECRET-INTRO",
                "memberList": [{"userID": "bob"}, {"userID": "dave"}],
            },
            tokens["alice"],
        )
    wire.ok("setGroupMemberRole", {"groupID": "pub", "userID": "dave", "role": "Admin"}, tokens["alice"])
    messages = {
        "c2c": wire.ok("sendMessage", text("bob", "C2C", "SECRET-C2C"), tokens["alice"])["message"],
        "group": wire.ok("sendMessage", text("priv", "GROUP", "SECRET-GROUP"), tokens["alice"])["message"],
        "public": wire.ok("sendMessage", text("pub", "GROUP", "SECRET-PUBLIC"), tokens["alice"])["message"],
    }
    yield World(wire, tokens, messages)
    wire.close()


def body_of(template: dict[str, Any], world: World) -> dict[str, Any]:
    """``"$c2c"``-style placeholders become the seeded messages."""
    out: dict[str, Any] = {}
    for key, value in template.items():
        if isinstance(value, str) and value.startswith("$"):
            out[key] = world.messages[value[1:]]
        elif isinstance(value, list):
            out[key] = [
                world.messages[v[1:]] if isinstance(v, str) and v.startswith("$") else v for v in value
            ]
        else:
            out[key] = value
    return out


# (actor, method, body, TIM code, rule)
REFUSED: list[tuple[str, str, dict[str, Any], int, str]] = [
    ("eve", "getMessageList", {"conversationID": "GROUPpriv"}, 6004, "CONV-1"),
    ("eve", "getMessageList", {"conversationID": "GROUPpub"}, 6004, "CONV-1"),
    ("eve", "getMessageList", {"conversationID": "GROUProom"}, 6004, "CONV-1"),
    ("eve", "setMessageRead", {"conversationID": "GROUPpriv"}, 6004, "CONV-1"),
    ("eve", "getConversationProfile", {"conversationID": "GROUPpub"}, 6004, "CONV-2"),
    ("eve", "revokeMessage", {"message": "$c2c"}, 20022, "REV-3"),
    ("eve", "revokeMessage", {"message": "$group"}, 10030, "REV-3"),
    ("eve", "resendMessage", {"message": "$c2c"}, 6017, "MSG-6"),
    ("eve", "deleteMessage", {"messageList": ["$c2c"]}, 6017, "MSG-9"),
    ("eve", "deleteMessage", {"messageList": ["$group"]}, 6017, "MSG-9"),
    ("eve", "sendMessage", text("priv", "GROUP", "hi"), 10007, "MSG-3"),
    ("eve", "dismissGroup", {"groupID": "pub"}, 10007, "GRP-3"),
    ("eve", "updateGroupProfile", {"groupID": "priv", "name": "x"}, 10007, "GRP-2"),
    ("eve", "updateGroupProfile", {"groupID": "pub", "name": "x"}, 10007, "GRP-2"),
    ("eve", "changeGroupOwner", {"groupID": "priv", "newOwnerID": "eve"}, 10007, "GRP-6"),
    ("eve", "getGroupProfile", {"groupID": "priv"}, 10007, "GRP-5"),
    ("eve", "getGroupProfile", {"groupID": "pub"}, 10007, "GRP-5"),
    ("eve", "searchGroupByID", {"groupID": "priv"}, 10007, "GRP-5"),
    ("eve", "getGroupMemberList", {"groupID": "priv"}, 10007, "MBR-3"),
    ("eve", "getGroupMemberList", {"groupID": "pub"}, 10007, "MBR-3"),
    ("eve", "getGroupMemberList", {"groupID": "room"}, 10007, "MBR-3"),
    ("eve", "getGroupMemberProfile", {"groupID": "pub", "userIDList": ["bob"]}, 10007, "MBR-4"),
    ("eve", "addGroupMember", {"groupID": "priv", "userIDList": ["eve"]}, 10007, "MBR-1"),
    ("eve", "deleteGroupMember", {"groupID": "priv", "userIDList": ["bob"]}, 10007, "MBR-2"),
    ("eve", "setGroupMemberMuteTime", {"groupID": "pub", "userID": "bob", "muteTime": 60}, 10007, "MUTE-1"),
    ("eve", "setGroupMemberRole", {"groupID": "pub", "userID": "bob", "role": "Admin"}, 10007, "ROLE-1"),
    ("eve", "setGroupMemberNameCard", {"groupID": "pub", "userID": "bob", "nameCard": "x"}, 10007, "ROLE-2"),
    (
        "eve",
        "setGroupMemberCustomField",
        {"groupID": "pub", "userID": "bob", "memberCustomField": [{"key": "k", "value": "v"}]},
        10007,
        "ROLE-3",
    ),
    (
        "eve",
        "setMessageRemindType",
        {"groupID": "priv", "messageRemindType": "AcceptNotNotify"},
        10007,
        "GRP-9",
    ),
    ("eve", "quitGroup", {"groupID": "priv"}, 10007, "GRP-4"),
    ("eve", "handleGroupApplication", {"handleAction": "Agree", "message": "$group"}, 6017, "GRP-8"),
    ("bob", "revokeMessage", {"message": "$group"}, 10007, "REV-3"),
    ("bob", "revokeMessage", {"message": "$c2c"}, 20022, "REV-3"),
    ("bob", "resendMessage", {"message": "$c2c"}, 6017, "MSG-6"),
    ("bob", "dismissGroup", {"groupID": "pub"}, 10007, "GRP-3"),
    ("bob", "dismissGroup", {"groupID": "priv"}, 10007, "GRP-3"),
    ("bob", "updateGroupProfile", {"groupID": "pub", "name": "x"}, 10007, "GRP-2"),
    ("bob", "changeGroupOwner", {"groupID": "pub", "newOwnerID": "bob"}, 10007, "GRP-6"),
    ("bob", "addGroupMember", {"groupID": "pub", "userIDList": ["eve"]}, 10007, "MBR-1"),
    ("bob", "setGroupMemberMuteTime", {"groupID": "pub", "userID": "dave", "muteTime": 60}, 10007, "MUTE-1"),
    ("bob", "setGroupMemberRole", {"groupID": "pub", "userID": "alice", "role": "Member"}, 10007, "ROLE-1"),
    (
        "bob",
        "setGroupMemberNameCard",
        {"groupID": "pub", "userID": "alice", "nameCard": "x"},
        10007,
        "ROLE-2",
    ),
    (
        "bob",
        "setGroupMemberCustomField",
        {"groupID": "pub", "userID": "alice", "memberCustomField": [{"key": "k", "value": "v"}]},
        10007,
        "ROLE-3",
    ),
]


def assert_reveals_nothing(envelope: dict[str, Any], sent: dict[str, Any]) -> None:
    """No data, and the text names nothing of others the caller did not name itself."""
    assert not envelope.get("data"), envelope
    named = orjson.dumps(sent).decode()
    for secret in SECRETS:
        if secret not in named:
            assert secret not in orjson.dumps(envelope).decode(), (secret, envelope)


@pytest.mark.parametrize(
    ("actor", "method", "template", "code", "rule"),
    REFUSED,
    ids=[f"{rule}-{actor}-{method}-{i}" for i, (actor, method, _, _, rule) in enumerate(REFUSED)],
)
def test_authorization_matrix_refuses_changes_nothing_and_reveals_nothing(
    world: World, actor: str, method: str, template: dict[str, Any], code: int, rule: str
) -> None:
    body = body_of(template, world)
    before = world.wire.digest()
    envelope = world.wire.call(method, body, world.tokens[actor])
    assert envelope["code"] == code, (rule, envelope)
    assert world.wire.digest() == before, f"refused {method} changed the state"
    assert_reveals_nothing(envelope, {"actor": actor, **body})


@pytest.mark.parametrize(
    ("method", "body"),
    [
        ("getMessageList", {"conversationID": "C2Cbob"}),  # eve's own (empty) conversation with bob
        ("getConversationList", {}),
        ("getGroupList", {}),
    ],
)
def test_an_outsiders_own_reads_show_nothing_of_others(
    world: World, method: str, body: dict[str, Any]
) -> None:
    """CONV-1/CONV-2/GLIST-1: eve may read her own lists; alice and bob's talk is not in them."""
    envelope = world.wire.call(method, body, world.tokens["eve"])
    assert envelope["code"] == 0
    for secret in SECRETS:
        assert secret not in orjson.dumps(envelope).decode()


def test_grp_5_searching_a_public_group_shows_its_profile_only(world: World) -> None:
    """searchGroupByID is how an outsider finds a Public group: its profile, never a member list or a
    message."""
    group = world.wire.ok("searchGroupByID", {"groupID": "pub"}, world.tokens["eve"])["group"]
    assert "memberList" not in group and "lastMessage" not in group
    assert "SECRET-PUBLIC" not in orjson.dumps(group).decode() and "dave" not in orjson.dumps(group).decode()


@pytest.mark.parametrize("command", sorted(COMMANDS), ids="/".join)
def test_rest_2_an_account_that_is_not_an_app_admin_is_refused_every_command(
    world: World, command: tuple[str, str]
) -> None:
    """REST v4 is the App admin's: bob's own valid UserSig gets 60010 on every command, and the
    reply carries nothing but the envelope."""
    sig = gen_usersig(DEV_SDKAPPID, DEV_SECRET_KEY, "bob", 86400, now=CLOCK_START)
    query = f"sdkappid={DEV_SDKAPPID}&identifier=bob&usersig={sig}&random=1&contenttype=json"
    body = {
        "From_Account": "alice",
        "To_Account": "bob",
        "GroupId": "priv",
        "Member_List": [{"Member_Account": "bob"}],
    }
    before = world.wire.digest()
    answer = world.wire.request("POST", f"/v4/{command[0]}/{command[1]}?{query}", orjson.dumps(body))
    reply = orjson.loads(answer.raw)
    assert answer.status == 200 and reply["ErrorCode"] == 60010, reply
    assert set(reply) == {"ActionStatus", "ErrorCode", "ErrorInfo"}, reply
    assert world.wire.digest() == before
