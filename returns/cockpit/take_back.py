"""Taking goods back at the counter: the customer is there with the goods, so the return is
registered and received in one visit, and the money goes back at once."""

from __future__ import annotations

from collections.abc import Sequence

from django.db import transaction

from inventory.models import Location
from oms.orders.models import Order
from returns.models import Return
from returns.services import LineRequest, Receipt, ReturnRequest, return_receive, return_request
from returns.states import Condition, Disposition

# What staff decide by looking at the goods: resellable units go back on the store's shelf,
# damaged ones are written off.
DISPOSITION_OF = {Condition.RESELLABLE: Disposition.RESTOCK,
                  Condition.DAMAGED: Disposition.WRITE_OFF}


def return_take_back(*, order: Order, store: Location, lines: Sequence[LineRequest],
                     refund_method: str, override_reason: str, actor: str) -> Return:
    """Register the return at `store` and receive every announced unit. One transaction
    around both services: a refusal of either (a DomainError) leaves nothing behind, not even
    a return registered but never received. Side effects (the refund at the PSP, the
    customer's e-mail) leave after the commit, through the outbox."""
    with transaction.atomic():
        ret = return_request(request=ReturnRequest(
            order=order, lines=lines, refund_method=refund_method, location=store,
            override_reason=override_reason), actor=actor, channel="")
        return return_receive(ret=ret, actor=actor, receipt=Receipt(lines={
            ln.sku: (ln.quantity, DISPOSITION_OF[Condition(ln.condition)]) for ln in lines}))
