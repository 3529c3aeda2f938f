"""Moving units a location cannot serve (it rejected them, or a pick came up short) to the next
best location, or cancelling them with reason ``no_stock`` when nobody has them."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from django.conf import settings
from django.utils import timezone

from fulfillment.models import FulfillmentOrder
from fulfillment.services import fulfillment_orders_create
from fulfillment.states import FulfillmentKind, FulfillmentStatus
from inventory.order_reservations import (
    order_reservation,
    reservation_move_units,
    reservation_release_units,
)
from inventory.reservations import reserve_with_retries
from inventory.sourcing import Decision, DeliveryRequest, LineRequest, sourcing_decide
from oms.orders.models import Order
from oms.orders.services import order_lines_cancel


@dataclass
class Resourced:
    moved_to: list[str] = field(default_factory=list)  # location codes
    cancelled: dict[str, int] = field(default_factory=dict)  # sku -> units nobody had
    fulfillments: list[FulfillmentOrder] = field(default_factory=list)
    # A pickup restocked by transfers: when it should be ready at the store.
    expected_ready_at: datetime | None = None

    def as_json(self) -> dict[str, object]:
        data: dict[str, object] = {
            "resourced_to": self.moved_to,
            "cancelled": [{"sku": s, "quantity": q} for s, q in self.cancelled.items()]}
        if self.expected_ready_at is not None:
            data["transfer"] = True
            data["expected_ready_at"] = self.expected_ready_at.isoformat()
        return data


def _delivery(order: Order) -> DeliveryRequest:
    return DeliveryRequest.to_address(order.delivery_address or {})


def resource_units(*, order: Order, fulfillment: FulfillmentOrder, units: dict[str, int],
                   actor: str) -> Resourced:
    """Call inside the transaction that locked `order` and `fulfillment`. A parcel's units go
    to the next best location. A pickup stays at the store the customer chose: its units come
    by transfer from a location that ships (a warehouse, or a store shipping from its shelves)
    and the pickup is ready once the store received them. Units nobody has are cancelled."""
    outcome = Resourced()
    units = {sku: n for sku, n in units.items() if n > 0}
    if not units:
        return outcome
    reservation = order_reservation(order_number=order.number)
    # A transfer that fails (rejected, short) is replaced by another transfer to its store.
    pickup = fulfillment.kind in (FulfillmentKind.PICKUP, FulfillmentKind.TRANSFER)
    if order.delivery_method == "ship" or pickup:
        store = fulfillment.destination if fulfillment.destination_id else fulfillment.location
        tried = set(order.fulfillments.filter(status=FulfillmentStatus.REJECTED)
                    .values_list("location_id", flat=True)) | {fulfillment.location_id,
                                                               store.pk}
        delivery = (DeliveryRequest(method="ship", lat=store.lat, lon=store.lon) if pickup
                    else _delivery(order))

        def decide() -> Decision:
            return sourcing_decide(lines=[LineRequest(s, q) for s, q in units.items()],
                                   delivery=delivery, exclude=tried)

        def write(decision: Decision) -> Decision:
            if decision.allocations:
                outcome.fulfillments = [created.fulfillment for created in
                                        fulfillment_orders_create(
                    order=order, decision=decision, transfer_to=store if pickup else None)]
            # Everything leaves this location in one pass: what another location took over,
            # and what nobody has (released here, cancelled below).
            reservation_move_units(reservation=reservation, units=units,
                                   from_location_id=fulfillment.location_id,
                                   to=decision.allocations)
            return decision

        decision = reserve_with_retries(decide, write, partial=True)
        outcome.moved_to = decision.location_codes
        outcome.cancelled = dict(decision.shortages)
        if pickup and decision.allocations:
            outcome.expected_ready_at = timezone.now() + settings.TRANSFER_LEAD_TIME
    else:
        outcome.cancelled = dict(units)
        reservation_release_units(reservation=reservation, units=units,
                                  location_ids=[fulfillment.location_id])
    if outcome.cancelled:
        order_lines_cancel(order=order, units=outcome.cancelled, reason="no_stock", actor=actor)
    return outcome
