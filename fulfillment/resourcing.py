"""Moving units a location cannot serve (it rejected them, or a pick came up short) to the next
best location, or cancelling them with reason ``no_stock`` when nobody has them."""

from __future__ import annotations

from dataclasses import dataclass, field

from fulfillment.models import FulfillmentOrder
from fulfillment.services import fulfillment_orders_create
from fulfillment.states import FulfillmentStatus
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

    def as_json(self) -> dict[str, object]:
        return {"resourced_to": self.moved_to,
                "cancelled": [{"sku": s, "quantity": q} for s, q in self.cancelled.items()]}


def _delivery(order: Order) -> DeliveryRequest:
    return DeliveryRequest.to_address(order.delivery_address or {})


def resource_units(*, order: Order, fulfillment: FulfillmentOrder, units: dict[str, int],
                   actor: str) -> Resourced:
    """Call inside the transaction that locked `order` and `fulfillment`. Pickup orders are
    not moved to another location here: the customer chose that store (their shortages are
    cancelled; transfers to the store come with click-and-collect)."""
    outcome = Resourced()
    units = {sku: n for sku, n in units.items() if n > 0}
    if not units:
        return outcome
    reservation = order_reservation(order_number=order.number)
    if order.delivery_method == "ship":
        tried = set(order.fulfillments.filter(status=FulfillmentStatus.REJECTED)
                    .values_list("location_id", flat=True)) | {fulfillment.location_id}

        def decide() -> Decision:
            return sourcing_decide(lines=[LineRequest(s, q) for s, q in units.items()],
                                   delivery=_delivery(order), exclude=tried)

        def write(decision: Decision) -> Decision:
            if decision.allocations:
                outcome.fulfillments = fulfillment_orders_create(order=order, decision=decision)
            # Everything leaves this location in one pass: what another location took over,
            # and what nobody has (released here, cancelled below).
            reservation_move_units(reservation=reservation, units=units,
                                   from_location_id=fulfillment.location_id,
                                   to=decision.allocations)
            return decision

        decision = reserve_with_retries(decide, write, partial=True)
        outcome.moved_to = decision.location_codes
        outcome.cancelled = dict(decision.shortages)
    else:
        outcome.cancelled = dict(units)
        reservation_release_units(reservation=reservation, units=units,
                                  location_ids=[fulfillment.location_id])
    if outcome.cancelled:
        order_lines_cancel(order=order, units=outcome.cancelled, reason="no_stock", actor=actor)
    return outcome
