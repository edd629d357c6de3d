"""The REST v4 channel: URLs, the command table, envelopes, and transport failures as 6010."""

from __future__ import annotations

import socket

import pytest

from simtim.driver.inproc import InProcDriver
from simtim.driver.timrest import InProcRest, RestChannel, path_of, reply_of, rest_url_of
from simtim.errors import Code
from simtim.model.core import DEV_SDKAPPID, DEV_SECRET_KEY


def test_rest_urls_and_paths() -> None:
    assert rest_url_of("timrest+http://127.0.0.1:8080/") == "http://127.0.0.1:8080"
    assert rest_url_of("timrest+https://im.example.com") == "https://im.example.com"
    with pytest.raises(ValueError, match="timrest"):
        rest_url_of("http://127.0.0.1:8080")
    assert path_of("sendmsg") == "/v4/openim/sendmsg"
    assert path_of("create_group") == "/v4/group_open_http_svc/create_group"
    assert path_of("openim/anything") == "/v4/openim/anything"
    with pytest.raises(ValueError, match="unknown"):
        path_of("no_such_command")


def test_an_envelope_becomes_a_reply_and_garbage_a_transport_failure() -> None:
    reply = reply_of({"ActionStatus": "FAIL", "ErrorCode": 90012, "ErrorInfo": "no", "X": 1})
    assert (reply.code, reply.message, reply.data) == (90012, "no", {"X": 1})
    for garbage in ([1], "OK", {"ActionStatus": "OK"}, {"ErrorCode": "0"}):
        assert reply_of(garbage).code == Code.HTTP_REQUEST_FAILED


def test_inproc_rest_answers_as_the_admin_and_as_another_identifier() -> None:
    driver = InProcDriver()
    rest = InProcRest(driver, DEV_SDKAPPID, DEV_SECRET_KEY, now=lambda: 1_600_000_000)
    assert rest.call("account_import", {"UserID": "alice"}).ok
    assert rest.call("account_check", {"CheckItem": [{"UserID": "alice"}]}, identifier="alice").code == 60010
    assert rest.call("nosvc/nocmd", {}).code == Code.UNKNOWN_METHOD


def test_a_dead_endpoint_is_a_transport_failure_not_an_exception() -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]  # bound, never listening: connections are refused
        channel = RestChannel(f"http://127.0.0.1:{port}", DEV_SDKAPPID, DEV_SECRET_KEY, timeout=1.0)
        reply = channel.call("account_check", {"CheckItem": []})
    assert reply.code == Code.HTTP_REQUEST_FAILED
    channel.close()
