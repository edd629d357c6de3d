"""The official TIM Web SDKs, unmodified, against a real ``simtim serve`` (docs/websdk.md).

Each test drives ``tim-js-sdk@2.27.6`` and ``@tencentcloud/chat@3.6.6`` (installed by npm into a cache
outside the repo) in Node processes and asserts what the SDK's promises resolve to and which events
it fires.  Pairs run both ways across versions, so every scenario is cross-version chat.
"""

from __future__ import annotations

import json
import re
import time
import urllib.request
from collections.abc import Callable, Iterator
from pathlib import Path
from urllib.parse import urlencode

import pytest

from simtim.conformance.callback_server import CallbackServer
from simtim.driver.base import Call
from simtim.driver.http import HttpDriver
from simtim.model.core import DEV_SDKAPPID
from simtim.server.process import ServeProcess
from tests.integration.websdk_harness import NodeSdk, SdkError, eventually, install_sdks, usersig

ADMIN_KEY = "websdk-admin-key"
PAIRS = [("tim", "chat"), ("chat", "tim")]


class Server:
    def __init__(self) -> None:
        self.proc = ServeProcess(
            ["--seed", "0", "--fake-clock", "--clock-start", str(int(time.time())), "--admin-key", ADMIN_KEY]
        )
        self.url = self.proc.url
        self.ws_url = self.url.replace("http://", "ws://")
        self.admin = HttpDriver(self.url, admin_key=ADMIN_KEY)

    @property
    def now(self) -> int:
        """The server's (fake) clock: UserSigs are minted at it, as a real backend would."""
        return int(self.admin.admin("snapshot", {}).data["now"])

    def stop(self) -> None:
        self.admin.close()
        self.proc.stop()


@pytest.fixture(scope="module")
def sdk_cache() -> Path:
    return install_sdks()


@pytest.fixture(scope="module")
def server(sdk_cache: Path) -> Iterator[Server]:
    srv = Server()
    yield srv
    srv.stop()


@pytest.fixture
def open_sdk(server: Server, sdk_cache: Path) -> Iterator[Callable[[str], NodeSdk]]:
    assert server.admin.admin("reset", {}).ok
    opened: list[NodeSdk] = []

    def start(flavour: str) -> NodeSdk:
        sdk = NodeSdk(flavour, server.ws_url, cache=sdk_cache)
        opened.append(sdk)
        return sdk

    yield start
    for sdk in opened:
        assert sdk.guard == [], f"{sdk.flavour} tried to leave loopback: {sdk.guard}"
        sdk.close()


def texts(messages: list[dict]) -> list[str]:
    return [m["payload"]["text"] for m in messages if m["type"] == "TIMTextElem"]


@pytest.mark.parametrize(("first", "second"), PAIRS)
def test_websdk_login_send_push_and_history_across_versions(
    server: Server, open_sdk: Callable[[str], NodeSdk], first: str, second: str
) -> None:
    alice, bob = open_sdk(first), open_sdk(second)
    login = alice.login("alice", now=server.now)
    assert isinstance(login["tinyID"], str) and login["a2Key"]
    bob.login("bob", now=server.now)

    sent = alice.text("bob", "hello bob")["message"]
    assert sent["status"] == "success" and sent["from"] == "alice" and sent["to"] == "bob"
    received = bob.event("onMessageReceived", lambda data: texts(data) == ["hello bob"])
    assert received[0]["ID"] == sent["ID"]  # one message, one ID on both sides
    assert received[0]["conversationID"] == "C2Calice" and received[0]["flow"] == "in"

    reply = bob.text("alice", "hi alice")["message"]
    alice.event("onMessageReceived", lambda data: texts(data) == ["hi alice"])

    for sdk, peer in ((alice, "bob"), (bob, "alice")):
        history = sdk.call("getMessageList", {"conversationID": "C2C" + peer})
        assert texts(history["messageList"]) == ["hello bob", "hi alice"]
        assert [m["ID"] for m in history["messageList"]] == [sent["ID"], reply["ID"]]
        assert history["isCompleted"] is True


@pytest.mark.parametrize("flavour", ["tim", "chat"])
def test_websdk_a_bad_usersig_rejects_login_with_the_models_code(
    server: Server, open_sdk: Callable[[str], NodeSdk], flavour: str
) -> None:
    sdk = open_sdk(flavour)
    with pytest.raises(SdkError) as refused:
        sdk.call("login", {"userID": "mallory", "userSig": "not-a-usersig"})
    assert refused.value.code == 70003  # AUTH-2: undecodable UserSig, passed through unchanged


def import_accounts(server: Server, *user_ids: str) -> None:
    for user_id in user_ids:
        assert server.admin.admin("importAccount", {"SDKAppID": DEV_SDKAPPID, "userID": user_id}).ok


def settle() -> None:
    """Let the SDK's login-time bootstrap requests finish before the world changes under it."""
    time.sleep(1.0)


@pytest.mark.parametrize(("first", "second"), PAIRS)
def test_unread_1_offline_messages_sync_at_login_with_their_unread_count(
    server: Server, open_sdk: Callable[[str], NodeSdk], first: str, second: str
) -> None:
    import_accounts(server, "bob")
    alice = open_sdk(first)
    alice.login("alice", now=server.now)
    alice.text("bob", "while you were away 1")
    alice.text("bob", "while you were away 2")

    bob = open_sdk(second)
    bob.login("bob", now=server.now)
    bob.event("onTotalUnreadMessageCountUpdated", lambda total: total == 2)
    conversations = bob.call("getConversationList")["conversationList"]
    assert [(c["conversationID"], c["unreadCount"]) for c in conversations] == [("C2Calice", 2)]
    assert conversations[0]["lastMessage"]["payload"]["text"] == "while you were away 2"
    assert "onMessageReceived" not in bob.names()  # synced, not received live

    bob.call("setMessageRead", {"conversationID": "C2Calice"})  # UNREAD-1, through the model
    conversations = bob.call("getConversationList")["conversationList"]
    assert conversations[0]["unreadCount"] == 0
    assert server.admin.admin("snapshot", {}).data["web"]["sessions"] == 2


@pytest.mark.parametrize(("first", "second"), PAIRS)
def test_rev_2_a_revoke_reaches_the_peer_as_message_revoked(
    server: Server, open_sdk: Callable[[str], NodeSdk], first: str, second: str
) -> None:
    alice, bob = open_sdk(first), open_sdk(second)
    alice.login("alice", now=server.now)
    bob.login("bob", now=server.now)
    sent = alice.text("bob", "oops")["message"]
    bob.event("onMessageReceived", lambda data: data[0]["ID"] == sent["ID"])

    revoked = alice.call("revokeMessage", {"$message": sent["ID"]})["message"]
    assert revoked["isRevoked"] is True
    seen = bob.event("onMessageRevoked")
    assert [m["ID"] for m in seen] == [sent["ID"]] and seen[0]["isRevoked"] is True
    history = bob.call("getMessageList", {"conversationID": "C2Calice"})["messageList"]
    assert [(m["ID"], m["isRevoked"]) for m in history] == [(sent["ID"], True)]


@pytest.mark.parametrize(("first", "second"), PAIRS)
def test_inst_3_a_second_web_login_kicks_the_first_with_multiple_account(
    server: Server, open_sdk: Callable[[str], NodeSdk], first: str, second: str
) -> None:
    old = open_sdk(first)
    old.login("alice", now=server.now)
    settle()
    new = open_sdk(second)
    new.login("alice", now=server.now)
    assert old.event("kickedOut") == {"type": "multipleAccount"}
    assert "kickedOut" not in new.names()


@pytest.mark.parametrize("flavour", ["tim", "chat"])
def test_inst_6_a_rest_kick_reaches_the_sdk(
    server: Server, open_sdk: Callable[[str], NodeSdk], flavour: str
) -> None:
    sdk = open_sdk(flavour)
    sdk.login("alice", now=server.now)
    settle()
    assert server.admin.admin("kick", {"SDKAppID": DEV_SDKAPPID, "userID": "alice"}).ok
    assert sdk.event("kickedOut") == {"type": "REST_API_Kick"}


@pytest.mark.parametrize("flavour", ["tim", "chat"])
def test_inst_5_usersig_expiry_reaches_the_sdk_as_user_sig_expired(
    server: Server, open_sdk: Callable[[str], NodeSdk], flavour: str
) -> None:
    sdk = open_sdk(flavour)
    sdk.login("alice", now=server.now, expire=100)
    settle()
    assert server.admin.admin("advanceClock", {"seconds": 200}).ok
    assert sdk.event("kickedOut", timeout=30) == {"type": "userSigExpired"}  # on the next keep-alive


@pytest.mark.parametrize(("first", "second"), PAIRS)
def test_prof_1_a_profile_update_is_seen_by_the_peer(
    server: Server, open_sdk: Callable[[str], NodeSdk], first: str, second: str
) -> None:
    alice, bob = open_sdk(first), open_sdk(second)
    alice.login("alice", now=server.now)
    bob.login("bob", now=server.now)
    alice.call("updateMyProfile", {"nick": "Alice A.", "avatar": "https://example.invalid/a.png"})
    assert alice.call("getMyProfile")["nick"] == "Alice A."
    (profile,) = bob.call("getUserProfile", {"userIDList": ["alice"]})
    assert (profile["nick"], profile["avatar"]) == ("Alice A.", "https://example.invalid/a.png")


@pytest.mark.parametrize("flavour", ["tim", "chat"])
def test_websdk_one_world_with_simtim1_and_rest(
    server: Server, open_sdk: Callable[[str], NodeSdk], flavour: str
) -> None:
    sdk = open_sdk(flavour)
    sdk.login("alice", now=server.now)
    driver = HttpDriver(server.url, admin_key=ADMIN_KEY)
    try:
        login = driver.call(
            Call(
                "login",
                {"SDKAppID": DEV_SDKAPPID, "userID": "carol", "userSig": usersig("carol", now=server.now)},
            )
        )
        assert login.ok, login
        carol = login.data["session"]
        message = {
            "to": "alice",
            "conversationType": "C2C",
            "type": "TIMTextElem",
            "payload": {"text": "from simtim/1"},
        }
        assert driver.call(Call("sendMessage", {"message": message}, carol)).ok
        sdk.event("onMessageReceived", lambda data: texts(data) == ["from simtim/1"])

        sdk.text("carol", "from the web sdk")
        pushed = driver.events(carol).wait_for(lambda e: e.name == "onMessageReceived", 10)
        assert pushed is not None and pushed.data[0]["payload"] == {"text": "from the web sdk"}

        rest = rest_call(
            server,
            "openim/sendmsg",
            {
                "From_Account": "carol",
                "To_Account": "alice",
                "MsgRandom": 7,
                "MsgBody": [{"MsgType": "TIMTextElem", "MsgContent": {"Text": "from REST"}}],
            },
        )
        assert rest["ErrorCode"] == 0, rest
        sdk.event("onMessageReceived", lambda data: texts(data) == ["from REST"])
        history = sdk.call("getMessageList", {"conversationID": "C2Ccarol"})
        assert texts(history["messageList"]) == ["from simtim/1", "from the web sdk", "from REST"]
    finally:
        driver.close()


def rest_call(server: Server, api: str, body: dict) -> dict:
    """One REST v4 call as the dev app's administrator."""
    sig = usersig("administrator", now=server.now)
    query = urlencode(
        {
            "sdkappid": DEV_SDKAPPID,
            "identifier": "administrator",
            "usersig": sig,
            "random": 1,
            "contenttype": "json",
        }
    )
    request = urllib.request.Request(
        f"{server.url}/v4/{api}?{query}", data=json.dumps(body).encode(), method="POST"
    )
    with urllib.request.urlopen(request, timeout=10) as answer:
        return json.loads(answer.read())


def group_texts(messages: list[dict]) -> list[str]:
    return [m["payload"]["text"] for m in messages if m["type"] == "TIMTextElem"]


def notices(messages: list[dict]) -> list[tuple[int, str]]:
    return [
        (m["payload"]["operationType"], m["payload"]["groupProfile"]["groupID"])
        for m in messages
        if m["type"] == "TIMGroupSystemNoticeElem"
    ]


def tips(messages: list[dict]) -> list[int]:
    return [m["payload"]["operationType"] for m in messages if m["type"] == "TIMGroupTipElem"]


@pytest.mark.parametrize(("first", "second"), PAIRS)
def test_grp_1_create_join_send_receive_and_history_across_versions(
    server: Server, open_sdk: Callable[[str], NodeSdk], first: str, second: str
) -> None:
    alice, bob = open_sdk(first), open_sdk(second)
    alice.login("alice", now=server.now)
    bob.login("bob", now=server.now)
    created = alice.call("createGroup", {"type": "Public", "name": "team", "groupID": "team1"})["group"]
    assert (created["groupID"], created["ownerID"], created["selfInfo"]["role"]) == (
        "team1",
        "alice",
        "Owner",
    )

    joined = bob.call("joinGroup", {"groupID": "team1"})
    assert joined["status"] == "JoinedSuccess"
    tip = alice.event("onMessageReceived", lambda data: tips(data) == [1])  # TIP-1: bob joined
    assert tip[0]["payload"]["userIDList"] == ["bob"]
    assert eventually(lambda: [g["groupID"] for g in bob.call("getGroupList")["groupList"]] == ["team1"])

    sent = alice.text("team1", "hello team", "GROUP")["message"]
    received = bob.event("onMessageReceived", lambda data: group_texts(data) == ["hello team"])
    assert received[0]["ID"] == sent["ID"] and received[0]["conversationID"] == "GROUPteam1"
    bob.text("team1", "hi all", "GROUP")
    alice.event("onMessageReceived", lambda data: group_texts(data) == ["hi all"])
    for sdk in (alice, bob):
        history = sdk.call("getMessageList", {"conversationID": "GROUPteam1"})["messageList"]
        assert group_texts(history) == ["hello team", "hi all"]
    members = alice.call("getGroupMemberList", {"groupID": "team1", "count": 30})["memberList"]
    assert sorted((m["userID"], m["role"]) for m in members) == [("alice", "Owner"), ("bob", "Member")]


@pytest.mark.parametrize(("first", "second"), PAIRS)
def test_mute_2_roles_name_cards_and_a_muted_member_gets_10017(
    server: Server, open_sdk: Callable[[str], NodeSdk], first: str, second: str
) -> None:
    alice, bob = open_sdk(first), open_sdk(second)
    alice.login("alice", now=server.now)
    bob.login("bob", now=server.now)
    alice.call("createGroup", {"type": "Public", "name": "team", "groupID": "team2"})
    bob.call("joinGroup", {"groupID": "team2"})

    alice.call("setGroupMemberRole", {"groupID": "team2", "userID": "bob", "role": "Admin"})
    alice.call("setGroupMemberNameCard", {"groupID": "team2", "userID": "bob", "nameCard": "Bobby"})
    (member,) = alice.call("getGroupMemberProfile", {"groupID": "team2", "userIDList": ["bob"]})["memberList"]
    assert (member["role"], member["nameCard"]) == ("Admin", "Bobby")
    bob.event("onMessageReceived", lambda data: tips(data) == [4])  # TIP-1: set admin

    alice.call("setGroupMemberRole", {"groupID": "team2", "userID": "bob", "role": "Member"})
    alice.call("setGroupMemberMuteTime", {"groupID": "team2", "userID": "bob", "muteTime": 600})
    with pytest.raises(SdkError) as muted:
        bob.text("team2", "can I?", "GROUP")
    assert muted.value.code == 10017  # MUTE-2, the model's code through the SDK
    with pytest.raises(SdkError) as denied:  # ROLE-*: a member may not mute the owner
        bob.call("setGroupMemberMuteTime", {"groupID": "team2", "userID": "alice", "muteTime": 60})
    assert denied.value.code == 10007


@pytest.mark.parametrize(("first", "second"), PAIRS)
def test_mbr_1_members_added_removed_quit_and_dismissed(
    server: Server, open_sdk: Callable[[str], NodeSdk], first: str, second: str
) -> None:
    import_accounts(server, "carol")
    alice, bob = open_sdk(first), open_sdk(second)
    alice.login("alice", now=server.now)
    bob.login("bob", now=server.now)
    alice.call("createGroup", {"type": "Private", "name": "work", "groupID": "work1"})
    added = alice.call("addGroupMember", {"groupID": "work1", "userIDList": ["bob", "carol"]})
    assert sorted(added["successUserIDList"]) == ["bob", "carol"]
    # SYS-1: bob learns of the invitation by a push; the SDK's group list follows it, not the reply
    bob.event("onMessageReceived", lambda data: notices(data) == [(7, "work1")])
    assert eventually(lambda: "work1" in [g["groupID"] for g in bob.call("getGroupList")["groupList"]])
    alice.call("deleteGroupMember", {"groupID": "work1", "userIDList": ["carol"]})
    members = bob.call("getGroupMemberList", {"groupID": "work1", "count": 30})["memberList"]
    assert sorted(m["userID"] for m in members) == ["alice", "bob"]

    bob.call("quitGroup", "work1")
    alice.event("onMessageReceived", lambda data: tips(data) == [2])  # TIP-1: bob quit
    with pytest.raises(SdkError) as refused:  # GRP-3: users do not dismiss a Work (Private) group
        alice.call("dismissGroup", "work1")
    # 2.27.6 refuses it locally (2622); 3.6.6 asks the server and the model answers 10007
    assert refused.value.code == (2622 if first == "tim" else 10007)

    alice.call("createGroup", {"type": "Public", "name": "pub", "groupID": "pub1"})
    bob.call("joinGroup", {"groupID": "pub1"})
    alice.call("dismissGroup", "pub1")
    bob.event("onMessageReceived", lambda data: notices(data) == [(5, "pub1")])  # SYS-1: dismissed
    with pytest.raises(SdkError) as gone:
        bob.call("getGroupProfile", {"groupID": "pub1"})
    assert gone.value.code == 10010  # GRP-3: dismissed, through the model


IDLE_SECONDS = 60


@pytest.mark.slow
@pytest.mark.parametrize("flavour", ["tim", "chat"])
def test_websdk_an_idle_session_makes_at_most_one_request_a_second(
    server: Server, open_sdk: Callable[[str], NodeSdk], flavour: str
) -> None:
    """No SDK-driven reply storm: after login and its bootstrap, an idle client's frames per second
    (keep-alives included) stay at or under 1 for a minute."""
    sdk = open_sdk(flavour)
    sdk.login("alice", now=server.now)
    settle()
    before = sdk.frames_sent()
    time.sleep(IDLE_SECONDS)
    sent = sdk.frames_sent() - before  # counted inside Node: the stats command sends nothing
    rate = sent / IDLE_SECONDS
    print(f"{flavour}: {sent} frames in {IDLE_SECONDS} s idle = {rate:.2f} requests/s")
    assert rate <= 1.0


@pytest.mark.parametrize(("first", "second"), PAIRS)
def test_page_1_history_pages_hold_at_most_15_messages(
    server: Server, open_sdk: Callable[[str], NodeSdk], first: str, second: str
) -> None:
    alice, bob = open_sdk(first), open_sdk(second)
    alice.login("alice", now=server.now)
    bob.login("bob", now=server.now)
    for n in range(20):
        alice.text("bob", f"m{n}")
    bob.event("onMessageReceived", lambda data: texts(data) == ["m19"])
    # a fresh SDK has nothing cached: every page comes from the server (getroammsg)
    reader = open_sdk(second)
    reader.login("bob", now=server.now)
    page = reader.call("getMessageList", {"conversationID": "C2Calice", "count": 15})
    assert texts(page["messageList"]) == [f"m{n}" for n in range(5, 20)]
    assert page["isCompleted"] is False
    rest = reader.call(
        "getMessageList", {"conversationID": "C2Calice", "nextReqMessageID": page["nextReqMessageID"]}
    )
    assert texts(rest["messageList"]) == [f"m{n}" for n in range(5)]
    assert rest["isCompleted"] is True


@pytest.mark.parametrize(("first", "second"), PAIRS)
def test_rev_2_a_group_recall_reaches_members_and_logout_ends_the_session(
    server: Server, open_sdk: Callable[[str], NodeSdk], first: str, second: str
) -> None:
    alice, bob = open_sdk(first), open_sdk(second)
    alice.login("alice", now=server.now)
    bob.login("bob", now=server.now)
    alice.call("createGroup", {"type": "Public", "name": "team", "groupID": "team3"})
    bob.call("joinGroup", {"groupID": "team3"})
    sent = alice.text("team3", "oops", "GROUP")["message"]
    bob.event("onMessageReceived", lambda data: group_texts(data) == ["oops"])
    alice.call("revokeMessage", {"$message": sent["ID"]})
    revoked = bob.event("onMessageRevoked")
    assert [m["ID"] for m in revoked] == [sent["ID"]]

    online = server.admin.admin("snapshot", {}).data["counts"]["online"]
    bob.call("logout")
    assert server.admin.admin("snapshot", {}).data["counts"]["online"] == online - 1  # INST-1


@pytest.mark.parametrize(("first", "second"), PAIRS)
def test_msg_8_a_body_the_backend_replaced_reaches_the_sender_as_message_modified(
    server: Server, open_sdk: Callable[[str], NodeSdk], first: str, second: str
) -> None:
    alice, bob = open_sdk(first), open_sdk(second)
    alice.login("alice", now=server.now)
    bob.login("bob", now=server.now)
    alice.call("createGroup", {"type": "Public", "name": "team", "groupID": "clean1"})
    bob.call("joinGroup", {"groupID": "clean1"})
    settle()
    backend = CallbackServer()  # the app backend: its before-send callback replaces every body
    backend.behaviour = {
        "ErrorCode": 0,
        "MsgBody": [{"MsgType": "TIMTextElem", "MsgContent": {"text": "***"}}],
    }
    assert server.admin.admin("setCallback", {"SDKAppID": DEV_SDKAPPID, "url": backend.url}).ok
    try:
        sent_ids = []
        for to, kind, conversation in (("bob", "C2C", "C2Cbob"), ("clean1", "GROUP", "GROUPclean1")):
            sent = alice.text(to, f"rude {kind}", kind)["message"]
            sent_ids.append(sent["ID"])
            assert texts([sent]) == [f"rude {kind}"]  # the SDK resolves with what it sent ...
            modified = alice.event("onMessageModified", lambda data, i=sent["ID"]: data[0]["ID"] == i)
            assert texts(modified) == ["***"]  # ... and learns the stored body from the push
            received = bob.event("onMessageReceived", lambda data, i=sent["ID"]: data[0]["ID"] == i)
            assert texts(received) == ["***"]
            history = alice.call("getMessageList", {"conversationID": conversation})["messageList"]
            assert texts([m for m in history if m["ID"] == sent["ID"]]) == ["***"]
            listed = alice.call("getConversationProfile", conversation)["conversation"]
            assert listed["lastMessage"]["payload"]["text"] == "***"
        received_ids = [m["ID"] for e in alice.events if e["event"] == "onMessageReceived" for m in e["data"]]
        assert not set(sent_ids) & set(received_ids)  # a modified message, not a received one
    finally:
        assert server.admin.admin("setCallback", {"SDKAppID": DEV_SDKAPPID, "url": None}).ok
        backend.close()


@pytest.mark.parametrize("flavour", ["tim", "chat"])
def test_rest_8_a_custom_group_system_notification_reaches_the_sdk(
    server: Server, open_sdk: Callable[[str], NodeSdk], flavour: str
) -> None:
    sdk = open_sdk(flavour)
    sdk.login("alice", now=server.now)
    sdk.call("createGroup", {"type": "Public", "name": "team", "groupID": "notified1"})
    settle()
    sent = rest_call(
        server,
        "group_open_http_svc/send_group_system_notification",
        {"GroupId": "notified1", "Content": "hi all"},
    )
    assert sent["ErrorCode"] == 0, sent
    notice = sdk.event("onMessageReceived", lambda data: notices(data) == [(255, "notified1")])
    assert notice[0]["conversationID"] == "@TIM#SYSTEM"


@pytest.mark.parametrize("flavour", ["tim", "chat"])
def test_rest_3_a_rest_profile_change_reaches_the_sdk_as_profile_updated(
    server: Server, open_sdk: Callable[[str], NodeSdk], flavour: str
) -> None:
    sdk = open_sdk(flavour)
    sdk.login("alice", now=server.now)
    settle()
    changed = rest_call(
        server,
        "profile/portrait_set",
        {"From_Account": "alice", "ProfileItem": [{"Tag": "Tag_Profile_IM_Nick", "Value": "Alice R."}]},
    )
    assert changed["ErrorCode"] == 0, changed
    (profile,) = sdk.event("onProfileUpdated", lambda data: data[0]["nick"] == "Alice R.")
    assert profile["userID"] == "alice"
    assert sdk.call("getMyProfile")["nick"] == "Alice R."  # the SDK's cache follows the push


def test_websdk_on_a_durable_server_history_survives_kill_9(sdk_cache: Path, tmp_path: Path) -> None:
    """``simtim serve --data``: what the official SDKs sent is journaled before it is acknowledged,
    so after a kill -9 and a restart a new SDK session reads it back with the same IDs
    (docs/durability.md, "The Web SDK face")."""
    start = int(time.time())
    options = ["--seed", "0", "--fake-clock", "--clock-start", str(start), "--data", str(tmp_path)]
    server = ServeProcess(options)
    alice = NodeSdk("chat", server.url.replace("http://", "ws://"), cache=sdk_cache)
    bob = NodeSdk("tim", server.url.replace("http://", "ws://"), cache=sdk_cache)
    try:
        alice.login("alice", now=start)
        bob.login("bob", now=start)
        sent = [alice.text("bob", f"before the crash {i}")["message"] for i in range(2)]
        bob.event("onMessageReceived", lambda data: texts(data) == ["before the crash 1"])
        server.proc.kill()
        server.proc.wait()
    finally:
        alice.close()
        bob.close()
        server.stop()
    server = ServeProcess(options)
    again = NodeSdk("chat", server.url.replace("http://", "ws://"), cache=sdk_cache)
    try:
        assert re.search(r"journal .*: [1-9]\d* Web SDK sockets of the last run closed", server.log())
        again.login("bob", now=start)
        history = again.call("getMessageList", {"conversationID": "C2Calice"})["messageList"]
        assert texts(history) == ["before the crash 0", "before the crash 1"]
        assert [m["ID"] for m in history] == [m["ID"] for m in sent]
        assert again.guard == []
    finally:
        again.close()
        server.stop()
