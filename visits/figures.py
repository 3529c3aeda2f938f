"""What became of the pickup offers made on store visits, per store: how many were made, how
many the customers took, declined or let expire, how many the warehouse withdrew because it had
already packed the parcel, and how many parcels were not sent at all. Counted in the database,
one aggregate query (a `Count` with a filter per outcome), for the cockpit dashboard (a store,
a period) and for /metrics (every store, all time)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from django.db.models import Count, Q, QuerySet
from django.utils import timezone

from inventory.models import Location
from visits.models import PickupOffer
from visits.states import OfferStatus

FIGURE_DAYS = 30
# A withdrawn offer was accepted first: the customer said yes, the warehouse was too late. It
# counts as accepted, and once more under `withdrawn`.
ACCEPTED = [OfferStatus.ACCEPTED, OfferStatus.WITHDRAWN]
OUTCOMES = ("made", "accepted", "declined", "expired", "withdrawn")


@dataclass(frozen=True)
class OfferFigures:
    made: int = 0
    accepted: int = 0
    declined: int = 0
    expired: int = 0
    withdrawn: int = 0
    shipments_avoided: int = 0


def _counts() -> dict[str, Count]:
    return {
        "made": Count("pk"),
        "accepted": Count("pk", filter=Q(status__in=ACCEPTED)),
        "declined": Count("pk", filter=Q(status=OfferStatus.DECLINED)),
        "expired": Count("pk", filter=Q(status=OfferStatus.EXPIRED)),
        "withdrawn": Count("pk", filter=Q(status=OfferStatus.WITHDRAWN)),
        "shipments_avoided": Count("pk", filter=Q(shipment_avoided=True)),
    }


def _offers_at(store: Location) -> QuerySet[PickupOffer]:
    # The offer's store is its visit's.
    return PickupOffer.objects.filter(visit__location=store)


def offer_figures(store: Location, *, since: datetime | None = None,
                  until: datetime | None = None, now: datetime | None = None) -> OfferFigures:
    """The offers `store` made from `since` (default: `FIGURE_DAYS` days before `now`) until
    `until` (default: no end), by when they were made, and what became of them by now."""
    now = now or timezone.now()
    offers = _offers_at(store).filter(
        created_at__gte=since if since is not None else now - timedelta(days=FIGURE_DAYS))
    if until is not None:
        offers = offers.filter(created_at__lt=until)
    return OfferFigures(**offers.aggregate(**_counts()))


def offer_figures_per_store() -> dict[str, OfferFigures]:
    """Every offer ever made, per store code (stores that never made one are absent)."""
    rows = (PickupOffer.objects.values("visit__location__code").annotate(**_counts())
            .order_by("visit__location__code"))
    return {row.pop("visit__location__code"): OfferFigures(**row) for row in rows}
