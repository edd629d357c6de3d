"""REST-1 (request and envelope) and REST-2 (who may call, in which order) on the REST v4 face."""

from __future__ import annotations

import pytest

from simtim.errors import Code
from simtim.model.core import DEV_SDKAPPID, DEV_SECRET_KEY
from tests.unit.protocol.rest_support import RestWorld


@pytest.fixture
def rw() -> RestWorld:
    return RestWorld()


def test_rest_1_every_reply_is_an_envelope_with_the_apis_fields(rw: RestWorld) -> None:
    reply = rw.ok("account_check", {"CheckItem": [{"UserID": "nobody"}]})
    assert set(reply) == {"ActionStatus", "ErrorCode", "ErrorInfo", "ResultItem"}
    assert reply["ErrorInfo"] == ""
    failed = rw.rest("no_such_command", {})
    assert failed == {"ActionStatus": "FAIL", "ErrorCode": 60009, "ErrorInfo": failed["ErrorInfo"]}


@pytest.mark.parametrize("method", ["PUT", "DELETE", "PATCH"])
def test_rest_1_other_methods_are_60009(rw: RestWorld, method: str) -> None:
    assert rw.raw("/v4/im_open_login_svc/account_check", b"{}", method=method)["ErrorCode"] == 60009


def test_rest_1_get_with_or_without_a_body_is_served_like_post(rw: RestWorld) -> None:
    rw.ok("account_import", {"UserID": "alice"})
    with_body = rw.raw(
        "/v4/im_open_login_svc/account_check", b'{"CheckItem": [{"UserID": "alice"}]}', method="GET"
    )
    assert with_body["ResultItem"][0]["AccountStatus"] == "Imported"
    no_body = rw.raw("/v4/group_open_http_svc/get_appid_group_list", b"", method="GET")
    assert no_body["ErrorCode"] == 0 and no_body["GroupIdList"] == []


@pytest.mark.parametrize(
    ("path", "body"),
    [("/v4/openim/sendmsg", b"not json"), ("/v4/openim/sendmsg", b"[1, 2]"), ("/v4/openim/sendmsg", b'"x"')],
)
def test_rest_1_a_body_that_is_no_json_object_is_60003(rw: RestWorld, path: str, body: bytes) -> None:
    assert rw.raw(path, body)["ErrorCode"] == Code.REQUEST_INVALID


def test_rest_1_unknown_paths_are_60009(rw: RestWorld) -> None:
    for path in ("/v4/openim", "/v4/openim/sendmsg/extra", "/v4/nosuch/cmd", "/v5/openim/sendmsg"):
        assert rw.raw(path, b"{}")["ErrorCode"] == 60009, path


def test_rest_1_query_values_raw_or_percent_encoded_and_random_optional(rw: RestWorld) -> None:
    sig = rw.sig()
    encoded = sig.replace("*", "%2A").replace("-", "%2D").replace("_", "%5F")
    for value in (sig, encoded):
        query = f"sdkappid={DEV_SDKAPPID}&identifier=administrator&usersig={value}&contenttype=json"
        assert rw.raw("/v4/group_open_http_svc/get_appid_group_list", b"{}", query=query)["ErrorCode"] == 0


def test_rest_1_unknown_fields_are_ignored_and_the_legacy_identifier_is_accepted(rw: RestWorld) -> None:
    rw.ok("account_import", {"Identifier": "legacy", "Whatever": [1, 2], "Nick": "L"})
    assert "legacy" in rw.app.accounts and rw.app.accounts["legacy"].nick == "L"


# --- REST-2: the check order ------------------------------------------------------------------
def test_rest_2_check_order(rw: RestWorld) -> None:
    path, body = "/v4/group_open_http_svc/get_appid_group_list", b"[]"

    def code(**query: object) -> int:
        return int(rw.raw(path, body, query=rw.query(**query))["ErrorCode"])

    assert code(sdkappid="None", usersig="") == 60012  # no sdkappid beats everything
    assert code(sdkappid=123, usersig="") == 70020
    rw.world.configure_app(DEV_SDKAPPID, disabled=True)
    assert code(usersig="") == 60016
    rw.world.configure_app(DEV_SDKAPPID, disabled=False)
    assert code(usersig="") == 70002
    assert code(usersig="garbage") == 70003
    assert code(usersig=rw.sig(app=1234567)) == 70014
    assert code(usersig=rw.sig(user="mallory")) == 70013
    assert code(usersig=rw.sig(key="another-key")) == 70009
    assert code(identifier="alice", usersig=rw.sig(user="alice")) == 60010  # a valid sig, not an admin
    assert code() == 60003  # only then the body ([] is no object)


def test_rest_2_an_expired_admin_sig_is_70001(rw: RestWorld) -> None:
    sig = rw.sig(lifetime=10)
    rw.service.admin("advanceClock", {"seconds": 11})
    reply = rw.raw("/v4/group_open_http_svc/get_appid_group_list", b"{}", query=rw.query(usersig=sig))
    assert reply["ErrorCode"] == 70001


def test_rest_2_admins_are_configurable(rw: RestWorld) -> None:
    rw.world.configure_app(DEV_SDKAPPID, rest_admins=["ops"])
    assert rw.rest("get_appid_group_list", {})["ErrorCode"] == 60010
    query = rw.query(identifier="ops", usersig=rw.sig(user="ops"))
    assert rw.raw("/v4/group_open_http_svc/get_appid_group_list", b"{}", query=query)["ErrorCode"] == 0


def test_rest_2_calls_per_api_per_second_are_limited(rw: RestWorld) -> None:
    rw.world.configure_app(DEV_SDKAPPID, rest_rate_per_second=4)
    codes = [rw.code("get_appid_group_list", {}) for _ in range(5)]
    assert codes == [0, 0, 0, 0, int(Code.REST_RATE_LIMITED)]
    assert rw.code("account_import", {"UserID": "x"}) == 0  # another API has its own count
    rw.wall += 1.0
    assert rw.code("get_appid_group_list", {}) == 0  # a new second
    assert [rw.code("account_check", {"CheckItem": [{"UserID": "x"}]}) for _ in range(3)] == [
        0,
        0,
        60007,
    ]  # half


def test_rest_2_a_refused_call_changes_nothing(rw: RestWorld) -> None:
    before = rw.digest()
    rw.raw("/v4/openim/sendmsg", b'{"To_Account": "x"}', query=rw.query(usersig="garbage"))
    rw.raw(
        "/v4/im_open_login_svc/account_import",
        b'{"UserID": "x"}',
        query=rw.query(identifier="x", usersig=rw.sig("x")),
    )
    assert rw.digest() == before
    assert DEV_SECRET_KEY  # the dev app is the one used throughout
