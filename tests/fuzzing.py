"""Hypothesis fuzzing of simtim/1 (HTTP and the admin API), shared by the two fuzz suites.

The strategies and run loops drive any ``Wire``: ``tests/integration/test_server_fuzz.py`` sends
them over real sockets to ``simtim serve``; ``tests/unit/server/test_app_fuzz.py`` sends many
more through the ASGI app in this process (``AsgiWire``), where a case costs a fraction of a
millisecond. Every run loop is derandomized: the same requests on every run, in CI.

Invariants checked on every request (``Fuzzer.send``): never a 5xx; every answer is a simtim/1
envelope; ``POST /v1/*`` always answers HTTP 200; a refused call (code != 0) changes nothing (the
state digest around every ``digest_every``-th request, compared when it was refused).
"""

from __future__ import annotations

import itertools
from collections import Counter
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote

import orjson
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from simtim.model import METHODS
from simtim.model.core import DEV_SDKAPPID
from simtim.protocol.service import ADMIN_OPS
from tests.integration.server_process import ADMIN_KEY
from tests.integration.wire import Answer, Wire

USERS = ("alice", "bob", "carol", "dave")
GROUPS = ("fuzz-public", "fuzz-private", "fuzz-chat", "fuzz-av", "fuzz-apply")
ALL_METHODS = (*sorted(METHODS), "create")
JUNK_METHODS = (
    "",
    "noSuchMethod",
    "SendMessage",
    "sendmessage",
    "send_message",
    "__init__",
    "handle",
    "_create",
    "admin",
    "openapi.json",
    "events",
    "login/",
    "v1/login",
    "../admin/v1/reset",
    "tokens",
    "world",
    "sendMessage ",
    "getMyProfile\x00",
    "méthode",
    "a" * 300,
)
WORDS = (
    "Agree",
    "Reject",
    "Owner",
    "Admin",
    "Member",
    "Private",
    "Public",
    "ChatRoom",
    "AVChatRoom",
    "FreeAccess",
    "NeedPermission",
    "DisableApply",
    "AcceptAndNotify",
    "AcceptNotNotify",
    "Discard",
    "High",
    "Normal",
    "Low",
    "Lowest",
    "C2C",
    "GROUP",
    "web",
    "ios",
    "android",
    "TIMTextElem",
    "TIMCustomElem",
    "TIMFaceElem",
    "TIMImageElem",
    "TIMNopeElem",
    "@TIM#SYSTEM",
    "@TGS#nope",
    "",
)
#: requests per test; the json test sends each body twice (a live token, then an unknown one)
FUZZ = settings(
    derandomize=True, database=None, deadline=None, print_blob=True, suppress_health_check=list(HealthCheck)
)

INT64 = st.integers(-(2**63), 2**64 - 1)  # what JSON encoders emit; larger ones come as raw bytes below
json_scalars = (
    st.none()
    | st.booleans()
    | INT64
    | st.integers(-3, 3)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=20)
    | st.sampled_from(WORDS)
)
json_values = st.recursive(
    json_scalars,
    lambda inner: (
        st.lists(inner, max_size=4)
        | st.dictionaries(st.text(max_size=12) | st.sampled_from(WORDS), inner, max_size=4)
    ),
    max_leaves=10,
)

any_method = st.sampled_from(ALL_METHODS) | st.sampled_from(JUNK_METHODS) | st.text(max_size=30)
json_bodies = (
    st.dictionaries(st.text(max_size=12) | st.sampled_from(WORDS), json_values, max_size=5) | json_values
)


@dataclass
class Fuzzer:
    """The fuzzed server, a pool of live tokens and IDs to aim at, and the counters."""

    wire: Wire
    tokens: dict[str, str] = field(default_factory=dict)
    message_ids: list[str] = field(default_factory=list)
    sigs: list[str] = field(default_factory=list)
    schemas: dict[str, dict[str, Any]] = field(default_factory=dict)
    bodies: dict[str, st.SearchStrategy[dict[str, Any]]] = field(default_factory=dict)
    auth: st.SearchStrategy[dict[str, str]] = field(default_factory=lambda: st.just({}))
    live_auth: st.SearchStrategy[dict[str, str]] = field(default_factory=lambda: st.just({}))
    sent: Counter[str] = field(default_factory=Counter)
    refused: int = 0
    digests_checked: int = 0
    digest_every: int = 10  # in process the digest is cheap: every refused call is checked

    def setup(self) -> None:
        """Users, groups of every type, messages and a pending application; strategies built once."""
        w = self.wire
        w.admin("reset", {})
        for user in USERS:
            self.tokens[user] = w.login(user)
        owner = self.tokens["alice"]
        for gid, kind, extra in (
            ("fuzz-public", "Public", {}),
            ("fuzz-private", "Private", {}),
            ("fuzz-chat", "ChatRoom", {}),
            ("fuzz-av", "AVChatRoom", {}),
            ("fuzz-apply", "Public", {"joinOption": "NeedPermission"}),
        ):
            w.ok(
                "createGroup",
                {
                    "name": gid,
                    "groupID": gid,
                    "type": kind,
                    **extra,
                    "memberList": [] if kind in ("AVChatRoom",) else [{"userID": "bob"}],
                },
                owner,
            )
        w.ok("joinGroup", {"groupID": "fuzz-av", "type": "AVChatRoom"}, owner)
        w.ok("joinGroup", {"groupID": "fuzz-apply", "applyMessage": "hi"}, self.tokens["carol"])
        for to, kind in (("bob", "C2C"), ("alice", "C2C"), ("fuzz-public", "GROUP"), ("fuzz-av", "GROUP")):
            sender = self.tokens["bob" if to == "alice" else "alice"]
            message = w.ok(
                "sendMessage",
                {
                    "message": {
                        "to": to,
                        "conversationType": kind,
                        "type": "TIMTextElem",
                        "payload": {"text": "seed"},
                    }
                },
                sender,
            )["message"]
            self.message_ids.append(message["ID"])
        for conversation in ("@TIM#SYSTEM",):
            page = w.ok("getMessageList", {"conversationID": conversation}, owner)["messageList"]
            self.message_ids += [m["ID"] for m in page]
        document = orjson.loads(w.request("GET", "/v1/openapi.json").raw)
        for path, item in document["paths"].items():
            schema = item["post"]["requestBody"]["content"]["application/json"]["schema"]
            self.schemas[path.removeprefix("/v1/")] = schema
        assert set(self.schemas) == set(ALL_METHODS)
        self.auth = auth_headers(self)
        self.live_auth = auth_headers(self, live_in_10=9)
        self.sigs = [w.sig(user) for user in (*USERS, "eve")]
        self.bodies = {method: schema_bodies(schema, self) for method, schema in self.schemas.items()}

    def refresh_tokens(self) -> None:
        """Fuzzed logouts, destroys and kicks retire tokens; log those users in again."""
        for user, token in list(self.tokens.items()):
            if self.wire.call("getMyProfile", {}, token)["code"] != 0:
                self.tokens[user] = self.wire.login(user)

    def send(self, kind: str, verb: str, path: str, body: bytes, headers: dict[str, str]) -> Answer:
        """One fuzzed request with the invariants; every 10th /v1 request is digest-checked if refused."""
        if verb == "GET" and path == "/v1/openapi.json":  # the one GET that is not an envelope
            answer = self.wire.request(verb, path, body, headers)
            self.sent[kind] += 1
            assert answer.status == 200 and "paths" in orjson.loads(answer.raw)
            return answer
        check = path.startswith("/v1/") and verb == "POST" and (self.sent[kind] % self.digest_every == 0)
        before = self.wire.digest() if check else None
        answer = self.wire.request(verb, path, body, headers)  # asserts status < 500
        self.sent[kind] += 1
        envelope = answer.envelope  # asserts the simtim/1 shape
        if path.startswith("/v1/") and verb == "POST":
            assert answer.status == 200, (path, answer.status, answer.raw[:200])
        if envelope["code"] != 0 and path.startswith("/v1/"):
            self.refused += 1
            if before is not None:
                assert self.wire.digest() == before, f"refused {path} changed the state: {body[:300]!r}"
                self.digests_checked += 1
        if envelope["code"] == 0:
            message = envelope["data"].get("message")
            if isinstance(message, dict) and isinstance(message.get("ID"), str):
                self.message_ids.append(message["ID"])  # later bodies aim at it
        if (
            envelope["code"] in (6004, 6013, 6014, 6206, 6208)
            and headers.get("Authorization", "")[7:] in self.tokens.values()
        ):
            self.refresh_tokens()  # a fuzzed logout, destroy or login retired a pooled token
        return answer


def _path(method: str) -> str:
    return "/v1/" + quote(method, safe="")


def mostly(
    usual: st.SearchStrategy[Any], other: st.SearchStrategy[Any], in_10: int
) -> st.SearchStrategy[Any]:
    """``usual`` ``in_10`` times in ten, else ``other`` (an explicit die: ``one_of`` with repeated
    branches does not weight them)."""
    return st.integers(0, 9).flatmap(lambda roll: usual if roll < in_10 else other)


def auth_headers(fz: Fuzzer, live_in_10: int = 5) -> st.SearchStrategy[dict[str, str]]:
    """A live token (looked up when drawn: fuzzed logouts retire tokens) ``live_in_10`` times in ten,
    else one the server never issued, none, or a malformed header."""
    unknown = st.text(
        alphabet="ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_-", min_size=1, max_size=43
    ).map(lambda token: {"Authorization": "Bearer " + token})
    malformed = st.sampled_from(
        ["Bearer", "Bearer ", "Basic abc", "bearer", "Token x", "Bearer  \t", "Bearer " + "x" * 5000]
    ).map(lambda value: {"Authorization": value})
    live = st.sampled_from(USERS).map(lambda user: {"Authorization": "Bearer " + fz.tokens[user]})
    return mostly(live, st.one_of(unknown, st.just({}), malformed), live_in_10)


def _pick(pool: list[str], extra: tuple[str, ...] = ()) -> st.SearchStrategy[str]:
    """An element of ``pool`` as it is when drawn (the fuzz adds message IDs as it goes)."""
    return st.one_of(
        st.integers(0, 1 << 20).map(lambda i: pool[i % len(pool)]), st.sampled_from(extra or ("",))
    )


def _value_for(schema: dict[str, Any], name: str, fz: Fuzzer, sloppy: bool) -> st.SearchStrategy[Any]:
    """A value for one schema property aimed at things that exist; ``sloppy`` adds wrong types."""
    kind = schema.get("type")
    if "enum" in schema:
        right: st.SearchStrategy[Any] = st.sampled_from(schema["enum"])
    elif kind == "string":
        conversations = [*(f"C2C{u}" for u in USERS), *(f"GROUP{g}" for g in GROUPS), "@TIM#SYSTEM"]
        pools: dict[str, st.SearchStrategy[str]] = {
            "userID": st.sampled_from([*USERS, "nobody", ""]),
            "newOwnerID": st.sampled_from(USERS),
            "to": st.sampled_from([*USERS, *GROUPS, "nobody"]),
            "groupID": st.sampled_from([*GROUPS, "@TGS#x"]),
            "ID": _pick(fz.message_ids, ("nope",)),
            "nextReqMessageID": _pick(fz.message_ids, ("nope",)),
            "conversationID": st.sampled_from([*conversations, "C2Cnobody"]),
            "userSig": st.sampled_from(["", "garbage", *fz.sigs]),
            "platform": st.sampled_from(["web", "ios", "tv"]),
        }
        right = pools.get(name, st.sampled_from(WORDS) | st.text(max_size=40))
    elif kind == "integer":
        right = st.integers(-2, 130) | INT64 | st.just(DEV_SDKAPPID)
    elif kind == "array":
        item_name = name.removesuffix("List") if name.endswith("List") else name
        right = st.lists(_value_for(schema.get("items", {}), item_name, fz, sloppy), max_size=4)
    elif kind == "object" and "properties" in schema:
        right = _object_for(schema, fz, sloppy)
    elif name == "payload":
        right = st.sampled_from(
            [
                {"text": "hi"},
                {"text": ""},
                {"data": "d", "description": "", "extension": ""},
                {"index": 1, "data": "x"},
                {"description": "here", "longitude": 1.5, "latitude": 2.5},
            ]
        )
        if sloppy:
            right |= st.dictionaries(
                st.sampled_from(["text", "data", "index", "url", "uuid"]), json_values, max_size=3
            )
    else:
        right = json_values
    return mostly(right, json_values, 7) if sloppy else right


def _object_for(schema: dict[str, Any], fz: Fuzzer, sloppy: bool) -> st.SearchStrategy[dict[str, Any]]:
    properties: dict[str, Any] = schema.get("properties", {})
    required = [p for p in schema.get("required", []) if p in properties]
    optional = {p: _value_for(properties[p], p, fz, sloppy) for p in properties if p not in required}
    if sloppy:
        optional["junk"] = json_values
    body = st.fixed_dictionaries(
        {p: _value_for(properties[p], p, fz, sloppy) for p in required}, optional=optional
    )
    if not sloppy:
        return body
    # now and then the first required field goes missing
    return st.tuples(body, st.integers(0, 4)).map(
        lambda t: {k: v for k, v in t[0].items() if t[1] or k not in required[:1]}
    )


def schema_bodies(schema: dict[str, Any], fz: Fuzzer) -> st.SearchStrategy[dict[str, Any]]:
    """Seven in ten bodies follow the schema with plausible values; the rest are sloppy."""
    return mostly(_object_for(schema, fz, sloppy=False), _object_for(schema, fz, sloppy=True), 7)


def _order_code(method: str, body: object) -> int:
    """DESIGN "Envelope and order" for a request whose token is unknown: JSON object (60003) ->
    method exists (60009) -> token (6014)."""
    if not isinstance(body, dict):
        return 60003
    return 60009 if method not in METHODS else 6014


def fuzz_json(fuzzer: Fuzzer, examples: int) -> None:
    unknown = itertools.count()

    @settings(FUZZ, max_examples=examples // 2 + 20)
    @given(data=st.data())
    def run(data: st.DataObject) -> None:
        method = data.draw(any_method)
        body = data.draw(json_bodies)
        raw = orjson.dumps(body)
        headers = {"Content-Type": "application/json", **data.draw(fuzzer.auth)}
        fuzzer.send("json", "POST", _path(method), raw, headers)
        if method != "create":  # the same request with a token the server never issued
            headers["Authorization"] = f"Bearer never-issued-{next(unknown)}"
            answer = fuzzer.send("json", "POST", _path(method), raw, headers)
            assert answer.envelope["code"] == _order_code(method, body), (method, raw[:200], answer.raw)

    run()


def fuzz_schema(fuzzer: Fuzzer, examples: int) -> None:
    @settings(FUZZ, max_examples=examples + 20)
    @given(data=st.data())
    def run(data: st.DataObject) -> None:
        method = data.draw(st.sampled_from(ALL_METHODS))
        body = data.draw(fuzzer.bodies[method])
        headers = {"Content-Type": "application/json", **data.draw(fuzzer.live_auth)}
        if method in ("create", "login") and data.draw(st.booleans()):
            headers.pop("Authorization", None)  # create, and the login shortcut
            body.setdefault("SDKAppID", DEV_SDKAPPID)
        fuzzer.send("schema", "POST", _path(method), orjson.dumps(body), headers)

    run()


def _mutations(valid: bytes) -> st.SearchStrategy[bytes]:
    return st.one_of(
        st.integers(0, len(valid)).map(lambda n: valid[:n]),
        st.tuples(st.integers(0, len(valid)), st.binary(min_size=1, max_size=4)).map(
            lambda t: valid[: t[0]] + t[1] + valid[t[0] :]
        ),
        st.integers(0, max(0, len(valid) - 1)).map(lambda n: valid[:n] + valid[n + 1 :]),
    )


def fuzz_raw(fuzzer: Fuzzer, examples: int) -> None:
    valid = orjson.dumps(
        {
            "message": {
                "to": "bob",
                "conversationType": "C2C",
                "type": "TIMTextElem",
                "payload": {"text": "hi"},
            },
            "conversationID": "C2Cbob",
            "groupID": GROUPS[0],
        }
    )

    methods = st.sampled_from(ALL_METHODS) | st.sampled_from(JUNK_METHODS)
    samples = [
        b"",
        b"[]",
        b'"x"',
        b"0",
        b"null",
        b"true",
        b"\xef\xbb\xbf{}",
        b"[" * 2000,
        b'{"a":' * 120 + b"1" + b"}" * 120,
        b'{"a":' * 99 + b"1" + b"}" * 99,
        b'{"count": 123456789012345678901234567890, "muteTime": 1e400}',
        b'{"conversationID": "C2Cbob", "count": 18446744073709551616}',
        b'{"message": {"to": "bob", "conversationType": "C2C", "type": "TIMTextElem", "payload": '
        + b'{"text": "deep", "x": '
        + b"[" * 95
        + b"]" * 95
        + b"}}}",
    ]
    bodies = (
        st.binary(max_size=64)
        | st.text(max_size=40).map(str.encode)
        | _mutations(valid)
        | st.integers(0, len(samples) - 1).map(samples.__getitem__)
    )
    verbs = st.sampled_from(["POST"] * 6 + ["GET", "PUT", "DELETE", "PATCH", "OPTIONS"])
    prefixes = st.sampled_from(["/v1/"] * 5 + ["/v2/", "/admin/v1/", "", "/v1", "/healthz"])
    content_types = st.sampled_from(
        ["application/json", "text/plain", "", "application/x-www-form-urlencoded"]
    )

    @settings(FUZZ, max_examples=examples + 20)
    @given(data=st.data())
    def run(data: st.DataObject) -> None:
        method, body, verb, prefix = (
            data.draw(methods),
            data.draw(bodies),
            data.draw(verbs),
            data.draw(prefixes),
        )
        path = prefix + quote(method, safe="") if prefix.endswith("/") else prefix or "/"
        headers = {"Content-Type": data.draw(content_types), **data.draw(fuzzer.auth)}
        if verb in ("GET", "OPTIONS") and data.draw(st.booleans()):
            body = b""
        answer = fuzzer.send("raw", verb, path, body, headers)
        if path.startswith("/admin/v1/"):
            assert answer.status == 403 and answer.envelope["code"] == 70403

    run()


ADMIN_FIELDS: dict[str, tuple[str, ...]] = {
    "configureApp": (
        "SDKAppID",
        "secretKey",
        "webInstances",
        "revokeWindowSeconds",
        "messageMaxBytes",
        "retentionSeconds",
        "conversationListMax",
        "groupMessageRatePerSecond",
        "eventQueueMax",
        "chatroomMemberTips",
        "maxMemberNum",
        "historyBeforeJoin",
        "disabled",
    ),
    "reset": (),
    "importAccount": ("SDKAppID", "userID", "nick", "avatar"),
    "kick": ("SDKAppID", "userID"),
    "advanceClock": ("SDKAppID", "seconds"),
    "snapshot": ("SDKAppID", "digest"),
    "setCallback": ("SDKAppID", "url"),
    "recallMessage": ("SDKAppID", "message"),
    "sendGroupSystemNotice": ("SDKAppID", "groupID", "userIDList", "content"),
    "addGroupMember": ("SDKAppID", "groupID", "userIDList"),
}
assert set(ADMIN_FIELDS) == set(ADMIN_OPS)


def fuzz_admin(admin_fuzzer: Fuzzer, examples: int) -> None:
    big = st.sampled_from([2**64 - 1, 2**63 - 1, 2**53, 2**32 + 1, 2**32, 0, 1, 60, -1]) | st.integers(
        0, 10**6
    )
    groups = st.sampled_from([*GROUPS, "@TGS#x"])
    typed: dict[str, st.SearchStrategy[Any]] = {
        "SDKAppID": st.sampled_from([DEV_SDKAPPID, DEV_SDKAPPID + 99, DEV_SDKAPPID + 1, 0, 2**64 - 1]),
        "userID": st.sampled_from([*USERS, "nobody", ""]),
        "groupID": groups,
        "userIDList": st.lists(st.sampled_from([*USERS, "nobody"]), max_size=3),
        "message": _pick(admin_fuzzer.message_ids, ("nope",)).map(lambda i: {"ID": i}),
        "url": st.sampled_from(["http://127.0.0.1:9/cb", "ftp://x", "", None]),
        "digest": st.booleans(),
        "disabled": st.booleans(),
        "chatroomMemberTips": st.booleans(),
        "maxMemberNum": st.dictionaries(
            st.sampled_from(["Public", "Private", "Nope"]), big | st.none(), max_size=2
        ),
        "historyBeforeJoin": st.dictionaries(
            st.sampled_from(["Public", "ChatRoom"]), st.booleans(), max_size=2
        ),
    }
    value_of = {
        key: mostly(
            typed.get(
                key, big if key not in ("secretKey", "nick", "avatar", "content") else st.text(max_size=20)
            ),
            json_values,
            8,
        )
        for keys in ADMIN_FIELDS.values()
        for key in keys
    }
    per_op = {
        op: st.fixed_dictionaries({}, optional={k: value_of[k] for k in keys}).map(lambda b, op=op: (op, b))
        for op, keys in ADMIN_FIELDS.items()
    }
    junk = st.tuples(st.sampled_from(JUNK_METHODS), json_values)
    requests = mostly(st.sampled_from(sorted(per_op)).flatmap(per_op.__getitem__), junk, 9)
    counter = itertools.count()

    @settings(FUZZ, max_examples=examples + 20)
    @given(data=st.data())
    def run(data: st.DataObject) -> None:
        op, body = data.draw(requests)
        if op == "reset" or (op == "configureApp" and body.get("disabled") is True):
            op, body = "configureApp", {"SDKAppID": DEV_SDKAPPID + 99, "secretKey": "k"}  # keep /v1 usable
        answer = admin_fuzzer.send(
            "admin", "POST", "/admin/v1/" + quote(op, safe=""), orjson.dumps(body), {"X-Admin-Key": ADMIN_KEY}
        )
        assert answer.status == 200
        if next(counter) % 25 == 0:  # the fuzzed state still serves /v1
            admin_fuzzer.wire.call("getMyProfile", {}, admin_fuzzer.tokens["alice"])

    run()
