"""The order's status follows its lines and fulfilment orders (issue: order roll-up).

Called at the end of every fulfilment change, inside its transaction, with the order row
already locked by the caller.
"""

from __future__ import annotations

from fulfillment.states import FulfillmentKind, FulfillmentStatus
from oms.orders.models import Order
from oms.orders.services import (
    order_complete,
    order_mark_partially_shipped,
    order_mark_shipped,
    order_start_fulfillment,
)
from oms.orders.states import OrderStatus

S = OrderStatus
F = FulfillmentStatus
STARTED = {F.ACCEPTED, F.PICKING, F.PARTIALLY_SHIPPED, F.SHIPPED, F.DELIVERED,
           F.READY_FOR_PICKUP, F.PICKED_UP}
# A pickup handed over at the counter has arrived, like a delivered parcel.
ARRIVED = {F.DELIVERED, F.PICKED_UP}


def order_roll_up(*, order: Order, actor: str) -> Order:
    order.refresh_from_db()
    lines = list(order.lines.all())
    fulfillments = list(order.fulfillments.all())
    nothing_open = all(ln.allocated == 0 for ln in lines)
    fulfilled_any = any(ln.fulfilled for ln in lines)

    if order.status == S.CONFIRMED and any(fo.status in STARTED for fo in fulfillments):
        order = order_start_fulfillment(order=order, actor=actor)
    if fulfilled_any and not nothing_open and order.status != S.PARTIALLY_SHIPPED:
        order = order_mark_partially_shipped(order=order, actor=actor)
    if fulfilled_any and nothing_open and order.status in (
            S.CONFIRMED, S.IN_FULFILLMENT, S.PARTIALLY_SHIPPED):
        order = order_mark_shipped(order=order, actor=actor)
    # Transfers restock a store; the customer's goods are the pickup there.
    shipped_fulfillments = [fo for fo in fulfillments if fo.kind != FulfillmentKind.TRANSFER
                            and fo.status in (F.SHIPPED, *ARRIVED)]
    if order.status == S.SHIPPED and all(fo.status in ARRIVED for fo in shipped_fulfillments):
        order = order_complete(order=order, actor=actor)
    return order
