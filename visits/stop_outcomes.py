"""What follows the warehouse's answer to "stop this parcel" for an accepted pickup offer
(the attempt kind in `visits.stop` calls these in its recording transaction, after locking
the order row and then the offer row).

- **Stopped** (or nothing to stop): the parcel's units still held at the warehouse are given
  back, the store pickup no longer waits (ready at once if staff picked everything), and the
  shipping charge is waived when no parcel is left (`visits.shipping_waiver`).
- **Too late** (the warehouse had already picked or shipped it): the offer is `withdrawn`; the
  pickup's units are cancelled and their store reservation given back; the units go back on
  the parcel, whose warehouse reservation was never given up; the customer is told
  (``pickup_offer.withdrawn``). No unit is lost or counted twice.
- **No answer** (the attempt was given up): staff are told (``pickup_offer.stop_failed``); the
  pickup keeps waiting until a retry from the admin gets an answer.
"""

from __future__ import annotations

from collections.abc import Mapping

from django.utils import timezone

from fulfillment.models import FulfillmentOrder
from fulfillment.parcel_to_pickup import parcel_units_back, pickup_release_after_stop
from fulfillment.rollup import order_roll_up
from inventory.models import ReservationState
from inventory.order_reservations import order_reservation, reservation_release_units
from oms.core.events import event_emit
from oms.orders.models import Order
from oms.orders.services import order_event_record
from visits.models import PickupOffer
from visits.payloads import offer_payload
from visits.shipping_waiver import shipping_waive_if_no_parcel

STOP_ACTOR = "warehouse stop"
TOO_LATE = "shipment_already_left"


def offer_units(offer: PickupOffer) -> dict[str, int]:
    return {ln.fulfillment_line.sku: ln.quantity
            for ln in offer.lines.select_related("fulfillment_line__order_line")}


def offer_event(order: Order, offer: PickupOffer, topic: str, actor: str,
                **extra: object) -> None:
    """The offer's audit entry on its order and its outbox event."""
    payload = {**offer_payload(offer), **extra}
    order_event_record(order=order, type=topic, actor=actor, data=payload)
    event_emit(topic=topic, aggregate_type="pickup_offer", aggregate_id=offer.pk,
               payload=payload)


def _lock_fulfillments(offer: PickupOffer) -> tuple[FulfillmentOrder, FulfillmentOrder]:
    """The parcel and the pickup, locked in primary-key order (the parcel is older)."""
    rows = {fo.pk: fo for fo in FulfillmentOrder.objects.select_for_update(
        of=("self",), no_key=True).select_related("location", "order")
        .filter(pk__in=[offer.fulfillment_id, offer.pickup_id]).order_by("pk")}
    return rows[offer.fulfillment_id], rows[offer.pickup_id]


def _release(order: Order, units: Mapping[str, int], location_id: int) -> None:
    """Give back `units` the order holds at the location, as far as it still holds them (a
    cancellation of the order meanwhile gave some back already)."""
    reservation = order_reservation(order_number=order.number)
    if reservation is None or reservation.state != ReservationState.ACTIVE:
        return
    held = dict(reservation.lines.filter(location_id=location_id, product_id__in=list(units))
                .values_list("product_id", "quantity"))
    units = {sku: min(n, held.get(sku, 0)) for sku, n in units.items()}
    units = {sku: n for sku, n in units.items() if n > 0}
    if units:
        reservation_release_units(reservation=reservation, units=units,
                                  location_ids=[location_id])


def shipment_stopped(*, order: Order, offer: PickupOffer, held_at_warehouse: bool,
                     actor: str = STOP_ACTOR) -> None:
    """The parcel will not bring these units. `held_at_warehouse`: its units were still held
    there until this answer (a stop was requested), so they are given back now."""
    parcel, pickup = _lock_fulfillments(offer)
    now = timezone.now()
    if held_at_warehouse:
        _release(order, offer_units(offer), parcel.location_id)
        offer.stop_confirm()
        offer.save(update_fields=["shipment_stop"])
        offer_event(order, offer, "pickup_offer.shipment_stopped", actor)
    pickup_release_after_stop(order=order, pickup=pickup, actor=actor, now=now)
    shipping_waive_if_no_parcel(order=order, offer=offer, actor=actor)


def shipment_too_late(*, order: Order, offer: PickupOffer, actor: str = STOP_ACTOR) -> None:
    """The warehouse had already picked or shipped the parcel: undo the accept."""
    parcel, pickup = _lock_fulfillments(offer)
    units = offer_units(offer)
    back = parcel_units_back(order=order, parcel=parcel, pickup=pickup, units=units,
                             actor=actor, now=timezone.now())
    # The store's units go back on its shelf; units the order cancelled meanwhile (gone from
    # the pickup) are not wanted from the warehouse either.
    _release(order, back, pickup.location_id)
    _release(order, {sku: n - back.get(sku, 0) for sku, n in units.items()},
             parcel.location_id)
    offer.withdraw()
    offer.stop_too_late()
    offer.shipment_avoided = False
    offer.save(update_fields=["status", "shipment_stop", "shipment_avoided"])
    offer_event(order, offer, "pickup_offer.withdrawn", actor, reason=TOO_LATE,
                language=order.language)
    order_roll_up(order=order, actor=actor)


def shipment_stop_failed(*, order: Order, offer: PickupOffer, error: str,
                         actor: str = STOP_ACTOR) -> None:
    offer.stop_fail()
    offer.save(update_fields=["shipment_stop"])
    offer_event(order, offer, "pickup_offer.stop_failed", actor, error=error[:500])
