"""Fulfilment reacting to other layers' events."""

from __future__ import annotations

from fulfillment.dispatch import dispatches_release_held
from oms.core.events import on_event
from oms.core.models import OutboxEvent


@on_event("order.confirmed", in_relay=True)
def send_fulfillments_held_for_payment(event: OutboxEvent) -> None:
    dispatches_release_held(order_number=event.aggregate_id)
