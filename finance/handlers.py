"""Finance reacts to goods leaving and to credit notes through domain events only
(ARCHITECTURE.md rule 1). Both handlers only write to the database, so the relay runs them."""

from __future__ import annotations

from decimal import Decimal

from finance.services import open_item_invoice, open_items_credit
from oms.core.events import on_event
from oms.core.models import OutboxEvent
from payments.states import RefundRoute


@on_event("fulfillment.shipped", "fulfillment.picked_up", in_relay=True)
def invoice_goods_that_left(event: OutboxEvent) -> None:
    """A parcel shipped or a pickup handed over (`amount`: the gross value of the goods, the
    first goods with the shipping): the invoice date. An invoice or direct-debit order gets its
    open item; other orders were paid otherwise and get none."""
    payload = event.payload
    open_item_invoice(event_id=event.id, order_number=str(payload["order"]),
                      amount=Decimal(str(payload["amount"])), currency=str(payload["currency"]),
                      left_at=event.created_at)


def _to_the_invoice(payload: dict) -> bool:
    return payload.get("route") == RefundRoute.RECEIVABLE


@on_event("refund.issued", in_relay=True, when=_to_the_invoice)
def credit_returned_goods(event: OutboxEvent) -> None:
    """Returned goods of an invoice or direct-debit order are credited against what the
    customer owes: ``refund.issued`` with route ``receivable`` carries the amount credited to
    the invoice (``return.received`` carries the refund whatever way it goes back: cash, store
    credit or the card are not the invoice's business)."""
    payload = event.payload
    open_items_credit(order_number=str(payload["order"]), amount=Decimal(str(payload["amount"])),
                      currency=str(payload["currency"]), source=f"refund:{payload['id']}")
