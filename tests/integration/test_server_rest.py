"""REST v4 on a real ``simtim serve`` (REST-1, REST-2, REST-9): every malformed request gets HTTP 200,
the TIM code of REST-1/REST-2 or of the API's family, and changes nothing; REST sends reach
simtim/1 users over their WebSocket; a third-party REST client from PyPI works given a base URL."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any
from urllib.parse import quote

import orjson
import pytest

from simtim.model.core import DEV_SDKAPPID, DEV_SECRET_KEY
from simtim.usersig import gen_usersig
from tests.integration.server_process import ServerProcess
from tests.integration.wire import Wire, frames_until, open_events

ADMIN = "administrator"
OTHER_APP, OTHER_KEY = 1400000777, "rest-other-secret"
MiB = 1024 * 1024


@pytest.fixture
def wire(server: ServerProcess) -> Iterator[Wire]:
    w = Wire(server.url)
    w.admin("reset", {})
    w.admin("configureApp", {"SDKAppID": OTHER_APP, "secretKey": OTHER_KEY})
    yield w
    w.close()


def query(w: Wire, identifier: str = ADMIN, sig: str | None = None, **extra: Any) -> str:
    parts = {
        "sdkappid": str(DEV_SDKAPPID),
        "identifier": identifier,
        "usersig": sig if sig is not None else w.sig(identifier),
        "random": "99",
        "contenttype": "json",
        **{k: str(v) for k, v in extra.items()},
    }
    return "&".join(f"{k}={quote(v, safe='')}" for k, v in parts.items())


def rest(
    w: Wire,
    path: str,
    body: bytes | object,
    q: str | None = None,
    verb: str = "POST",
    headers: dict[str, str] | None = None,
) -> dict[str, Any]:
    payload = body if isinstance(body, bytes) else orjson.dumps(body)
    answer = w.request(verb, f"{path}?{q if q is not None else query(w)}", payload, headers or {})
    assert answer.status == 200, (path, answer.status, answer.raw[:200])  # REST-1: always HTTP 200
    reply: dict[str, Any] = orjson.loads(answer.raw)
    assert (reply["ActionStatus"] == "OK") == (reply["ErrorCode"] == 0), reply
    return reply


SEND = "/v4/openim/sendmsg"
GROUP_SEND = "/v4/group_open_http_svc/send_group_msg"


def good_send() -> dict[str, Any]:
    return {
        "To_Account": "bob",
        "MsgRandom": 5,
        "MsgBody": [{"MsgType": "TIMTextElem", "MsgContent": {"Text": "hi"}}],
    }


def bad_requests(w: Wire) -> list[tuple[str, str, str, bytes | object, int]]:
    """(name, verb, path?query, body, code): each is refused and must change nothing."""
    now = w.now()
    sig_other_app = gen_usersig(OTHER_APP, OTHER_KEY, ADMIN, 86400, now=now)
    sig_of_bob = gen_usersig(DEV_SDKAPPID, DEV_SECRET_KEY, "bob", 86400, now=now)
    forged = gen_usersig(DEV_SDKAPPID, "not-the-key", ADMIN, 86400, now=now)
    expired = gen_usersig(DEV_SDKAPPID, DEV_SECRET_KEY, ADMIN, 10, now=now - 100)
    good = query(w)
    return [
        ("no query", "POST", SEND, good_send(), 60012),
        (
            "unknown sdkappid",
            "POST",
            f"{SEND}?{good.replace(str(DEV_SDKAPPID), '1499999999')}",
            good_send(),
            70020,
        ),
        ("empty usersig", "POST", f"{SEND}?{query(w, sig='')}", good_send(), 70002),
        ("garbage usersig", "POST", f"{SEND}?{query(w, sig='%%%not-base64')}", good_send(), 70003),
        ("sig of another app", "POST", f"{SEND}?{query(w, sig=sig_other_app)}", good_send(), 70014),
        ("sig of another identifier", "POST", f"{SEND}?{query(w, sig=sig_of_bob)}", good_send(), 70013),
        ("expired sig", "POST", f"{SEND}?{query(w, sig=expired)}", good_send(), 70001),
        ("forged sig", "POST", f"{SEND}?{query(w, sig=forged)}", good_send(), 70009),
        ("non-admin identifier", "POST", f"{SEND}?{query(w, identifier='bob')}", good_send(), 60010),
        ("non-JSON body", "POST", f"{SEND}?{good}", b"{To_Account: bob", 60003),
        ("JSON array body", "POST", f"{SEND}?{good}", b"[1, 2]", 60003),
        ("JSON string body", "POST", f"{SEND}?{good}", b'"hi"', 60003),
        ("wrong type: MsgRandom", "POST", f"{SEND}?{good}", {**good_send(), "MsgRandom": "5"}, 90005),
        ("wrong type: To_Account", "POST", f"{SEND}?{good}", {**good_send(), "To_Account": 7}, 90003),
        ("wrong type: MsgBody", "POST", f"{SEND}?{good}", {**good_send(), "MsgBody": {"a": 1}}, 90002),
        ("wrong type: GroupId", "POST", f"{GROUP_SEND}?{good}", {"GroupId": 5, "Random": 1}, 10004),
        (
            "wrong type: Accounts",
            "POST",
            f"/v4/im_open_login_svc/multiaccount_import?{good}",
            {"Accounts": "bob"},
            70402,
        ),
        ("oversize body", "POST", f"{SEND}?{good}", b'{"pad":"' + b"x" * (MiB + 10) + b'"}', 60003),
        ("unknown command", "POST", f"/v4/openim/no_such_command?{good}", {}, 60009),
        ("unknown service", "POST", f"/v4/nosvc/sendmsg?{good}", good_send(), 60009),
        ("PUT", "PUT", f"{SEND}?{good}", good_send(), 60009),
        ("DELETE", "DELETE", f"{SEND}?{good}", good_send(), 60009),
    ]


def test_rest_1_2_every_malformed_request_gets_its_code_and_changes_nothing(wire: Wire) -> None:
    wire.login("bob")
    before = wire.digest()
    answers = {}
    for name, verb, target, body, _code in bad_requests(wire):
        path, _, q = target.partition("?")
        answers[name] = rest(wire, path, body, q, verb=verb)["ErrorCode"]
    assert answers == {name: code for name, _v, _t, _b, code in bad_requests(wire)}
    assert wire.digest() == before
    assert rest(wire, SEND, good_send())["ActionStatus"] == "OK"  # and the server still serves
    assert wire.digest() != before


def test_rest_1_liberal_requests_are_served_like_a_post(wire: Wire) -> None:
    wire.login("bob")
    raw_query = query(wire)
    plain = (
        f"sdkappid={DEV_SDKAPPID}&identifier={ADMIN}&usersig={wire.sig(ADMIN)}&contenttype=json"  # no random
    )
    check = {"CheckItem": [{"UserID": "bob"}]}
    checked = "/v4/im_open_login_svc/account_check"
    assert rest(wire, checked, check, plain)["ResultItem"][0]["AccountStatus"] == "Imported"
    assert rest(wire, checked, check, raw_query, headers={})["ErrorCode"] == 0  # no Content-Type at all
    assert rest(wire, checked, check, raw_query, verb="GET")["ErrorCode"] == 0  # GET with a body
    listed = rest(wire, "/v4/group_open_http_svc/get_appid_group_list", b"", raw_query, verb="GET")
    assert listed["ErrorCode"] == 0 and listed["TotalCount"] == 0  # GET without a body = {}
    extra = {**check, "SomethingNew": [1, 2, 3]}
    assert rest(wire, checked, extra, raw_query)["ErrorCode"] == 0  # unknown fields are ignored
    assert rest(wire, "/v4/im_open_login_svc/kick", {"Identifier": "bob"}, raw_query)["ErrorCode"] == 0


def test_rest_9_rest_sends_arrive_over_the_websocket(wire: Wire) -> None:
    bob = wire.login("bob")
    alice = wire.login("alice")
    ws = open_events(wire.url, bob)
    try:
        sent = rest(wire, SEND, {**good_send(), "From_Account": "alice"})
        assert sent["ErrorCode"] == 0
        frames = frames_until(ws, lambda f: f.event == "onConversationListUpdated")
        received = [f.data for f in frames if f.event == "onMessageReceived"]
        assert received and received[0][0]["from"] == "alice" and received[0][0]["payload"] == {"text": "hi"}
        group = rest(
            wire,
            "/v4/group_open_http_svc/create_group",
            {
                "Type": "Public",
                "Name": "g",
                "Owner_Account": "alice",
                "MemberList": [{"Member_Account": "bob"}],
            },
        )["GroupId"]
        frames_until(ws, lambda f: f.event == "onGroupListUpdated")
        body = {"GroupId": group, "From_Account": "alice", "Random": 3, "MsgBody": good_send()["MsgBody"]}
        assert rest(wire, GROUP_SEND, body)["ErrorCode"] == 0
        frames = frames_until(
            ws,
            lambda f: (
                f.event == "onMessageReceived"
                and f.data[0]["conversationType"] == "GROUP"
                and f.data[0]["type"] == "TIMTextElem"
            ),
        )
        assert frames[-1].data[0]["to"] == group
        rest(wire, "/v4/im_open_login_svc/kick", {"UserID": "bob"})
        kicked = frames_until(ws, lambda f: f.event == "kickedOut")
        assert kicked[-1].data == {"type": "REST_API_Kick"}
    finally:
        ws.close()
    assert (
        wire.call("getMyProfile", {}, alice)["code"] == 0 and wire.call("getMyProfile", {}, bob)["code"] != 0
    )


def test_rest_3_third_party_python_client_from_pypi(wire: Wire, server: ServerProcess) -> None:
    """tencentcloud-sdk-python-im 0.9.4 (pinned in the test extras; it sends no Content-Type and
    mints its own UserSigs) with only ``tencent_url`` pointed at simtim."""
    from tencentcloud_im import tcim_client as tcim

    client = tcim.TCIMClient(DEV_SDKAPPID, DEV_SECRET_KEY, ADMIN, tencent_url=f"{server.url}/v4")

    def ok(response: Any) -> dict[str, Any]:
        assert response is not None and response.status_code == 200
        reply: dict[str, Any] = response.json()
        assert reply["ActionStatus"] == "OK", reply
        return reply

    ok(client.add_single_user("carol", "Carol", ""))
    assert ok(client.batch_add_users(["dave", "erin"]))["FailAccounts"] == []
    carol = wire.login("carol")
    message = tcim.MessageObj("dave", "carol", [tcim.MessageText("from the backend")])
    ok(client.send_message(message))
    listed = wire.ok("getMessageList", {"conversationID": "C2Cdave"}, carol)["messageList"]
    assert [m["payload"]["text"] for m in listed] == ["from the backend"]
    online = ok(client.check_user_online(["carol", "dave"]))
    assert [r["Status"] for r in online["QueryResult"]] == ["Online", "Offline"]
    assert ok(client.get_unread_num("carol"))["AllC2CUnreadMsgNum"] == 1
    group = tcim.GroupObj("carol", "Public", "backend group", mem_list=[tcim.GroupMemObj("dave")])
    group_id = ok(client.create_group(group))["GroupId"]
    assert group_id.startswith("@TGS#")
    ok(client.send_group_message(group_id, [tcim.MessageText("to the group")], from_account="dave"))
    history = ok(client.get_msg_in_group(group_id, 5))["RspMsgList"]
    assert history[0]["MsgBody"][0]["MsgContent"]["Text"] == "to the group"
    assert wire.ok("getGroupProfile", {"groupID": group_id}, carol)["group"]["memberNum"] == 2
