"""Fulfilment reacting to other layers' events."""

from __future__ import annotations

from fulfillment.dispatch import dispatches_release_held
from oms.core.events import on_event
from oms.core.models import OutboxEvent
from oms.orders.models import Order


@on_event("order.confirmed", in_relay=True)
def send_fulfillments_held_for_payment(event: OutboxEvent) -> None:
    order_id = Order.objects.filter(number=event.aggregate_id).values_list("pk", flat=True).first()
    if order_id is not None:
        dispatches_release_held(order=Order(pk=order_id))
