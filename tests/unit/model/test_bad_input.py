"""Bad input everywhere: every public World entry refuses it with the SPEC code and changes nothing.

ORDER-1: the first failing check wins and a refused call changes nothing and emits nothing.
"Nothing" is checked with ``pickle.dumps(world)`` before and after every refused call (falling back
to a canonical structure when only object identities differ, see ``tests/world_snapshot.py``),
on a world that already holds state worth protecting (two users talking, a revoked and a deleted
message, a group, a kicked, an expired, a logged-out, a destroyed and a disconnected instance with
queued events, and a second, disabled app).  The shapes are 6017 unless SPEC names another code
(MSG-2: 6016/80002/7005, PAGE-1, CONV-1: 6004, AUTH-3: 70002/70402).
"""

from __future__ import annotations

import json
import math
import pickle
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from simtim.clock import FakeClock
from simtim.errors import Code, IMError
from simtim.ids import IdSource
from simtim.model import METHODS, Outcome, World
from simtim.model.core import DEV_SDKAPPID, DEV_SECRET_KEY
from simtim.model.world import READ_ONLY_METHODS
from simtim.usersig import gen_usersig
from tests.world_snapshot import Snapshot

DEV = DEV_SDKAPPID
OFF_APP = 1400000001  # a second app, disabled after its user logged in (AUTH-4)
OFF_KEY = "another-secret-key"
NEW_APP = 1400000002  # never configured
T0 = 1_600_000_000
MB = 1024 * 1024

CONVERSATION_APIS = frozenset(
    {
        "getMessageList",
        "setMessageRead",
        "getConversationList",
        "getConversationProfile",
        "deleteConversation",
    }
)
SESSION_METHODS = frozenset({"login", "logout", "destroy"})
C2C_METHODS = (
    frozenset(
        {
            "sendMessage",
            "resendMessage",
            "revokeMessage",
            "deleteMessage",
            "getMessageList",
            "setMessageRead",
            "getConversationList",
            "getConversationProfile",
            "deleteConversation",
            "getMyProfile",
            "updateMyProfile",
        }
    )
    | SESSION_METHODS
)
GROUP_METHODS = sorted(set(METHODS) - C2C_METHODS)
READ_ONLY = READ_ONLY_METHODS

#: The calling instance's state and the code ORDER-1 answers before looking at any argument.
STATE_CODES: dict[str, int] = {
    "destroyed": Code.SDK_NOT_INITIALIZED,
    "fresh": Code.NOT_LOGGED_IN,
    "logged_out": Code.NOT_LOGGED_IN,
    "kicked": Code.KICKED_BY_OTHER,
    "expired": Code.USERSIG_EXPIRED_KICKED,
    "disabled": Code.APP_DISABLED,
}


def state_code(state: str, method: str) -> int:
    code = STATE_CODES[state]
    if code == Code.NOT_LOGGED_IN and method in CONVERSATION_APIS:
        return Code.CONVERSATION_INVALID  # CONV-1: conversation APIs before login
    return code


# --- the world under test -------------------------------------------------------------------------
@dataclass(frozen=True)
class Base:
    blob: bytes  # pickle of the world; every test starts from a fresh copy
    inst: dict[str, int]  # role -> instance id
    msg: dict[str, dict[str, Any]]  # name -> the Message view a client holds
    groups: dict[str, str]


def _build() -> Base:
    clock = FakeClock(T0)
    world = World(clock, IdSource(3))
    world.import_account(DEV, "carol", nick="Carol")

    def create(platform: str, sdkappid: int = DEV) -> int:
        return world.create_instance(sdkappid, platform).id

    def login(
        inst: int, user: str, expire: int = 86400, sdkappid: int = DEV, key: str = DEV_SECRET_KEY
    ) -> None:
        sig = gen_usersig(sdkappid, key, user, expire, now=clock.now())
        world.call(inst, "login", {"userID": user, "userSig": sig})

    def call(inst: int, method: str, opts: dict[str, Any]) -> dict[str, Any]:
        return world.call(inst, method, opts).data

    def text(inst: int, to: str, body: str, kind: str = "C2C") -> dict[str, Any]:
        message = {"to": to, "conversationType": kind, "type": "TIMTextElem", "payload": {"text": body}}
        return call(inst, "sendMessage", {"message": message})["message"]

    inst: dict[str, int] = {}
    inst["expired"] = create("ios")
    login(inst["expired"], "bob", expire=10)
    clock.advance(11)
    world.sweep()  # INST-5: userSigExpired
    inst["kicked"] = create("web")
    login(inst["kicked"], "alice")
    inst["alice"] = create("web")
    login(inst["alice"], "alice")  # INST-3: kicks the first web instance
    inst["bob"] = create("android")
    login(inst["bob"], "bob")
    inst["carol"] = create("miniprogram")
    login(inst["carol"], "carol")
    world.set_network(inst["carol"], False)  # NET-1: carol's events queue up
    inst["fresh"] = create("web")
    inst["logged_out"] = create("web")
    login(inst["logged_out"], "dave")
    call(inst["logged_out"], "logout", {})
    inst["destroyed"] = create("pc")
    login(inst["destroyed"], "erin")
    call(inst["destroyed"], "destroy", {})
    world.configure_app(OFF_APP, OFF_KEY)
    inst["disabled"] = create("web", OFF_APP)
    login(inst["disabled"], "olga", sdkappid=OFF_APP, key=OFF_KEY)
    world.configure_app(OFF_APP, disabled=True)

    msg: dict[str, dict[str, Any]] = {}
    msg["a2b"] = text(inst["alice"], "bob", "hello bob")
    msg["b2a"] = text(inst["bob"], "alice", "hello alice")
    msg["revoked"] = call(inst["alice"], "revokeMessage", {"message": text(inst["alice"], "bob", "oops")})[
        "message"
    ]
    msg["deleted"] = text(inst["bob"], "alice", "delete me")
    call(inst["alice"], "deleteMessage", {"messageList": [msg["deleted"]]})
    msg["b2c"] = text(inst["bob"], "carol", "not for alice")
    msg["c2a"] = text(inst["carol"], "alice", "from carol")
    call(inst["bob"], "setMessageRead", {"conversationID": "C2Calice"})
    groups = {
        "mine": call(
            inst["alice"],
            "createGroup",
            {"name": "ours", "type": "Public", "memberList": [{"userID": "bob"}]},
        )["group"]["groupID"],
        "theirs": call(inst["carol"], "createGroup", {"name": "not alice's", "type": "Public"})["group"][
            "groupID"
        ],
    }
    msg["group"] = text(inst["alice"], groups["mine"], "hello group", kind="GROUP")
    return Base(pickle.dumps(world), inst, msg, groups)


BASE = _build()


def fresh_world() -> World:
    world = pickle.loads(BASE.blob)
    assert isinstance(world, World)
    return world


def refused(world: World, run: Callable[[], object], code: int) -> None:
    """``run`` raises IMError(code) — never another exception — and leaves ``world`` as it was."""
    before = Snapshot(world)
    try:
        result = run()
    except IMError as exc:
        assert exc.code == code, f"got {exc}, expected {code}"
    except Exception as exc:  # ORDER-1: nothing but IMError may escape the model
        raise AssertionError(f"raised {type(exc).__name__}: {exc}, expected IMError {code}") from exc
    else:
        raise AssertionError(f"succeeded with {result!r}, expected IMError {code}")
    assert before.unchanged(), "a refused call changed the world"


def test_the_base_world_is_what_the_tests_assume() -> None:
    world = fresh_world()
    states = {role: world.instances[i].state for role, i in BASE.inst.items()}
    assert states == {
        "expired": "expired",
        "kicked": "kicked",
        "alice": "online",
        "bob": "online",
        "carol": "online",
        "fresh": "new",
        "logged_out": "new",
        "destroyed": "destroyed",
        "disabled": "online",
    }
    assert world.instances[BASE.inst["carol"]].deferred, "carol should have queued events"
    assert world.apps[OFF_APP].disabled and BASE.msg["revoked"]["isRevoked"] is True
    assert pickle.dumps(pickle.loads(BASE.blob)) == pickle.dumps(fresh_world())  # snapshots are stable


@pytest.mark.parametrize("change", ["nick", "deleted", "rng", "clock", "deferred", "online order", "config"])
def test_snapshot_sees_every_kind_of_change(change: str) -> None:
    """The checker itself: equal-but-not-identical strings pass, any real change fails."""
    world = fresh_world()
    before = Snapshot(world)
    inst = world.instances[BASE.inst["fresh"]]
    inst.state = "".join(["n", "ew"])  # an equal string, another object: pickle differs, the world does not
    assert pickle.dumps(world) != before.blob and before.unchanged()
    app = world.apps[DEV]
    if change == "nick":
        app.accounts["alice"].nick = "A"
    elif change == "deleted":
        app.accounts["alice"].deleted.add(app.messages[BASE.msg["a2b"]["ID"]].key)
    elif change == "rng":
        world.ids.random32()
    elif change == "clock":
        world.clock.advance(1)  # type: ignore[attr-defined]
    elif change == "deferred":
        world.instances[BASE.inst["carol"]].deferred.append(("sdkStateReady", {}))
    elif change == "online order":
        app.accounts["alice"].online.reverse()
        app.accounts["alice"].online.append(world.instances[BASE.inst["kicked"]])
    else:
        world.configure_app(DEV, web_instances=3)
    assert not before.unchanged()


# --- ORDER-1: the instance state wins over any argument -----------------------------------------------
BAD_OPTIONS: list[object] = [
    [],
    "options",
    5,
    1.5,
    True,
    b"bytes",
    ["message"],
    {
        "message": 5,
        "messageList": "x",
        "conversationID": 5,
        "count": -1,
        "groupID": [],
        "userID": {},
        "nextReqMessageID": 1,
        "nick": 7,
        "userIDList": "u",
        "name": None,
    },
]


@pytest.mark.parametrize("state", sorted(STATE_CODES))
@pytest.mark.parametrize("method", sorted(set(METHODS) - SESSION_METHODS))
def test_order_1_instance_state_before_arguments(method: str, state: str) -> None:
    """destroyed 6013 -> not logged in 6014 (conversation APIs 6004) -> kicked 6208 -> sig expired 6206
    -> app disabled 60016, whatever the options."""
    world = fresh_world()
    for opts in BAD_OPTIONS:
        refused(
            world, lambda opts=opts: world.call(BASE.inst[state], method, opts), state_code(state, method)
        )


@pytest.mark.parametrize("opts", BAD_OPTIONS[:7], ids=repr)
@pytest.mark.parametrize("method", sorted(METHODS))
def test_non_object_options_are_6017_for_an_online_caller(method: str, opts: object) -> None:
    world = fresh_world()
    refused(world, lambda: world.call(BASE.inst["alice"], method, opts), Code.INVALID_PARAMETERS)


@pytest.mark.parametrize("method", sorted(SESSION_METHODS))
def test_order_1_destroyed_session_calls_are_6013(method: str) -> None:
    world = fresh_world()
    for opts in [None, {}, *BAD_OPTIONS]:
        refused(
            world,
            lambda opts=opts: world.call(BASE.inst["destroyed"], method, opts),
            Code.SDK_NOT_INITIALIZED,
        )


@pytest.mark.parametrize(
    ("opts", "code"),
    [
        (None, Code.USERSIG_EMPTY),
        ({}, Code.USERSIG_EMPTY),
        ({"userID": "alice"}, Code.USERSIG_EMPTY),
        ({"userID": "alice", "userSig": 5}, Code.USERSIG_EMPTY),
        ({"userID": "alice", "userSig": ["sig"]}, Code.USERSIG_EMPTY),
        ({"userID": None, "userSig": "x"}, Code.INVALID_USER_ID),
        ({"userID": "", "userSig": "x"}, Code.INVALID_USER_ID),
        ({"userID": 5, "userSig": "x"}, Code.INVALID_USER_ID),
        ({"userID": ["alice"], "userSig": "x"}, Code.INVALID_USER_ID),
        ({"userID": "a" * 33, "userSig": "x"}, Code.INVALID_USER_ID),
        ({"userID": "new\nline", "userSig": "x"}, Code.INVALID_USER_ID),
        ({"userID": "ünicode", "userSig": "x"}, Code.INVALID_USER_ID),
        ({"userID": "alice", "userSig": "%%% not a sig"}, Code.USERSIG_UNDECODABLE),
        ({"userID": "alice", "userSig": "x" * 70_000}, Code.USERSIG_UNDECODABLE),
        ({"userID": "alice", "userSig": "\ud800"}, Code.USERSIG_UNDECODABLE),
        ([], Code.INVALID_PARAMETERS),
        ("alice", Code.INVALID_PARAMETERS),
    ],
    ids=lambda v: repr(v)[:40],
)
@pytest.mark.parametrize("state", ["fresh", "logged_out", "kicked", "expired"])
def test_login_bad_arguments(state: str, opts: object, code: int) -> None:
    """AUTH-3 (70002, then 70402) before AUTH-2's sig checks; a non-object is a shape error."""
    world = fresh_world()
    refused(world, lambda: world.call(BASE.inst[state], "login", opts), code)


def test_login_on_a_disabled_app_is_60016_before_the_arguments() -> None:
    world = fresh_world()
    inst = world.create_instance(OFF_APP, "web").id
    for opts in [None, {}, {"userID": 5, "userSig": 5}, {"userID": "olga", "userSig": "%%%"}]:
        refused(world, lambda opts=opts: world.call(inst, "login", opts), Code.APP_DISABLED)


def test_login_with_a_non_object_on_a_disabled_app_is_60016() -> None:
    world = fresh_world()
    inst = world.create_instance(OFF_APP, "web").id
    refused(world, lambda: world.call(inst, "login", []), Code.APP_DISABLED)


def test_repeat_login_ignores_any_body_and_changes_nothing() -> None:
    """INST-2: a logged-in instance answers repeatLogin whatever userID/userSig say."""
    world = fresh_world()
    before = Snapshot(world)
    for opts in [None, {}, {"userID": 5, "userSig": []}, {"userID": "mallory", "userSig": "junk"}]:
        assert world.call(BASE.inst["alice"], "login", opts) == Outcome({"repeatLogin": True}, [])
    assert before.unchanged()


def test_logout_of_a_logged_out_instance_ignores_a_body() -> None:
    world = fresh_world()
    before = Snapshot(world)
    assert world.call(BASE.inst["fresh"], "logout", {"junk": [1, {}]}) == Outcome({}, [])
    assert before.unchanged()


# --- per-method argument rules for an online caller ----------------------------------------------------
def _text(**extra: Any) -> dict[str, Any]:
    return {"to": "bob", "conversationType": "C2C", "type": "TIMTextElem", "payload": {"text": "x"}, **extra}


def _elem(kind: str, **payload: Any) -> dict[str, Any]:
    return {"to": "bob", "conversationType": "C2C", "type": kind, "payload": payload}


IMAGE = {"imageFormat": 1, "uuid": "u", "imageInfoArray": [{"size": 1}]}
SOUND = {"url": "u", "size": 1, "second": 1}
VIDEO = {"videoUrl": "u", "videoSize": 1, "videoSecond": 1, "thumbUrl": "t"}
FILE = {"fileUrl": "u", "fileName": "f", "fileSize": 1}
# MSG-2: the body is the compact JSON of the element array, [{"type":"TIMTextElem","payload":{"text":"…"}}].
TEXT_LIMIT = 12288 - len(
    json.dumps([{"type": "TIMTextElem", "payload": {"text": ""}}], separators=(",", ":"))
)


def _nested(depth: int) -> Any:
    value: Any = "deep"
    for _ in range(depth):
        value = {"k": [value]}
    return value


def _selfref() -> dict[str, Any]:
    loop: dict[str, Any] = {"text": "x"}
    loop["again"] = loop
    return loop


SEND_CASES: list[tuple[str, object, int]] = [
    # ORDER-1 shapes (6017)
    ("no message", {}, Code.INVALID_PARAMETERS),
    ("message null", {"message": None}, Code.INVALID_PARAMETERS),
    ("message list", {"message": [_text()]}, Code.INVALID_PARAMETERS),
    ("message string", {"message": "hi"}, Code.INVALID_PARAMETERS),
    ("no to", {"message": {k: v for k, v in _text().items() if k != "to"}}, Code.INVALID_PARAMETERS),
    ("empty to", {"message": _text(to="")}, Code.INVALID_PARAMETERS),
    ("int to", {"message": _text(to=5)}, Code.INVALID_PARAMETERS),
    ("list to", {"message": _text(to=["bob"])}, Code.INVALID_PARAMETERS),
    ("no conversationType", {"message": _text(conversationType=None)}, Code.INVALID_PARAMETERS),
    ("lowercase conversationType", {"message": _text(conversationType="c2c")}, Code.INVALID_PARAMETERS),
    ("list conversationType", {"message": _text(conversationType=["C2C"])}, Code.INVALID_PARAMETERS),
    ("unknown priority", {"message": _text(priority="Urgent")}, Code.INVALID_PARAMETERS),
    ("int priority", {"message": _text(priority=1)}, Code.INVALID_PARAMETERS),
    ("list priority", {"message": _text(priority=["High"])}, Code.INVALID_PARAMETERS),
    ("negative random", {"message": _text(random=-1)}, Code.INVALID_PARAMETERS),
    ("random over uint32", {"message": _text(random=2**32)}, Code.INVALID_PARAMETERS),
    ("string random", {"message": _text(random="1")}, Code.INVALID_PARAMETERS),
    ("bool random", {"message": _text(random=True)}, Code.INVALID_PARAMETERS),
    ("float random", {"message": _text(random=1.0)}, Code.INVALID_PARAMETERS),
    ("negative clientTime", {"message": _text(clientTime=-1)}, Code.INVALID_PARAMETERS),
    ("string clientTime", {"message": _text(clientTime="now")}, Code.INVALID_PARAMETERS),
    ("int cloudCustomData", {"message": _text(cloudCustomData=5)}, Code.INVALID_PARAMETERS),
    ("object cloudCustomData", {"message": _text(cloudCustomData={})}, Code.INVALID_PARAMETERS),
    ("elements not a list", {"message": _text(elements="x")}, Code.INVALID_PARAMETERS),
    ("elements of scalars", {"message": _text(elements=[1])}, Code.INVALID_PARAMETERS),
    (
        "shape before element",
        {"message": _text(priority="Urgent", payload={"text": ""})},
        Code.INVALID_PARAMETERS,
    ),
    # MSG-2: element invalid (6016)
    ("unknown type", {"message": _text(type="TIMFooElem")}, Code.INVALID_ELEMENT),
    ("null type", {"message": _text(type=None)}, Code.INVALID_ELEMENT),
    ("list type", {"message": _text(type=["TIMTextElem"])}, Code.INVALID_ELEMENT),
    ("int type", {"message": _text(type=5)}, Code.INVALID_ELEMENT),
    ("group tip type", {"message": _text(type="TIMGroupTipElem")}, Code.INVALID_ELEMENT),
    ("null payload", {"message": _text(payload=None)}, Code.INVALID_ELEMENT),
    ("list payload", {"message": _text(payload=["x"])}, Code.INVALID_ELEMENT),
    ("string payload", {"message": _text(payload="x")}, Code.INVALID_ELEMENT),
    ("empty text", {"message": _text(payload={"text": ""})}, Code.INVALID_ELEMENT),
    ("int text", {"message": _text(payload={"text": 5})}, Code.INVALID_ELEMENT),
    ("no text", {"message": _text(payload={})}, Code.INVALID_ELEMENT),
    (
        "image without uuid",
        {"message": _elem("TIMImageElem", imageFormat=1, imageInfoArray=[])},
        Code.INVALID_ELEMENT,
    ),
    (
        "image info not a list",
        {"message": _elem("TIMImageElem", **{**IMAGE, "imageInfoArray": "x"})},
        Code.INVALID_ELEMENT,
    ),
    (
        "image info of scalars",
        {"message": _elem("TIMImageElem", **{**IMAGE, "imageInfoArray": [5]})},
        Code.INVALID_ELEMENT,
    ),
    (
        "image negative size",
        {"message": _elem("TIMImageElem", **{**IMAGE, "imageInfoArray": [{"size": -1}]})},
        Code.INVALID_ELEMENT,
    ),
    ("sound string size", {"message": _elem("TIMSoundElem", **{**SOUND, "size": "1"})}, Code.INVALID_ELEMENT),
    (
        "sound negative second",
        {"message": _elem("TIMSoundElem", **{**SOUND, "second": -1})},
        Code.INVALID_ELEMENT,
    ),
    ("file without name", {"message": _elem("TIMFileElem", fileUrl="u", fileSize=1)}, Code.INVALID_ELEMENT),
    ("float fileSize", {"message": _elem("TIMFileElem", **{**FILE, "fileSize": 1.5})}, Code.INVALID_ELEMENT),
    ("bool fileSize", {"message": _elem("TIMFileElem", **{**FILE, "fileSize": True})}, Code.INVALID_ELEMENT),
    (
        "video without thumb",
        {"message": _elem("TIMVideoFileElem", videoUrl="u", videoSize=1, videoSecond=1)},
        Code.INVALID_ELEMENT,
    ),
    ("face without index", {"message": _elem("TIMFaceElem", data="d")}, Code.INVALID_ELEMENT),
    (
        "location string latitude",
        {"message": _elem("TIMLocationElem", longitude=1.0, latitude="1")},
        Code.INVALID_ELEMENT,
    ),
    (
        "location NaN",
        {"message": _elem("TIMLocationElem", longitude=math.nan, latitude=1.0)},
        Code.INVALID_ELEMENT,
    ),
    ("custom data not a string", {"message": _elem("TIMCustomElem", data=5)}, Code.INVALID_ELEMENT),
    (
        "two custom elements",
        {
            "message": _text(
                elements=[
                    {"type": "TIMCustomElem", "payload": {"data": "a"}},
                    {"type": "TIMCustomElem", "payload": {"data": "b"}},
                ]
            )
        },
        Code.INVALID_ELEMENT,
    ),
    ("no elements", {"message": _text(elements=[])}, Code.INVALID_ELEMENT),
    ("payload with a set", {"message": _text(payload={"text": "x", "extra": {1, 2}})}, Code.INVALID_ELEMENT),
    ("payload with bytes", {"message": _text(payload={"text": "x", "extra": b"raw"})}, Code.INVALID_ELEMENT),
    (
        "payload with an object",
        {"message": _text(payload={"text": "x", "extra": object()})},
        Code.INVALID_ELEMENT,
    ),
    ("payload with a huge int", {"message": _text(payload={"text": "x", "n": 2**70})}, Code.INVALID_ELEMENT),
    ("payload with int keys", {"message": _text(payload={"text": "x", 1: 2})}, Code.INVALID_ELEMENT),
    ("lone surrogate", {"message": _text(payload={"text": "\ud800"})}, Code.INVALID_ELEMENT),
    (
        "nested 300 deep",
        {"message": _text(payload={"text": "x", "deep": _nested(300)})},
        Code.INVALID_ELEMENT,
    ),
    ("self-referencing payload", {"message": _text(payload=_selfref())}, Code.INVALID_ELEMENT),
    (
        "invalid element beats oversize",
        {
            "message": _text(
                elements=[
                    {"type": "TIMTextElem", "payload": {"text": "x" * 20_000}},
                    {"type": "TIMFooElem", "payload": {}},
                ]
            )
        },
        Code.INVALID_ELEMENT,
    ),
    (
        "invalid element beats unknown target",
        {"message": _text(to="nobody", payload={"text": ""})},
        Code.INVALID_ELEMENT,
    ),
    # MSG-2: body over 12288 bytes (80002)
    (
        "text one byte over",
        {"message": _text(payload={"text": "x" * (TEXT_LIMIT + 1)})},
        Code.MESSAGE_TOO_LONG,
    ),
    (
        "utf-8 bytes count",
        {"message": _text(payload={"text": "é" * (TEXT_LIMIT // 2 + 1)})},
        Code.MESSAGE_TOO_LONG,
    ),
    ("cloudCustomData counts", {"message": _text(cloudCustomData="c" * TEXT_LIMIT)}, Code.MESSAGE_TOO_LONG),
    ("custom data", {"message": _elem("TIMCustomElem", data="d" * 13_000)}, Code.MESSAGE_TOO_LONG),
    (
        "oversize beats file size",
        {"message": _elem("TIMFileElem", **{**FILE, "fileName": "n" * 13_000, "fileSize": 200 * MB})},
        Code.MESSAGE_TOO_LONG,
    ),
    # MSG-2: declared size (7005)
    (
        "file over 100 MB",
        {"message": _elem("TIMFileElem", **{**FILE, "fileSize": 100 * MB + 1})},
        Code.FILE_TOO_LARGE,
    ),
    (
        "video over 100 MB",
        {"message": _elem("TIMVideoFileElem", **{**VIDEO, "videoSize": 100 * MB + 1})},
        Code.FILE_TOO_LARGE,
    ),
    (
        "sound over 20 MB",
        {"message": _elem("TIMSoundElem", **{**SOUND, "size": 20 * MB + 1})},
        Code.FILE_TOO_LARGE,
    ),
    (
        "image over 20 MB",
        {
            "message": _elem(
                "TIMImageElem", **{**IMAGE, "imageInfoArray": [{"size": 1}, {"size": 20 * MB + 1}]}
            )
        },
        Code.FILE_TOO_LARGE,
    ),
    (
        "file size beats unknown target",
        {"message": {**_elem("TIMFileElem", **{**FILE, "fileSize": 101 * MB}), "to": "nobody"}},
        Code.FILE_TOO_LARGE,
    ),
    # MSG-3: target
    ("unknown account", {"message": _text(to="nobody")}, Code.ACCOUNT_NOT_FOUND),
    ("invalid account name", {"message": _text(to="x" * 40)}, Code.ACCOUNT_NOT_FOUND),
    ("unknown group", {"message": _text(to="@TGS#nope", conversationType="GROUP")}, Code.GROUP_NOT_FOUND),
    (
        "group the caller is not in",
        {"message": _text(to=BASE.groups["theirs"], conversationType="GROUP")},
        Code.GROUP_PERMISSION_DENIED,
    ),
]


@pytest.mark.parametrize(
    ("opts", "code"), [(o, c) for _, o, c in SEND_CASES], ids=[name for name, _, _ in SEND_CASES]
)
@pytest.mark.parametrize("method", ["sendMessage", "resendMessage"])
def test_send_refusals(method: str, opts: object, code: int) -> None:
    """ORDER-1 shapes -> MSG-2 (6016 -> 80002 -> 7005) -> MSG-3; resending an unsent message is a send."""
    world = fresh_world()
    refused(world, lambda: world.call(BASE.inst["alice"], method, opts), code)


@pytest.mark.parametrize(
    "message",
    [
        _text(payload={"text": "x" * TEXT_LIMIT}),
        _text(payload={"text": "é" * (TEXT_LIMIT // 2)}),
        _elem("TIMFileElem", **{**FILE, "fileSize": 100 * MB}),
        _elem("TIMVideoFileElem", **{**VIDEO, "videoSize": 100 * MB}),
        _elem("TIMSoundElem", **{**SOUND, "size": 20 * MB}),
        _elem("TIMImageElem", **{**IMAGE, "imageInfoArray": [{"size": 20 * MB}]}),
    ],
    ids=[
        "text at the limit",
        "utf-8 at the limit",
        "file 100 MB",
        "video 100 MB",
        "sound 20 MB",
        "image 20 MB",
    ],
)
def test_limits_are_inclusive(message: dict[str, Any]) -> None:
    """The controls for the refusals above: exactly at each limit is accepted."""
    world = fresh_world()
    reply = world.call(BASE.inst["alice"], "sendMessage", {"message": message}).data["message"]
    assert reply["ID"] in world.apps[DEV].messages


def _msg(name: str) -> dict[str, Any]:
    return BASE.msg[name]


OTHER_CASES: list[tuple[str, str, Callable[[], object], int]] = [
    # resendMessage (MSG-6)
    ("resend", "no message", lambda: {}, Code.INVALID_PARAMETERS),
    ("resend", "message not an object", lambda: {"message": 5}, Code.INVALID_PARAMETERS),
    ("resend", "someone else's message", lambda: {"message": _msg("b2a")}, Code.INVALID_PARAMETERS),
    (
        "resend",
        "unknown ID, no to",
        lambda: {"message": {"ID": "nope", "type": "TIMTextElem"}},
        Code.INVALID_PARAMETERS,
    ),
    ("resend", "int ID, no to", lambda: {"message": {"ID": 5}}, Code.INVALID_PARAMETERS),
    # revokeMessage (REV-3)
    ("revoke", "no message", lambda: {}, Code.INVALID_PARAMETERS),
    ("revoke", "no ID", lambda: {"message": {}}, Code.INVALID_PARAMETERS),
    ("revoke", "int ID", lambda: {"message": {"ID": 5}}, Code.INVALID_PARAMETERS),
    ("revoke", "list ID", lambda: {"message": {"ID": ["x"]}}, Code.INVALID_PARAMETERS),
    ("revoke", "message a list", lambda: {"message": [_msg("a2b")]}, Code.INVALID_PARAMETERS),
    ("revoke", "unknown ID", lambda: {"message": {"ID": "nope"}}, Code.C2C_MESSAGE_NOT_FOUND),
    ("revoke", "empty ID", lambda: {"message": {"ID": ""}}, Code.C2C_MESSAGE_NOT_FOUND),
    (
        "revoke",
        "unhashable conversationType",
        lambda: {"message": {"ID": "nope", "conversationType": []}},
        Code.C2C_MESSAGE_NOT_FOUND,
    ),
    (
        "revoke",
        "unknown group message",
        lambda: {"message": {"ID": "nope", "conversationType": "GROUP"}},
        Code.GROUP_MESSAGE_NOT_FOUND,
    ),
    ("revoke", "not a party", lambda: {"message": _msg("b2c")}, Code.C2C_MESSAGE_NOT_FOUND),
    ("revoke", "the peer's message", lambda: {"message": _msg("b2a")}, Code.C2C_MESSAGE_NOT_FOUND),
    ("revoke", "already revoked", lambda: {"message": _msg("revoked")}, Code.C2C_MESSAGE_ALREADY_REVOKED),
    # deleteMessage (MSG-9)
    ("delete", "no list", lambda: {}, Code.INVALID_PARAMETERS),
    ("delete", "empty list", lambda: {"messageList": []}, Code.INVALID_PARAMETERS),
    ("delete", "string list", lambda: {"messageList": "x"}, Code.INVALID_PARAMETERS),
    ("delete", "a message object", lambda: {"messageList": _msg("a2b")}, Code.INVALID_PARAMETERS),
    ("delete", "scalars", lambda: {"messageList": [5]}, Code.INVALID_PARAMETERS),
    ("delete", "int ID", lambda: {"messageList": [{"ID": 5}]}, Code.INVALID_PARAMETERS),
    ("delete", "unknown ID", lambda: {"messageList": [{"ID": "nope"}]}, Code.INVALID_PARAMETERS),
    (
        "delete",
        "one good, one unknown",
        lambda: {"messageList": [_msg("a2b"), {"ID": "nope"}]},
        Code.INVALID_PARAMETERS,
    ),
    (
        "delete",
        "two conversations",
        lambda: {"messageList": [_msg("a2b"), _msg("c2a")]},
        Code.INVALID_PARAMETERS,
    ),
    ("delete", "not a party", lambda: {"messageList": [_msg("b2c")]}, Code.INVALID_PARAMETERS),
    # getMessageList (PAGE-1, CONV-1)
    ("list", "no conversationID", lambda: {}, Code.INVALID_PARAMETERS),
    ("list", "int conversationID", lambda: {"conversationID": 5}, Code.INVALID_PARAMETERS),
    ("list", "empty conversationID", lambda: {"conversationID": ""}, Code.INVALID_PARAMETERS),
    ("list", "list conversationID", lambda: {"conversationID": ["C2Cbob"]}, Code.INVALID_PARAMETERS),
    *[
        (
            "list",
            f"count {c!r}",
            lambda c=c: {"conversationID": "C2Cbob", "count": c},
            Code.INVALID_PARAMETERS,
        )
        for c in (0, -1, "5", 1.5, True, [], {})
    ],
    (
        "list",
        "int cursor",
        lambda: {"conversationID": "C2Cbob", "nextReqMessageID": 1},
        Code.INVALID_PARAMETERS,
    ),
    (
        "list",
        "unknown cursor",
        lambda: {"conversationID": "C2Cbob", "nextReqMessageID": "nope"},
        Code.INVALID_PARAMETERS,
    ),
    (
        "list",
        "cursor of another conversation",
        lambda: {"conversationID": "C2Cbob", "nextReqMessageID": _msg("c2a")["ID"]},
        Code.INVALID_PARAMETERS,
    ),
    ("list", "unknown account", lambda: {"conversationID": "C2Cnobody"}, Code.CONVERSATION_INVALID),
    ("list", "no peer", lambda: {"conversationID": "C2C"}, Code.CONVERSATION_INVALID),
    ("list", "unknown group", lambda: {"conversationID": "GROUP@TGS#nope"}, Code.CONVERSATION_INVALID),
    (
        "list",
        "a group the caller is not in",
        lambda: {"conversationID": "GROUP" + BASE.groups["theirs"]},
        Code.CONVERSATION_INVALID,
    ),
    ("list", "no prefix", lambda: {"conversationID": "bob"}, Code.CONVERSATION_INVALID),
    (
        "list",
        "shapes before the conversation",
        lambda: {"conversationID": "C2Cnobody", "count": 0},
        Code.INVALID_PARAMETERS,
    ),
    # updateMyProfile (PROF-1)
    ("profile", "int nick", lambda: {"nick": 5}, Code.INVALID_PARAMETERS),
    ("profile", "nick over 500 bytes", lambda: {"nick": "n" * 501}, Code.INVALID_PARAMETERS),
    ("profile", "nick over 500 utf-8 bytes", lambda: {"nick": "é" * 251}, Code.INVALID_PARAMETERS),
    ("profile", "list avatar", lambda: {"avatar": ["a"]}, Code.INVALID_PARAMETERS),
    ("profile", "good nick, bad avatar", lambda: {"nick": "A", "avatar": 5}, Code.INVALID_PARAMETERS),
]
OTHER_METHOD = {
    "resend": "resendMessage",
    "revoke": "revokeMessage",
    "delete": "deleteMessage",
    "list": "getMessageList",
    "profile": "updateMyProfile",
}


@pytest.mark.parametrize(
    ("kind", "opts", "code"),
    [(k, o, c) for k, _, o, c in OTHER_CASES],
    ids=[f"{k}: {name}" for k, name, _, _ in OTHER_CASES],
)
def test_other_refusals(kind: str, opts: Callable[[], object], code: int) -> None:
    world = fresh_world()
    refused(world, lambda: world.call(BASE.inst["alice"], OTHER_METHOD[kind], opts()), code)


CONVERSATION_ID_CASES: list[tuple[object, int]] = [
    (None, Code.INVALID_PARAMETERS),
    (5, Code.INVALID_PARAMETERS),
    ("", Code.INVALID_PARAMETERS),
    (["C2Cbob"], Code.INVALID_PARAMETERS),
    ({"id": "C2Cbob"}, Code.INVALID_PARAMETERS),
    ("C2Cnobody", Code.CONVERSATION_INVALID),
    ("C2C", Code.CONVERSATION_INVALID),
    ("GROUP", Code.CONVERSATION_INVALID),
    ("GROUP@TGS#nope", Code.CONVERSATION_INVALID),
    ("GROUP" + BASE.groups["theirs"], Code.CONVERSATION_INVALID),
    ("@TIM#SYSTEMX", Code.CONVERSATION_INVALID),
    ("c2cbob", Code.CONVERSATION_INVALID),
]


@pytest.mark.parametrize(("conversation_id", "code"), CONVERSATION_ID_CASES, ids=repr)
@pytest.mark.parametrize("method", ["setMessageRead", "deleteConversation", "getConversationProfile"])
def test_conversation_id_refusals(method: str, conversation_id: object, code: int) -> None:
    """CONV-1: a bad type is a shape error (6017); a well-typed unknown conversation is 6004."""
    world = fresh_world()
    opts = {} if conversation_id is None else {"conversationID": conversation_id}
    refused(world, lambda: world.call(BASE.inst["alice"], method, opts), code)


def test_revoke_after_the_window_changes_nothing() -> None:
    world = fresh_world()
    world.clock.advance(121)  # type: ignore[attr-defined]
    refused(
        world,
        lambda: world.call(BASE.inst["alice"], "revokeMessage", {"message": _msg("a2b")}),
        Code.C2C_REVOKE_TIME_LIMIT,
    )


# --- World.call itself ---------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("instance", "method", "code"),
    [
        ("alice", "noSuchMethod", Code.UNKNOWN_METHOD),
        ("alice", "", Code.UNKNOWN_METHOD),
        ("alice", None, Code.UNKNOWN_METHOD),
        ("alice", 5, Code.UNKNOWN_METHOD),
        ("alice", "SendMessage", Code.UNKNOWN_METHOD),
        ("alice", "send_message", Code.UNKNOWN_METHOD),
        ("alice", "__init__", Code.UNKNOWN_METHOD),
        ("alice", "call", Code.UNKNOWN_METHOD),
        (9999, "noSuchMethod", Code.UNKNOWN_METHOD),  # DESIGN: the method before the token
        (9999, "getMyProfile", Code.NOT_LOGGED_IN),
        (None, "getMyProfile", Code.NOT_LOGGED_IN),
        ("1", "getMyProfile", Code.NOT_LOGGED_IN),
        ([], "getMyProfile", Code.NOT_LOGGED_IN),
        ({}, "getMyProfile", Code.NOT_LOGGED_IN),
        (True, "getMyProfile", Code.NOT_LOGGED_IN),  # not instance 1
        (1.0, "getMyProfile", Code.NOT_LOGGED_IN),
    ],
    ids=repr,
)
def test_call_entry(instance: object, method: object, code: int) -> None:
    world = fresh_world()
    inst = BASE.inst[instance] if isinstance(instance, str) and instance in BASE.inst else instance
    refused(world, lambda: world.call(inst, method, {}), code)  # type: ignore[arg-type]


def test_call_with_an_unhashable_method_name_is_60009() -> None:
    world = fresh_world()
    refused(world, lambda: world.call(BASE.inst["alice"], [], {}), Code.UNKNOWN_METHOD)  # type: ignore[arg-type]


# --- admin and harness entries -------------------------------------------------------------------------
ADMIN_CASES: list[tuple[str, Callable[[World], object], int]] = [
    # create_instance (INST-1, INST-4)
    *[
        (
            f"create_instance sdkappid {v!r}",
            lambda w, v=v: w.create_instance(v, "web"),
            Code.INVALID_PARAMETERS,
        )
        for v in ("1400000000", None, 0, -5, True, 1.5, [], {})
    ],
    *[
        (f"create_instance platform {v!r}", lambda w, v=v: w.create_instance(DEV, v), Code.INVALID_PARAMETERS)
        for v in ("windows", "WEB", "", 5, [], {"web": 1}, ("web",))
    ],
    # configure_app
    *[
        (f"configure_app sdkappid {v!r}", lambda w, v=v: w.configure_app(v, "k"), Code.INVALID_PARAMETERS)
        for v in ("x", [], None, 0, -1, True, 1.5)
    ],
    ("configure_app new app without key", lambda w: w.configure_app(NEW_APP), Code.INVALID_PARAMETERS),
    ("configure_app new app empty key", lambda w: w.configure_app(NEW_APP, ""), Code.INVALID_PARAMETERS),
    ("configure_app int key", lambda w: w.configure_app(NEW_APP, 5), Code.INVALID_PARAMETERS),  # type: ignore[arg-type]
    (
        "configure_app new app, unknown setting",
        lambda w: w.configure_app(NEW_APP, "k", bogus=1),
        Code.INVALID_PARAMETERS,
    ),
    (
        "configure_app new app, bad setting",
        lambda w: w.configure_app(NEW_APP, "k", web_instances="2"),
        Code.INVALID_PARAMETERS,
    ),
    (
        "configure_app new key with an unknown setting",
        lambda w: w.configure_app(DEV, "new-key", bogus=1),
        Code.INVALID_PARAMETERS,
    ),
    (
        "configure_app disable with a bad setting",
        lambda w: w.configure_app(DEV, disabled=True, web_instances="x"),
        Code.INVALID_PARAMETERS,
    ),
    *[
        (
            f"configure_app disabled={v!r}",
            lambda w, v=v: w.configure_app(DEV, disabled=v),
            Code.INVALID_PARAMETERS,
        )
        for v in ("no", 1, 0, [], "false")
    ],
    (
        "configure_app clock without now()",
        lambda w: w.configure_app(DEV, clock=object()),  # type: ignore[arg-type]
        Code.INVALID_PARAMETERS,
    ),
    *[
        (
            f"configure_app {k}={v!r}",
            lambda w, k=k, v=v: w.configure_app(DEV, **{k: v}),
            Code.INVALID_PARAMETERS,
        )
        for k, v in [
            ("web_instances", "2"),
            ("web_instances", -1),
            ("web_instances", True),
            ("web_instances", 1.0),
            ("web_instances", None),
            ("revoke_window_seconds", [120]),
            ("message_max_bytes", "12288"),
            ("retention_seconds", -1),
            ("chatroom_member_tips", 1),
            ("chatroom_member_tips", "yes"),
            ("max_member_num", [1]),
            ("max_member_num", {"Nope": 5}),
            ("max_member_num", {"Private": 0}),
            ("max_member_num", {"Private": "5"}),
            ("max_member_num", {"Private": True}),
            ("history_before_join", {"Private": 1}),
            ("history_before_join", {"Secret": True}),
            ("history_before_join", True),
            ("updated", 1),
            ("__class__", 1),
        ]
    ],
    # import_account (AUTH-3, AUTH-5)
    ("import_account unhashable app", lambda w: w.import_account([], "zed"), Code.INVALID_PARAMETERS),  # type: ignore[arg-type]
    ("import_account string app", lambda w: w.import_account("1400000000", "zed"), Code.INVALID_PARAMETERS),  # type: ignore[arg-type]
    ("import_account unknown app", lambda w: w.import_account(NEW_APP, "zed"), Code.SDKAPPID_NOT_FOUND),
    (
        "import_account unknown app before userID",
        lambda w: w.import_account(NEW_APP, ""),
        Code.SDKAPPID_NOT_FOUND,
    ),
    *[
        (f"import_account userID {v!r}", lambda w, v=v: w.import_account(DEV, v), Code.INVALID_USER_ID)
        for v in ("", None, 5, ["a"], "a" * 33, "tab\there", "ünï", "\x7f")
    ],
    ("import_account int nick", lambda w: w.import_account(DEV, "zed", nick=5), Code.INVALID_PARAMETERS),  # type: ignore[arg-type]
    (
        "import_account list avatar",
        lambda w: w.import_account(DEV, "zed", avatar=[]),
        Code.INVALID_PARAMETERS,
    ),  # type: ignore[arg-type]
    (
        "import_account long nick",
        lambda w: w.import_account(DEV, "alice", nick="n" * 501),
        Code.INVALID_PARAMETERS,
    ),
    # admin_kick (INST-6)
    ("admin_kick unhashable app", lambda w: w.admin_kick([], "alice"), Code.INVALID_PARAMETERS),  # type: ignore[arg-type]
    ("admin_kick unknown app", lambda w: w.admin_kick(NEW_APP, "alice"), Code.SDKAPPID_NOT_FOUND),
    ("admin_kick unknown app before userID", lambda w: w.admin_kick(NEW_APP, []), Code.SDKAPPID_NOT_FOUND),  # type: ignore[arg-type]
    *[
        (f"admin_kick userID {v!r}", lambda w, v=v: w.admin_kick(DEV, v), Code.INVALID_USER_ID)
        for v in ([], None, "", 5, {"alice": 1}, "a" * 33)
    ],
    ("admin_kick unknown account", lambda w: w.admin_kick(DEV, "nobody"), Code.ACCOUNT_NOT_FOUND),
    # admin_recall (REV-4)
    ("admin_recall unhashable app", lambda w: w.admin_recall([], "x"), Code.INVALID_PARAMETERS),  # type: ignore[arg-type]
    (
        "admin_recall unknown app",
        lambda w: w.admin_recall(NEW_APP, _msg("a2b")["ID"]),
        Code.SDKAPPID_NOT_FOUND,
    ),
    *[
        (f"admin_recall ID {v!r}", lambda w, v=v: w.admin_recall(DEV, v), Code.INVALID_PARAMETERS)
        for v in ([], None, 5, {"ID": "x"}, _msg("a2b"))
    ],
    ("admin_recall unknown ID", lambda w: w.admin_recall(DEV, "nope"), Code.C2C_MESSAGE_NOT_FOUND),
    ("admin_recall empty ID", lambda w: w.admin_recall(DEV, ""), Code.C2C_MESSAGE_NOT_FOUND),
    (
        "admin_recall revoked",
        lambda w: w.admin_recall(DEV, _msg("revoked")["ID"]),
        Code.C2C_MESSAGE_ALREADY_REVOKED,
    ),
    (
        "admin_recall another app's message",
        lambda w: w.admin_recall(OFF_APP, _msg("a2b")["ID"]),
        Code.C2C_MESSAGE_NOT_FOUND,
    ),
    # set_network (NET-1)
    *[
        (f"set_network instance {v!r}", lambda w, v=v: w.set_network(v, False), Code.NOT_LOGGED_IN)
        for v in ([], {}, None, "1", True, 1.0, 9999)
    ],
    ("set_network unknown instance before flag", lambda w: w.set_network(9999, "yes"), Code.NOT_LOGGED_IN),  # type: ignore[arg-type]
    *[
        (
            f"set_network connected {v!r}",
            lambda w, v=v: w.set_network(BASE.inst["carol"], v),
            Code.INVALID_PARAMETERS,
        )
        for v in ("yes", 1, 0, None, [], "")
    ],
]


@pytest.mark.parametrize(
    ("run", "code"), [(r, c) for _, r, c in ADMIN_CASES], ids=[n for n, _, _ in ADMIN_CASES]
)
def test_admin_and_harness_entries(run: Callable[[World], object], code: int) -> None:
    world = fresh_world()
    refused(world, lambda: run(world), code)


def test_configure_app_partial_tables_keep_the_other_types() -> None:
    """The control for the config refusals: a good partial table merges, other settings stay."""
    world = fresh_world()
    before = world.apps[DEV].config.max_member_num
    app = world.configure_app(DEV, max_member_num={"Private": 3}, web_instances=2)
    assert app.config.max_member_num == {**before, "Private": 3} and app.config.web_instances == 2


# --- Hypothesis: JSON-like garbage everywhere ----------------------------------------------------------------
KEYS = [
    "message",
    "messageList",
    "conversationID",
    "count",
    "nextReqMessageID",
    "userID",
    "userSig",
    "nick",
    "avatar",
    "groupID",
    "name",
    "type",
    "memberList",
    "userIDList",
    "role",
    "muteTime",
    "nameCard",
    "memberCustomField",
    "handleAction",
    "handleMessage",
    "messageRemindType",
    "offset",
    "applyMessage",
    "introduction",
    "notification",
    "joinOption",
    "maxMemberNum",
    "groupCustomField",
    "newOwnerID",
    "reason",
    "to",
    "conversationType",
    "payload",
    "priority",
    "random",
    "clientTime",
    "cloudCustomData",
    "elements",
    "ID",
    "text",
    "data",
    "fileSize",
    "fileName",
    "fileUrl",
    "imageInfoArray",
    "size",
]
WORDS = [
    "bob",
    "alice",
    "carol",
    "nobody",
    "",
    "C2Cbob",
    "C2Calice",
    "C2Cnobody",
    "GROUP",
    "@TIM#SYSTEM",
    "TIMTextElem",
    "TIMCustomElem",
    "TIMFileElem",
    "TIMImageElem",
    "TIMFooElem",
    "C2C",
    "GROUP",
    "High",
    "Lowest",
    "Agree",
    "Reject",
    "Admin",
    "Owner",
    "Member",
    "Discard",
    "AVChatRoom",
    "Private",
    "Public",
    "ChatRoom",
    "\ud800",
    "é" * 3,
    *BASE.groups.values(),
    *(f"GROUP{g}" for g in BASE.groups.values()),
    *(m["ID"] for m in BASE.msg.values()),
]
SCALARS = (
    st.none()
    | st.booleans()
    | st.integers()
    | st.integers(min_value=-2, max_value=2**32 + 1)
    | st.floats()
    | st.text(max_size=12)
    | st.sampled_from(WORDS)
)
JSON_LIKE = st.recursive(
    SCALARS,
    lambda kids: (
        st.lists(kids, max_size=4)
        | st.dictionaries(st.sampled_from(KEYS) | st.text(max_size=6), kids, max_size=5)
    ),
    max_leaves=16,
)
MESSAGE_LIKE = (
    st.fixed_dictionaries(
        {},
        optional={
            "to": st.sampled_from(WORDS) | JSON_LIKE,
            "conversationType": st.sampled_from(["C2C", "GROUP"]) | JSON_LIKE,
            "type": st.sampled_from(
                [
                    "TIMTextElem",
                    "TIMCustomElem",
                    "TIMFileElem",
                    "TIMImageElem",
                    "TIMFaceElem",
                    "TIMLocationElem",
                    "TIMSoundElem",
                    "TIMVideoFileElem",
                ]
            )
            | JSON_LIKE,
            "payload": JSON_LIKE,
            "priority": st.sampled_from(["High", "Normal", "Low", "Lowest"]) | JSON_LIKE,
            "random": JSON_LIKE,
            "clientTime": JSON_LIKE,
            "cloudCustomData": JSON_LIKE,
            "elements": JSON_LIKE,
            "ID": st.sampled_from(WORDS) | JSON_LIKE,
        },
    )
    | JSON_LIKE
)
OPTIONS_LIKE = st.dictionaries(st.sampled_from(KEYS), JSON_LIKE | MESSAGE_LIKE, max_size=5) | JSON_LIKE

#: Codes a garbage body may get from an online caller, per C2C method (anything else is a bug).
C2C_CODES: dict[str, set[int]] = {
    "sendMessage": {6017, 6016, 80002, 7005, 20003, 10010, 10007},
    "resendMessage": {6017, 6016, 80002, 7005, 20003, 10010, 10007},
    "revokeMessage": {6017, 20022, 20023, 20016, 10030, 10031, 10032, 10033, 10007},
    "deleteMessage": {6017, 10034, 10035},
    "getMessageList": {6017, 6004},
    "setMessageRead": {6017, 6004},
    "deleteConversation": {6017, 6004},
    "getConversationProfile": {6017, 6004},
    "getConversationList": {6017},
    "getMyProfile": {6017},
    "updateMyProfile": {6017},
    "login": {6017},
    "logout": {6017},
    "destroy": {6017},
}
ALL_CODES = {int(c) for c in Code}


def _check_garbage_call(world: World, role: str, method: str, opts: object) -> None:
    before = Snapshot(world)
    try:
        outcome = world.call(BASE.inst[role], method, opts)
    except IMError as exc:
        code = exc.code
        assert before.unchanged(), f"refused {method} ({code}) changed the world"
        if role == "alice":
            assert code in C2C_CODES.get(method, ALL_CODES), f"{method}: unexpected {exc}"
        elif role == "destroyed":
            assert code == Code.SDK_NOT_INITIALIZED, f"{role} {method}: {exc}"
        elif method in SESSION_METHODS:  # AUTH-2/AUTH-3 for a login body, 6017 for a non-object
            allowed = {6017, 70001, 70002, 70003, 70009, 70013, 70014, 70402}
            if role == "disabled":
                allowed.add(Code.APP_DISABLED)  # AUTH-4: logout is a server call
            assert code in allowed, f"{role} {method}: {exc}"
        else:
            assert code == state_code(role, method), f"{role} {method}: {exc}"
        return
    except Exception as exc:  # ORDER-1: never anything but IMError
        raise AssertionError(f"{role} {method}({opts!r}) raised {type(exc).__name__}: {exc}") from exc
    assert isinstance(outcome, Outcome) and isinstance(outcome.data, dict)
    assert role in ("alice", "disabled") or method in ("logout", "destroy"), f"{role} {method} succeeded"
    if method in READ_ONLY or method == "login":
        assert outcome.events == [] and before.unchanged(), f"{method} changed the world"


ROLES = ["alice", "alice", "alice", "fresh", "logged_out", "kicked", "expired", "destroyed", "disabled"]


@settings(max_examples=150)
@given(method=st.sampled_from(sorted(C2C_METHODS)), role=st.sampled_from(ROLES), opts=OPTIONS_LIKE)
def test_garbage_options_for_c2c_methods(method: str, role: str, opts: object) -> None:
    _check_garbage_call(fresh_world(), role, method, opts)


@settings(max_examples=150)
@given(method=st.sampled_from(GROUP_METHODS), role=st.sampled_from(ROLES), opts=OPTIONS_LIKE)
def test_garbage_options_for_group_methods(method: str, role: str, opts: object) -> None:
    _check_garbage_call(fresh_world(), role, method, opts)


@settings(max_examples=150)
@given(
    method=st.sampled_from(["sendMessage", "resendMessage", "revokeMessage", "deleteMessage"]),
    message=MESSAGE_LIKE,
    wrap=st.booleans(),
)
def test_garbage_message_objects(method: str, message: object, wrap: bool) -> None:
    """The Message object: JSON-like values in every field (and non-objects), for every API taking one."""
    if method == "deleteMessage":
        opts: object = {"messageList": [message] if wrap else message}
    else:
        opts = {"message": message}
    _check_garbage_call(fresh_world(), "alice", method, opts)


@settings(max_examples=60)
@given(
    sdkappid=JSON_LIKE,
    text=JSON_LIKE,
    flag=JSON_LIKE,
    config=st.dictionaries(
        st.sampled_from(
            [
                "web_instances",
                "revoke_window_seconds",
                "retention_seconds",
                "chatroom_member_tips",
                "max_member_num",
                "history_before_join",
                "message_max_bytes",
                "bogus",
            ]
        ),
        JSON_LIKE,
        max_size=2,
    ),
)
def test_garbage_admin_arguments(
    sdkappid: object, text: object, flag: object, config: dict[str, Any]
) -> None:
    """Admin and harness entries: garbage is an IMError; a refusal changes nothing."""
    world = fresh_world()
    runs: list[Callable[[], object]] = [
        lambda: world.create_instance(sdkappid, text),
        lambda: world.configure_app(sdkappid, text, disabled=flag, **config),  # type: ignore[arg-type]
        lambda: world.configure_app(DEV, **config),
        lambda: world.import_account(sdkappid, text, nick=flag),  # type: ignore[arg-type]
        lambda: world.import_account(DEV, text, nick=flag, avatar=sdkappid),  # type: ignore[arg-type]
        lambda: world.admin_kick(sdkappid, text),  # type: ignore[arg-type]
        lambda: world.admin_kick(DEV, text),  # type: ignore[arg-type]
        lambda: world.admin_recall(sdkappid, text),  # type: ignore[arg-type]
        lambda: world.admin_recall(DEV, text),  # type: ignore[arg-type]
        lambda: world.set_network(sdkappid, flag),  # type: ignore[arg-type]
        lambda: world.set_network(BASE.inst["carol"], flag),  # type: ignore[arg-type]
    ]
    for run in runs:
        before = Snapshot(world)
        try:
            run()
        except IMError as exc:
            assert exc.code in ALL_CODES, exc
            assert before.unchanged(), f"refused ({exc}) changed the world"
        except Exception as exc:
            raise AssertionError(f"raised {type(exc).__name__}: {exc}") from exc
