"""Payments react to fulfilment through domain events only (ARCHITECTURE.md rule 1)."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from oms.core.events import on_event
from oms.core.models import OutboxEvent
from payments.services import payment_captures_plan, payment_give_back
from payments.services.cancelled_orders import (
    store_credit_give_back_cancelled,
    store_credit_give_back_lines,
)
from payments.states import CaptureSource


def _amount(payload: dict[str, Any]) -> Decimal:
    return Decimal(str(payload["amount"]))


@on_event("fulfillment.shipped", in_relay=True)
def capture_shipped_amount(event: OutboxEvent) -> None:
    """Goods worth `amount` left: plan the captures of the order's card and PayPal payments.
    The PSP is called afterwards, by `payments.tasks.execute_capture`, outside this event's
    transaction (see `payments.services.captures`)."""
    payload = event.payload
    shipment = payload.get("shipment") or {}
    payment_captures_plan(
        event_id=str(event.id), order_number=payload["order"],
        amount=_amount(payload), currency=payload["currency"],
        context={"event": str(event.id), "fulfillment": payload.get("id"),
                 "shipment": shipment.get("id"), "location": payload.get("location"),
                 "tracking_number": shipment.get("tracking_number")},
    )


@on_event("fulfillment.picked_up", in_relay=True)
def capture_picked_up_amount(event: OutboxEvent) -> None:
    """The customer collected goods worth `amount` at a store: captured like a shipment that
    left. A pay-in-store payment is not touched here: the till took that money, and fulfilment
    recorded it during the handover (`payments.services.payment_collect_in_store`)."""
    payload = event.payload
    payment_captures_plan(
        event_id=str(event.id), order_number=payload["order"],
        amount=_amount(payload), currency=payload["currency"],
        context={"event": str(event.id), "fulfillment": payload.get("id"),
                 "location": payload.get("location"), "kind": payload.get("kind")},
        source=CaptureSource.HANDOVER,
    )


@on_event("fulfillment.pickup_expired")
def give_back_expired_pickup(event: OutboxEvent) -> None:
    """The customer did not collect goods worth `amount` in time: release that much of the
    card or PayPal authorization, or refund it if it was captured (prepaid); write it off
    against a pay-in-store payment, whose money the till will never take. Calls the PSP in
    this event's transaction, so a PSP failure raises and the whole handler is retried (see
    `payments.services.reversals`)."""
    payload = event.payload
    payment_give_back(
        event_id=str(event.id), order_number=payload["order"],
        amount=_amount(payload), currency=payload["currency"],
        context={"fulfillment": payload.get("id"), "location": payload.get("location")},
    )


@on_event("order.cancelled", in_relay=True)
def give_back_store_credit_of_cancelled_order(event: OutboxEvent) -> None:
    """Nothing of the order left and nothing will: store credit it spent goes back on the
    credit (database writes only, so the relay runs it)."""
    store_credit_give_back_cancelled(order_number=event.aggregate_id, actor="payments")


@on_event("order.lines_cancelled", in_relay=True)
def give_back_store_credit_of_cancelled_lines(event: OutboxEvent) -> None:
    """Units of the order were cancelled before they left: what they were worth goes back on
    the store credit that paid for them, once per event."""
    detail = event.payload.get("detail") or {}
    units = {ln["sku"]: int(ln["quantity"]) for ln in detail.get("lines") or []}
    store_credit_give_back_lines(order_number=event.aggregate_id, event_id=str(event.id),
                                 units=units, actor="payments")
