"""Fixtures for the location, stock and availability tests."""

from __future__ import annotations

from typing import Any

import pytest


@pytest.fixture
def erp(api: Any) -> Any:
    """An unscoped ERP client: writes locations and stock anywhere."""
    return api("erp")


@pytest.fixture
def wms(api: Any) -> Any:
    """An unscoped warehouse management system."""
    return api("wms")


@pytest.fixture
def webshop(api: Any) -> Any:
    return api("webshop")
