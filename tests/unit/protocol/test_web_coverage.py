"""docs/websdk.md's command coverage table is the face's command table, regenerated."""

from __future__ import annotations

from pathlib import Path

from simtim.protocol.web import COMMANDS, EMPTY_REPLIES
from simtim.protocol.web.coverage import END, START, coverage_table, section

DOC = Path(__file__).resolve().parents[3] / "docs" / "websdk.md"


def test_the_coverage_table_in_the_doc_is_the_generated_one() -> None:
    text = DOC.read_text(encoding="utf-8")
    assert START in text and END in text
    current = text[text.index(START) : text.index(END) + len(END)]
    assert current == section(), "docs/websdk.md is stale: python -m simtim.protocol.web.coverage"


def test_every_served_and_empty_command_has_a_row() -> None:
    table = coverage_table()
    for servcmd in [*COMMANDS, *EMPTY_REPLIES]:
        assert f"| `{servcmd}` |" in table
    assert not set(COMMANDS) & set(EMPTY_REPLIES)  # a command is served or answered empty, not both
