"""The target table: one place maps a URL scheme to its driver; docs and help read it."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from simtim.driver.http import HttpDriver
from simtim.driver.inproc import InProcDriver
from simtim.driver.targets import (
    BY_SCHEME,
    NOT_SERVED,
    TARGETS,
    UnknownTarget,
    help_text,
    is_loopback,
    kind_of,
    markdown_table,
    open_target,
)
from simtim.driver.timrest import RestOnlyDriver

ROOT = Path(__file__).resolve().parents[3]


def test_schemes_pick_their_drivers() -> None:
    inproc = open_target("inproc://")
    assert isinstance(inproc.driver, InProcDriver) and inproc.settle == 0 and inproc.loopback
    http = open_target("http://127.0.0.1:9")
    assert isinstance(http.driver, HttpDriver) and http.loopback
    assert not open_target("http://10.1.2.3:9").loopback
    for opened in (inproc, http):
        opened.driver.close()


def test_timrest_targets_use_simtim1_beside_plain_http_and_nothing_beside_tls() -> None:
    plain = open_target("timrest+http://127.0.0.1:9")
    assert isinstance(plain.driver, HttpDriver) and plain.rest is not None and plain.loopback
    tls = open_target("timrest+https://im.example.com")
    assert isinstance(tls.driver, RestOnlyDriver) and tls.rest is not None and not tls.loopback
    for opened in (plain, tls):
        opened.driver.close()


@pytest.mark.parametrize(
    ("url", "says"),
    [
        ("gopher://example", "no target speaks gopher://"),
        ("https://127.0.0.1:1", "simtim/1 over TLS is not supported"),
        ("127.0.0.1:8080", "give a scheme"),
        ("http://", "names no host"),
        ("http://127.0.0.1:abc", "the port must be a number"),
    ],
)
def test_a_url_no_row_serves_is_refused_with_the_list_of_targets(url: str, says: str) -> None:
    with pytest.raises(UnknownTarget) as caught:
        open_target(url)
    assert says in str(caught.value)
    for kind in TARGETS:
        assert kind.example in str(caught.value)


def test_rows_are_keyed_by_scheme_and_refusals_are_not_rows() -> None:
    assert list(BY_SCHEME) == [kind.scheme for kind in TARGETS]  # one row per scheme
    assert not set(NOT_SERVED) & set(BY_SCHEME)
    for kind in TARGETS:
        assert kind_of(kind.example) is kind and kind.example.startswith(f"{kind.scheme}://")


def test_the_load_harness_reads_its_hints_from_the_rows() -> None:
    """inproc is one model shared by every cell; a simtim/1 host has REST v4 at the same address."""
    assert [k.scheme for k in TARGETS if k.in_process] == ["inproc"]
    assert [k.scheme for k in TARGETS if k.rest_beside] == ["http"]


def test_the_docs_carry_the_table() -> None:
    text = (ROOT / "docs" / "conformance.md").read_text(encoding="utf-8")
    found = re.search(r"<!-- targets:begin -->\n(.*?)\n<!-- targets:end -->", text, re.S)
    assert found is not None and found.group(1) == markdown_table()


def test_help_lists_every_scheme() -> None:
    for kind in TARGETS:
        assert kind.example in help_text()


def test_loopback_detection() -> None:
    assert (
        is_loopback("http://localhost:1") and is_loopback("http://[::1]:1") and not is_loopback("http://a.b")
    )


def test_matrix_targets_open_the_matrix_driver_with_the_secret_from_the_options() -> None:
    from simtim.driver.matrix import MatrixDriver
    from simtim.driver.targets import MATRIX_SECRET, TargetOptions

    opened = open_target("matrix+http://127.0.0.1:9/", TargetOptions(extra={MATRIX_SECRET: "s3"}))
    try:
        assert isinstance(opened.driver, MatrixDriver)
        assert opened.driver.base_url == "http://127.0.0.1:9" and opened.driver.secret == "s3"
        assert opened.settle > 0.05 and opened.loopback and opened.rest is None
    finally:
        opened.driver.close()
    assert kind_of("matrix+https://hs.example.org").possible_capabilities == ("admin", "sdk")
