"""Fulfilment reacting to other layers' events."""

from __future__ import annotations

from typing import Any

from fulfillment.dispatch import dispatches_release_held
from oms.core.events import on_event
from oms.core.models import OutboxEvent
from oms.orders.states import OrderStatus


def _may_have_held_fulfillments(payload: dict[str, Any]) -> bool:
    # Fulfilment orders are held only while their order is on hold: one confirmed straight from
    # placed (every order paid at intake) has none, and its relay run need not look.
    return (payload.get("detail") or {}).get("from") != OrderStatus.PLACED


@on_event("order.confirmed", in_relay=True, when=_may_have_held_fulfillments)
def send_fulfillments_held_for_payment(event: OutboxEvent) -> None:
    dispatches_release_held(order_number=event.aggregate_id)
