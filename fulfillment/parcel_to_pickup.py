"""Moving a parcel's units to a pickup at the store the customer is standing in (pickup on a
store visit, the `visits` app), and back when the warehouse answers that it had already packed
them.

The parcel shrinks (its lines' `cancelled` grows; a parcel with nothing left is cancelled) and a
new fulfilment order of kind `pickup` at the store starts in `picking`, so staff prepare it at
once. While the warehouse has not confirmed that it stopped the parcel the pickup
`waits_for_stop`: staff may pick, but it is not ready (no code, no handover), so goods are never
handed over at the counter and shipped as well.

Every function here is called inside the caller's transaction, with the order row locked and
the parcel (and pickup) locked after it: `lock_fulfillment`'s order."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime

from django.db import transaction

from fulfillment.models import FulfillmentLine, FulfillmentOrder
from fulfillment.readiness import fully_picked, make_ready
from fulfillment.rollup import order_roll_up
from fulfillment.services import fulfillment_close, fulfillment_payload
from fulfillment.states import DispatchMode, FulfillmentKind, FulfillmentStatus
from fulfillment.steps import lines_of, move_out, save_and_publish, step, units_json
from inventory.models import Location
from oms.core.events import event_emit
from oms.orders.models import Order
from oms.orders.services import order_event_record

F = FulfillmentStatus


def parcel_units_to_pickup(*, order: Order, parcel: FulfillmentOrder, store: Location,
                           units: Mapping[str, int], waits_for_stop: bool, actor: str,
                           now: datetime) -> FulfillmentOrder:
    """Take `units` ({sku: n}, open on the parcel) off the parcel and start a pickup of them at
    `store`; returns the pickup. The reservations are the caller's business."""
    lines = lines_of(parcel)
    order_lines = {ln.sku: ln.order_line for ln in lines}
    with transaction.atomic(savepoint=False):
        move_out(parcel, units, lines)
        pickup = FulfillmentOrder.objects.create(
            order=order, location=store, kind=FulfillmentKind.PICKUP,
            dispatch_mode=DispatchMode.POLLED, waits_for_stop=waits_for_stop,
            created_at=now, updated_at=now)
        FulfillmentLine.objects.bulk_create([
            FulfillmentLine(fulfillment=pickup, order_line=order_lines[sku], quantity=n)
            for sku, n in units.items()])
        step(pickup, pickup.pick)
        save_and_publish(order, pickup, "fulfillment.created", actor,
                         {"replaces": parcel.pk, "lines": units_json(units),
                          "waits_for_stop": waits_for_stop})
        moved = {"moved_to": pickup.pk, "store": store.code, "lines": units_json(units)}
        if any(ln.open_quantity for ln in lines):
            parcel.updated_at = now
            parcel.save(update_fields=["updated_at"])
            payload = {**fulfillment_payload(parcel), **moved}
            order_event_record(order=order, type="fulfillment.moved_to_pickup", actor=actor,
                               data=payload)
            event_emit(topic="fulfillment.moved_to_pickup", aggregate_type="fulfillment",
                       aggregate_id=parcel.pk, payload=payload)
        else:
            fulfillment_close(order=order, fulfillment=parcel, actor=actor, now=now)
    return pickup


def pickup_release_after_stop(*, order: Order, pickup: FulfillmentOrder, actor: str,
                              now: datetime) -> None:
    """The warehouse stopped the parcel: the pickup no longer waits, and is ready at once if
    staff have already picked everything."""
    if not pickup.waits_for_stop:
        return
    pickup.waits_for_stop = False
    pickup.save(update_fields=["waits_for_stop"])
    if pickup.status == F.PICKING and fully_picked(pickup):
        make_ready(order, pickup, actor, now)
        order_roll_up(order=order, actor=actor)


def parcel_units_back(*, order: Order, parcel: FulfillmentOrder, pickup: FulfillmentOrder,
                      units: Mapping[str, int], actor: str, now: datetime) -> dict[str, int]:
    """The warehouse had already packed the parcel: the pickup's open units (of `units`, the
    ones moved) are cancelled, a pickup with nothing left is cancelled, and those units go back
    on the parcel, which is the warehouse's work again (`accepted`: it is packing it). Units
    cancelled on the order meanwhile stay cancelled. Returns the units moved back; the caller
    gives back their store reservation."""
    pickup_lines = lines_of(pickup)
    taken = {ln.sku: min(ln.open_quantity, units.get(ln.sku, 0)) for ln in pickup_lines}
    taken = {sku: n for sku, n in taken.items() if n}
    with transaction.atomic(savepoint=False):
        move_out(pickup, taken, pickup_lines)
        pickup.waits_for_stop = False
        pickup.save(update_fields=["waits_for_stop"])
        if pickup.status in (F.PICKING, F.READY_FOR_PICKUP) and not any(
                ln.open_quantity for ln in pickup_lines):
            fulfillment_close(order=order, fulfillment=pickup, actor=actor, now=now)
        if not taken:
            return taken  # the order cancelled them meanwhile: nothing goes back
        for line in lines_of(parcel):
            back = min(taken.get(line.sku, 0), line.cancelled)
            if back:
                line.cancelled -= back
                line.save(update_fields=["cancelled"])
        if parcel.status == F.CANCELLED:
            parcel.reinstate()
        save_and_publish(order, parcel, "fulfillment.reinstated", actor,
                         {"from_pickup": pickup.pk, "lines": units_json(taken)})
    return taken
