"""Fuzz the ASGI app of ``simtim serve`` in this process: > 10,000 generated cases per run.

The strategies are the socket suite's (``tests/fuzzing.py``), sent through ``AsgiWire``, plus
what only a fast loop can afford: the events WebSocket (fuzzed query strings, tokens and client
frames) and the REST v4 face (every command of the table, fuzzed bodies, good and bad callers).
Invariants: never a 5xx or an exception out of the app; every answer is its face's envelope; every
refused call (simtim/1 code != 0, REST ``ErrorCode`` != 0, a refused socket) leaves the state digest
byte-identical - checked around every request here, not one in ten.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any
from urllib.parse import quote

import orjson
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from simtim.model.core import DEV_SDKAPPID, DEV_SECRET_KEY
from simtim.protocol.rest.face import COMMANDS
from simtim.server.mailbox import CLOSE_KICKED, CLOSE_UNKNOWN_TOKEN
from simtim.usersig import gen_usersig
from tests.fuzzing import (
    FUZZ,
    GROUPS,
    USERS,
    WORDS,
    Fuzzer,
    fuzz_admin,
    fuzz_json,
    fuzz_raw,
    fuzz_schema,
    json_values,
    mostly,
)
from tests.integration.server_process import CLOCK_START
from tests.unit.server.asgi_wire import AsgiWire

#: generated cases per test (the json test sends each body twice: a live token, then an unknown one)
QUOTAS = {"json": 3000, "schema": 2800, "raw": 1500, "admin": 1000, "websocket": 800, "rest": 1500}
TOTAL = 10_000
assert sum(QUOTAS.values()) >= TOTAL
SENT: dict[str, int] = {}
REST_ADMIN = "administrator"


@pytest.fixture(scope="module")
def fuzzer() -> Iterator[Fuzzer]:
    fz = Fuzzer(AsgiWire(), digest_every=1)
    fz.setup()
    yield fz
    fz.wire.close()


def test_fuzz_in_process_methods_with_json_bodies(fuzzer: Fuzzer) -> None:
    fuzz_json(fuzzer, QUOTAS["json"])
    SENT["json"] = fuzzer.sent["json"]
    assert fuzzer.sent["json"] >= QUOTAS["json"]


def test_fuzz_in_process_openapi_schema_bodies(fuzzer: Fuzzer) -> None:
    fuzz_schema(fuzzer, QUOTAS["schema"])
    SENT["schema"] = fuzzer.sent["schema"]
    assert fuzzer.sent["schema"] >= QUOTAS["schema"]


def test_fuzz_in_process_raw_bytes_and_verbs(fuzzer: Fuzzer) -> None:
    fuzz_raw(fuzzer, QUOTAS["raw"])
    SENT["raw"] = fuzzer.sent["raw"]
    assert fuzzer.sent["raw"] >= QUOTAS["raw"]


def test_fuzz_in_process_admin_ops() -> None:
    fz = Fuzzer(AsgiWire(seed=1), digest_every=1)
    fz.setup()
    fuzz_admin(fz, QUOTAS["admin"])
    SENT["admin"] = fz.sent["admin"]
    assert fz.sent["admin"] >= QUOTAS["admin"]
    fz.wire.close()


# --- the events WebSocket ---------------------------------------------------------------------------
def test_fuzz_events_websocket_tokens_queries_and_client_frames(fuzzer: Fuzzer) -> None:
    """An unknown token gets one ``error`` frame and close 4401; a live one starts with sdkStateReady
    (or is closed 4001 when kicked); what a client sends on the socket changes nothing."""
    wire = fuzzer.wire
    assert isinstance(wire, AsgiWire)
    # the pool is refreshed lazily, by the next request that meets a retired token: the last fuzzed
    # call of the test before may have destroyed a pooled session, which "live" below would pick
    fuzzer.refresh_tokens()
    unknown = st.text(max_size=40).map(lambda t: "token=" + quote(t))
    live = st.sampled_from(USERS).map(lambda u: "token=" + fuzzer.tokens[u])
    queries = mostly(live, unknown | st.text(max_size=30) | st.just(""), 5).map(
        lambda q: q.encode("utf-8", "replace")
    )
    frame = st.one_of(
        st.text(max_size=50).map(lambda t: {"type": "websocket.receive", "text": t}),
        st.binary(max_size=50).map(lambda b: {"type": "websocket.receive", "bytes": b}),
        json_values.map(lambda v: {"type": "websocket.receive", "text": orjson.dumps(v).decode()}),
    )
    sent = 0

    @settings(FUZZ, max_examples=QUOTAS["websocket"])
    @given(query=queries, frames=st.lists(frame, max_size=4))
    def run(query: bytes, frames: list[dict[str, Any]]) -> None:
        nonlocal sent
        before = wire.digest()
        messages = wire.websocket(query, frames)
        sent += 1
        assert messages[0] == {"type": "websocket.accept"}
        texts = [orjson.loads(m["text"]) for m in messages if m["type"] == "websocket.send"]
        closes = [m["code"] for m in messages if m["type"] == "websocket.close"]
        token = query.decode("utf-8", "replace").removeprefix("token=")
        if token not in fuzzer.tokens.values():
            assert texts and texts[0]["event"] == "error" and closes == [CLOSE_UNKNOWN_TOKEN], messages
        else:
            assert texts, messages
            assert texts[0]["event"] == "sdkStateReady" or closes == [CLOSE_KICKED], messages
        assert wire.digest() == before, (query, frames)

    run()
    SENT["websocket"] = sent
    assert sent >= QUOTAS["websocket"]


# --- the REST v4 face ---------------------------------------------------------------------------------
REST_KEYS = (
    "From_Account",
    "To_Account",
    "MsgBody",
    "MsgRandom",
    "MsgSeq",
    "MsgKey",
    "GroupId",
    "Type",
    "Name",
    "Owner_Account",
    "MemberList",
    "Member_Account",
    "MemberToDel_Account",
    "Members_Account",
    "Identifier",
    "Nick",
    "UserID",
    "AccountList",
    "Accounts",
    "ProfileItem",
    "TagList",
    "To_Account",
    "Peer_Account",
    "MaxCnt",
    "MinTime",
    "MaxTime",
    "Limit",
    "Offset",
    "MuteTime",
    "NewOwner_Account",
    "GroupIdList",
    "Content",
    "ReqMsgSeq",
    "ReqMsgNumber",
    "MsgSeqList",
    "SyncOtherMachine",
    "CloudCustomData",
    "DeleteItem",
    "CheckItem",
)
TEXT_BODY = [{"MsgType": "TIMTextElem", "MsgContent": {"Text": "hi"}}]


def rest_value(key: str) -> st.SearchStrategy[Any]:
    accounts = st.sampled_from([*USERS, "nobody", ""])
    plausible: dict[str, st.SearchStrategy[Any]] = {
        "MsgBody": st.just(TEXT_BODY),
        "GroupId": st.sampled_from([*GROUPS, "@TGS#x", ""]),
        "Type": st.sampled_from(["Public", "Private", "ChatRoom", "AVChatRoom", "Work", "Nope"]),
        "MemberList": st.lists(accounts.map(lambda a: {"Member_Account": a}), max_size=3),
        "AccountList": st.lists(accounts, max_size=3),
        "Accounts": st.lists(accounts, max_size=3),
        "CheckItem": st.lists(accounts.map(lambda a: {"UserID": a}), max_size=3),
        "DeleteItem": st.lists(accounts.map(lambda a: {"UserID": a}), max_size=3),
        "GroupIdList": st.lists(st.sampled_from(GROUPS), max_size=3),
        "TagList": st.lists(
            st.sampled_from(["Tag_Profile_IM_Nick", "Tag_Profile_IM_Gender", "x"]), max_size=2
        ),
        "ProfileItem": st.lists(
            st.fixed_dictionaries(
                {"Tag": st.sampled_from(["Tag_Profile_IM_Nick", "x"]), "Value": json_values}
            ),
            max_size=2,
        ),
    }
    if key in plausible:
        right = plausible[key]
    elif key.endswith("Account") or key in ("Identifier", "UserID"):
        right = accounts
    elif key.startswith(("Max", "Min", "Msg", "Req", "Limit", "Offset", "Mute")):
        right = st.integers(-2, 2**32 + 1) | st.just(0)
    else:
        right = st.sampled_from(WORDS) | st.text(max_size=20)
    return mostly(right, json_values, 8)


def rest_body() -> st.SearchStrategy[Any]:
    body = st.fixed_dictionaries({}, optional={key: rest_value(key) for key in REST_KEYS})
    return mostly(body, json_values, 9)


def test_fuzz_rest_v4_commands_bodies_and_callers(fuzzer: Fuzzer) -> None:
    wire = fuzzer.wire
    now = CLOCK_START
    good_sig = gen_usersig(DEV_SDKAPPID, DEV_SECRET_KEY, REST_ADMIN, 86400 * 180, now=now)
    user_sig = gen_usersig(DEV_SDKAPPID, DEV_SECRET_KEY, "alice", 86400 * 180, now=now)
    callers = mostly(
        st.just(f"sdkappid={DEV_SDKAPPID}&identifier={REST_ADMIN}&usersig={good_sig}"),
        st.sampled_from(
            [
                f"sdkappid={DEV_SDKAPPID}&identifier=alice&usersig={user_sig}",  # not an App admin: 60010
                f"sdkappid={DEV_SDKAPPID}&identifier={REST_ADMIN}&usersig=garbage",
                f"sdkappid=1&identifier={REST_ADMIN}&usersig={good_sig}",
                f"identifier={REST_ADMIN}&usersig={good_sig}",
                "",
            ]
        )
        | st.text(max_size=30).map(quote),
        8,
    ).flatmap(lambda q: st.integers(0, 2**32).map(lambda r: f"{q}&random={r}&contenttype=json"))
    commands = mostly(
        st.sampled_from(sorted(COMMANDS)),
        st.tuples(st.sampled_from(["openim", "nosvc", ""]), st.text(max_size=12)),
        9,
    )
    bodies = st.one_of(rest_body().map(orjson.dumps), st.binary(max_size=40))
    sent = 0

    @settings(FUZZ, max_examples=QUOTAS["rest"])
    @given(command=commands, query=callers, body=bodies, verb=st.sampled_from(["POST"] * 9 + ["GET"]))
    def run(command: tuple[str, str], query: str, body: bytes, verb: str) -> None:
        nonlocal sent
        service, name = command
        path = f"/v4/{quote(service, safe='')}/{quote(name, safe='')}?{query}"
        before = wire.digest()
        answer = wire.request(verb, path, body, {"Content-Type": "application/json"})
        sent += 1
        assert answer.status == 200, (path, answer.status, answer.raw[:200])
        reply = orjson.loads(answer.raw)
        assert reply["ActionStatus"] in ("OK", "FAIL") and isinstance(reply["ErrorCode"], int), reply
        assert isinstance(reply["ErrorInfo"], str), reply
        assert (reply["ActionStatus"] == "OK") == (reply["ErrorCode"] == 0), reply
        if reply["ErrorCode"] != 0:
            assert wire.digest() == before, f"refused {path} changed the state: {body[:300]!r}"
            fuzzer.digests_checked += 1

    run()
    fuzzer.refresh_tokens()  # fuzzed kicks and deletes retire pooled tokens
    SENT["rest"] = sent
    assert sent >= QUOTAS["rest"]


def test_fuzz_in_process_total() -> None:
    """>= 10,000 generated cases per run, in CI; run alone, this test only reports what ran."""
    if set(SENT) != set(QUOTAS):
        pytest.skip("the total is checked when the whole module runs")
    assert sum(SENT.values()) >= TOTAL, SENT
    print(f"in-process fuzz: {sum(SENT.values())} cases {SENT}")
