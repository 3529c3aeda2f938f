"""Giving money back for goods a customer did not collect (a pickup that expired).

`payment_give_back` runs in the ``fulfillment.pickup_expired`` handler, inside `event_handle`'s
transaction. For the order's card, PayPal and pay-in-store payments, oldest first, it gives back
`amount`:

1. **Release first** what is still authorized and neither captured nor about to be (a capture
   planned for another shipment keeps its money): the customer was never charged for it, so a
   void at the PSP is all it takes. An order paid by card and partly shipped releases the
   uncollected part and keeps what paid for the parcel.
2. **Refund** captured money (prepaid pickups) for whatever is left of `amount`.

Pay in store: nothing was authorized and the till will never take the money for goods that
were not collected, so the part still open (amount less what was captured at earlier handovers
and what was already written off) is **written off** like a release, without the PSP: a `void`
`PaymentReversal` under the same key, `voided_amount`, ``payment.voided``. Nothing is refunded:
money the till took paid for goods the customer has. The payment ends `voided` when nothing was
collected, `captured` when an earlier handover (a split pickup) took the rest, and keeps its
status while money is still open for goods waiting elsewhere.

Invoice, cash, gift card and direct debit: nothing is given back here. An invoice in particular
may already be with the customer; correcting it (a credit note) is finance's business, and an
open receivable written off here would contradict the invoice they hold.

The PSP is called inside the transaction, under the order and payment locks, because this
handler's transaction is the unit the event machinery retries: a PSP failure raises
`GiveBackFailed`, everything this run did rolls back with the handler's `ProcessedEvent` row,
and Celery runs the handler again (dead-lettered as a `HandlerFailure` after its retries). Each
call carries the key ``void:<event id>:<payment id>`` or ``refund:<event id>:<payment id>``: a run
retried after the PSP said yes but before we committed computes the same amounts from the same
rolled-back state and gets the PSP's first answer back instead of a second refund. The locks
are held for a few PSP calls once per expired pickup, which is cheap next to a refund counted
twice; a PSP `refunded` webhook for our refund waits for them and then confirms the
`PaymentReversal` row instead of counting the money again.
"""

from __future__ import annotations

import logging
from decimal import Decimal
from typing import Any

from django.db import transaction
from django.utils import timezone

from oms.orders.models import Order, OrderEvent
from oms.orders.services import order_event_record, order_lock
from payments.adapters.psp import PaymentServiceProvider, psp_adapter
from payments.models import Payment, PaymentReversal
from payments.selectors import payment_capturable_amount, payment_refundable_amount
from payments.services.core import payment_change, refund_step, void_step
from payments.states import (
    CAPTURED_ON_SHIPMENT,
    REFUND_SOURCES,
    VOIDABLE,
    WRITE_OFF_SOURCES,
    PaymentMethod,
    PaymentStatus,
    ReversalKind,
)

logger = logging.getLogger(__name__)
ACTOR = "payments"
ZERO = Decimal("0.00")
CENT = Decimal("0.01")
NOT_GIVEN_BACK = "payment.not_given_back"
K = ReversalKind
GIVEN_BACK = CAPTURED_ON_SHIPMENT | {PaymentMethod.PAY_IN_STORE}


class GiveBackFailed(Exception):
    """The PSP did not release or refund: raised so that the event handler is retried, with
    everything its run did rolled back."""


def reversal_key(kind: str, event_id: str, payment_id: int) -> str:
    return f"{kind}:{event_id}:{payment_id}"


def _in_store(payment: Payment) -> bool:
    return payment.method == PaymentMethod.PAY_IN_STORE


def _voidable(payment: Payment, currency: str) -> Decimal:
    if payment.currency != currency:
        return ZERO
    if _in_store(payment):
        if payment.status not in WRITE_OFF_SOURCES:
            return ZERO
    elif payment.status not in VOIDABLE or not payment.psp_reference:
        return ZERO
    return max(payment_capturable_amount(payment=payment), ZERO)


def _refundable(payment: Payment, currency: str) -> Decimal:
    if payment.currency != currency or _in_store(payment) \
            or payment.status not in REFUND_SOURCES or not payment.psp_reference:
        return ZERO
    return payment_refundable_amount(payment=payment)


def payment_give_back(*, event_id: str, order_number: str, amount: Decimal, currency: str,
                      context: dict[str, Any] | None = None,
                      provider: PaymentServiceProvider | None = None) -> list[PaymentReversal]:
    """Release or refund `amount` of the order's card and PayPal payments, or write it off
    against a pay-in-store payment, for goods that were not collected; returns the refunds and
    voids made for this event. Running it again for the same event gives nothing back twice: it
    finds the rows of the first run and returns them.
    Raises `GiveBackFailed` (or whatever the adapter raises) and changes nothing if the PSP
    does not do its part."""
    order = Order.objects.filter(number=order_number).first()
    if order is None:
        logger.error("expired pickup event %s names unknown order %s", event_id, order_number)
        return []
    amount = amount.quantize(CENT)
    context = {"event": event_id, **(context or {})}
    with transaction.atomic():
        order = order_lock(order=order)
        payments = list(Payment.objects.select_for_update(no_key=True)
                        .filter(order=order, method__in=GIVEN_BACK).order_by("pk"))
        if not payments or amount <= 0:
            return []
        keys = [reversal_key(kind, event_id, p.pk) for p in payments for kind in K.values]
        done = list(PaymentReversal.objects.filter(payment__in=payments,
                                                   idempotency_key__in=keys).order_by("pk"))
        if done:
            # A run commits all its rows or none, so one row means this event was handled.
            return done
        psp = provider or psp_adapter()
        made: list[PaymentReversal] = []
        remaining = amount
        for kind, open_on in ((K.VOID, _voidable), (K.REFUND, _refundable)):
            for payment in payments:
                take = min(remaining, open_on(payment, currency))
                if take <= 0:
                    continue
                order, reversal = _give_back(psp, order, payment, kind, take,
                                             reversal_key(kind, event_id, payment.pk), context)
                made.append(reversal)
                remaining -= take
        if remaining > 0 and not _noted(order, event_id):
            # Nothing (or not enough) to give back: a payment that failed, was charged back or
            # is in another currency. Finance sees it in the order's trail (once per event).
            order_event_record(order=order, type=NOT_GIVEN_BACK, actor=ACTOR,
                               data={"amount": str(remaining), "currency": currency,
                                     "payments": {p.pk: p.status for p in payments},
                                     **context})
            logger.warning("expired pickup event %s: %s %s of order %s not given back",
                           event_id, remaining, currency, order.number)
    return made


def _noted(order: Order, event_id: str) -> bool:
    return OrderEvent.objects.filter(order=order, type=NOT_GIVEN_BACK,
                                     data__event=event_id).exists()


def _give_back(psp: PaymentServiceProvider, order: Order, payment: Payment, kind: str,
               amount: Decimal, key: str, context: dict[str, Any]
               ) -> tuple[Order, PaymentReversal]:
    if _in_store(payment):
        # No PSP holds this money (only voids reach here): recording the write-off is all.
        return _record(order, payment, kind, amount, key, "", context)
    call = psp.void if kind == K.VOID else psp.refund
    result = call(psp_reference=str(payment.psp_reference), amount=amount,
                  currency=payment.currency, idempotency_key=key)
    if not result.ok:
        raise GiveBackFailed(f"{kind} of {amount} {payment.currency} on payment {payment.pk} "
                             f"failed: {result.error}")
    return _record(order, payment, kind, amount, key, result.reference, context)


def _release_step(payment: Payment, amount: Decimal) -> str | None:
    # A pending pay-in-store payment was never authorized, so `void_step` has no transition
    # for it; written off in full it is voided all the same.
    if payment.status == PaymentStatus.PENDING \
            and payment.voided_amount + amount >= payment.amount:
        return "write_off"
    return void_step(payment, amount)


def _record(order: Order, payment: Payment, kind: str, amount: Decimal, key: str,
            psp_reference: str, context: dict[str, Any]) -> tuple[Order, PaymentReversal]:
    reversal = PaymentReversal.objects.create(
        payment=payment, kind=kind, idempotency_key=key, amount=amount,
        currency=payment.currency, psp_reference=psp_reference, context=context,
        created_at=timezone.now(),
    )
    detail = {"reversal": reversal.pk, "amount": str(amount), "psp_reference": psp_reference,
              **context}
    if kind == K.VOID:
        order, _payment = payment_change(order=order, payment=payment,
                                         step=_release_step(payment, amount),
                                         topic="payment.voided",
                                         actor=ACTOR, voided=amount, data=detail)
    else:
        order, _payment = payment_change(order=order, payment=payment,
                                         step=refund_step(payment, amount),
                                         topic="payment.refunded", actor=ACTOR, refunded=amount,
                                         data=detail)
    return order, reversal
