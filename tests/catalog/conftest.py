"""Fixtures for the catalog feed tests."""

from __future__ import annotations

from typing import Any

import pytest


@pytest.fixture
def pim(api: Any) -> Any:
    """The PIM, the system that feeds products."""
    return api("pim")
