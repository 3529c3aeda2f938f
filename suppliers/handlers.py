"""Events → e-mails to suppliers (`suppliers.notices`).

Registered on import by `SuppliersConfig.ready()`, so every process (web, worker, beat) has it
before the first event is relayed. It runs in the relay's transaction: it only writes the
e-mail's row and attempt, which is sent after commit (never from here)."""

from __future__ import annotations

from typing import Any

from fulfillment.states import FulfillmentKind
from oms.core.events import on_event
from oms.core.models import OutboxEvent
from suppliers.notices import new_order_notice


def _dropship(payload: dict[str, Any]) -> bool:
    return payload.get("kind") == FulfillmentKind.DROPSHIP


@on_event("fulfillment.created", in_relay=True, when=_dropship,
          name="suppliers.handlers.notify_supplier_of_new_order")
def notify_supplier_of_new_order(event: OutboxEvent) -> None:
    """A dropship order reached a supplier site: its supplier hears of it (unless it takes a
    daily digest instead)."""
    new_order_notice(event)
