"""Reads behind "customers in the store now": one query for the page of accepted offers (order,
customer and pickup joined), one for their pickups' lines, one for the transfers they wait for,
one count, and one query (and one for lines) for the offers open right now."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from django.db import models
from django.db.models import Prefetch, QuerySet
from django.utils.translation import gettext_lazy as _

from fulfillment.cockpit.selectors import PickupRow, pickup_lines, pickup_rows
from fulfillment.models import FulfillmentOrder
from fulfillment.states import TO_PICK, FulfillmentStatus
from inventory.models import Location
from visits.models import PickupOffer, PickupOfferLine
from visits.states import OfferStatus

# An accepted offer stays on the screen until its pickup is handed over (or cancelled).
OPEN_PICKUP = [*TO_PICK, FulfillmentStatus.READY_FOR_PICKUP]
# Offers expire after minutes (PICKUP_OFFER_TTL): a busy store has a few open at once.
OPEN_OFFERS_SHOWN = 50


class InStoreState(models.TextChoices):
    """Where an accepted offer's pickup stands, for staff."""

    WAITING = "waiting", _("Waiting for the warehouse to stop the parcel")
    TO_PICK = "to_pick", _("To pick")
    READY = "ready", _("Ready: hand over")


def state_of(pickup: FulfillmentOrder) -> InStoreState:
    # A pickup that waits for the stop is never ready; staff may pick it meanwhile.
    if pickup.waits_for_stop:
        return InStoreState.WAITING
    if pickup.status == FulfillmentStatus.READY_FOR_PICKUP:
        return InStoreState.READY
    return InStoreState.TO_PICK


def offers_accepted(store: Location) -> QuerySet[PickupOffer]:
    """The store's accepted offers whose pickup is still to prepare or to hand over, oldest
    accept first."""
    return (PickupOffer.objects
            .filter(visit__location=store, status=OfferStatus.ACCEPTED,
                    pickup__status__in=OPEN_PICKUP)
            .select_related("order__customer", "pickup")
            # The sourcing decision is a large JSON document no row shows.
            .defer("order__sourcing")
            .prefetch_related(Prefetch("pickup__lines", queryset=pickup_lines()))
            .order_by("decided_at", "pk"))


@dataclass(frozen=True)
class AcceptedRow:
    offer: PickupOffer
    # The pickup's lines still to prepare or hand over, and the transfers it waits for, as
    # the to-pick list shows them (cockpit/_lines.html).
    pickup: PickupRow
    state: InStoreState


def accepted_rows(offers: list[PickupOffer]) -> list[AcceptedRow]:
    rows = pickup_rows(offer.pickup for offer in offers)
    return [AcceptedRow(offer=offer, pickup=row, state=state_of(offer.pickup))
            for offer, row in zip(offers, rows, strict=True)]


def offers_open(store: Location, now: datetime) -> list[PickupOffer]:
    """The offers the store's customers can still accept, the newest first: who is in the
    store right now."""
    lines = (PickupOfferLine.objects
             .select_related("fulfillment_line__order_line__product")
             .defer("fulfillment_line__order_line__product__media",
                    "fulfillment_line__order_line__product__attributes")
             .order_by("pk"))
    return list(PickupOffer.objects
                .filter(visit__location=store, status=OfferStatus.OFFERED, expires_at__gt=now)
                .select_related("order__customer").defer("order__sourcing")
                .prefetch_related(Prefetch("lines", queryset=lines))
                .order_by("-created_at", "-pk")[:OPEN_OFFERS_SHOWN])
