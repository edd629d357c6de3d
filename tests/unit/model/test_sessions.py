"""Apps, accounts, login, kicks, UserSig expiry and reconnects (AUTH-*, INST-*, NET-1)."""

from __future__ import annotations

import base64
import zlib

import pytest
import TLSSigAPIv2

from simtim.errors import IMError
from simtim.sdk import TIM, SimTIM
from tests.conftest import LoginFn, names, text
from tests.helpers import DAY, DEV, KEY, code_of, history_ids, new_tim, record, sig_for

OTHER_APP = 1400000001
OTHER_KEY = "0" * 64


def _url_b64(raw: bytes) -> str:
    return base64.b64encode(raw).decode().translate(str.maketrans("+/=", "*-_"))


def _assert_logged_out(tim: TIM) -> None:
    assert code_of(tim.get_my_profile) == 6014
    assert code_of(tim.get_conversation_list) == 6004


# --- AUTH-1 ----------------------------------------------------------------------------
def test_auth_1_sig_from_gen_usersig_logs_in(service: SimTIM) -> None:
    tim = new_tim(service)
    assert tim.login({"userID": "alice", "userSig": sig_for(service, "alice")}) == {"repeatLogin": False}
    assert names(tim) == ["sdkStateReady"]
    assert tim.get_my_profile()["profile"]["userID"] == "alice"


def test_auth_1_sig_from_the_official_library_logs_in_and_a_foreign_key_does_not(service: SimTIM) -> None:
    official = TLSSigAPIv2.TLSSigAPIv2(DEV, KEY).gen_sig("alice", DAY)
    tim = new_tim(service)
    assert tim.login({"userID": "alice", "userSig": official}) == {"repeatLogin": False}
    assert names(tim) == ["sdkStateReady"]
    foreign = TLSSigAPIv2.TLSSigAPIv2(DEV, OTHER_KEY).gen_sig("bob", DAY)
    other = new_tim(service)
    assert code_of(other.login, {"userID": "bob", "userSig": foreign}) == 70009
    assert names(other) == []


# --- AUTH-2 ----------------------------------------------------------------------------
def _login_case(service: SimTIM, case: str) -> tuple[TIM, dict[str, object]]:
    now = service.clock.now()
    expired = {"now": now - 1000, "expire": 10}
    if case == "unknown_app":
        return new_tim(service, sdkappid=1234567), {"userID": "", "userSig": ""}
    if case == "disabled_app":
        service.world.configure_app(OTHER_APP, OTHER_KEY, disabled=True)
        return new_tim(service, sdkappid=OTHER_APP), {"userID": "", "userSig": ""}
    tim = new_tim(service)
    opts: dict[str, dict[str, object]] = {
        "empty_sig_and_bad_user": {"userID": "", "userSig": ""},
        "bad_user_and_undecodable_sig": {"userID": "a\tb", "userSig": "%%%"},
        "undecodable": {"userID": "alice", "userSig": "%%% not base64 %%%"},
        "not_json": {"userID": "alice", "userSig": _url_b64(zlib.compress(b"{not json"))},
        "sdkappid_mismatch": {
            "userID": "alice",
            "userSig": sig_for(service, "mallory", sdkappid=OTHER_APP, key=OTHER_KEY, **expired),
        },
        "identifier_mismatch": {
            "userID": "alice",
            "userSig": sig_for(service, "mallory", key=OTHER_KEY, **expired),
        },
        "expired": {"userID": "alice", "userSig": sig_for(service, "alice", key=OTHER_KEY, **expired)},
        "hmac_mismatch": {"userID": "alice", "userSig": sig_for(service, "alice", key=OTHER_KEY)},
    }
    return tim, opts[case]


@pytest.mark.parametrize(
    ("case", "code"),
    [
        ("unknown_app", 70020),
        ("disabled_app", 60016),
        ("empty_sig_and_bad_user", 70002),
        ("bad_user_and_undecodable_sig", 70402),
        ("undecodable", 70003),
        ("not_json", 70003),
        ("sdkappid_mismatch", 70014),
        ("identifier_mismatch", 70013),
        ("expired", 70001),
        ("hmac_mismatch", 70009),
    ],
)
def test_auth_2_login_check_order(service: SimTIM, case: str, code: int) -> None:
    """Each case also fails every later check, so only the first failing one may answer."""
    tim, opts = _login_case(service, case)
    assert code_of(tim.login, opts) == code
    assert names(tim) == []
    _assert_logged_out(tim)


def test_auth_2_no_not_before_check_on_sig_time(service: SimTIM) -> None:
    tim = new_tim(service)
    future = sig_for(service, "alice", now=service.clock.now() + 10 * DAY)
    assert tim.login({"userID": "alice", "userSig": future}) == {"repeatLogin": False}
    assert names(tim) == ["sdkStateReady"]


# --- AUTH-3 ----------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("opts", "code"),
    [
        ({"userID": "alice", "userSig": ""}, 70002),
        ({"userID": "alice"}, 70002),
        ({"userSig": "SIG"}, 70402),
        ({"userID": "", "userSig": "SIG"}, 70402),
        ({"userID": "a" * 33, "userSig": "SIG"}, 70402),
        ({"userID": "al\tice", "userSig": "SIG"}, 70402),
        ({"userID": "ali\x7fce", "userSig": "SIG"}, 70402),
        ({"userID": "alicé", "userSig": "SIG"}, 70402),
        ({"userID": 42, "userSig": "SIG"}, 70402),
    ],
)
def test_auth_3_empty_sig_and_invalid_user_ids_are_refused(
    service: SimTIM, opts: dict[str, object], code: int
) -> None:
    """ "SIG" stands for a sig that is valid for the given userID, so only AUTH-3 can refuse."""
    user = opts.get("userID")
    opts = (
        {**opts, "userSig": sig_for(service, user if isinstance(user, str) else "alice")}
        if opts.get("userSig") == "SIG"
        else opts
    )
    tim = new_tim(service)
    assert code_of(tim.login, opts) == code
    assert names(tim) == []
    _assert_logged_out(tim)


@pytest.mark.parametrize("user", ["a" * 32, "x", "user.name-1_~ +"])
def test_auth_3_valid_user_ids_log_in(service: SimTIM, user: str) -> None:
    tim = new_tim(service)
    assert tim.login({"userID": user, "userSig": sig_for(service, user)}) == {"repeatLogin": False}
    assert tim.get_my_profile()["profile"]["userID"] == user


# --- AUTH-4 ----------------------------------------------------------------------------
def test_auth_4_disabled_app_refuses_login_and_server_calls(service: SimTIM, login: LoginFn) -> None:
    alice, bob = login("alice"), login("bob")
    first = alice.send_message(text("bob"))["message"]
    alice.take_events()
    bob.take_events()
    service.world.configure_app(DEV, disabled=True)
    fresh = new_tim(service)
    assert code_of(fresh.login, {"userID": "carol", "userSig": sig_for(service, "carol")}) == 60016
    assert code_of(alice.send_message, text("bob")) == 60016
    assert code_of(alice.resend_message, first) == 60016
    assert code_of(alice.revoke_message, first) == 60016
    assert code_of(alice.delete_message, [first]) == 60016
    assert code_of(alice.get_message_list, {"conversationID": "C2Cbob"}) == 60016
    assert code_of(alice.set_message_read, {"conversationID": "C2Cbob"}) == 60016
    assert code_of(alice.get_conversation_list) == 60016
    assert code_of(alice.get_conversation_profile, "C2Cbob") == 60016
    assert code_of(alice.delete_conversation, "C2Cbob") == 60016
    assert code_of(alice.get_my_profile) == 60016
    assert code_of(alice.update_my_profile, {"nick": "A"}) == 60016
    # online instances stay logged in and get no event
    assert names(alice) == [] and names(bob) == [] and names(fresh) == []
    service.world.configure_app(DEV, disabled=False)
    assert alice.get_my_profile()["profile"]["nick"] == ""
    assert history_ids(bob, "C2Calice") == [first["ID"]]  # nothing was stored while disabled
    assert code_of(fresh.get_my_profile) == 6014  # the refused login left it logged out


def test_auth_4_local_calls_still_work_while_disabled(service: SimTIM, login: LoginFn) -> None:
    alice = login("alice")
    service.world.configure_app(DEV, disabled=True)
    seen: list[object] = []

    def handler(data: object) -> None:
        seen.append(data)

    alice.on("sdkStateNotReady", handler)
    created = alice.create_text_message({"to": "bob", "conversationType": "C2C", "payload": {"text": "x"}})
    assert created["type"] == "TIMTextElem" and created["payload"] == {"text": "x"}
    assert new_tim(service).create_custom_message({"payload": {"data": "d"}})["type"] == "TIMCustomElem"
    assert alice.destroy() == {}
    assert seen == [{}]
    assert code_of(alice.get_my_profile) == 6013


# --- AUTH-5 ----------------------------------------------------------------------------
def test_auth_5_c2c_to_unknown_account_is_20003_until_imported(service: SimTIM, login: LoginFn) -> None:
    alice = login("alice")
    assert code_of(alice.send_message, text("carol")) == 20003
    assert names(alice) == []
    service.import_account("carol")
    assert alice.send_message(text("carol"))["message"]["to"] == "carol"


def test_auth_5_an_account_exists_once_it_has_logged_in(service: SimTIM, login: LoginFn) -> None:
    alice = login("alice")
    dave = login("dave")
    dave.logout()
    assert alice.send_message(text("dave"))["message"]["to"] == "dave"
    eve = new_tim(service)
    assert code_of(eve.login, {"userID": "eve", "userSig": sig_for(service, "eve", key=OTHER_KEY)}) == 70009
    assert code_of(alice.send_message, text("eve")) == 20003  # a refused login creates nothing


# --- INST-1 ----------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("method", "opts"),
    [
        (
            "sendMessage",
            {
                "message": {
                    "to": "bob",
                    "conversationType": "C2C",
                    "type": "TIMTextElem",
                    "payload": {"text": "hi"},
                }
            },
        ),
        ("resendMessage", {"message": {"ID": "x"}}),
        ("revokeMessage", {"message": {"ID": "x"}}),
        ("deleteMessage", {"messageList": [{"ID": "x"}]}),
        ("getMyProfile", None),
        ("updateMyProfile", {"nick": "A"}),
    ],
)
def test_inst_1_before_login_other_calls_are_6014(service: SimTIM, method: str, opts: object) -> None:
    tim = new_tim(service)
    assert code_of(tim.call, method, opts) == 6014
    assert names(tim) == []


@pytest.mark.parametrize(
    ("method", "opts"),
    [
        ("getConversationList", None),
        ("getConversationProfile", {"conversationID": "C2Cbob"}),
        ("deleteConversation", {"conversationID": "C2Cbob"}),
        ("setMessageRead", {"conversationID": "C2Cbob"}),
        ("getMessageList", {"conversationID": "C2Cbob"}),
    ],
)
def test_inst_1_before_login_conversation_apis_are_6004(service: SimTIM, method: str, opts: object) -> None:
    tim = new_tim(service)
    assert code_of(tim.call, method, opts) == 6004
    assert names(tim) == []


def test_inst_1_logout_when_not_logged_in_resolves_empty_with_no_event(service: SimTIM) -> None:
    tim = new_tim(service)
    assert tim.logout() == {}
    assert names(tim) == []
    assert tim.login({"userID": "alice", "userSig": sig_for(service, "alice")}) == {"repeatLogin": False}


def test_inst_1_destroy_logs_out_frees_the_slot_then_everything_is_6013(
    service: SimTIM, login: LoginFn
) -> None:
    alice = login("alice")
    assert alice.destroy() == {}
    assert alice.take_events() == [("sdkStateNotReady", {})]
    again = login("alice", keep_events=True)
    assert names(again) == ["sdkStateReady"]
    assert names(alice) == []  # its slot was freed: nothing left to kick
    sig = sig_for(service, "alice")
    assert code_of(alice.login, {"userID": "alice", "userSig": sig}) == 6013
    assert code_of(alice.logout) == 6013
    assert code_of(alice.destroy) == 6013
    assert code_of(alice.get_my_profile) == 6013
    assert code_of(alice.get_conversation_list) == 6013
    assert code_of(alice.send_message, text("alice")) == 6013
    assert names(alice) == [] and names(again) == []


def test_inst_1_destroy_before_login_emits_nothing(service: SimTIM) -> None:
    tim = new_tim(service)
    assert tim.destroy() == {}
    assert names(tim) == []
    assert code_of(tim.login, {"userID": "alice", "userSig": sig_for(service, "alice")}) == 6013


# --- INST-2 ----------------------------------------------------------------------------
def test_inst_2_login_ready_logout_not_ready_then_back_to_logged_out(service: SimTIM) -> None:
    tim = new_tim(service)
    assert tim.login({"userID": "alice", "userSig": sig_for(service, "alice")}) == {"repeatLogin": False}
    assert tim.take_events() == [("sdkStateReady", {})]
    assert tim.logout() == {}
    assert tim.take_events() == [("sdkStateNotReady", {})]
    _assert_logged_out(tim)
    assert tim.login({"userID": "bob", "userSig": sig_for(service, "bob")}) == {"repeatLogin": False}
    assert names(tim) == ["sdkStateReady"]
    assert tim.get_my_profile()["profile"]["userID"] == "bob"


def test_inst_2_repeat_login_resolves_repeat_login_and_changes_nothing(
    service: SimTIM, login: LoginFn
) -> None:
    alice = login("alice")
    assert alice.login({"userID": "bob", "userSig": "garbage"}) == {"repeatLogin": True}
    assert alice.login({"userID": "alice", "userSig": sig_for(service, "alice")}) == {"repeatLogin": True}
    assert names(alice) == []
    assert alice.get_my_profile()["profile"]["userID"] == "alice"
    assert code_of(alice.send_message, text("bob")) == 20003  # "bob" was never created


def test_inst_2_repeat_login_does_not_refresh_the_kick_order(service: SimTIM, login: LoginFn) -> None:
    service.world.configure_app(DEV, web_instances=2)
    first, second = login("alice"), login("alice")
    assert first.login({"userID": "alice", "userSig": sig_for(service, "alice")}) == {"repeatLogin": True}
    login("alice")
    assert names(first) == ["kickedOut", "sdkStateNotReady"]
    assert names(second) == []


# --- INST-3 ----------------------------------------------------------------------------
def test_inst_3_second_web_login_kicks_the_earliest_before_it_resolves(
    service: SimTIM, login: LoginFn
) -> None:
    first, bob = login("alice"), login("bob")
    second = new_tim(service)
    log = record({"first": first, "second": second, "bob": bob})
    assert second.login({"userID": "alice", "userSig": sig_for(service, "alice")}) == {"repeatLogin": False}
    log.append(("second", "resolved"))
    assert log == [
        ("first", "kickedOut"),
        ("first", "sdkStateNotReady"),
        ("second", "sdkStateReady"),
        ("second", "resolved"),
    ]
    assert first.take_events() == [("kickedOut", {"type": "multipleAccount"}), ("sdkStateNotReady", {})]
    assert code_of(first.get_my_profile) == 6208
    assert code_of(first.get_conversation_list) == 6208
    assert code_of(first.send_message, text("bob")) == 6208
    assert second.get_my_profile()["profile"]["userID"] == "alice"
    assert bob.get_my_profile()["profile"]["userID"] == "bob"
    assert names(bob) == []


def test_inst_3_kicked_instance_after_logout_is_6014(service: SimTIM, login: LoginFn) -> None:
    first = login("alice")
    login("alice")
    first.take_events()
    assert first.logout() == {}
    assert names(first) == []
    _assert_logged_out(first)


def test_inst_3_kicked_instance_logs_in_again_and_kicks_the_other(service: SimTIM, login: LoginFn) -> None:
    first = login("alice")
    second = login("alice")
    first.take_events()
    assert first.login({"userID": "alice", "userSig": sig_for(service, "alice")}) == {"repeatLogin": False}
    assert names(first) == ["sdkStateReady"]
    assert second.take_events() == [("kickedOut", {"type": "multipleAccount"}), ("sdkStateNotReady", {})]
    assert first.get_my_profile()["profile"]["userID"] == "alice"


def test_inst_3_logout_of_one_instance_never_affects_another(service: SimTIM, login: LoginFn) -> None:
    service.world.configure_app(DEV, web_instances=2)
    one, two = login("alice"), login("alice")
    assert names(one) == []
    assert one.logout() == {}
    assert names(one) == ["sdkStateNotReady"]
    assert names(two) == []
    assert two.get_my_profile()["profile"]["userID"] == "alice"


def test_inst_3_web_instances_config_acts_immediately(service: SimTIM, login: LoginFn) -> None:
    service.world.configure_app(DEV, web_instances=2)
    a1, a2 = login("alice"), login("alice")
    a3 = login("alice")
    assert names(a1) == ["kickedOut", "sdkStateNotReady"]
    assert names(a2) == []
    service.world.configure_app(DEV, web_instances=1)
    a4 = new_tim(service)
    log = record({"a2": a2, "a3": a3, "a4": a4})
    a4.login({"userID": "alice", "userSig": sig_for(service, "alice")})
    assert log == [
        ("a2", "kickedOut"),
        ("a2", "sdkStateNotReady"),
        ("a3", "kickedOut"),
        ("a3", "sdkStateNotReady"),
        ("a4", "sdkStateReady"),
    ]
    assert code_of(a2.get_my_profile) == code_of(a3.get_my_profile) == 6208


# --- INST-4 ----------------------------------------------------------------------------
@pytest.mark.parametrize("platform", ["android", "ios", "ipad", "pc", "mac"])
def test_inst_4_same_native_platform_kicks_the_older_with_multiple_device(
    service: SimTIM, login: LoginFn, platform: str
) -> None:
    old = login("alice", platform)
    web = login("alice")
    new = login("alice", platform, keep_events=True)
    assert old.take_events() == [("kickedOut", {"type": "multipleDevice"}), ("sdkStateNotReady", {})]
    assert names(new) == ["sdkStateReady"]
    assert names(web) == []
    assert code_of(old.get_my_profile) == 6208
    assert new.get_my_profile()["profile"]["userID"] == "alice"


def test_inst_4_different_platforms_never_kick_each_other(service: SimTIM, login: LoginFn) -> None:
    tims = [login("alice", platform) for platform in ("web", "android", "ios", "ipad", "pc", "mac")]
    for tim in tims:
        assert names(tim) == []
        assert tim.get_my_profile()["profile"]["userID"] == "alice"


@pytest.mark.parametrize(("first", "second"), [("web", "miniprogram"), ("miniprogram", "web")])
def test_inst_4_miniprogram_counts_as_web(service: SimTIM, login: LoginFn, first: str, second: str) -> None:
    old = login("alice", first)
    login("alice", second)
    assert old.take_events() == [("kickedOut", {"type": "multipleAccount"}), ("sdkStateNotReady", {})]


def test_inst_4_platform_defaults_to_web(service: SimTIM, login: LoginFn) -> None:
    old = service.create({"SDKAppID": DEV})
    old.login({"userID": "alice", "userSig": sig_for(service, "alice")})
    old.take_events()
    login("alice", "web")
    assert old.take_events() == [("kickedOut", {"type": "multipleAccount"}), ("sdkStateNotReady", {})]


# --- INST-5 ----------------------------------------------------------------------------
def test_inst_5_login_at_exactly_time_plus_expire_works(service: SimTIM) -> None:
    sig = sig_for(service, "alice", expire=100)
    service.advance(100)
    tim = new_tim(service)
    assert tim.login({"userID": "alice", "userSig": sig}) == {"repeatLogin": False}
    assert names(tim) == ["sdkStateReady"]


def test_inst_5_login_one_second_after_expiry_is_70001(service: SimTIM) -> None:
    sig = sig_for(service, "alice", expire=100)
    service.advance(101)
    tim = new_tim(service)
    assert code_of(tim.login, {"userID": "alice", "userSig": sig}) == 70001
    assert names(tim) == []
    _assert_logged_out(tim)


def test_inst_5_online_instance_is_kicked_when_the_clock_crosses_expiry(
    service: SimTIM, login: LoginFn
) -> None:
    alice = login("alice", expire=100)
    bob = login("bob", expire=10 * DAY)
    service.advance(100)
    assert names(alice) == []
    assert alice.get_my_profile()["profile"]["userID"] == "alice"  # still valid at time + expire
    service.advance(1)
    assert alice.take_events() == [("kickedOut", {"type": "userSigExpired"}), ("sdkStateNotReady", {})]
    assert code_of(alice.get_my_profile) == 6206
    assert code_of(alice.send_message, text("bob")) == 6206
    assert code_of(alice.get_conversation_list) == 6206
    assert names(bob) == []
    assert bob.get_my_profile()["profile"]["userID"] == "bob"
    service.advance(1000)
    assert names(alice) == []  # fired once
    assert alice.login({"userID": "alice", "userSig": sig_for(service, "alice")}) == {"repeatLogin": False}
    assert names(alice) == ["sdkStateReady"]
    assert alice.get_my_profile()["profile"]["userID"] == "alice"


def test_inst_5_expired_instance_after_logout_is_6014(service: SimTIM, login: LoginFn) -> None:
    alice = login("alice", expire=10)
    service.advance(11)
    alice.take_events()
    assert alice.logout() == {}
    assert names(alice) == []
    _assert_logged_out(alice)


# --- INST-6 ----------------------------------------------------------------------------
def test_inst_6_admin_kick_kicks_every_instance_of_the_account(service: SimTIM, login: LoginFn) -> None:
    web, android, bob = login("alice"), login("alice", "android"), login("bob")
    service.kick("alice")
    for tim in (web, android):
        assert tim.take_events() == [("kickedOut", {"type": "REST_API_Kick"}), ("sdkStateNotReady", {})]
        assert code_of(tim.get_my_profile) == 6208
        assert code_of(tim.get_message_list, {"conversationID": "C2Cbob"}) == 6208
    assert names(bob) == []
    assert bob.send_message(text("alice"))["message"]["to"] == "alice"  # the account still exists
    assert web.login({"userID": "alice", "userSig": sig_for(service, "alice")}) == {"repeatLogin": False}
    assert names(web) == ["sdkStateReady"]


# --- NET-1 -----------------------------------------------------------------------------
def test_net_1_reconnect_replays_missed_messages_once_in_order(service: SimTIM, login: LoginFn) -> None:
    alice, bob = login("alice"), login("bob")
    service.set_network(bob, False)
    sent = [
        alice.send_message(text("bob", "m1"))["message"]["ID"],
        alice.send_message(text("bob", "m2"))["message"]["ID"],
    ]
    service.advance(3)
    sent.append(alice.send_message(text("bob", "m3"))["message"]["ID"])
    assert bob.take_events() == []
    service.set_network(bob, True)
    events = bob.take_events()
    assert events[0] == ("netStateChange", {"state": "connected"})
    replayed = [m["ID"] for name, data in events if name == "onMessageReceived" for m in data]
    assert replayed == sent
    service.set_network(bob, False)
    service.set_network(bob, True)
    assert names(bob) == ["netStateChange"]  # nothing replayed twice


def test_net_1_login_includes_offline_messages_and_replays_nothing(service: SimTIM, login: LoginFn) -> None:
    alice = login("alice")
    service.import_account("bob")
    alice.send_message(text("bob", "one"))
    last = alice.send_message(text("bob", "two"))["message"]
    bob = login("bob", keep_events=True)
    assert names(bob) == ["sdkStateReady"]
    [conversation] = bob.get_conversation_list()["conversationList"]
    assert conversation["conversationID"] == "C2Calice"
    assert conversation["unreadCount"] == 2
    assert conversation["lastMessage"]["ID"] == last["ID"]


def test_auth_4_logout_is_a_server_call_refused_while_disabled_but_destroy_works(
    service: SimTIM, login: LoginFn
) -> None:
    alice = login("alice")
    service.world.configure_app(1400000000, disabled=True)
    with pytest.raises(IMError) as refused:
        alice.logout()
    assert refused.value.code == 60016
    assert alice.take_events() == []
    assert alice.destroy() == {}
    assert [name for name, _ in alice.take_events()] == ["sdkStateNotReady"]
