"""Pay in store: the customer pays at the till when collecting a pickup.

Called by fulfilment's handover service, synchronously and inside its transaction, so the money
and the handover commit (or fail) together. The PSP is never involved: the till took the money,
we record it as a capture with source `store`, keyed by the handover's reference.
"""

from __future__ import annotations

from decimal import Decimal

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django_fsm import can_proceed

from oms.core.errors import Conflict, InvalidInput, InvalidTransition, Unprocessable
from oms.orders.models import Order
from oms.orders.services import order_lock
from payments.models import Payment, PaymentCapture
from payments.selectors import payment_capturable_amount
from payments.services.core import capture_step, payment_change
from payments.states import CaptureSource, CaptureStatus, PaymentMethod

CENT = Decimal("0.01")
# Leaves room for the prefix inside PaymentCapture.idempotency_key (200).
MAX_REFERENCE_LENGTH = 150


def store_key(reference: str) -> str:
    return f"store:{reference}"


def _checked_amount(amount: Decimal) -> Decimal:
    if not isinstance(amount, Decimal) or not amount.is_finite() or amount <= 0:
        raise InvalidInput([("min_value", _("The amount collected must be more than 0."),
                             "amount")])
    if amount != amount.quantize(CENT):
        raise InvalidInput([("max_decimal_places",
                             _("The amount collected has at most 2 decimal places."), "amount")])
    return amount


def _checked_reference(reference: str) -> str:
    if not reference or len(reference) > MAX_REFERENCE_LENGTH:
        raise InvalidInput([("invalid", _("A reference of 1 to %(max)d characters is required.")
                             % {"max": MAX_REFERENCE_LENGTH}, "reference")])
    return reference


def payment_collect_in_store(*, order: Order, amount: Decimal, actor: str,
                             reference: str, location: str = "") -> Payment | None:
    """The customer paid `amount` at the till for the goods handed over: capture the order's
    pay-in-store payment by that much and return it, or return None if the order has none (it
    was paid online, or by invoice: then nothing is checked). Never calls the PSP.

    Call inside the caller's transaction with the order locked; taking the lock again here is
    free and keeps the lock order (order, then payment) when called on its own.

    `reference` names the handover and makes the call safe to repeat: the same reference again
    returns the payment unchanged, as a replayed request does (with a different amount it is a
    409 ``reference_reused``). A new reference captures again, as long as money is left open:
    a customer collecting a split pickup pays at each visit. Once the payment is captured in
    full, a further collection raises `InvalidTransition` (409), as every change the payment's
    status does not allow does.

    Bad input raises and changes nothing: an amount not above 0 or with more than 2 decimals
    is `InvalidInput` (400), more than is still open on the payment `Unprocessable` (422,
    ``amount_exceeds_open``)."""
    with transaction.atomic():
        order = order_lock(order=order)
        payment = (Payment.objects.select_for_update(no_key=True)
                   .filter(order=order, method=PaymentMethod.PAY_IN_STORE).order_by("pk").first())
        if payment is None:
            return None  # checked first: a handover of an order paid online need not add up
        amount = _checked_amount(amount)
        reference = _checked_reference(reference)
        key = store_key(reference)
        done = PaymentCapture.objects.filter(payment=payment, idempotency_key=key).first()
        if done is not None:
            if done.amount != amount:
                raise Conflict(
                    _("The handover %(reference)s was already paid with %(amount)s.")
                    % {"reference": reference, "amount": done.amount},
                    code="reference_reused", attr="reference")
            return payment
        if not can_proceed(payment.capture_partially):
            raise InvalidTransition(
                _("Payment %(id)s is %(status)s; nothing is left to collect in store.")
                % {"id": payment.pk, "status": payment.get_status_display()}, attr="amount")
        still_open = payment_capturable_amount(payment=payment)
        if amount > still_open:
            raise Unprocessable(
                _("Only %(open)s of this payment is left to collect.") % {"open": still_open},
                code="amount_exceeds_open", attr="amount")
        now = timezone.now()
        capture = PaymentCapture.objects.create(
            payment=payment, idempotency_key=key, source=CaptureSource.STORE,
            status=CaptureStatus.SUCCEEDED, amount=amount, currency=payment.currency,
            context={"reference": reference}, succeeded_at=now, created_at=now, updated_at=now,
        )
        _order, payment = payment_change(
            order=order, payment=payment, step=capture_step(payment, amount),
            topic="payment.captured", actor=actor, captured=amount,
            data={"capture": capture.pk, "amount": str(amount), "source": CaptureSource.STORE,
                  "reference": reference,
                  # The till that took the money: the ledger books it to that store's cash.
                  "location": location or None})
    return payment
