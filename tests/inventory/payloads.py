"""Request bodies for the location and stock feeds, and reads of what they left behind."""

from __future__ import annotations

from typing import Any

from inventory.models import StockLevel, StockMovement
from oms.core.models import OutboxEvent

T0 = "2025-03-01T08:00:00+01:00"
T1 = "2025-03-01T09:00:00+01:00"
T2 = "2025-03-01T10:00:00+01:00"


def location_body(**overrides: Any) -> dict[str, Any]:
    """A valid `PUT /api/v1/locations/{code}` body for a warehouse in Kassel."""
    body: dict[str, Any] = {
        "name": "Zentrallager Kassel",
        "kind": "warehouse",
        "address": {"street": "Sandershäuser Str. 34", "postal_code": "34123",
                    "city": "Kassel", "country": "DE"},
        "lat": 51.3127,
        "lon": 9.4797,
        "capabilities": ["ships", "accepts_returns"],
        "priority": 10,
    }
    body.update(overrides)
    return body


def snapshot_body(location: str, as_of: str | None, *levels: Any,
                  **extra: Any) -> dict[str, Any]:
    """`levels` are `(sku, on_hand)` tuples, or anything else sent as it is."""
    rows = [{"sku": lvl[0], "on_hand": lvl[1]} if isinstance(lvl, tuple) else lvl
            for lvl in levels]
    return {"location": location, "as_of": as_of, "levels": rows, **extra}


def movement_body(location: str, sku: str, quantity: int, kind: str = "receipt",
                  reference: str = "ASN-1") -> dict[str, Any]:
    return {"location": location, "sku": sku, "quantity": quantity, "kind": kind,
            "reference": reference}


def on_hand(sku: str, location: str) -> int | None:
    level = StockLevel.objects.filter(product_id=sku, location__code=location).first()
    return None if level is None else level.on_hand


def stock_state() -> tuple[list[tuple[Any, ...]], int, int]:
    """Every stock level, the number of movements and of stock events: compare it before and
    after a refused request to see that nothing was written."""
    levels = list(StockLevel.objects.order_by("pk").values_list(
        "product_id", "location__code", "on_hand", "reserved", "safety_stock", "snapshot_as_of"))
    return (levels, StockMovement.objects.count(),
            OutboxEvent.objects.filter(topic__startswith="stock.").count())


def attrs(response: Any) -> list[str | None]:
    return [e["attr"] for e in response.json()["errors"]]
