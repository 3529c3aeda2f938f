"""Sourcing v1: which locations serve which lines of an order.

For home delivery the candidates are the active locations that ship parcels. They are ranked
warehouses first, then supplier sites, then stores with ship-from-store; within a kind by
priority (lower first), then by distance to the delivery address when both have coordinates.
One location serving the whole order wins; otherwise each line goes to the best location that
has all of it, preferring locations already chosen (fewer parcels); a line nobody has whole is
split across locations in rank order. For pickup, only the named store is a candidate.

The decision is a value: it reserves nothing. Reservations apply it with conditional updates
and ask again if stock moved in between (see `inventory.reservations`).
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Callable, Collection, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from functools import partial
from typing import Any

from django.utils.translation import gettext as _

from inventory.models import LocationKind
from inventory.selectors import distance_km
from inventory.sites import Site
from inventory.sql.stock import SITE_WIDTH, sites_with_stock_select
from oms.core.errors import NotFound, Unprocessable

KIND_ORDER = {LocationKind.WAREHOUSE: 0, LocationKind.SUPPLIER: 1, LocationKind.STORE: 2}


@dataclass(frozen=True)
class LineRequest:
    sku: str
    quantity: int


@dataclass(frozen=True)
class DeliveryRequest:
    method: str  # "ship" | "pickup"
    location: str = ""  # the store, for pickup
    lat: float | None = None
    lon: float | None = None

    @classmethod
    def to_address(cls, address: Mapping[str, Any]) -> DeliveryRequest:
        """Home delivery; the address's `lat`/`lon`, when both are numbers, rank by distance."""
        lat, lon = address.get("lat"), address.get("lon")
        known = isinstance(lat, int | float) and isinstance(lon, int | float)
        return cls(method="ship", lat=float(lat) if known else None,
                   lon=float(lon) if known else None)


@dataclass(frozen=True)
class Allocation:
    sku: str
    quantity: int
    location_id: int
    location: str
    stock_level_id: int


@dataclass
class Decision:
    method: str
    allocations: list[Allocation] = field(default_factory=list)
    shortages: dict[str, int] = field(default_factory=dict)  # sku -> units nobody has
    strategy: str = ""
    # Writes the reasons on first use: an order stores them, a cart hold (the hottest caller)
    # never reads them.
    explain: Callable[[Decision], list[dict[str, Any]]] | None = field(
        default=None, repr=False, compare=False)
    _candidates: list[dict[str, Any]] | None = field(
        default=None, init=False, repr=False, compare=False)

    @property
    def candidates(self) -> list[dict[str, Any]]:
        """Every location considered, in rank order, with why it was or was not chosen."""
        if self._candidates is None:
            self._candidates = self.explain(self) if self.explain is not None else []
        return self._candidates

    @property
    def location_codes(self) -> list[str]:
        return list(dict.fromkeys(a.location for a in self.allocations))

    def as_json(self) -> dict[str, Any]:
        return {
            "method": self.method,
            "strategy": self.strategy,
            "allocations": [asdict(a) for a in self.allocations],
            "shortages": self.shortages,
            "candidates": self.candidates,
        }


# Units already held for the caller (a cart hold being consumed): (sku, location_id) -> units.
Credit = Mapping[tuple[str, int], int]


@dataclass
class _Candidate:
    location: Site
    rank: tuple
    distance: float | None
    available: dict[str, int] = field(default_factory=dict)  # what is left while deciding
    stocked: dict[str, int] = field(default_factory=dict)  # what there was before deciding
    level_ids: dict[str, int] = field(default_factory=dict)

    def covers(self, sku: str, quantity: int) -> bool:
        return self.available.get(sku, 0) >= quantity


StockRow = tuple[int, str, int, int, int]  # level id, sku, on_hand, reserved, safety_stock
Sites = dict[Site, list[StockRow]]


def _sites_with_stock(skus: Sequence[str], code: str | None) -> Sites:
    sites: Sites = {}
    for row in sites_with_stock_select(skus, code):
        stock = sites.setdefault(Site(*row[:SITE_WIDTH]), [])
        if row[SITE_WIDTH] is not None:
            stock.append(row[SITE_WIDTH:])
    return sites


def _pickup_store(skus: Sequence[str], code: str) -> Sites:
    """The store named for a pickup: 404 if unknown, 422 if it cannot take pickups."""
    sites = _sites_with_stock(skus, code)
    if not sites:
        raise NotFound(_("No location with code %(code)s.") % {"code": code},
                       attr="delivery.location")
    if not next(iter(sites)).offers_pickup:
        raise Unprocessable(
            _("%(code)s does not offer click and collect.") % {"code": code},
            code="pickup_not_offered", attr="delivery.location",
        )
    return sites


def _candidates(skus: Sequence[str], delivery: DeliveryRequest,
                exclude: Collection[int]) -> Sites:
    if delivery.method == "pickup":
        sites = _pickup_store(skus, delivery.location)
    else:
        sites = {site: stock for site, stock in _sites_with_stock(skus, None).items()
                 if site.ships_parcels}
    return {site: stock for site, stock in sites.items() if site.pk not in exclude}


def _rank(sites: Sites, delivery: DeliveryRequest, credit: Credit) -> list[_Candidate]:
    candidates = []
    for site, stock in sites.items():
        distance = None
        if None not in (delivery.lat, delivery.lon, site.lat, site.lon):
            distance = distance_km(delivery.lat, delivery.lon, site.lat, site.lon)
        rank = (KIND_ORDER[site.kind], site.priority,
                math.inf if distance is None else distance, site.code)
        candidate = _Candidate(site, rank, distance)
        for level_id, sku, on_hand, reserved, safety in stock:
            available = on_hand - reserved - safety + credit.get((sku, site.pk), 0)
            candidate.available[sku] = candidate.stocked[sku] = max(available, 0)
            candidate.level_ids[sku] = level_id
        candidates.append(candidate)
    return sorted(candidates, key=lambda c: c.rank)


def sourcing_decide(*, lines: Sequence[LineRequest], delivery: DeliveryRequest,
                    credit: Credit | None = None,
                    exclude: Collection[int] = ()) -> Decision:
    """Decide where each line is served, with the reasons; reserves nothing. Locations in
    `exclude` (ids) are not considered: re-sourcing passes the ones that already failed."""
    sites = _candidates([ln.sku for ln in lines], delivery, exclude)
    ranked = _rank(sites, delivery, credit or {})
    decision = Decision(method=delivery.method)
    whole = [c for c in ranked if all(c.covers(ln.sku, ln.quantity) for ln in lines)]
    if whole:
        decision.strategy = "single_location"
        best = whole[0]
        for ln in lines:
            decision.allocations.append(_allocate(best, ln.sku, ln.quantity))
    else:
        decision.strategy = "split" if len(ranked) > 1 else "single_location"
        _split(ranked, lines, decision)
    decision.explain = partial(_reasons, ranked, lines, whole=whole)
    return decision


def _allocate(candidate: _Candidate, sku: str, quantity: int) -> Allocation:
    candidate.available[sku] -= quantity
    return Allocation(sku, quantity, candidate.location.pk, candidate.location.code,
                      candidate.level_ids[sku])


def _split(ranked: list[_Candidate], lines: Sequence[LineRequest], decision: Decision) -> None:
    used: list[_Candidate] = []
    for ln in lines:
        preference = used + [c for c in ranked if c not in used]
        whole = next((c for c in preference if c.covers(ln.sku, ln.quantity)), None)
        if whole is not None:
            decision.allocations.append(_allocate(whole, ln.sku, ln.quantity))
            if whole not in used:
                used.append(whole)
            continue
        remaining = ln.quantity
        for candidate in preference:
            take = min(candidate.available.get(ln.sku, 0), remaining)
            if take <= 0:
                continue
            decision.allocations.append(_allocate(candidate, ln.sku, take))
            if candidate not in used:
                used.append(candidate)
            remaining -= take
            if remaining == 0:
                break
        if remaining:
            decision.shortages[ln.sku] = remaining


def _reasons(ranked: list[_Candidate], lines: Sequence[LineRequest], decision: Decision, *,
             whole: list[_Candidate]) -> list[dict[str, Any]]:
    chosen = defaultdict(list)
    for a in decision.allocations:
        chosen[a.location].append({"sku": a.sku, "quantity": a.quantity})
    reasons = []
    for c in ranked:
        code = c.location.code
        missing = [ln.sku for ln in lines if c.stocked.get(ln.sku, 0) < ln.quantity]
        if chosen[code]:
            why = (_("serves the whole order") if c in whole[:1]
                   else _("best ranked location with stock for these lines"))
        elif c in whole:
            why = _("could serve the whole order but ranks lower")
        elif missing:
            why = _("lacks stock for %(skus)s") % {"skus": ", ".join(missing)}
        else:
            why = _("not needed")
        reasons.append({
            "location": code,
            "kind": c.location.kind,
            "priority": c.location.priority,
            "distance_km": None if c.distance is None else round(c.distance, 1),
            "chosen": bool(chosen[code]),
            "lines": chosen[code],
            "reason": str(why),
        })
    return reasons
