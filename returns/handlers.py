"""Returns reacting to the layers below through domain events (ARCHITECTURE.md rule 1): a card
refund the PSP confirmed, and an exchange order that shipped, was handed over or cancelled,
move a received return on to refunded and closed (`services.return_settle`, idempotent)."""

from __future__ import annotations

from typing import Any

from oms.core.events import on_event
from oms.core.models import OutboxEvent
from returns.exchange import is_exchange_order
from returns.models import Return
from returns.services import return_settle

ACTOR = "returns"


def _psp_refund_of_a_return(payload: dict[str, Any]) -> bool:
    # Refunds are written for returns only, today; the reference is the return's number. Cash,
    # store credit and invoice credits are issued in the transaction that moves the return on
    # (`services._advance`); only a card refund confirmed later by the PSP needs this handler.
    return payload.get("route") == "psp" and "-R" in str(payload.get("reference") or "")


@on_event("refund.issued", in_relay=True, when=_psp_refund_of_a_return)
def settle_return_after_refund(event: OutboxEvent) -> None:
    return_settle(return_number=str(event.payload["reference"]), actor=ACTOR)


@on_event("order.shipped", "order.completed", "order.cancelled", in_relay=True,
          when=is_exchange_order)
def settle_return_after_exchange(event: OutboxEvent) -> None:
    number = (Return.objects.filter(exchange_order__number=event.aggregate_id)
              .values_list("number", flat=True).first())
    if number is not None:
        return_settle(return_number=number, actor=ACTOR)
