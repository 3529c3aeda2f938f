"""Events → what suppliers are owed (`suppliers.settlement`).

Registered on import: `SuppliersConfig.ready()` must import this module (as ledger/apps.py does
with its handlers) so every process (web, worker, beat) has it before the first event is
relayed. It runs in the relay's transaction (it only writes rows), at most once per event
(`ProcessedEvent`); the settlement line's unique source and the ledger entry's make a second
run book nothing either way."""

from __future__ import annotations

from typing import Any

from fulfillment.states import FulfillmentKind
from oms.core.events import on_event
from oms.core.models import OutboxEvent
from suppliers.settlement import settlement_record, shipped_from_event


def _dropship(payload: dict[str, Any]) -> bool:
    return payload.get("kind") == FulfillmentKind.DROPSHIP


@on_event("fulfillment.shipped", in_relay=True, when=_dropship,
          name="suppliers.settlement_handlers.settle_dropship_shipment")
def settle_dropship_shipment(event: OutboxEvent) -> None:
    """A supplier site shipped a parcel of a dropship fulfilment: the supplier is owed its
    units at the purchase prices in force that day."""
    settlement_record(shipped=shipped_from_event(event.id, event.created_at, event.payload))
