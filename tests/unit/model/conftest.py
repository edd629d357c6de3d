"""Fixtures of the model tests (a module may override ``u`` with a larger cast)."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

import pytest


@pytest.fixture
def u(login: Any) -> SimpleNamespace:
    """owner, admin, member, outsider: one web instance each."""
    return SimpleNamespace(o=login("owner"), a=login("admin"), m=login("member"), x=login("outsider"))
