"""Reads of stock: availability (available-to-promise) per SKU and location."""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from inventory.models import Location, StockLevel

EARTH_RADIUS_KM = 6371.0


def distance_km(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    """Great-circle (haversine) distance."""
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dp, dl = p2 - p1, math.radians(lon2 - lon1)
    h = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * EARTH_RADIUS_KM * math.asin(math.sqrt(h))


@dataclass(frozen=True)
class Near:
    lat: float
    lon: float
    radius_km: float


@dataclass(frozen=True)
class _Loc:
    code: str
    kind: str
    ships: bool
    pickup: bool
    lat: float | None
    lon: float | None
    priority: int


def _active_locations() -> dict[int, _Loc]:
    rows = Location.objects.filter(is_active=True).values_list(
        "pk", "code", "kind", "ships", "ship_from_store", "click_and_collect", "lat", "lon",
        "priority",
    )
    return {
        pk: _Loc(code, kind, ship_from_store if kind == "store" else ships,
                 kind == "store" and cnc, lat, lon, priority)
        for pk, code, kind, ships, ship_from_store, cnc, lat, lon, priority in rows
    }


def availability_get(
    *, skus: Sequence[str], location_codes: Sequence[str] | None = None, near: Near | None = None,
) -> list[dict[str, Any]]:
    """Per SKU: ``ship_available`` summed over every active location that ships, and the
    locations (filtered by `location_codes` and `near`) with on_hand, reserved, available and
    whether the item can be picked up there. Available never counts safety stock."""
    locations = _active_locations()
    distances: dict[int, float] = {}
    if near is not None:
        for pk, loc in locations.items():
            if loc.lat is not None and loc.lon is not None:
                distances[pk] = distance_km(near.lat, near.lon, loc.lat, loc.lon)
    wanted_codes = set(location_codes) if location_codes else None

    def listed(pk: int) -> bool:
        if wanted_codes is not None and locations[pk].code not in wanted_codes:
            return False
        return near is None or distances.get(pk, math.inf) <= near.radius_km

    rows = StockLevel.objects.filter(product_id__in=list(skus)).values_list(
        "product_id", "location_id", "on_hand", "reserved", "safety_stock"
    )
    ship_available: dict[str, int] = defaultdict(int)
    per_sku: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for sku, location_id, on_hand, reserved, safety in rows:
        loc = locations.get(location_id)
        if loc is None:
            continue
        available = max(on_hand - reserved - safety, 0)
        if loc.ships:
            ship_available[sku] += available
        if listed(location_id):
            entry = {
                "location": loc.code,
                "kind": loc.kind,
                "on_hand": on_hand,
                "reserved": reserved,
                "available": available,
                "pickup": loc.pickup and available > 0,
            }
            if near is not None:
                entry["distance_km"] = round(distances[location_id], 1)
            per_sku[sku].append((distances.get(location_id, 0.0), loc.priority, loc.code, entry))
    return [
        {
            "sku": sku,
            "ship_available": ship_available.get(sku, 0),
            "locations": [item[-1] for item in sorted(per_sku.get(sku, []),
                                                      key=lambda i: i[:3])],
        }
        for sku in dict.fromkeys(skus)
    ]
