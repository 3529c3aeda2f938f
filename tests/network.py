"""The one location network of the suite (the `network` fixture in tests/conftest.py): a
warehouse in Kassel, a second one in Hamburg, a ship-from-store store in Berlin and a
click-and-collect store in Munich; and the helpers of tests that place orders into it."""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from typing import Any

from django.utils import timezone

from inventory.models import Location, StockLevel
from tests.factories import LocationFactory, ProductFactory, StoreFactory


@dataclass
class Network:
    kassel: Location
    hamburg: Location
    berlin: Location
    munich: Location

    def stock(self, location: Location, sku: str, on_hand: int, safety: int = 0) -> StockLevel:
        ProductFactory(sku=sku)
        level, _ = StockLevel.objects.update_or_create(
            product_id=sku, location=location,
            defaults={"on_hand": on_hand, "safety_stock": safety, "reserved": 0,
                      "updated_at": timezone.now()},
        )
        return level


def network_build() -> Network:
    return Network(
        kassel=LocationFactory(code="WH-KS", priority=10, lat=51.31, lon=9.48),
        hamburg=LocationFactory(code="WH-HH", priority=20, lat=53.55, lon=9.99),
        berlin=StoreFactory(code="ST-BER", ship_from_store=True, lat=52.52, lon=13.40),
        munich=StoreFactory(code="ST-MUC", lat=48.14, lon=11.57),
    )


_psp_references = itertools.count(1)
SHIPPING_ADDRESS = {"name": "Kim Weber", "line1": "Unter den Linden 1", "postal_code": "10117",
                    "city": "Berlin", "country": "DE"}


def order_body(lines: list[tuple[str, int]], *, price: str = "10.00", **overrides: Any) -> dict:
    """A valid POST /orders body; `lines` are (sku, quantity)."""
    from decimal import Decimal

    total = sum(Decimal(price) * qty for _, qty in lines)
    body = {
        "customer": {"email": "kim@example.de", "name": "Kim"},
        "currency": "EUR",
        "lines": [{"sku": sku, "quantity": qty, "unit_price": price, "tax_rate": "19.00"}
                  for sku, qty in lines],
        "delivery": {"method": "ship", "address": SHIPPING_ADDRESS},
        "payment": {"method": "card", "status": "authorized", "amount": str(total),
                    "psp_reference": f"psp_{next(_psp_references)}"},
    }
    body.update(overrides)
    return body


def level(sku: str, location: Location) -> StockLevel:
    return StockLevel.objects.get(product_id=sku, location=location)
