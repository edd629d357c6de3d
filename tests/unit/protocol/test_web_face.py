"""The Web SDK face in process: codec, dispatch, sessions and pushes over one model world."""

from __future__ import annotations

import zlib
from typing import Any

import orjson
import pytest

from simtim.clock import FakeClock
from simtim.ids import IdSource
from simtim.model import World
from simtim.model.core import DEV_SDKAPPID, DEV_SECRET_KEY
from simtim.model.events import Event
from simtim.protocol.web import WebFace, codec
from simtim.usersig import gen_usersig

NOW = 1_700_000_000


class Outlet:
    def __init__(self) -> None:
        self.frames: list[dict[str, Any]] = []

    def push(self, frame: bytes) -> None:
        self.frames.append(orjson.loads(frame))

    def close(self, code: int) -> None:
        raise AssertionError("the face never closes a socket itself")


class Harness:
    def __init__(self) -> None:
        self.world = World(FakeClock(NOW), IdSource(0))
        self.face = WebFace(self.world, self.sink)
        self.seq = 0

    def sink(self, events: list[Event]) -> None:
        self.face.take(events)

    def request(self, outlet: Outlet, servcmd: str, body: Any, **head: Any) -> dict[str, Any]:
        self.seq += 1
        raw = orjson.dumps({"head": {"servcmd": servcmd, "seq": self.seq, **head}, "body": body})
        self.face.handle(outlet, raw, binary=True, expect_binary=True)
        reply = next(f for f in outlet.frames if f["head"].get("seq") == self.seq)
        return reply["body"]

    def login(self, outlet: Outlet, user_id: str) -> dict[str, str]:
        sig = gen_usersig(DEV_SDKAPPID, DEV_SECRET_KEY, user_id, 86400, now=NOW)
        body = self.request(
            outlet, "im_open_status.wslogin", {}, sdkappid=DEV_SDKAPPID, identifier=user_id, usersig=sig
        )
        assert body["ErrorCode"] == 0, body
        return {"a2": body["A2Key"], "tinyid": body["TinyId"]}


def test_the_checksum_is_crc32_of_the_compact_body_json() -> None:
    body = {"From_Account": "alice", "MsgBody": [{"MsgType": "TIMTextElem", "MsgContent": {"Text": "héllo"}}]}
    compact = '{"From_Account":"alice","MsgBody":[{"MsgType":"TIMTextElem","MsgContent":{"Text":"héllo"}}]}'
    assert codec.checksum(body) == zlib.crc32(compact.encode())
    head = codec.reply_head({"servcmd": "openim.sendmsg", "seq": 3, "cs": 1}, body)
    assert head["cs"] == codec.checksum(body) and head["seq"] == 3
    assert codec.reply_head({"servcmd": "im_open_status.wslogin", "seq": 1, "cs": 5}, body)["cs"] == 0
    assert "cs" not in codec.reply_head({"servcmd": "openim.sendmsg", "seq": 1}, body)  # 2.x sends none


@pytest.mark.parametrize(
    ("raw", "binary", "expect_binary"),
    [(b"{", True, True), (b'{"head": {}}', True, True), (b'{"head": {"servcmd": "a.b"}}', True, False)],
)
def test_an_unreadable_frame_is_a_frame_error(raw: bytes, binary: bool, expect_binary: bool) -> None:
    with pytest.raises(codec.FrameError) as error:
        codec.decode(raw, binary=binary, expect_binary=expect_binary)
    assert error.value.code == 60003


def test_a_login_issues_a_string_tinyid_stable_per_account() -> None:
    h = Harness()
    first = h.login(Outlet(), "alice")
    again = h.login(Outlet(), "alice")
    bob = h.login(Outlet(), "bob")
    assert isinstance(first["tinyid"], str) and first["tinyid"] == again["tinyid"] != bob["tinyid"]
    assert first["a2"] != again["a2"]


def test_a_refused_login_passes_the_models_code_and_leaves_no_instance() -> None:
    h = Harness()
    outlet = Outlet()
    body = h.request(
        outlet, "im_open_status.wslogin", {}, sdkappid=DEV_SDKAPPID, identifier="x", usersig="bad"
    )
    assert body["ErrorCode"] == 70003 and body["ActionStatus"] == "FAIL"
    assert h.world.instances == {}


def test_a_send_is_replied_then_pushed_to_the_peer_in_the_shared_vocabulary() -> None:
    h = Harness()
    a, b = Outlet(), Outlet()
    alice = h.login(a, "alice")
    h.login(b, "bob")
    message = {"MsgBody": [{"MsgType": "TIMTextElem", "MsgContent": {"Text": "hi"}}]}
    body = h.request(
        a, "openim.sendmsg", {"To_Account": "bob", "MsgRandom": 5, "MsgSeq": 77, **message}, **alice
    )
    assert body["ErrorCode"] == 0 and body["MsgSeq"] == 77 and body["MsgKey"] == f"77_5_{NOW}"
    (push,) = [f for f in b.frames if f["head"]["servcmd"] == codec.PUSH_MESSAGE]
    (entry,) = push["body"]["EventArray"]
    (item,) = entry["C2cMsgArray"]
    assert (item["From_Account"], item["To_Account"], item["MsgBody"]) == ("alice", "bob", message["MsgBody"])
    assert item["TinyId"] == alice["tinyid"] and item["MsgRandom"] == 5
    assert not [f for f in a.frames if f["head"]["servcmd"] == codec.PUSH_MESSAGE]  # not to the sender


RUDE = [{"MsgType": "TIMTextElem", "MsgContent": {"Text": "rude"}}]
#: kind -> (command, send body without its random, the EventArray key of its pushes, the random's name)
SENDS = {
    "C2C": ("openim.sendmsg", {"To_Account": "bob", "MsgBody": RUDE}, "C2cMsgArray", "MsgRandom"),
    "GROUP": (
        "group_open_http_svc.send_group_msg",
        {"GroupId": "g1", "MsgBody": RUDE},
        "GroupMsgArray",
        "Random",
    ),
}
REPLACE = {"ErrorCode": 0, "MsgBody": [{"MsgType": "TIMTextElem", "MsgContent": {"text": "***"}}]}


def two_in_a_group() -> tuple[Harness, Outlet, Outlet, dict[str, str]]:
    """alice (socket ``a``) owns Public group g1, which bob (socket ``b``) joined."""
    h = Harness()
    a, b = Outlet(), Outlet()
    alice, bob = h.login(a, "alice"), h.login(b, "bob")
    h.request(
        a, "group_open_http_svc.create_group", {"Type": "Public", "Name": "g", "GroupId": "g1"}, **alice
    )
    h.request(b, "group_open_http_svc.apply_join_group", {"GroupId": "g1"}, **bob)
    return h, a, b, alice


def pushed_items(outlet: Outlet, key: str) -> list[dict[str, Any]]:
    return [i for f in outlet.frames for e in f["body"].get("EventArray", []) for i in e.get(key, [])]


@pytest.mark.parametrize("kind", ["C2C", "GROUP"])
def test_msg_8_a_replaced_body_goes_to_the_sender_flagged_modified_after_the_reply(kind: str) -> None:
    h, a, b, alice = two_in_a_group()
    servcmd, body, key, random = SENDS[kind]
    for number, verdict in enumerate(({"ErrorCode": 0}, REPLACE)):  # the backend keeps it, then replaces it
        a.frames.clear()
        b.frames.clear()
        h.seq += 1
        head = {"servcmd": servcmd, "seq": h.seq, **alice}
        raw = orjson.dumps({"head": head, "body": {**body, random: 10 + number}})
        h.face.handle(a, raw, binary=True, expect_binary=True, verdict=verdict)
        assert a.frames[0]["head"]["seq"] == h.seq and a.frames[0]["body"]["ErrorCode"] == 0  # reply first
        own = pushed_items(a, key)
        if verdict is not REPLACE:
            assert own == []  # nothing replaced: the sender hears nothing more (MSG-5)
            continue
        (item,) = own
        assert item["MsgModifiedFlag"] == 1 and item["From_Account"] == "alice"
        assert item["MsgBody"] == [{"MsgType": "TIMTextElem", "MsgContent": {"Text": "***"}}]
        (received,) = pushed_items(b, key)
        assert received["MsgBody"] == item["MsgBody"] and "MsgModifiedFlag" not in received


def test_rest_8_a_custom_system_notification_reaches_web_sockets_though_never_stored() -> None:
    h, _, b, _ = two_in_a_group()
    b.frames.clear()
    outcome = h.world.group_admin.system_notification(
        DEV_SDKAPPID, "g1", ["bob"], "hello all", "administrator"
    )
    h.sink(outcome.events)
    (frame,) = [f for f in b.frames if f["head"]["servcmd"] == codec.PUSH_MESSAGE]
    (entry,) = frame["body"]["EventArray"]
    (notice,) = entry["GroupTips"]
    assert entry["Event"] == 5 and notice["GroupInfo"]["GroupId"] == "g1"
    assert (notice["MsgBody"]["OpType"], notice["MsgBody"]["RemarkInfo"]) == (255, "hello all")


def test_rest_3_prof_1_a_profile_change_is_pushed_as_profile_data_mod() -> None:
    h = Harness()
    a = Outlet()
    h.login(a, "alice")
    a.frames.clear()
    outcome = h.world.account_admin.set_portrait(DEV_SDKAPPID, "alice", [("Tag_Profile_IM_Nick", "Al")])
    h.sink(outcome.events)
    ((change,),) = [e["ProfileDataMod"] for f in a.frames for e in f["body"].get("EventArray", [])]
    assert change["Profile_Account"] == "alice"
    assert {"Tag": "Tag_Profile_IM_Nick", "ValueBytes": "Al"} in change["ProfileList"]


def test_a_second_login_pushes_the_kick_and_ends_the_old_a2() -> None:
    h = Harness()
    old, new = Outlet(), Outlet()
    first = h.login(old, "alice")
    h.login(new, "alice")
    (kick,) = [f for f in old.frames if f["head"]["servcmd"] == codec.PUSH_FORCE_OFFLINE]
    notify = kick["body"]["EventArray"][0]["C2cNotifyMsgArray"][0]["KickoutMsgNotify"]
    assert notify["KickType"] == 1  # INST-3: multipleAccount
    assert h.request(old, "heartbeat.alive", {}, **first)["ErrorCode"] == 0  # the push told it already
    assert h.request(old, "openim.getmsg", {}, **first)["ErrorCode"] == 6208
    assert h.request(old, "im_open_status.wslogout", {}, **first)["ErrorCode"] == 0


def test_unknown_commands_are_answered_ok_and_counted() -> None:
    h = Harness()
    outlet = Outlet()
    head = h.login(outlet, "alice")
    for _ in range(2):
        assert h.request(outlet, "sns.not_modelled", {"K": 1}, **head)["ErrorCode"] == 0
    assert h.face.stats()["unknownCommands"] == {"sns.not_modelled": 2}


def test_inst_5_an_expired_session_hears_70001_once_then_keep_alives_resolve() -> None:
    h = Harness()
    outlet = Outlet()
    sig = gen_usersig(DEV_SDKAPPID, DEV_SECRET_KEY, "alice", 100, now=NOW)
    body = h.request(
        outlet, "im_open_status.wslogin", {}, sdkappid=DEV_SDKAPPID, identifier="alice", usersig=sig
    )
    head = {"a2": body["A2Key"], "tinyid": body["TinyId"]}
    assert h.request(outlet, "im_open_status.wshello", {}, **head)["ErrorCode"] == 0
    clock = h.world.apps[DEV_SDKAPPID].clock
    assert isinstance(clock, FakeClock)
    clock.advance(200)
    h.sink(h.world.sweep())  # INST-5: the server's tick
    assert h.request(outlet, "heartbeat.alive", {}, **head)["ErrorCode"] == 70001
    assert h.request(outlet, "heartbeat.alive", {}, **head)["ErrorCode"] == 0  # told once: no spin
    assert h.request(outlet, "openim.getmsg", {}, **head)["ErrorCode"] == 6208


def test_a_closed_socket_keeps_the_session_and_a_new_socket_gets_the_missed_pushes() -> None:
    h = Harness()
    a, b = Outlet(), Outlet()
    alice = h.login(a, "alice")
    bob = h.login(b, "bob")
    h.face.disconnected(b)  # NET-1: the instance stays logged in, disconnected
    message = {"MsgBody": [{"MsgType": "TIMTextElem", "MsgContent": {"Text": "while away"}}]}
    assert (
        h.request(a, "openim.sendmsg", {"To_Account": "bob", "MsgRandom": 1, **message}, **alice)["ErrorCode"]
        == 0
    )
    assert not [f for f in b.frames if f["head"]["servcmd"] == codec.PUSH_MESSAGE]
    again = Outlet()
    assert h.request(again, "heartbeat.alive", {}, **bob)["ErrorCode"] == 0  # the a2 takes the new socket
    h.request(again, "openim.getmsg", {}, **bob)
    pushed = [f for f in again.frames if f["head"]["servcmd"] == codec.PUSH_MESSAGE]
    assert [e["C2cMsgArray"][0]["MsgBody"] for p in pushed for e in p["body"]["EventArray"]] == [
        message["MsgBody"]
    ]


def test_c2c_items_carry_the_senders_nick_avatar_and_priority_as_the_model_stored_them() -> None:
    h = Harness()
    a, b = Outlet(), Outlet()
    alice = h.login(a, "alice")
    h.login(b, "bob")
    profile = [
        {"Tag": "Tag_Profile_IM_Nick", "Value": "Alice"},
        {"Tag": "Tag_Profile_IM_Image", "Value": "a.png"},
    ]
    assert h.request(a, "profile.portrait_set", {"ProfileItem": profile}, **alice)["ErrorCode"] == 0
    message = {"MsgBody": [{"MsgType": "TIMTextElem", "MsgContent": {"Text": "hi"}}], "MsgPriority": "High"}
    assert h.request(a, "openim.sendmsg", {"To_Account": "bob", **message}, **alice)["ErrorCode"] == 0
    (push,) = [f for f in b.frames if f["head"]["servcmd"] == codec.PUSH_MESSAGE]
    (item,) = push["body"]["EventArray"][0]["C2cMsgArray"]
    assert (item["From_AccountNick"], item["From_AccountHeadurl"], item["MsgPriority"]) == (
        "Alice",
        "a.png",
        1,
    )


def test_a_system_notice_carries_the_whole_group_profile_in_group_info() -> None:
    h = Harness()
    a, b = Outlet(), Outlet()
    alice = h.login(a, "alice")
    h.login(b, "bob")
    created = h.request(
        a,
        "group_open_http_svc.create_group",
        {"Type": "Public", "Name": "club", "GroupId": "club", "MemberList": [{"Member_Account": "bob"}]},
        **alice,
    )
    assert created["ErrorCode"] == 0, created
    b.frames.clear()
    body = {"GroupId": "club", "MemberToDel_Account": ["bob"]}
    assert h.request(a, "group_open_http_svc.delete_group_member", body, **alice)["ErrorCode"] == 0
    notices = [
        e
        for f in b.frames
        if f["head"]["servcmd"] == codec.PUSH_MESSAGE
        for e in f["body"]["EventArray"]
        if e["Event"] == 5
    ]
    (notice,) = notices[0]["GroupTips"]
    info = notice["GroupInfo"]
    assert (info["GroupId"], info["Name"], info["Type"], info["Owner_Account"]) == (
        "club",
        "club",
        "Public",
        "alice",
    )
    assert info["ShutUpAllMember"] == "Off" and info["MemberNum"] >= 1 and "CreateTime" in info


@pytest.mark.parametrize(
    ("number", "platform"), [(7, "web"), (8, "miniprogram"), (3, "ios"), ("2", "android")]
)
def test_login_takes_the_platform_from_the_head(number: Any, platform: str) -> None:
    h = Harness()
    sig = gen_usersig(DEV_SDKAPPID, DEV_SECRET_KEY, "alice", 86400, now=NOW)
    body = h.request(
        Outlet(),
        "im_open_status.wslogin",
        {},
        sdkappid=DEV_SDKAPPID,
        identifier="alice",
        usersig=sig,
        platform=number,
    )
    assert body["ErrorCode"] == 0, body
    (session,) = h.face.by_a2.values()
    assert h.world.instances[session.instance_id].platform == platform


def test_a_platform_number_the_model_does_not_know_is_refused_and_leaves_no_instance() -> None:
    h = Harness()
    sig = gen_usersig(DEV_SDKAPPID, DEV_SECRET_KEY, "alice", 86400, now=NOW)
    body = h.request(
        Outlet(),
        "im_open_status.wslogin",
        {},
        sdkappid=DEV_SDKAPPID,
        identifier="alice",
        usersig=sig,
        platform=15,
    )
    assert body["ErrorCode"] == 6017 and not h.face.by_a2 and not h.world.instances


def test_a_disabled_app_answers_60016_before_the_body_shape() -> None:
    h = Harness()
    a = Outlet()
    alice = h.login(a, "alice")
    h.world.configure_app(DEV_SDKAPPID, disabled=True)
    assert h.request(a, "openim.sendmsg", {"To_Account": 5}, **alice)["ErrorCode"] == 60016
    assert h.request(a, "profile.portrait_get_all", {"To_Account": ["alice"]}, **alice)["ErrorCode"] == 60016


def test_rest_4_a_rest_sent_message_reaches_the_senders_own_web_session() -> None:
    """SyncOtherMachine 1 (the default): a backend's send as alice reaches alice's online instances
    too, and the SDK files it under the peer's conversation (From_Account is itself)."""
    h = Harness()
    a, b = Outlet(), Outlet()
    h.login(a, "alice")
    h.login(b, "bob")
    a.frames.clear()
    element = ("TIMTextElem", {"text": "from the backend"})
    outcome = h.world.c2c_admin.send(DEV_SDKAPPID, "alice", "bob", [element], is_admin=False, random=7)
    h.sink(outcome.events)
    for outlet in (a, b):
        pushes = [f for f in outlet.frames if f["head"]["servcmd"] == codec.PUSH_MESSAGE]
        (item,) = [i for p in pushes for e in p["body"]["EventArray"] for i in e.get("C2cMsgArray", [])]
        assert (item["From_Account"], item["To_Account"]) == ("alice", "bob")
        assert item["MsgBody"] == [{"MsgType": "TIMTextElem", "MsgContent": {"Text": "from the backend"}}]
