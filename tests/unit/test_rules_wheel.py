"""A built wheel carries the rule catalogue, so an installed simtim knows every rule of the checkout.

The pyproject check in test_rules.py says what should ship; this builds the wheel and reads what did.
"""

from __future__ import annotations

import subprocess
import sys
import zipfile
from pathlib import Path

from simtim.rules import RULE_IDS, parse_catalogue

ROOT = Path(__file__).resolve().parents[2]


def test_the_built_wheel_ships_the_catalogue_and_the_scenarios(tmp_path: Path) -> None:
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "wheel",
            "--quiet",
            "--no-deps",
            "--wheel-dir",
            str(tmp_path),
            str(ROOT),
        ],
        check=True,
        capture_output=True,
        timeout=300,
    )
    (wheel,) = tmp_path.glob("simtim-*.whl")
    with zipfile.ZipFile(wheel) as archive:
        names = set(archive.namelist())
        shipped = archive.read("simtim/spec.md").decode("utf-8")
    assert [rule.id for rule in parse_catalogue(shipped)] == list(RULE_IDS)
    assert any(name.startswith("simtim/scenarios/conformance/") for name in names)
