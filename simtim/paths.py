"""Where the shipped data lives: the source tree's ``scenarios/``, or the copy inside the wheel."""

from __future__ import annotations

from pathlib import Path

_PACKAGE = Path(__file__).resolve().parent


def scenarios_dir() -> Path:
    """``scenarios/`` of a source checkout, else ``simtim/scenarios`` of an installed wheel."""
    checkout = _PACKAGE.parent / "scenarios"
    if checkout.is_dir():
        return checkout
    return _PACKAGE / "scenarios"
