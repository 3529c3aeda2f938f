"""Money an order spent that goes back when the order is cancelled before anything left.

Today that is store credit: a card authorization simply expires at the PSP, an invoice is never
sent, but a store credit was spent (debited) at intake and must be given back."""

from __future__ import annotations

from django.db import transaction

from oms.orders.models import Order
from payments.models import Payment, StoreCreditEntry
from payments.services.core import payment_change, refund_step
from payments.services.store_credit import store_credit_give_back
from payments.states import PaymentMethod


def store_credit_give_back_cancelled(*, order_number: str, actor: str) -> list[Payment]:
    """An order paid (in part) by store credit was cancelled before anything of it left: what
    it spent goes back on the credit, recorded as a refund of the payment. Running it again
    for the same order books nothing twice (the entry's reference is unique per credit)."""
    order = Order.objects.filter(number=order_number).first()
    if order is None:
        return []
    given_back = []
    with transaction.atomic():
        order = Order.objects.select_for_update(no_key=True).get(pk=order.pk)
        payments = Payment.objects.select_for_update(no_key=True).filter(
            order=order, method=PaymentMethod.STORE_CREDIT).order_by("pk")
        for payment in payments:
            amount = payment.captured_amount - payment.refunded_amount
            reference = f"cancelled:{order.number}:payment:{payment.pk}"
            if amount <= 0 or StoreCreditEntry.objects.filter(reference=reference).exists():
                continue
            store_credit_give_back(payment=payment, amount=amount, reference=reference,
                                   actor=actor)
            payment_change(order=order, payment=payment, step=refund_step(payment, amount),
                           topic="payment.refunded", actor=actor, refunded=amount,
                           data={"reason": "order cancelled", "store_credit": True})
            given_back.append(payment)
    return given_back
