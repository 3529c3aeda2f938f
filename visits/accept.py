"""Accepting a pickup offer, exactly once (issue 20, API.md: `POST /pickup-offers/{id}/accept`).

One transaction, locks in the fixed order (order row, offer, parcel, its dispatch attempt,
reservation, stock rows in primary-key order):

1. the offer must still be `offered` and not past its time (else `409 invalid_transition`),
   and the parcel untouched (`pending` or `accepted`, nothing picked or shipped, the offered
   units still open), else `409 already_left` and nothing changes;
2. the units are reserved at the store with the conditional reservation every path uses
   (`409 insufficient_stock` if someone took them off the shelf meanwhile);
3. the parcel shrinks (cancelled when nothing is left) and a pickup at the store starts in
   `picking` (`fulfillment.parcel_to_pickup`);
4. the warehouse: if it may already have the parcel (pushed to it: its dispatch was sent, or
   is being sent), the stop is requested through the attempt mechanism after commit
   (`visits.stop`), and until it answers the parcel's units stay reserved there and the pickup
   waits (staff can pick but not hand over). Otherwise (not sent yet, held for payment, or a
   warehouse that polls and now finds it cancelled) nothing needs stopping: the warehouse's
   units are given back at once, and the shipping may be waived.

Concurrent accepts of one offer queue on the order row; the first moves the offer to
`accepted`, the others find it so and answer 409."""

from __future__ import annotations

from datetime import datetime

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django_fsm import can_proceed

from fulfillment.dispatch import WMS_DISPATCH
from fulfillment.models import FulfillmentOrder
from fulfillment.parcel_to_pickup import parcel_units_to_pickup
from fulfillment.rollup import order_roll_up
from fulfillment.states import DispatchMode
from inventory.models import Location, StockLevel
from inventory.order_reservations import (
    order_reservation,
    reservation_hold_more,
    reservation_move_units,
)
from inventory.reservations import StockRaceLost
from inventory.sourcing import Allocation
from oms.core.attempts.models import Attempt
from oms.core.attempts.services import attempts_create
from oms.core.attempts.states import AttemptStatus
from oms.core.errors import Conflict, InvalidTransition
from oms.orders.models import Order
from oms.orders.services import order_lock
from visits.models import PickupOffer
from visits.services import parcel_untouched
from visits.stop import WMS_STOP
from visits.stop_outcomes import offer_event, offer_units, shipment_stopped


class AlreadyLeft(Conflict):
    default_code = "already_left"


def _lock_offer(offer: PickupOffer) -> tuple[Order, PickupOffer]:
    order = order_lock(order=Order(pk=offer.order_id))
    offer = (PickupOffer.objects.select_for_update(of=("self",))
             .select_related("visit__location", "order").get(pk=offer.pk))
    return order, offer


def _require_open(offer: PickupOffer, now: datetime) -> None:
    if not can_proceed(offer.accept) or offer.expires_at <= now:
        status = offer.get_status_display() if offer.expires_at > now else _("Expired")
        raise InvalidTransition(_("Offer %(id)s is %(status)s.")
                                % {"id": offer.pk, "status": status}, attr="status")


def _require_untouched(parcel: FulfillmentOrder, units: dict[str, int]) -> None:
    """The parcel has not started in the warehouse and still has every offered unit open."""
    lines = {ln.sku: ln for ln in parcel.lines.select_related("order_line")}
    if not parcel_untouched(parcel, list(lines.values())) or any(
            lines[sku].open_quantity < n for sku, n in units.items()):
        raise AlreadyLeft(
            _("The parcel of order %(number)s is already on its way from the warehouse.")
            % {"number": parcel.order.number}, attr="id")


def _warehouse_may_have_it(parcel: FulfillmentOrder) -> bool:
    """Was the parcel sent to the warehouse's system, or is it being sent right now? Its
    dispatch attempt is locked, so a send starting meanwhile reads the parcel as this
    transaction leaves it."""
    if parcel.dispatch_mode != DispatchMode.PUSHED:
        return False  # held for payment (never sent) or polled (the warehouse reads it)
    attempt = Attempt.objects.select_for_update().filter(
        kind=WMS_DISPATCH.name, target_id=parcel.pk).first()
    if attempt is None or attempt.status == AttemptStatus.CANCELLED:
        return False
    return attempt.tries > 0 or attempt.status != AttemptStatus.PENDING


def _store_allocations(store: Location, units: dict[str, int]) -> list[Allocation]:
    levels = dict(StockLevel.objects.filter(location=store, product_id__in=list(units))
                  .values_list("product_id", "pk"))
    missing = sorted(sku for sku in units if sku not in levels)
    if missing:
        raise _gone(store, missing[0])
    return [Allocation(sku, n, store.pk, store.code, levels[sku])
            for sku, n in sorted(units.items())]


def _gone(store: Location, sku: str) -> Conflict:
    return Conflict(_("%(store)s no longer has %(sku)s on its shelf.")
                    % {"store": store.name, "sku": sku},
                    code="insufficient_stock", attr="lines", extra={"skus": [sku]})


def offer_accept(*, offer: PickupOffer, actor: str, now: datetime | None = None) -> PickupOffer:
    """The customer takes the goods with them: see the module docstring."""
    now = now or timezone.now()
    with transaction.atomic():
        order, offer = _lock_offer(offer)
        _require_open(offer, now)
        parcel = (FulfillmentOrder.objects.select_for_update(of=("self",), no_key=True)
                  .select_related("location", "order").get(pk=offer.fulfillment_id))
        units = offer_units(offer)
        _require_untouched(parcel, units)
        store = offer.visit.location
        stop = _warehouse_may_have_it(parcel)
        reservation = order_reservation(order_number=order.number)
        to_store = _store_allocations(store, units)
        try:
            if stop:  # both held until the warehouse answers
                reservation_hold_more(reservation=reservation, to=to_store)
            else:
                reservation_move_units(reservation=reservation, units=units,
                                       from_location_id=parcel.location_id, to=to_store)
        except StockRaceLost as lost:
            raise _gone(store, lost.sku) from None
        pickup = parcel_units_to_pickup(order=order, parcel=parcel, store=store, units=units,
                                        waits_for_stop=stop, actor=actor, now=now)
        offer.accept()
        offer.pickup = pickup
        offer.decided_at = now
        (offer.stop_request if stop else offer.stop_not_needed)()
        offer.shipment_avoided = not any(ln.open_quantity for ln in parcel.lines.all())
        offer.save(update_fields=["status", "pickup", "decided_at", "shipment_stop",
                                  "shipment_avoided"])
        offer_event(order, offer, "pickup_offer.accepted", actor, language=order.language)
        if stop:
            attempts_create(kind=WMS_STOP, target_ids=[offer.pk], fresh=True)
        else:
            shipment_stopped(order=order, offer=offer, held_at_warehouse=False, actor=actor)
        order_roll_up(order=order, actor=actor)
    return offer
