"""The target table: one place maps a URL scheme to its driver; docs and help read it."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from simtim.driver.http import HttpDriver
from simtim.driver.inproc import InProcDriver
from simtim.driver.targets import TARGETS, UnknownTarget, help_text, is_loopback, markdown_table, open_target

ROOT = Path(__file__).resolve().parents[3]


def test_schemes_pick_their_drivers() -> None:
    inproc = open_target("inproc://")
    assert isinstance(inproc.driver, InProcDriver) and inproc.settle == 0 and inproc.loopback
    http = open_target("http://127.0.0.1:9")
    assert isinstance(http.driver, HttpDriver) and http.loopback
    assert not open_target("http://10.1.2.3:9").loopback
    for opened in (inproc, http):
        opened.driver.close()


def test_an_unknown_scheme_names_the_known_ones() -> None:
    with pytest.raises(UnknownTarget) as caught:
        open_target("gopher://example")
    for kind in TARGETS:
        assert kind.example in str(caught.value)


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
