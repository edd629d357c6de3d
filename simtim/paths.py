"""Where the shipped data lives: the source tree's ``scenarios/`` and ``docs/spec.md``, or the copies
inside the wheel (pyproject's ``force-include``)."""

from __future__ import annotations

from pathlib import Path

_PACKAGE = Path(__file__).resolve().parent


def scenarios_dir() -> Path:
    """``scenarios/`` of a source checkout, else ``simtim/scenarios`` of an installed wheel."""
    checkout = _PACKAGE.parent / "scenarios"
    if checkout.is_dir():
        return checkout
    return _PACKAGE / "scenarios"


def catalogue_path() -> Path:
    """The rule catalogue: ``docs/spec.md`` of a source checkout, else ``simtim/spec.md`` of a wheel."""
    checkout = _PACKAGE.parent / "docs" / "spec.md"
    if checkout.is_file():
        return checkout
    return _PACKAGE / "spec.md"
