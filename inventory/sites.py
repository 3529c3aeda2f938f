"""Active locations as plain rows, for the reads that run on every request (sourcing, availability):
building model instances for a few hundred locations cost more than the query."""

from __future__ import annotations

from dataclasses import dataclass

from inventory.models import Location
from inventory.sql.stock import active_sites_select


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
    return [Site(*row) for row in active_sites_select()]
