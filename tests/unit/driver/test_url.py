"""``simtim.driver.url``: the one parser every target and channel URL goes through."""

from __future__ import annotations

import pytest

from simtim.driver.http import endpoint
from simtim.driver.timrest import RestChannel, rest_url_of
from simtim.driver.url import BadURL, inner_url, parse_url


def test_a_face_over_a_transport_splits_at_the_plus() -> None:
    url = parse_url("TIMREST+HTTPS://im.example.com/prefix/?x=1")
    assert (url.scheme, url.transport, url.tls, url.host, url.port) == (
        "timrest+https",
        "https",
        True,
        "im.example.com",
        443,
    )
    assert url.base == "https://im.example.com/prefix" and url.query == "x=1"
    assert not url.loopback


def test_ports_default_by_transport_and_ipv6_keeps_its_brackets() -> None:
    assert parse_url("http://127.0.0.1").port == 80
    socket = parse_url("timweb+wss://im.example.com/ws")  # a WebSocket face needs no new parser
    assert (socket.transport, socket.tls, socket.port, socket.base) == (
        "wss",
        True,
        443,
        "wss://im.example.com/ws",
    )
    with pytest.raises(BadURL, match="names no host"):
        parse_url("matrix+https://")
    url = parse_url("http://user@[::1]:8080")
    assert (url.host, url.port, url.base, url.loopback) == ("::1", 8080, "http://[::1]:8080", True)


def test_a_scheme_without_a_network_address_needs_no_host() -> None:
    url = parse_url("inproc://?clock=real")
    assert (url.transport, url.host, url.port, url.query, url.loopback) == ("", "", 0, "clock=real", True)


@pytest.mark.parametrize(
    ("text", "says"),
    [
        ("127.0.0.1:8080", "give a scheme, e.g. http://127.0.0.1:8080"),
        ("localhost:8080", "give a scheme"),
        ("http:", "give a scheme"),
        ("http://", "names no host"),
        ("http://127.0.0.1:abc", "the port must be a number"),
        ("", "give a scheme"),
    ],
)
def test_a_url_without_a_usable_address_is_refused_clearly(text: str, says: str) -> None:
    with pytest.raises(BadURL, match=says):
        parse_url(text)


def test_the_drivers_and_the_rest_channel_parse_with_it() -> None:
    assert endpoint("http://127.0.0.1:9/") == ("127.0.0.1", 9)
    with pytest.raises(ValueError, match="not an http:// URL"):
        endpoint("https://127.0.0.1:9")  # simtim/1 has no TLS driver
    assert rest_url_of("timrest+http://127.0.0.1:9/") == "http://127.0.0.1:9"
    with pytest.raises(ValueError, match="timrest"):
        rest_url_of("http://127.0.0.1:9")
    channel = RestChannel("https://im.example.com:8443/api", 1400000000, "k" * 32)
    assert (channel._https, channel._host, channel._port, channel._prefix) == (
        True,
        "im.example.com",
        8443,
        "/api",
    )
    with pytest.raises(BadURL, match="port"):
        RestChannel("http://h:x", 1400000000, "k" * 32)


def test_inner_url_strips_the_face_and_refuses_another_face() -> None:
    assert inner_url("matrix+http://127.0.0.1:8008/", "matrix") == "http://127.0.0.1:8008"
    assert inner_url("timrest+https://im.example.com/x", "timrest") == "https://im.example.com/x"
    with pytest.raises(BadURL, match="not a matrix"):
        inner_url("timrest+http://127.0.0.1:8008", "matrix")
