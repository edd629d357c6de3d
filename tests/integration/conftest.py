"""Integration fixtures: a real ``simtim serve`` per module, reset between tests."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from simtim.driver.http import HttpDriver
from tests.integration.server_process import ADMIN_KEY, ServerProcess


@pytest.fixture(scope="module")
def server() -> Iterator[ServerProcess]:
    proc = ServerProcess()
    yield proc
    proc.stop()


@pytest.fixture
def http_driver(server: ServerProcess) -> Iterator[HttpDriver]:
    driver = HttpDriver(server.url, admin_key=ADMIN_KEY)
    assert driver.admin("reset", {}).ok
    yield driver
    driver.close()
