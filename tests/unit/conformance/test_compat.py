"""``simtim.conformance.compat``: the generated compatibility matrix and its staleness check."""

from __future__ import annotations

from pathlib import Path

from simtim.conformance import compat
from simtim.conformance.check import Mismatch
from simtim.conformance.evidence import Ledger
from simtim.conformance.report import ConformReport, Divergence


def report(passing: int = 3, failing: int = 0, divergence: bool = False) -> ConformReport:
    ledger = Ledger()
    for _ in range(passing):
        ledger.check("MSG-1", [], "messages")
    for _ in range(failing):
        ledger.check("REV-1", [Mismatch("REV-1", "revokeMessage", "code", 20016, 0)], "revoke")
    ledger.unsupported("GRP-3", "Matrix rooms cannot be deleted", "group_dismiss")
    known = [Divergence("no revoke window on Matrix", "REV-1")] if divergence else []
    return ConformReport(ledger, known, "matrix+http://127.0.0.1:8008")


def test_the_matrix_is_written_between_markers_and_keeps_the_rest_of_the_file(tmp_path: Path) -> None:
    path = tmp_path / "compat" / "server.md"
    compat.write(path, report(), "Compatibility of Synapse 1.163.2", ["- server: Synapse 1.163.2"])
    first = path.read_text()
    assert first.startswith(compat.BEGIN) and compat.END in first
    assert "| [MSG-1](../spec.md#msg-1) | passed | 3 | 0 |" in first
    assert (
        "| [GRP-3](../spec.md#grp-3) | unsupported by target | 0 | 0 | Matrix rooms cannot be deleted |"
        in first
    )
    path.write_text("# Synapse\n\nhand-written intro\n\n" + first + "\n## Load\n\nhand-written table\n")
    compat.write(path, report(failing=2, divergence=True), "Compatibility of Synapse", [])
    again = path.read_text()
    assert again.startswith("# Synapse\n\nhand-written intro\n") and again.endswith("hand-written table\n")
    assert again.count(compat.BEGIN) == 1
    assert compat.outcomes(again)["REV-1"] == "expected divergence"


def test_a_committed_matrix_is_stale_when_any_rule_has_another_outcome(tmp_path: Path) -> None:
    path = tmp_path / "server.md"
    compat.write(path, report(), "t", [])
    assert compat.stale(path, report(passing=5)) == []  # counts alone never make it stale
    lines = compat.stale(path, report(failing=1))
    assert lines == ["REV-1: committed 'skipped', this run 'failed'"]


def test_a_missing_committed_matrix_says_how_to_write_it(tmp_path: Path) -> None:
    lines = compat.stale(tmp_path / "none.md", report())
    assert len(lines) == 1 and "--compat" in lines[0]
