"""``probe``: an admin channel says which of app_config and callback it has (a Matrix driver has
neither); a simtim/1 admin that says nothing has both."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from simtim.conformance.target import probe
from simtim.driver.base import Call, EventStream, Reply


class AdminOnly:
    """A driver whose admin channel answers ``snapshot`` with the given data (no client calls)."""

    def __init__(self, snapshot: dict[str, Any]) -> None:
        self.snapshot = snapshot

    def call(self, call: Call) -> Reply:
        return Reply.not_supported("no client side in this test")

    def events(self, session: str) -> EventStream:
        return EventStream(session)

    def admin(self, op: str, body: Mapping[str, Any]) -> Reply:
        return Reply(0, "", self.snapshot)

    def close(self) -> None:
        pass


def test_a_snapshot_without_app_config_or_callback_is_probed_as_lacking_them() -> None:
    info = probe(
        AdminOnly(
            {"now": 5, "fakeClock": False, "appConfig": False, "callback": False, "server": "Synapse 1.163.2"}
        )
    )
    caps = info.capabilities
    assert caps.admin and not caps.app_config and not caps.callback and not caps.fake_clock
    assert info.server == "Synapse 1.163.2"


def test_a_snapshot_that_says_nothing_keeps_the_simtim_admin_capabilities() -> None:
    caps = probe(AdminOnly({"now": 5, "fakeClock": True})).capabilities
    assert caps.admin and caps.app_config and caps.callback and caps.fake_clock
