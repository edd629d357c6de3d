"""``simtim serve --max-messages-per-conversation N``: the store stays bounded, every app gets the
cap, the evictions show in the admin snapshot, and a cell's shadow model follows the cap (PAGE-2)."""

from __future__ import annotations

import subprocess
import sys

from simtim.conformance.cell import Cell, probe
from simtim.driver.http import HttpDriver
from tests.integration.server_process import ADMIN_KEY, ServerProcess


def test_page_2_a_capped_server_keeps_the_newest_messages_and_the_checker_agrees() -> None:
    server = ServerProcess("--max-messages-per-conversation", "3")
    driver = HttpDriver(server.url, admin_key=ADMIN_KEY)
    try:
        cell = Cell(driver, probe(driver), prefix="cap_", sdkappid=1_500_000_321, event_deadline=2.0)
        for name in ("a", "b"):
            cell.import_account(name)
            assert not cell.login(name).mismatches
        for index in range(5):
            message = {
                "to": cell.user("b"),
                "conversationType": "C2C",
                "type": "TIMTextElem",
                "payload": {"text": f"m{index}"},
            }
            assert not cell.do("a", "sendMessage", {"message": message}, rule="MSG-5").mismatches
        page = cell.do("b", "getMessageList", {"conversationID": "C2C" + cell.user("a")}, rule="PAGE-2")
        assert not page.mismatches, page.mismatches  # the shadow model evicted the same two
        assert [m["payload"]["text"] for m in page.actual.data["messageList"]] == ["m2", "m3", "m4"]
        counts = driver.admin("snapshot", {}).data["counts"]
        assert counts["evictedByCap"] == 2 and counts["historyMessages"] == 3
    finally:
        driver.close()
        server.stop()


def test_a_negative_cap_is_refused_at_start() -> None:
    proc = subprocess.run(
        [sys.executable, "-m", "simtim", "serve", "--max-messages", "-5"],
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert proc.returncode == 2 and "must be 0 or more" in proc.stderr
