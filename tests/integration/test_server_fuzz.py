"""Fuzz a real ``simtim serve`` with Hypothesis over real sockets (derandomized: same requests on
every run, in CI). The strategies and invariants live in ``tests/fuzzing.py``; this suite is the
share that goes through uvicorn, httptools and TCP (the in-process suite,
``tests/unit/server/test_app_fuzz.py``, sends several times more through the ASGI app).

Every simtim/1 method plus junk names, bodies from recursive JSON, from the server's own OpenAPI
request schemas and raw bytes; valid, unknown, malformed and missing tokens; and the admin API.
Each test asserts how many requests it really sent; together >= 2000.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.fuzzing import Fuzzer, fuzz_admin, fuzz_json, fuzz_raw, fuzz_schema
from tests.integration.server_process import ServerProcess
from tests.integration.wire import Wire

#: requests per test; the json test sends each body twice (a live token, then an unknown one)
QUOTAS = {"json": 1000, "schema": 800, "raw": 400, "admin": 250}
assert sum(QUOTAS.values()) >= 2000
SENT_BY_TEST: dict[str, int] = {}


@pytest.fixture(scope="module")
def fuzzer(server: ServerProcess) -> Iterator[Fuzzer]:
    fz = Fuzzer(Wire(server.url))
    fz.setup()
    yield fz
    fz.wire.close()
    assert server.proc.poll() is None, "the server died during the fuzz"


def test_fuzz_methods_with_json_bodies(fuzzer: Fuzzer) -> None:
    fuzz_json(fuzzer, QUOTAS["json"])
    SENT_BY_TEST["json"] = fuzzer.sent["json"]
    assert fuzzer.sent["json"] >= QUOTAS["json"], fuzzer.sent


def test_fuzz_openapi_schema_bodies(fuzzer: Fuzzer) -> None:
    fuzz_schema(fuzzer, QUOTAS["schema"])
    SENT_BY_TEST["schema"] = fuzzer.sent["schema"]
    assert fuzzer.sent["schema"] >= QUOTAS["schema"], fuzzer.sent


def test_fuzz_raw_bytes_and_verbs(fuzzer: Fuzzer) -> None:
    fuzz_raw(fuzzer, QUOTAS["raw"])
    SENT_BY_TEST["raw"] = fuzzer.sent["raw"]
    assert fuzzer.sent["raw"] >= QUOTAS["raw"], fuzzer.sent


# --- the admin API, on a server of its own (fuzzed ops reset, disable and move clocks) -----------------
@pytest.fixture(scope="module")
def admin_fuzzer() -> Iterator[Fuzzer]:
    proc = ServerProcess()
    fz = Fuzzer(Wire(proc.url))
    fz.setup()
    yield fz
    fz.wire.close()
    assert proc.proc.poll() is None, "the server died during the admin fuzz"
    assert proc.stop() == 0


def test_fuzz_admin_ops(admin_fuzzer: Fuzzer) -> None:
    fuzz_admin(admin_fuzzer, QUOTAS["admin"])
    SENT_BY_TEST["admin"] = admin_fuzzer.sent["admin"]
    assert admin_fuzzer.sent["admin"] >= QUOTAS["admin"], admin_fuzzer.sent


def test_fuzz_total_and_server_alive(fuzzer: Fuzzer, server: ServerProcess) -> None:
    """The default run sends >= 2000 fuzzed requests; the server is alive and serving afterwards."""
    assert server.proc.poll() is None
    wire = fuzzer.wire
    assert wire.request("GET", "/healthz").status == 200
    assert wire.login("eve")
    if set(SENT_BY_TEST) != set(QUOTAS):
        pytest.skip("the total is checked when the whole module runs")
    assert sum(SENT_BY_TEST.values()) >= 2000, SENT_BY_TEST
    assert fuzzer.digests_checked >= 50, (fuzzer.digests_checked, fuzzer.refused)
