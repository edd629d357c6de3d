"""The Matrix driver against a real Synapse (started through ``simtim.peer.synapse``, the same
code ``simtim peer synapse`` and CI use).

Skipped when no Python with matrix-synapse is found (``SIMTIM_SYNAPSE_PYTHON`` or the default venv,
see docs/matrix.md), except under ``SIMTIM_REQUIRE_TOOLS=1`` (CI), where that is a failure.
"""

from __future__ import annotations

import os
import secrets
import socket
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from simtim.driver.base import Call, PushedEvent, Reply
from simtim.driver.matrix import MatrixDriver
from simtim.driver.matrix_client import path_of
from simtim.driver.matrix_map import PROVISION_DEVICE
from simtim.errors import Code
from simtim.peer.synapse import SynapseProblem, SynapseProcess, check_port_free, find, install_hint

WAIT = 10.0  # seconds an event may take on a loaded 2-core machine


@pytest.fixture(scope="module")
def synapse(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SynapseProcess]:
    python = find()
    if python is None:
        if os.environ.get("SIMTIM_REQUIRE_TOOLS") == "1":
            pytest.fail(f"matrix-synapse is required in CI: {install_hint()}")
        pytest.skip(f"no Python with matrix-synapse: {install_hint()}")
    with SynapseProcess(tmp_path_factory.mktemp("synapse"), python=python) as server:
        yield server


@pytest.fixture
def driver(synapse: SynapseProcess) -> Iterator[MatrixDriver]:
    opened = MatrixDriver(synapse.target, registration_secret=synapse.secret, sync_timeout_ms=2000)
    yield opened
    opened.close()


def names(*users: str) -> list[str]:
    """Run-unique userIDs (one Synapse serves the whole module), with upper case to exercise escaping."""
    tag = secrets.token_hex(3)
    return [f"{user}_{tag}" for user in users]


def login(driver: MatrixDriver, user: str) -> str:
    reply = driver.call(Call("login", {"SDKAppID": 1, "userID": user, "userSig": "unused"}))
    assert reply.ok, reply
    session = str(reply.data["session"])
    assert next_event(driver, session, "sdkStateReady").data == {}
    return session


def call(driver: MatrixDriver, session: str, method: str, **args: Any) -> Reply:
    return driver.call(Call(method, args, session))


def ok(driver: MatrixDriver, session: str, method: str, **args: Any) -> dict[str, Any]:
    reply = call(driver, session, method, **args)
    assert reply.ok, (method, reply)
    return reply.data


def next_event(driver: MatrixDriver, session: str, name: str, timeout: float = WAIT) -> PushedEvent:
    event = driver.events(session).wait_for(lambda e: e.name == name, timeout)
    assert event is not None, f"no {name} for {session}"
    return event


def text(to: str, body: str, kind: str = "C2C", **extra: Any) -> dict[str, Any]:
    return {
        "message": {
            "to": to,
            "conversationType": kind,
            "type": "TIMTextElem",
            "payload": {"text": body},
            **extra,
        }
    }


def test_c2c_reaches_every_other_device_of_both_users(driver: MatrixDriver) -> None:
    alice, bob = names("Alice", "bob")
    a1, a2, b1, b2 = login(driver, alice), login(driver, alice), login(driver, bob), login(driver, bob)
    sent = ok(driver, a1, "sendMessage", **text(bob, "hello", cloudCustomData="stamp-1"))["message"]
    assert (sent["from"], sent["to"], sent["conversationID"], sent["flow"]) == (
        alice,
        bob,
        f"C2C{bob}",
        "out",
    )
    for session in (b1, b2):
        (got,) = next_event(driver, session, "onMessageReceived").data
        assert got["ID"] == sent["ID"]
        assert (got["from"], got["to"], got["conversationID"], got["flow"]) == (
            alice,
            bob,
            f"C2C{alice}",
            "in",
        )
        assert got["payload"] == {"text": "hello"} and got["type"] == "TIMTextElem"
        assert got["cloudCustomData"] == "stamp-1"  # the harness's delivery stamp survives
        assert got["time"] == sent["time"] and abs(got["time"] - __import__("time").time()) < 120
    (own,) = next_event(driver, a2, "onMessageReceived").data  # MSG-5: the sender's other device
    assert own["ID"] == sent["ID"] and own["flow"] == "out"
    ok(driver, b1, "sendMessage", **text(alice, "back"))
    assert next_event(driver, a1, "onMessageReceived").data[0]["payload"] == {"text": "back"}
    assert not [e for e in driver.events(a1).drain() if e.name == "onMessageReceived"]  # never its own


def test_history_pages_at_most_15_and_pages_on(driver: MatrixDriver) -> None:
    alice, bob = names("alice", "bob")
    a, b = login(driver, alice), login(driver, bob)
    ids = [ok(driver, a, "sendMessage", **text(bob, f"m{i}"))["message"]["ID"] for i in range(17)]
    first = ok(driver, b, "getMessageList", conversationID=f"C2C{alice}", count=20)
    assert [m["ID"] for m in first["messageList"]] == ids[2:]  # the newest 15, ascending
    assert first["isCompleted"] is False and first["nextReqMessageID"] == ids[2]
    rest = ok(driver, b, "getMessageList", conversationID=f"C2C{alice}", nextReqMessageID=ids[2])
    assert [m["ID"] for m in rest["messageList"]] == ids[:2]
    assert rest["isCompleted"] is True and rest["nextReqMessageID"] == ""
    unknown = call(driver, b, "getMessageList", conversationID=f"C2C{alice}", nextReqMessageID="$nope")
    assert unknown.code == Code.INVALID_PARAMETERS


def test_a_resend_with_the_same_random_is_the_same_message(driver: MatrixDriver) -> None:
    alice, bob = names("alice", "bob")
    a, b = login(driver, alice), login(driver, bob)
    once = ok(driver, a, "sendMessage", **text(bob, "x", random=42, clientTime=7))["message"]
    again = ok(driver, a, "resendMessage", **text(bob, "x", random=42, clientTime=7))["message"]
    other = ok(driver, a, "sendMessage", **text(bob, "x", random=43, clientTime=7))["message"]
    assert once["ID"] == again["ID"] != other["ID"]
    received = [next_event(driver, b, "onMessageReceived").data[0]["ID"] for _ in range(2)]
    assert received == [once["ID"], other["ID"]]  # delivered once


def test_a_resend_of_a_message_sent_without_random_is_the_same_message(driver: MatrixDriver) -> None:
    """The resent message is the one the send answered (its random is not what the send used):
    the device reuses that event's transaction ID, so the peer gets it once (MSG-6)."""
    alice, bob = names("alice", "bob")
    a, b = login(driver, alice), login(driver, bob)
    once = ok(driver, a, "sendMessage", **text(bob, "y"))["message"]
    again = ok(driver, a, "resendMessage", message={**once, "random": 12345})["message"]
    assert again["ID"] == once["ID"]
    later = ok(driver, a, "sendMessage", **text(bob, "z"))["message"]
    received = [next_event(driver, b, "onMessageReceived").data[0]["ID"] for _ in range(2)]
    assert received == [once["ID"], later["ID"]]


def devices_of(driver: MatrixDriver, user: str) -> list[str]:
    listed = driver.http.request(
        "GET", path_of("/_synapse/admin/v2/users", driver.matrix_id(user), "devices"), token=driver._admin()
    )
    return sorted(str(d["device_id"]) for d in listed["devices"])


def test_a_first_c2c_message_joins_the_peer_through_its_online_device(driver: MatrixDriver) -> None:
    """No extra device for the peer (each new device wakes the /syncs of everyone sharing a room)."""
    alice, bob = names("alice", "bob")
    a, b = login(driver, alice), login(driver, bob)
    before = devices_of(driver, bob)
    sent = ok(driver, a, "sendMessage", **text(bob, "hi"))["message"]
    assert next_event(driver, b, "onMessageReceived").data[0]["ID"] == sent["ID"]
    assert devices_of(driver, bob) == before and PROVISION_DEVICE not in before


def test_adding_an_unknown_account_fails_and_creates_nothing(driver: MatrixDriver) -> None:
    alice, bob, nobody = names("alice", "bob", "nobody")
    a = login(driver, alice)
    login(driver, bob)
    group_id = ok(driver, a, "createGroup", name="g")["group"]["groupID"]
    added = ok(driver, a, "addGroupMember", groupID=group_id, userIDList=[bob, nobody])
    assert added["successUserIDList"] == [bob] and added["failureUserIDList"] == [nobody]  # MBR-1
    assert not driver.account_exists(nobody)


def test_a_c2c_with_an_account_that_does_not_exist_is_no_conversation(driver: MatrixDriver) -> None:
    alice, bob, nobody = names("alice", "bob", "nobody")
    a = login(driver, alice)
    login(driver, bob)
    # CONV-1: 6004, the same as TIM, for reads of a conversation with nobody (not an empty one)
    for method, extra in (("getMessageList", {"count": 5}), ("setMessageRead", {})):
        reply = call(driver, a, method, conversationID=f"C2C{nobody}", **extra)
        assert reply.code == Code.CONVERSATION_INVALID, (method, reply)
    assert call(driver, a, "getMessageList", conversationID="C2C").code == Code.CONVERSATION_INVALID
    # a pair that never talked is a valid empty conversation
    assert ok(driver, a, "getMessageList", conversationID=f"C2C{bob}")["messageList"] == []


def test_a_conversation_read_of_a_group_that_is_not_the_callers_is_6004(driver: MatrixDriver) -> None:
    alice, bob = names("alice", "bob")
    a, b = login(driver, alice), login(driver, bob)
    group_id = ok(driver, b, "createGroup", name="bobs", type="Public")["group"]["groupID"]
    ok(driver, b, "sendMessage", **text(group_id, "hello", "GROUP"))
    # CONV-1: a conversation API answers 6004 where a group API says 10010 (no group) or 10007 (not in it)
    for conversation in ("GROUPno-such-group", f"GROUP{group_id}"):
        for method in ("getMessageList", "getConversationProfile"):
            reply = call(driver, a, method, conversationID=conversation)
            assert reply.code == Code.CONVERSATION_INVALID, (conversation, method, reply)
    assert call(driver, a, "joinGroup", groupID="no-such-group").code == Code.GROUP_NOT_FOUND


def test_a_groups_first_introduction_is_a_tip(driver: MatrixDriver) -> None:
    alice, bob = names("alice", "bob")
    a = login(driver, alice)
    login(driver, bob)
    group_id = ok(driver, a, "createGroup", name="g", memberList=[{"userID": bob}])["group"]["groupID"]
    ok(driver, a, "updateGroupProfile", groupID=group_id, introduction="hello")
    # GRP-2/TIP-1: the group had an (empty) introduction from its creation, so setting one is a change
    assert tips(driver, a, 1) == [
        {
            "operationType": 6,
            "operatorID": alice,
            "userIDList": [],
            "newGroupProfile": {"introduction": "hello"},
        }
    ]
    page = ok(driver, a, "getMessageList", conversationID=f"GROUP{group_id}")["messageList"]
    assert [m["payload"].get("newGroupProfile") for m in page] == [{"introduction": "hello"}]


def test_group_types_are_join_rules_and_history_visibility(driver: MatrixDriver) -> None:
    alice, bob = names("alice", "bob")
    a, b = login(driver, alice), login(driver, bob)
    expected = {
        ("Private", None): ("DisableApply", "invited", Code.GROUP_PERMISSION_DENIED),
        ("Public", "NeedPermission"): ("NeedPermission", "joined", "WaitAdminApproval"),
        ("Public", None): ("FreeAccess", "joined", "JoinedSuccess"),
        ("ChatRoom", None): ("FreeAccess", "shared", "JoinedSuccess"),
        ("AVChatRoom", None): ("FreeAccess", "joined", "JoinedSuccess"),
    }
    for (kind, option), (join_option, visibility, joined) in expected.items():
        extra = {"joinOption": option} if option else {}
        group = ok(driver, a, "createGroup", name=f"{kind} g", type=kind, **extra)["group"]
        assert group["groupID"].startswith("@TGS#") and group["type"] == kind
        assert (group["ownerID"], group["selfInfo"]["role"], group["joinOption"]) == (
            alice,
            "Owner",
            join_option,
        )
        room = driver.groups.room(group["groupID"], driver._sessions[a].access_token)
        state = driver.http.request(
            "GET",
            f"/_matrix/client/v3/rooms/{room.room_id}/state/m.room.history_visibility/",
            token=driver._sessions[a].access_token,
        )
        assert state["history_visibility"] == visibility
        reply = call(driver, b, "joinGroup", groupID=group["groupID"])
        assert (reply.code if not reply.ok else reply.data["status"]) == joined, (kind, option, reply)
    custom = ok(driver, a, "createGroup", name="custom", type="ChatRoom", groupID=f"My Group {alice}")[
        "group"
    ]
    assert custom["groupID"] == f"My Group {alice}"
    taken = call(driver, a, "createGroup", name="again", type="ChatRoom", groupID=f"My Group {alice}")
    assert taken.code == Code.GROUP_ID_TAKEN
    assert call(driver, b, "joinGroup", groupID="no such group").code == Code.GROUP_NOT_FOUND


def tips(driver: MatrixDriver, session: str, count: int) -> list[dict[str, Any]]:
    found = []
    for _ in range(count):
        (message,) = next_event(driver, session, "onMessageReceived").data
        assert message["type"] == "TIMGroupTipElem"
        found.append(message["payload"])
    return found


def test_join_quit_and_kick_are_tips(driver: MatrixDriver) -> None:
    alice, bob, carol = names("alice", "bob", "carol")
    a, b, c = login(driver, alice), login(driver, bob), login(driver, carol)
    group_id = ok(driver, a, "createGroup", name="tips", type="ChatRoom")["group"]["groupID"]
    assert ok(driver, b, "joinGroup", groupID=group_id)["status"] == "JoinedSuccess"
    assert tips(driver, a, 1) == [{"operationType": 1, "operatorID": bob, "userIDList": [bob]}]
    assert tips(driver, b, 1)[0]["operationType"] == 1  # TIP-1: the operator's instance too
    assert ok(driver, b, "joinGroup", groupID=group_id)["status"] == "AlreadyInGroup"
    assert ok(driver, b, "quitGroup", groupID=group_id) == {"groupID": group_id}
    assert tips(driver, a, 1) == [{"operationType": 2, "operatorID": bob, "userIDList": [bob]}]
    ok(driver, c, "joinGroup", groupID=group_id)
    tips(driver, a, 1)
    removed = ok(driver, a, "deleteGroupMember", groupID=group_id, userIDList=[carol])
    assert removed["userIDList"] == [carol] and removed["group"]["memberNum"] == 1
    assert tips(driver, a, 1) == [{"operationType": 3, "operatorID": alice, "userIDList": [carol]}]
    members = ok(driver, a, "getGroupMemberList", groupID=group_id)["memberList"]
    assert [m["userID"] for m in members] == [alice]


def test_roles_and_mutes_are_power_levels(driver: MatrixDriver) -> None:
    alice, bob, carol = names("alice", "bob", "carol")
    a, b, c = login(driver, alice), login(driver, bob), login(driver, carol)
    group_id = ok(driver, a, "createGroup", name="roles", type="Public")["group"]["groupID"]
    for session in (b, c):
        ok(driver, session, "joinGroup", groupID=group_id)
    tips(driver, a, 2)
    made = ok(driver, a, "setGroupMemberRole", groupID=group_id, userID=bob, role="Admin")
    assert made["member"]["role"] == "Admin"
    assert tips(driver, a, 1) == [{"operationType": 4, "operatorID": alice, "userIDList": [bob]}]
    muted = ok(driver, b, "setGroupMemberMuteTime", groupID=group_id, userID=carol, muteTime=60)
    assert muted["member"]["muteUntil"] == 4294967295  # no end on Matrix: muted for ever
    assert tips(driver, a, 1)[0]["operationType"] == 7
    refused = call(driver, c, "sendMessage", **text(group_id, "hi", "GROUP"))
    assert refused.code == Code.GROUP_MEMBER_MUTED  # MUTE-2
    assert call(driver, c, "setGroupMemberMuteTime", groupID=group_id, userID=bob, muteTime=60).code == 10007
    ok(driver, b, "setGroupMemberMuteTime", groupID=group_id, userID=carol, muteTime=0)
    assert ok(driver, c, "sendMessage", **text(group_id, "free", "GROUP"))["message"]["conversationID"] == (
        f"GROUP{group_id}"
    )
    ok(driver, a, "setGroupMemberRole", groupID=group_id, userID=bob, role="Member")
    owner = ok(driver, a, "changeGroupOwner", groupID=group_id, newOwnerID=bob)["group"]
    assert owner["ownerID"] == bob and owner["selfInfo"]["role"] == "Member"


def test_revoke_is_a_redaction(driver: MatrixDriver) -> None:
    alice, bob = names("alice", "bob")
    a, b = login(driver, alice), login(driver, bob)
    sent = ok(driver, a, "sendMessage", **text(bob, "oops"))["message"]
    next_event(driver, b, "onMessageReceived")
    assert call(driver, b, "revokeMessage", message=sent).code == Code.C2C_MESSAGE_NOT_FOUND  # not the sender
    revoked = ok(driver, a, "revokeMessage", message=sent)["message"]
    assert revoked["ID"] == sent["ID"] and revoked["isRevoked"] is True
    (gone,) = next_event(driver, b, "onMessageRevoked").data
    assert gone["ID"] == sent["ID"] and gone["isRevoked"] is True
    (kept,) = ok(driver, b, "getMessageList", conversationID=f"C2C{alice}")["messageList"]
    assert kept["ID"] == sent["ID"] and kept["isRevoked"] is True  # PAGE-3
    assert call(driver, a, "revokeMessage", message=sent).code == Code.C2C_MESSAGE_ALREADY_REVOKED


def test_unread_counts_are_the_homeservers(driver: MatrixDriver) -> None:
    alice, bob = names("alice", "bob")
    a, b = login(driver, alice), login(driver, bob)
    for body in ("1", "2"):
        ok(driver, a, "sendMessage", **text(bob, body))
    conversation = ok(driver, b, "getConversationProfile", conversationID=f"C2C{alice}")["conversation"]
    assert conversation["unreadCount"] == 2 and conversation["lastMessage"]["payload"] == {"text": "2"}
    assert (
        ok(driver, a, "getConversationProfile", conversationID=f"C2C{bob}")["conversation"]["unreadCount"]
        == 0
    )
    ok(driver, b, "setMessageRead", conversationID=f"C2C{alice}")
    assert (
        ok(driver, b, "getConversationProfile", conversationID=f"C2C{alice}")["conversation"]["unreadCount"]
        == 0
    )
    listed = ok(driver, b, "getConversationList")["conversationList"]
    assert [c["conversationID"] for c in listed] == [f"C2C{alice}"]


def test_admin_kick_deletes_the_devices_and_each_instance_is_kicked_out(driver: MatrixDriver) -> None:
    (alice,) = names("alice")
    assert driver.admin("importAccount", {"userID": alice, "nick": "Alice"}).ok
    a1, a2 = login(driver, alice), login(driver, alice)
    assert ok(driver, a1, "getMyProfile")["profile"] == {"userID": alice, "nick": "Alice", "avatar": ""}
    assert driver.admin("kick", {"userID": alice}).ok
    for session in (a1, a2):
        assert next_event(driver, session, "kickedOut").data == {"type": "REST_API_Kick"}  # INST-6
        assert next_event(driver, session, "sdkStateNotReady").data == {}
        assert call(driver, session, "getMyProfile").code == Code.KICKED_BY_OTHER
    again = login(driver, alice)
    assert ok(driver, again, "logout") == {}
    assert next_event(driver, again, "sdkStateNotReady").data == {}
    assert call(driver, again, "getMyProfile").code == Code.NOT_LOGGED_IN


def test_profile_updates_and_a_repeated_login(driver: MatrixDriver) -> None:
    (alice,) = names("alice")
    a = login(driver, alice)
    updated = ok(driver, a, "updateMyProfile", nick="Ally", avatar="http://x/a.png")["profile"]
    assert updated == {"userID": alice, "nick": "Ally", "avatar": "http://x/a.png"}
    assert ok(driver, a, "getMyProfile")["profile"] == updated
    again = driver.call(Call("login", {"userID": alice, "userSig": "x"}, a))
    assert again.ok and again.data["repeatLogin"] is True  # INST-2


def test_what_matrix_lacks_is_unsupported_never_faked(driver: MatrixDriver) -> None:
    alice, bob = names("alice", "bob")
    a = login(driver, alice)
    group_id = ok(driver, a, "createGroup", name="x", type="ChatRoom")["group"]["groupID"]
    for method, args in (
        ("dismissGroup", {"groupID": group_id}),
        ("deleteMessage", {"messageList": []}),
        ("setMessageRemindType", {"groupID": group_id, "messageRemindType": "Discard"}),
        ("updateGroupProfile", {"groupID": group_id, "notification": "n"}),
    ):
        reply = call(driver, a, method, **args)
        assert reply.unsupported and reply.message, (method, reply)
    assert call(driver, a, "sendMessage", **text(bob, "nobody")).code == Code.ACCOUNT_NOT_FOUND  # AUTH-5


def test_a_wrong_secret_and_a_server_that_is_down(synapse: SynapseProcess, tmp_path: Path) -> None:
    wrong = MatrixDriver(synapse.target, registration_secret="not-the-secret")
    reply = wrong.admin("snapshot", {})
    assert reply.code == Code.HTTP_REQUEST_FAILED and "wrong registration secret" in reply.message
    login_reply = wrong.call(Call("login", {"userID": f"new_{secrets.token_hex(3)}"}))
    assert login_reply.code == Code.HTTP_REQUEST_FAILED and "\n" not in login_reply.message
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    down = MatrixDriver(f"matrix+http://127.0.0.1:{port}", registration_secret=synapse.secret)
    reply = down.admin("snapshot", {})
    assert reply.code == Code.HTTP_REQUEST_FAILED and "connection refused" in reply.message
    with pytest.raises(SynapseProblem, match="in use"):
        check_port_free(synapse.port)  # a second server on the same port is refused up front
    assert synapse.rss_kib() > 0


def test_the_command_prints_url_and_secret_and_stops_on_sigterm(
    synapse: SynapseProcess, tmp_path: Path
) -> None:
    import signal
    import subprocess
    import sys
    import time

    out = tmp_path / "peer.out"
    with out.open("w") as sink:
        proc = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "simtim",
                "peer",
                "synapse",
                "--dir",
                str(tmp_path / "hs"),
                "--synapse-python",
                synapse.python,
            ],
            stdout=sink,
            stderr=subprocess.STDOUT,
        )
        deadline = time.monotonic() + 60
        while "registration secret:" not in out.read_text() and time.monotonic() < deadline:
            assert proc.poll() is None, out.read_text()
            time.sleep(0.1)
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(30) == 0
    printed = out.read_text()
    assert "listening on http://127.0.0.1:" in printed and "target: matrix+http://127.0.0.1:" in printed
    assert printed.rstrip().endswith("synapse stopped")
    pid_file = tmp_path / "hs" / "homeserver.pid"
    assert not pid_file.exists() or not Path(f"/proc/{pid_file.read_text().strip()}").exists()


def test_a_start_timeout_shows_the_log_tail(synapse: SynapseProcess, tmp_path: Path) -> None:
    with pytest.raises(SynapseProblem, match=r"did not answer .* within 0 s(.|\n)*synapse.out"):
        SynapseProcess(tmp_path, python=synapse.python, start_timeout=0.05).start()
