"""Reads of stock: availability (available-to-promise) per SKU and location."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from operator import itemgetter
from typing import Any

from django.db import connection

from inventory.models import Location

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
    wanted_codes = set(location_codes) if location_codes else None
    # Per location once (a few hundred), not per stock row (twenty times as many): whether it
    # is listed, its sort key and its distance.
    listing: dict[int, tuple[tuple[float, int, str], float | None]] = {}
    for pk, loc in locations.items():
        if wanted_codes is not None and loc.code not in wanted_codes:
            continue
        distance = None
        if near is not None:
            if loc.lat is None or loc.lon is None:
                continue
            distance = distance_km(near.lat, near.lon, loc.lat, loc.lon)
            if distance > near.radius_km:
                continue
        listing[pk] = ((distance or 0.0, loc.priority, loc.code), distance)

    # Only the rows an answer needs: listed locations and those counted in ship_available.
    # A store finder (`near`) then reads a fraction of the 200 rows each SKU has.
    needed = None
    if wanted_codes is not None or near is not None:
        needed = [pk for pk, loc in locations.items() if loc.ships or pk in listing]
    ship_available: dict[str, int] = dict.fromkeys(skus, 0)
    per_sku: dict[str, list[tuple[tuple[float, int, str], dict[str, Any]]]] = {
        sku: [] for sku in skus}
    for sku, location_id, on_hand, reserved, safety in _stock_rows(skus, needed):
        loc = locations.get(location_id)
        if loc is None:
            continue
        available = max(on_hand - reserved - safety, 0)
        if loc.ships:
            ship_available[sku] += available
        listed = listing.get(location_id)
        if listed is not None:
            key, distance = listed
            entry = {"location": loc.code, "kind": loc.kind, "on_hand": on_hand,
                     "reserved": reserved, "available": available,
                     "pickup": loc.pickup and available > 0}
            if distance is not None:
                entry["distance_km"] = round(distance, 1)
            per_sku[sku].append((key, entry))
    return [
        {"sku": sku, "ship_available": ship_available[sku],
         "locations": [entry for _key, entry in sorted(per_sku[sku], key=itemgetter(0))]}
        for sku in per_sku
    ]


def _stock_rows(skus: Sequence[str], location_ids: Sequence[int] | None,
                ) -> list[tuple[str, int, int, int, int]]:
    # A plain cursor: model instances or ORM value rows for 20 SKUs x 200 locations cost more
    # than the query itself (bench/availability.py).
    sql = ("SELECT sku, location_id, on_hand, reserved, safety_stock FROM inventory_stocklevel "
           f"WHERE sku IN ({', '.join(['%s'] * len(skus))})")
    params: list[Any] = list(skus)
    if location_ids is not None:
        if not location_ids:
            return []
        sql += f" AND location_id IN ({', '.join(['%s'] * len(location_ids))})"
        params += location_ids
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.fetchall()
