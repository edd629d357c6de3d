"""Security of the reference server (DESIGN "Wire protocol simtim/1"): tokens, the admin key,
the loopback default, the 1 MiB body limit enforced while reading, isolation between users
(SPEC CONV-1, REV-3, MSG-9, MBR-3, GRP-5, GRP-8, MSG-3) and UserSig checks (AUTH-2).

Every refused call is checked to change nothing (ORDER-1) through the admin snapshot digest.
"""

from __future__ import annotations

import http.client
import re
import socket
import threading
import time
from collections.abc import Iterator

import pytest

from simtim.model.core import DEV_SDKAPPID, DEV_SECRET_KEY
from simtim.usersig import gen_usersig
from tests.integration.server_process import ADMIN_KEY, ServerProcess
from tests.integration.wire import Wire, proc_status, text

MiB = 1024 * 1024
TOKEN_RE = re.compile(r"[A-Za-z0-9_-]+")


@pytest.fixture
def wire(server: ServerProcess) -> Iterator[Wire]:
    w = Wire(server.url)
    w.admin("reset", {})
    yield w
    w.close()


# --- tokens ---------------------------------------------------------------------------------------


def test_tokens_are_long_random_and_url_safe(wire: Wire) -> None:
    tokens = [wire.ok("create", {"SDKAppID": DEV_SDKAPPID})["token"] for _ in range(64)]
    tokens += [wire.login(f"user{i}") for i in range(8)]
    assert len(set(tokens)) == len(tokens)
    for token in tokens:
        assert isinstance(token, str) and TOKEN_RE.fullmatch(token), token
        assert len(token) * 6 >= 128, f"{token!r} carries fewer than 128 bits"
    # random, not a counter: no long common prefix, and the alphabet is well used
    prefix = 0
    while all(t[prefix : prefix + 1] == tokens[0][prefix : prefix + 1] for t in tokens):
        prefix += 1
    assert prefix < 4
    assert len(set("".join(tokens))) >= 60


def test_a_token_is_bound_to_one_instance(wire: Wire) -> None:
    alice, bob = wire.login("alice"), wire.login("bob")
    assert wire.ok("getMyProfile", token=alice)["profile"]["userID"] == "alice"
    assert wire.ok("getMyProfile", token=bob)["profile"]["userID"] == "bob"
    # a token that differs in one character names nothing
    forged = alice[:-1] + ("A" if alice[-1] != "A" else "B")
    wire.refused("getMyProfile", {}, forged, 6014)
    wire.refused("getMyProfile", {}, alice.upper() if alice.upper() != alice else alice + "x", 6014)
    # logging one instance out never affects another token
    wire.ok("logout", {}, alice)
    assert wire.call("getMyProfile", {}, alice)["code"] == 6014
    assert wire.ok("getMyProfile", token=bob)["profile"]["userID"] == "bob"
    # a new login of alice gets a new token; the old one stays logged out
    alice2 = wire.login("alice")
    assert alice2 != alice
    assert wire.call("getMyProfile", {}, alice)["code"] == 6014


# --- admin key ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "headers",
    [
        {},
        {"X-Admin-Key": ""},
        {"X-Admin-Key": "wrong"},
        {"X-Admin-Key": ADMIN_KEY + "x"},
        {"X-Admin-Key": ADMIN_KEY[:-1]},
        {"X-Admin-Key": ADMIN_KEY.upper()},
        {"Authorization": f"Bearer {ADMIN_KEY}"},
    ],
    ids=["missing", "empty", "wrong", "longer", "shorter", "case", "bearer"],
)
def test_admin_refuses_a_wrong_or_missing_key(wire: Wire, headers: dict[str, str]) -> None:
    before = wire.digest()
    for op, body in [
        ("snapshot", {}),
        ("reset", {}),
        ("kick", {"SDKAppID": DEV_SDKAPPID, "userID": "a"}),
        ("noSuchOp", {}),
    ]:
        answer = wire.post(f"/admin/v1/{op}", body, headers=headers)
        assert answer.status == 403, (op, answer)
        assert answer.envelope["code"] == 70403
    assert wire.digest() == before
    # the right key works on the same connection
    assert wire.post("/admin/v1/snapshot", {}, headers={"X-Admin-Key": ADMIN_KEY}).status == 200


def test_admin_is_404_without_a_key_and_v1_still_works() -> None:
    proc = ServerProcess(admin_key=None)
    try:
        w = Wire(proc.url, admin_key=None)
        for headers in ({}, {"X-Admin-Key": ""}, {"X-Admin-Key": ADMIN_KEY}):
            for op in ("snapshot", "reset", "configureApp", "advanceClock"):
                answer = w.post(f"/admin/v1/{op}", {}, headers=headers)
                assert answer.status == 404, (op, headers, answer)
                assert answer.envelope["code"] != 0
        sig = gen_usersig(DEV_SDKAPPID, DEV_SECRET_KEY, "alice", 86400, now=int(time.time()))
        assert w.ok("login", {"SDKAppID": DEV_SDKAPPID, "userID": "alice", "userSig": sig})["token"]
        w.close()
    finally:
        assert proc.stop() == 0


# --- loopback by default --------------------------------------------------------------------------


def _listening_addresses(port: int) -> set[str]:
    """Local addresses in LISTEN state on ``port`` (from /proc/net/tcp and tcp6)."""
    found: set[str] = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        try:
            with open(table) as handle:
                lines = handle.read().splitlines()[1:]
        except FileNotFoundError:
            continue
        for line in lines:
            fields = line.split()
            address, port_hex = fields[1].rsplit(":", 1)
            if int(port_hex, 16) == port and fields[3] == "0A":
                found.add(address)
    return found


def test_binds_loopback_by_default(server: ServerProcess) -> None:
    match = re.fullmatch(r"http://127\.0\.0\.1:(\d+)", server.url)
    assert match, server.url
    first_line = server.log().splitlines()[0]
    assert first_line == f"simtim serve listening on {server.url}"
    port = int(match.group(1))
    assert _listening_addresses(port) == {"0100007F"}  # 127.0.0.1, nothing else


# --- body limit: 1 MiB, enforced while reading ----------------------------------------------------


def _raw_post(
    url: str,
    declared: int,
    send: int,
    path: str = "/v1/getMyProfile",
    head: bytes = b'{"pad":"',
    chunk: int = 256 * 1024,
) -> tuple[bytes, Exception | None]:
    """Send a request declaring ``declared`` body bytes and actually sending ``send``; return
    everything the server answered (read to EOF) and the first socket error, if any."""
    host, port = url.removeprefix("http://").split(":")
    sock = socket.create_connection((host, int(port)), timeout=10)
    error: Exception | None = None
    try:
        sock.sendall(
            b"POST " + path.encode() + b" HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
            b"Content-Length: " + str(declared).encode() + b"\r\n\r\n"
        )
        sent = 0
        block = head + b"a" * chunk
        while sent < send:
            piece = block[: min(len(block), send - sent)]
            sock.sendall(piece)
            sent += len(piece)
            block = b"a" * chunk
    except OSError as exc:
        error = exc
    answer = b""
    try:
        while True:
            data = sock.recv(65536)
            if not data:
                break
            answer += data
    except OSError as exc:
        error = error or exc
    finally:
        sock.close()
    return answer, error


def _parse_http(answer: bytes) -> tuple[int, dict[str, str], bytes]:
    head, _, body = answer.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    status = int(lines[0].split()[1])
    headers = {k.strip().lower(): v.strip() for k, v in (line.split(":", 1) for line in lines[1:])}
    return status, headers, body


class BodyServer(ServerProcess):
    baseline_peak_kb = 0

    def assert_small_peak(self) -> None:
        """Buffering a large body would lift the peak RSS by its size; the limit allows ~1 MiB."""
        peak = proc_status(self.proc.pid, "VmHWM")
        assert peak - self.baseline_peak_kb < 6 * 1024, (self.baseline_peak_kb, peak)


@pytest.fixture(scope="module")
def body_server() -> Iterator[BodyServer]:
    """A server of its own, so its peak RSS (VmHWM) reflects only the body-limit tests."""
    proc = BodyServer()
    w = Wire(proc.url)
    for _ in range(20):  # warm up the code paths before taking the baseline
        w.call("getMyProfile", {"pad": "a" * 1000}, "warm-up")
    w.close()
    proc.baseline_peak_kb = proc_status(proc.proc.pid, "VmHWM")
    yield proc
    proc.stop()


def test_exactly_1_mib_is_accepted(body_server: BodyServer) -> None:
    w = Wire(body_server.url)
    token = w.login("alice")
    pad = b"a" * (MiB - len(b'{"pad":""}'))
    body = b'{"pad":"' + pad + b'"}'
    assert len(body) == MiB
    assert w.call("getMyProfile", body, token)["code"] == 0
    assert w.call("getMyProfile", body + b" ", token)["code"] == 60003
    w.close()


@pytest.mark.parametrize("size", [MiB + 1, 10 * MiB, 16 * MiB], ids=["1MiB+1", "10MiB", "16MiB"])
def test_oversize_body_answers_60003_and_closes_without_reset(body_server: BodyServer, size: int) -> None:
    answer, error = _raw_post(body_server.url, size, size)
    assert error is None, f"the server reset a {size}-byte body instead of reading it: {error!r}"
    status, headers, body = _parse_http(answer)
    assert status == 200
    assert headers.get("connection", "").lower() == "close"
    assert body.startswith(b'{"code":60003')
    assert int(headers["content-length"]) == len(body)  # one answer, then EOF
    body_server.assert_small_peak()


def test_a_declared_20_mib_body_is_answered_without_buffering(body_server: BodyServer) -> None:
    pid = body_server.proc.pid
    rss_before = proc_status(pid, "VmRSS")
    started = time.monotonic()
    # send a little over 16 MiB of the declared 20 MiB: the server must answer without the rest
    answer, _ = _raw_post(body_server.url, 20 * MiB, 16 * MiB + 1)
    elapsed = time.monotonic() - started
    status, headers, body = _parse_http(answer)
    assert status == 200 and body.startswith(b'{"code":60003'), answer[:300]
    assert headers.get("connection", "").lower() == "close"
    assert elapsed < 5
    # buffering it would cost >= 16 MiB; the limit allows at most ~1 MiB in flight
    rss_after = proc_status(pid, "VmRSS")
    assert rss_after - rss_before < 6 * 1024, (rss_before, rss_after)
    body_server.assert_small_peak()
    assert body_server.proc.poll() is None


def test_a_declared_20_mib_body_sent_in_full_gets_its_answer(body_server: BodyServer) -> None:
    """The whole 20 MiB body from a writer thread (it may see a reset after the answer)."""
    host, port = body_server.url.removeprefix("http://").split(":")
    sock = socket.create_connection((host, int(port)), timeout=10)
    sock.sendall(
        b"POST /v1/sendMessage HTTP/1.1\r\nHost: x\r\nContent-Length: " + str(20 * MiB).encode() + b"\r\n\r\n"
    )

    def write() -> None:
        try:
            for _ in range(20):
                sock.sendall(b"[" * MiB)
        except OSError:
            pass  # the server answered and closed after 16 MiB: expected

    writer = threading.Thread(target=write, daemon=True)
    writer.start()
    received = b""
    try:
        while b"}" not in received:
            data = sock.recv(65536)
            if not data:
                break
            received += data
    except OSError:
        pass
    writer.join(10)
    sock.close()
    status, _, body = _parse_http(received)
    assert status == 200 and body.startswith(b'{"code":60003'), received[:300]
    assert body_server.proc.poll() is None
    body_server.assert_small_peak()


def test_oversize_chunked_body_answers_60003(body_server: BodyServer) -> None:
    w = Wire(body_server.url)

    def chunks() -> Iterator[bytes]:
        yield b'{"pad":"'
        for _ in range(3):
            yield b"a" * (MiB // 2)
        yield b'"}'

    conn = http.client.HTTPConnection(w.host, w.port, timeout=10)
    conn.request(
        "POST",
        "/v1/getMyProfile",
        body=chunks(),
        encode_chunked=True,
        headers={"Content-Type": "application/json", "Transfer-Encoding": "chunked"},
    )
    response = conn.getresponse()
    raw = response.read()
    conn.close()
    assert response.status == 200 and raw.startswith(b'{"code":60003'), raw
    body_server.assert_small_peak()


# --- isolation between users ----------------------------------------------------------------------


def test_c2c_conversations_are_relative_to_the_caller(wire: Wire) -> None:
    alice, bob, carol = wire.login("alice"), wire.login("bob"), wire.login("carol")
    sent = wire.ok("sendMessage", text("bob", "secret"), alice)["message"]
    wire.ok("sendMessage", text("alice", "also secret"), bob)
    for conversation_id in ("C2Cbob", "C2Calice"):
        page = wire.ok("getMessageList", {"conversationID": conversation_id}, carol)
        assert page == {"messageList": [], "nextReqMessageID": "", "isCompleted": True}
        conv = wire.ok("getConversationProfile", {"conversationID": conversation_id}, carol)["conversation"]
        assert conv["conversationID"] == conversation_id
        assert conv["lastMessage"] is None and conv["unreadCount"] == 0
        assert conv["userProfile"]["userID"] == conversation_id[3:]
        # acting on "their" conversation touches only carol's own (empty) one
        wire.ok("setMessageRead", {"conversationID": conversation_id}, carol)
        wire.ok("deleteConversation", {"conversationID": conversation_id}, carol)
    assert wire.ok("getConversationList", {}, carol)["conversationList"] == []
    # alice and bob see their conversation untouched
    bob_conv = wire.ok("getConversationProfile", {"conversationID": "C2Calice"}, bob)["conversation"]
    assert bob_conv["unreadCount"] == 1 and bob_conv["lastMessage"]["payload"] == {"text": "also secret"}
    history = wire.ok("getMessageList", {"conversationID": "C2Cbob"}, alice)["messageList"]
    assert [m["ID"] for m in history] == [sent["ID"], history[1]["ID"]]
    assert history[1]["payload"] == {"text": "also secret"}
    assert {c["conversationID"] for c in wire.ok("getConversationList", {}, bob)["conversationList"]} == {
        "C2Calice"
    }
    # conversation IDs that are no one's: refused, nothing changes
    for conversation_id in ("C2Cnobody", "C2Calice,bob", "C2C", "GROUPnope", "alice"):
        wire.refused("getMessageList", {"conversationID": conversation_id}, carol, 6004)
        wire.refused("getConversationProfile", {"conversationID": conversation_id}, carol, 6004)


def test_c2c_messages_of_another_pair_cannot_be_touched(wire: Wire) -> None:
    alice, bob, carol = wire.login("alice"), wire.login("bob"), wire.login("carol")
    message = wire.ok("sendMessage", text("bob", "mine"), alice)["message"]
    by_id = {"ID": message["ID"]}
    wire.refused("revokeMessage", {"message": message}, carol, 20022)
    wire.refused("revokeMessage", {"message": by_id}, carol, 20022)
    wire.refused("revokeMessage", {"message": message}, bob, 20022)  # the peer is not the sender
    wire.refused("deleteMessage", {"messageList": [message]}, carol, 6017)
    wire.refused("deleteMessage", {"messageList": [by_id]}, carol, 6017)
    wire.refused("resendMessage", {"message": message}, carol, 6017)
    wire.refused("resendMessage", {"message": message}, bob, 6017)
    # still intact for both parties
    for token, conversation_id in ((alice, "C2Cbob"), (bob, "C2Calice")):
        [seen] = wire.ok("getMessageList", {"conversationID": conversation_id}, token)["messageList"]
        assert seen["ID"] == message["ID"] and seen["isRevoked"] is False
    assert wire.ok("revokeMessage", {"message": message}, alice)["message"]["isRevoked"] is True


def test_groups_refuse_non_members(wire: Wire) -> None:
    alice, bob, carol = wire.login("alice"), wire.login("bob"), wire.login("carol")
    group = wire.ok(
        "createGroup", {"name": "inner", "type": "Public", "memberList": [{"userID": "bob"}]}, alice
    )["group"]
    gid = group["groupID"]
    message = wire.ok("sendMessage", text(gid, "members only", "GROUP"), bob)["message"]
    wire.refused("getMessageList", {"conversationID": "GROUP" + gid}, carol, 6004)
    wire.refused("getConversationProfile", {"conversationID": "GROUP" + gid}, carol, 6004)
    wire.refused("setMessageRead", {"conversationID": "GROUP" + gid}, carol, 6004)
    wire.refused("deleteConversation", {"conversationID": "GROUP" + gid}, carol, 6004)
    wire.refused("getGroupMemberList", {"groupID": gid}, carol, 10007)
    wire.refused("getGroupMemberProfile", {"groupID": gid, "userIDList": ["alice"]}, carol, 10007)
    wire.refused("getGroupProfile", {"groupID": gid}, carol, 10007)
    wire.refused("sendMessage", text(gid, "let me in", "GROUP"), carol, 10007)
    # REV-3: for a non-member the message is "not in history" (10030, no existence leak);
    # a member who is not the sender (even the Owner) gets 10007
    wire.refused("revokeMessage", {"message": message}, carol, 10030)
    wire.refused("revokeMessage", {"message": message}, alice, 10007)
    wire.refused("deleteMessage", {"messageList": [message]}, carol, 6017)
    wire.refused("updateGroupProfile", {"groupID": gid, "name": "mine"}, carol, 10007)
    wire.refused("setGroupMemberNameCard", {"groupID": gid, "userID": "bob", "nameCard": "x"}, carol, 10007)
    wire.refused("quitGroup", {"groupID": gid}, carol, 10007)
    assert wire.ok("getGroupList", {}, carol)["groupList"] == []
    # a member sees it all
    history = wire.ok("getMessageList", {"conversationID": "GROUP" + gid}, alice)["messageList"]
    assert message["ID"] in [m["ID"] for m in history]


def test_group_applications_are_handled_only_by_their_addressees(wire: Wire) -> None:
    owner, member, outsider, applicant = (wire.login(u) for u in ("owner", "member", "outsider", "applicant"))
    gid = wire.ok(
        "createGroup",
        {
            "name": "club",
            "type": "Public",
            "joinOption": "NeedPermission",
            "memberList": [{"userID": "member"}],
        },
        owner,
    )["group"]["groupID"]
    assert (
        wire.ok("joinGroup", {"groupID": gid, "applyMessage": "please"}, applicant)["status"]
        == "WaitAdminApproval"
    )
    notices = wire.ok("getMessageList", {"conversationID": "@TIM#SYSTEM"}, owner)["messageList"]
    application = next(m for m in notices if m["payload"].get("operationType") == 1)
    for token in (member, outsider, applicant):
        for action in ("Agree", "Reject"):
            wire.refused(
                "handleGroupApplication", {"handleAction": action, "message": application}, token, 6017
            )
    # outsiders cannot read the owner's system conversation either
    assert wire.ok("getMessageList", {"conversationID": "@TIM#SYSTEM"}, outsider)["messageList"] == []
    wire.ok("handleGroupApplication", {"handleAction": "Agree", "message": application}, owner)
    members = wire.ok("getGroupMemberList", {"groupID": gid}, owner)["memberList"]
    assert "applicant" in [m["userID"] for m in members]


# --- UserSig ---------------------------------------------------------------------------------------


def test_usersig_checks_and_no_instance_on_refusal(wire: Wire) -> None:
    now = wire.now()
    wire.login("bob")  # bob exists

    def login(user: str, sig: str, code: int) -> None:
        body = {"SDKAppID": DEV_SDKAPPID, "userID": user, "userSig": sig}
        wire.refused("login", body, None, code)  # the shortcut leaves no instance behind
        token = wire.ok("create", {"SDKAppID": DEV_SDKAPPID})["token"]
        assert wire.call("login", {"userID": user, "userSig": sig}, token)["code"] == code
        assert wire.call("getMyProfile", {}, token)["code"] == 6014

    login("alice", gen_usersig(DEV_SDKAPPID, "not-the-secret", "alice", 86400, now=now), 70009)
    login("alice", gen_usersig(DEV_SDKAPPID, DEV_SECRET_KEY, "alice", 60, now=now - 61), 70001)
    login("alice", gen_usersig(DEV_SDKAPPID, DEV_SECRET_KEY, "bob", 86400, now=now), 70013)
    login("bob", gen_usersig(DEV_SDKAPPID, DEV_SECRET_KEY, "alice", 86400, now=now), 70013)
    login("alice", gen_usersig(DEV_SDKAPPID + 1, DEV_SECRET_KEY, "alice", 86400, now=now), 70014)
    login("alice", "garbage", 70003)
    login("alice", "", 70002)
    good = gen_usersig(DEV_SDKAPPID, DEV_SECRET_KEY, "alice", 86400, now=now)
    # a one-character change to a valid sig never logs in
    tampered = good[:-8] + ("A" if good[-8] != "A" else "B") + good[-7:]
    code = wire.call("login", {"SDKAppID": DEV_SDKAPPID, "userID": "alice", "userSig": tampered})["code"]
    assert code in (70003, 70009)
    assert wire.ok("login", {"SDKAppID": DEV_SDKAPPID, "userID": "alice", "userSig": good})["token"]
