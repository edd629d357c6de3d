"""The committed compatibility matrix (docs/compat/synapse.md) is what conform finds on a real
Synapse today: the same command CI runs (`--compat-check`), with the expectation file.

Slow (about two minutes): a full conform run. Skipped without a Python that has matrix-synapse,
except under ``SIMTIM_REQUIRE_TOOLS=1``.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path

import pytest

from simtim.cli import main
from simtim.peer.synapse import SynapseProcess, find, install_hint

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.slow
def test_conform_on_synapse_matches_the_committed_matrix_and_the_expectation_file(tmp_path: Path) -> None:
    python = find()
    if python is None:
        if os.environ.get("SIMTIM_REQUIRE_TOOLS") == "1":
            pytest.fail(f"matrix-synapse is required in CI: {install_hint()}")
        pytest.skip(f"no Python with matrix-synapse: {install_hint()}")
    written = tmp_path / "compat.md"
    # the database on a tmpfs as in CI (.ci/run): on a busy disk SQLite's fsyncs made the joins of a
    # 100-member group lag past the 30 s time tolerance, and MBR-3/MBR-4 flipped with the load
    shm = Path("/dev/shm")
    home = Path(tempfile.mkdtemp(dir=shm)) if shm.is_dir() else tmp_path / "hs"
    try:
        code = _conform(home, python, written)
    finally:
        if home.parent == shm:
            shutil.rmtree(home, ignore_errors=True)
    assert (
        code == 0
    )  # every rule passed, skipped/unsupported with a reason, or a listed divergence; not stale
    assert "| passed |" in written.read_text()


def _conform(home: Path, python: str, written: Path) -> int:
    with SynapseProcess(home, python=python) as server:
        return main(
            [
                "conform",
                "--target",
                server.target,
                "--matrix-registration-secret",
                server.secret,
                "--known-divergences",
                str(ROOT / "scenarios" / "targets" / "synapse.yaml"),
                "--random-steps",
                "50",
                "--max-wait",
                "30",
                "--compat",
                str(written),
                "--compat-check",
                str(ROOT / "docs" / "compat" / "synapse.md"),
            ]
        )
