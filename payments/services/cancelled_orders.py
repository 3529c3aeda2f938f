"""Money an order spent that goes back when goods of it are cancelled before they left.

Today that is store credit: a card authorization simply expires at the PSP, an invoice is never
sent for what did not ship, but a store credit was spent (debited) at intake and must be given
back: all that is left of it when the whole order is cancelled, the cancelled units' worth
(oms.orders.amounts) when some lines are. Each give-back is keyed by its cause (the order, or
the event cancelling lines), unique per credit: running it again books nothing twice."""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal

from django.db import transaction

from oms.orders.amounts import PricedLine, goods_value
from oms.orders.models import Order
from payments.models import Payment, StoreCreditEntry
from payments.services.core import payment_change, refund_step
from payments.services.store_credit import store_credit_give_back
from payments.states import PaymentMethod


def _give_back(order: Order, amount: Decimal | None, key: str, actor: str) -> list[Payment]:
    """Put `amount` (None: everything still on them) back from the order's store credit
    payments, oldest first, never more than each holds."""
    given_back = []
    with transaction.atomic():
        order = Order.objects.select_for_update(no_key=True).get(pk=order.pk)
        payments = Payment.objects.select_for_update(no_key=True).filter(
            order=order, method=PaymentMethod.STORE_CREDIT).order_by("pk")
        for payment in payments:
            held = payment.captured_amount - payment.refunded_amount
            take = held if amount is None else min(amount, held)
            reference = f"{key}:payment:{payment.pk}"
            if take <= 0 or StoreCreditEntry.objects.filter(reference=reference).exists():
                continue
            store_credit_give_back(payment=payment, amount=take, reference=reference,
                                   actor=actor)
            payment_change(order=order, payment=payment, step=refund_step(payment, take),
                           topic="payment.refunded", actor=actor, refunded=take,
                           data={"reason": "cancelled", "store_credit": True, "cause": key})
            given_back.append(payment)
            if amount is not None:
                amount -= take
                if amount <= 0:
                    break
    return given_back


def store_credit_give_back_cancelled(*, order_number: str, actor: str) -> list[Payment]:
    """The whole order was cancelled before anything of it left: everything it spent of
    store credits goes back."""
    order = Order.objects.filter(number=order_number).first()
    if order is None:
        return []
    return _give_back(order, None, f"cancelled:{order.number}", actor)


def store_credit_give_back_lines(*, order_number: str, event_id: str,
                                 units: Mapping[str, int], actor: str) -> list[Payment]:
    """Some units were cancelled (by the channel, for lack of stock, a pickup not collected):
    what they were worth goes back on the store credits that paid."""
    order = Order.objects.filter(number=order_number).first()
    if order is None or not units:
        return []
    lines = list(order.lines.all())
    worth = goods_value(
        lines=[PricedLine(ln.product_id, ln.quantity, ln.unit_price) for ln in lines],
        discount=order.discount_total,
        counted={ln.product_id: ln.fulfilled for ln in lines}, units=units)
    return _give_back(order, worth, f"cancelled-lines:{event_id}", actor)
