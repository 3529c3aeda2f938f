"""Payments react to fulfilment through domain events only (ARCHITECTURE.md rule 1)."""

from __future__ import annotations

from decimal import Decimal

from oms.core.events import on_event
from oms.core.models import OutboxEvent
from payments.services import payment_captures_plan


@on_event("fulfillment.shipped")
def capture_shipped_amount(event: OutboxEvent) -> None:
    """Goods worth `amount` left: plan the captures of the order's card and PayPal payments.
    The PSP is called afterwards, by `payments.tasks.execute_capture`, outside this event's
    transaction (see `payments.services.captures`)."""
    payload = event.payload
    shipment = payload.get("shipment") or {}
    payment_captures_plan(
        event_id=str(event.id), order_number=payload["order"],
        amount=Decimal(str(payload["amount"])), currency=payload["currency"],
        context={"event": str(event.id), "fulfillment": payload.get("id"),
                 "shipment": shipment.get("id"), "location": payload.get("location"),
                 "tracking_number": shipment.get("tracking_number")},
    )
