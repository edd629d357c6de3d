"""PAGE-2 store caps (``--max-messages*``) belong to a durable server's configuration: evictions
happen inside operations, so a replay under other caps would rebuild another state."""

from __future__ import annotations

from pathlib import Path

import pytest

from simtim.durable.journal import JournalError
from simtim.durable.recovery import ServerConfig, open_durable

CAPS = {"max_messages_per_conversation": 5, "max_messages": 0}


def test_page_2_caps_are_recorded_and_used_by_every_later_start(tmp_path: Path) -> None:
    first = open_durable(tmp_path, fake_clock=False, clock_start=None, seed=3, app_defaults=CAPS)
    assert first.config.app_defaults == {"max_messages_per_conversation": 5}
    first.journal.close()
    again = open_durable(tmp_path, fake_clock=None, clock_start=None, seed=None)  # no flags: the stored caps
    assert again.service.app_defaults == {"max_messages_per_conversation": 5}
    app = next(iter(again.service.world.apps.values()))
    assert app.config.max_messages_per_conversation == 5
    again.journal.close()


def test_page_2_a_start_with_other_caps_is_refused(tmp_path: Path) -> None:
    open_durable(tmp_path, fake_clock=False, clock_start=None, seed=3, app_defaults=CAPS).journal.close()
    with pytest.raises(JournalError, match="store caps"):
        open_durable(
            tmp_path, fake_clock=None, clock_start=None, seed=None, app_defaults={"max_messages": 100}
        )


def test_a_configuration_written_before_the_caps_reads_as_no_caps() -> None:
    config = ServerConfig.from_json({"fakeClock": False, "clockStart": None, "seed": 1})
    assert config.app_defaults == {}
    assert ServerConfig.from_json(config.to_json()) == config
