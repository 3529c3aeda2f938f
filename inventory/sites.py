"""Active locations as plain rows, for the reads that run on every request (sourcing, availability):
building model instances for a few hundred locations cost more than the query."""

from __future__ import annotations

from dataclasses import dataclass

from django.db import connection

from inventory.models import Location

# The columns of a Site, in its field order, for queries that select from `inventory_location l`.
SITE_COLUMNS = ("l.id, l.code, l.kind, l.ships, l.ship_from_store, l.click_and_collect, l.lat, "
                "l.lon, l.priority")


@dataclass(frozen=True, slots=True)
class Site:
    pk: int
    code: str
    kind: str
    ships: bool
    ship_from_store: bool
    click_and_collect: bool
    lat: float | None
    lon: float | None
    priority: int
    # The model's own rules, applied to the row.
    ships_parcels = property(Location.ships_parcels.fget)
    offers_pickup = property(Location.offers_pickup.fget)


def active_sites() -> list[Site]:
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT {SITE_COLUMNS} FROM inventory_location l WHERE l.is_active")
        return [Site(*row) for row in cursor.fetchall()]
