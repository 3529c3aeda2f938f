from __future__ import annotations

from typing import Any

import pytest

from fulfillment.models import FulfillmentOrder
from tests.orders.conftest import network, order_body

__all__ = ["network", "order_body"]


@pytest.fixture
def shop(api: Any) -> Any:
    return api("webshop", channel="web")


@pytest.fixture
def wms(api: Any) -> Any:
    """An unscoped WMS client (scoped ones are made in the tests that need them)."""
    return api("wms")


@pytest.fixture
def place(shop: Any) -> Any:
    """place([("A", 2)], **body overrides) → the order JSON."""

    def run(lines: list[tuple[str, int]], **overrides: Any) -> dict[str, Any]:
        response = shop.post("/api/v1/orders", order_body(lines, **overrides))
        assert response.status_code == 201, response.content
        return response.json()

    return run


def fulfillment_of(order: dict[str, Any], location: str) -> FulfillmentOrder:
    return FulfillmentOrder.objects.get(order__number=order["number"], location__code=location)
