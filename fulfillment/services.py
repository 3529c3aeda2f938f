"""Every write to fulfilment orders."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from datetime import datetime
from typing import NamedTuple

from django.db import transaction
from django.utils import timezone

from fulfillment.dispatch import dispatch_plan, dispatches_enqueue
from fulfillment.models import FulfillmentLine, FulfillmentOrder
from fulfillment.states import ENDED, FulfillmentKind, ShipmentStatus
from inventory.models import Location, LocationKind
from inventory.sourcing import Decision
from oms.core.events import NewEvent, event_emit, events_emit
from oms.orders.models import Order, OrderLine
from oms.orders.services import order_event_record


def _kind(order: Order, location: Location, transfer_to: Location | None) -> str:
    if transfer_to is not None:
        return FulfillmentKind.TRANSFER
    if order.delivery_method == "pickup":
        return FulfillmentKind.PICKUP
    return FulfillmentKind.DROPSHIP if location.kind == LocationKind.SUPPLIER else \
        FulfillmentKind.SHIP


def fulfillment_payload(fulfillment: FulfillmentOrder) -> dict[str, object]:
    payload: dict[str, object] = {
        "id": fulfillment.pk, "order": fulfillment.order.number,
        "location": fulfillment.location.code, "kind": fulfillment.kind,
        "status": fulfillment.status}
    if fulfillment.destination_id is not None:
        payload["destination"] = fulfillment.destination.code
    return payload


class CreatedFulfillment(NamedTuple):
    """A fulfilment order `fulfillment_orders_create` wrote, with its lines."""

    fulfillment: FulfillmentOrder
    lines: list[FulfillmentLine]


def fulfillment_orders_create(*, order: Order, decision: Decision,
                              transfer_to: Location | None = None,
                              order_lines: Sequence[OrderLine] | None = None,
                              ) -> list[CreatedFulfillment]:
    """One pending fulfilment order per location the sourcing decision chose; with
    `transfer_to`, transfers restocking that store for the order's pickup. `order_lines`: the
    order's lines, if the caller holds them already (it just wrote them)."""
    now = timezone.now()
    order_lines_by_sku = {ln.product_id: ln for ln in
                          (order.lines.all() if order_lines is None else order_lines)}
    by_location: dict[int, list] = defaultdict(list)
    for allocation in decision.allocations:
        by_location[allocation.location_id].append(allocation)
    locations = Location.objects.in_bulk(list(by_location))
    with transaction.atomic(savepoint=False):  # see oms.orders.services.order_create
        fulfillments = [
            FulfillmentOrder(order=order, location=locations[location_id],
                             kind=_kind(order, locations[location_id], transfer_to),
                             destination=transfer_to, created_at=now, updated_at=now)
            for location_id in by_location
        ]
        pushed = dispatch_plan(fulfillments, order_status=order.status, now=now)
        FulfillmentOrder.objects.bulk_create(fulfillments)
        lines = FulfillmentLine.objects.bulk_create([
            FulfillmentLine(fulfillment=fo, order_line=order_lines_by_sku[a.sku],
                            quantity=a.quantity)
            for fo in fulfillments
            for a in by_location[fo.location_id]
        ])
        events_emit(NewEvent("fulfillment.created", "fulfillment", str(fo.pk),
                             fulfillment_payload(fo)) for fo in fulfillments)
        dispatches_enqueue(pushed)
    return [CreatedFulfillment(fo, [ln for ln in lines if ln.fulfillment is fo])
            for fo in fulfillments]


def fulfillment_lines_cancel(*, order: Order, released: dict[str, dict[int, int]],
                             actor: str) -> list[FulfillmentOrder]:
    """Cancel released units on the open fulfilment orders they were allocated to
    ({sku: {location_id: units}}); a fulfilment order with nothing left is cancelled."""
    now = timezone.now()
    remaining = {sku: dict(per_location) for sku, per_location in released.items()}
    with transaction.atomic():
        fulfillments = list(
            FulfillmentOrder.objects.select_for_update(of=("self",), no_key=True)
            .select_related("location", "order")
            .filter(order=order).exclude(status__in=ENDED).order_by("pk")
        )
        cancelled = []
        for fo in fulfillments:
            lines = list(fo.lines.select_related("order_line"))
            for line in lines:
                units = remaining.get(line.order_line.product_id, {}).get(fo.location_id, 0)
                take = min(units, line.open_quantity)
                if take:
                    line.cancelled += take
                    remaining[line.order_line.product_id][fo.location_id] -= take
                    line.save(update_fields=["cancelled"])
            if any(line.open_quantity for line in lines):
                continue
            fulfillment_close(order=order, fulfillment=fo, actor=actor, now=now)
            cancelled.append(fo)
    return cancelled


def fulfillment_close(*, order: Order, fulfillment: FulfillmentOrder, actor: str,
                      now: datetime) -> None:
    """Nothing is left to do at this location (the rest was cancelled or moved away): the
    fulfilment order ends as cancelled if nothing left, else as shipped, or delivered when every
    parcel has already arrived. Caller holds the order and fulfilment locks."""
    fo = fulfillment
    if not any(line.shipped for line in fo.lines.all()):
        fo.cancel()
        topic = "fulfillment.cancelled"
    else:
        fo.ship()
        topic = "fulfillment.closed"
        if not fo.shipments.exclude(status=ShipmentStatus.DELIVERED).exists():
            fo.deliver()
            topic = "fulfillment.delivered"
    fo.updated_at = now
    fo.save(update_fields=["status", "updated_at"])
    payload = fulfillment_payload(fo)
    order_event_record(order=order, type=topic, actor=actor, data=payload)
    event_emit(topic=topic, aggregate_type="fulfillment", aggregate_id=fo.pk, payload=payload)
