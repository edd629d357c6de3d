"""REST-3: accounts (import, check, delete, kick, online status) and profile tags."""

from __future__ import annotations

import pytest

from simtim.errors import Code
from tests.unit.protocol.rest_support import RestWorld


@pytest.fixture
def rw() -> RestWorld:
    return RestWorld()


def test_rest_3_account_import_is_idempotent_and_updates_the_profile(rw: RestWorld) -> None:
    rw.ok("account_import", {"UserID": "alice", "Nick": "A", "FaceUrl": "http://x/a.png"})
    rw.ok("account_import", {"UserID": "alice", "Nick": "Alice"})
    account = rw.app.accounts["alice"]
    assert (account.nick, account.avatar) == ("Alice", "http://x/a.png")


@pytest.mark.parametrize("user", ["", "x" * 33, "caról", 42])
def test_rest_3_account_import_refuses_bad_user_ids_with_70402(rw: RestWorld, user: object) -> None:
    assert rw.code("account_import", {"UserID": user}) == 70402


def test_rest_3_multiaccount_import_both_forms_and_the_100_cap(rw: RestWorld) -> None:
    assert rw.ok("multiaccount_import", {"Accounts": ["a", "b", "x" * 40]})["FailAccounts"] == ["x" * 40]
    reply = rw.ok("multiaccount_import", {"AccountList": [{"UserID": "c", "Nick": "C"}]})
    assert reply["FailAccounts"] == [] and rw.app.accounts["c"].nick == "C"
    assert rw.code("multiaccount_import", {"Accounts": [f"u{i}" for i in range(101)]}) == 70402


def test_rest_3_account_check(rw: RestWorld) -> None:
    rw.ok("account_import", {"UserID": "alice"})
    items = rw.ok("account_check", {"CheckItem": [{"UserID": "alice"}, {"UserID": "bob"}]})["ResultItem"]
    assert [(i["UserID"], i["AccountStatus"], i["ResultCode"]) for i in items] == [
        ("alice", "Imported", 0),
        ("bob", "NotImported", 0),
    ]
    assert rw.code("account_check", {"CheckItem": [{"UserID": f"u{i}"} for i in range(101)]}) == 70402


def test_rest_3_account_delete_per_item_and_the_deleted_account_is_gone(rw: RestWorld) -> None:
    rw.ok("account_import", {"UserID": "alice"})
    token = rw.login("alice")
    rw.taken()
    items = rw.ok("account_delete", {"DeleteItem": [{"UserID": "alice"}, {"UserID": "ghost"}]})["ResultItem"]
    assert [(i["UserID"], i["ResultCode"]) for i in items] == [("alice", 0), ("ghost", 70107)]
    assert rw.names_for(token, rw.taken()) == ["kickedOut", "sdkStateNotReady"]
    assert (
        rw.ok("account_check", {"CheckItem": [{"UserID": "alice"}]})["ResultItem"][0]["AccountStatus"]
        == "NotImported"
    )


def test_rest_3_kick_kicks_every_instance_and_voids_older_sigs(rw: RestWorld) -> None:
    rw.ok("account_import", {"UserID": "alice"})
    old_sig = rw.sig("alice")
    web, pc = rw.login("alice"), rw.login("alice", "pc")
    rw.taken()
    rw.service.admin("advanceClock", {"seconds": 5})
    rw.ok("kick", {"UserID": "alice"})
    events = rw.taken()
    assert rw.names_for(web, events) == ["kickedOut", "sdkStateNotReady"] == rw.names_for(pc, events)
    assert [e.data for e in events if e.name == "kickedOut"] == [{"type": "REST_API_Kick"}] * 2
    relogin = rw.service.handle(
        "login", None, {"SDKAppID": 1400000000, "userID": "alice", "userSig": old_sig}
    )
    assert relogin["code"] == Code.USERSIG_EXPIRED
    assert rw.login("alice")  # a sig issued after the kick logs in
    assert rw.code("kick", {"UserID": "ghost"}) == 70107
    assert rw.code("kick", {"Identifier": "alice"}) == 0  # the legacy field name


def test_rest_3_query_online_status(rw: RestWorld) -> None:
    rw.ok("multiaccount_import", {"Accounts": ["alice", "bob"]})
    rw.login("alice")
    rw.login("alice", "android")
    reply = rw.ok("query_online_status", {"To_Account": ["alice", "bob", "ghost"], "IsNeedDetail": 1})
    assert reply["QueryResult"] == [
        {
            "To_Account": "alice",
            "Status": "Online",
            "Detail": [{"Platform": "Web", "Status": "Online"}, {"Platform": "Android", "Status": "Online"}],
        },
        {"To_Account": "bob", "Status": "Offline", "Detail": []},
    ]
    assert reply["ErrorList"] == [{"To_Account": "ghost", "ErrorCode": 70107}]
    assert rw.ok("querystate", {"To_Account": ["bob"]})["QueryResult"] == [
        {"To_Account": "bob", "Status": "Offline"}
    ]
    assert rw.code("query_online_status", {"To_Account": [f"u{i}" for i in range(501)]}) != 0


def test_rest_3_portrait_set_is_the_sdk_profile_and_tells_every_instance(rw: RestWorld) -> None:
    rw.ok("account_import", {"UserID": "alice"})
    token = rw.login("alice")
    rw.taken()
    rw.ok(
        "portrait_set",
        {
            "From_Account": "alice",
            "ProfileItem": [
                {"Tag": "Tag_Profile_IM_Nick", "Value": "Alice"},
                {"Tag": "Tag_Profile_IM_Image", "Value": "http://x/a"},
                {"Tag": "Tag_Profile_Custom_Level", "Value": 7},
                {"Tag": "Tag_Profile_IM_Gender", "Value": "Gender_Type_Female"},
            ],
        },
    )
    assert rw.names_for(token, rw.taken()) == ["onProfileUpdated"]
    profile = rw.sdk(token, "getMyProfile")["data"]["profile"]
    assert (profile["nick"], profile["avatar"]) == ("Alice", "http://x/a")
    reply = rw.ok(
        "portrait_get",
        {
            "To_Account": ["alice", "ghost"],
            "TagList": ["Tag_Profile_IM_Nick", "Tag_Profile_Custom_Level", "Tag_Profile_IM_Gender"],
        },
    )
    assert reply["UserProfileItem"][0]["ProfileItem"] == [
        {"Tag": "Tag_Profile_IM_Nick", "Value": "Alice"},
        {"Tag": "Tag_Profile_Custom_Level", "Value": 7},
        {"Tag": "Tag_Profile_IM_Gender", "Value": "Gender_Type_Female"},
    ]
    assert reply["UserProfileItem"][1]["ResultCode"] == 40003 and reply["Fail_Account"] == ["ghost"]


def test_rest_3_portrait_set_refusals(rw: RestWorld) -> None:
    rw.ok("account_import", {"UserID": "alice"})
    assert (
        rw.code(
            "portrait_set",
            {"From_Account": "ghost", "ProfileItem": [{"Tag": "Tag_Profile_IM_Nick", "Value": "x"}]},
        )
        == 40003
    )
    assert (
        rw.code("portrait_set", {"From_Account": "alice", "ProfileItem": [{"Tag": "Bogus", "Value": "x"}]})
        == 40001
    )
    assert (
        rw.code(
            "portrait_set",
            {"From_Account": "alice", "ProfileItem": [{"Tag": "Tag_Profile_Custom_X", "Value": "v" * 501}]},
        )
        == 40601
    )
    assert rw.code("portrait_set", {"From_Account": "alice", "ProfileItem": "nick"}) == 40001
