"""Events from the payment service provider: `POST /api/v1/payments/events`.

An event names the payment by `psp_reference`. What it does:

* ``authorized``: pending or failed → authorized; releases the order's hold.
* ``captured``: money taken. If it matches a capture we made (or the channel reported at
  intake) that the PSP has not confirmed yet, it confirms that capture; otherwise it is a
  capture made at the PSP (its dashboard, an instant capture) and adds to `captured_amount`.
  Releases the order's hold like an authorization.
* ``refunded``: money back to the customer, at most what was captured. If it matches a refund
  we made (an expired pickup, `payments.services.reversals`) that the PSP has not confirmed
  yet, it confirms that refund instead of counting the money twice.
* ``failed``: pending or authorized → failed; holds the order while nothing has shipped.
* ``chargeback``: the customer's bank took captured money back.

PSPs deliver webhooks at least once and not always in order. A redelivery (same reference, type,
amount and time) answers the stored response and changes nothing. An ``authorized`` or
``failed`` event older than the status the payment already has (say, the failure of a first
card attempt arriving after the second attempt's authorization) is acknowledged and ignored.
Money events are facts and always count.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from oms.core.attempts.services import attempt_settle
from oms.core.errors import NotFound, Unprocessable
from oms.orders.models import Order
from oms.orders.services import order_event_record
from payments.models import Payment, PaymentCapture, PaymentReversal, PspEvent
from payments.selectors import (
    payment_capturable_amount,
    payment_get_by_psp_reference,
    psp_event_find,
)
from payments.services.captures import PSP_CAPTURE
from payments.services.core import (
    capture_step,
    payment_change,
    payment_lock,
    payment_require,
    refund_step,
)
from payments.services.refunds import refund_pending_at_psp, refund_settle_by_psp
from payments.states import (
    CaptureSource,
    CaptureStatus,
    PaymentStatus,
    PspEventOutcome,
    PspEventType,
    ReversalKind,
)

S = PaymentStatus
T = PspEventType
O = PspEventOutcome  # noqa: E741


@dataclass(frozen=True)
class PspEventData:
    psp_reference: str
    type: str
    amount: Decimal
    currency: str
    at: datetime


@dataclass(frozen=True)
class PspEventReceipt:
    body: dict[str, Any]
    replayed: bool


def psp_event_body(event: PspEvent, payment: Payment, order: Order) -> dict[str, Any]:
    """The answer to the PSP, stored with the event and replayed on redelivery."""
    return {
        "id": event.pk,
        "psp_reference": event.psp_reference,
        "type": event.type,
        "amount": str(event.amount),
        "currency": event.currency,
        "at": event.at.isoformat(),
        "outcome": event.outcome,
        "payment": {
            "id": payment.pk, "method": payment.method, "status": payment.status,
            "amount": str(payment.amount), "captured_amount": str(payment.captured_amount),
            "refunded_amount": str(payment.refunded_amount), "currency": payment.currency,
        },
        "order": {"number": order.number, "status": order.status},
    }


def psp_event_receive(*, data: PspEventData, actor: str) -> PspEventReceipt:
    """Apply one PSP event once; a redelivery gets the first answer back."""
    found = payment_get_by_psp_reference(psp_reference=data.psp_reference)
    if found is None:
        raise NotFound(_("No payment has the PSP reference %(reference)s.")
                       % {"reference": data.psp_reference},
                       code="unknown_psp_reference", attr="psp_reference")
    if data.currency != found.currency:
        raise Unprocessable(
            _("The payment is in %(expected)s, the event in %(given)s.")
            % {"expected": found.currency, "given": data.currency},
            code="currency_mismatch", attr="currency",
        )
    amount = data.amount.quantize(Decimal("0.01"))
    with transaction.atomic():
        # Under the payment's lock a redelivery running concurrently waits for the first
        # delivery to commit, then finds its row here.
        order, payment = payment_lock(payment_id=found.pk)
        stored = psp_event_find(psp_reference=data.psp_reference, type=data.type,
                                amount=amount, at=data.at)
        if stored is not None:
            return PspEventReceipt(body=stored.response, replayed=True)
        outcome, order, payment = _apply(order, payment, data, amount, actor)
        event = PspEvent.objects.create(
            payment=payment, psp_reference=data.psp_reference, type=data.type, amount=amount,
            currency=data.currency, at=data.at, outcome=outcome, received_at=timezone.now(),
            received_from=actor, response={},
        )
        event.response = psp_event_body(event, payment, order)
        event.save(update_fields=["response"])
    return PspEventReceipt(body=event.response, replayed=False)


def _out_of_order(payment: Payment, data: PspEventData) -> bool:
    return data.type in (T.AUTHORIZED, T.FAILED) and payment.status_at is not None \
        and data.at < payment.status_at


def _note_status_time(payment: Payment, at: datetime) -> None:
    """An event restating the current status still moves the time it is known to hold."""
    if payment.status_at is None or at > payment.status_at:
        payment.status_at = at
        payment.save(update_fields=["status_at"])


def _apply(order: Order, payment: Payment, data: PspEventData, amount: Decimal,
           actor: str) -> tuple[str, Order, Payment]:
    if _out_of_order(payment, data):
        return O.OUT_OF_ORDER, order, payment
    detail = {"psp_event": {"type": data.type, "amount": str(amount),
                            "at": data.at.isoformat()}}
    change = {"order": order, "payment": payment, "actor": actor, "at": data.at,
              "data": detail}
    if data.type == T.AUTHORIZED:
        if payment.status == S.AUTHORIZED:
            _note_status_time(payment, data.at)
            return O.UNCHANGED, order, payment
        payment_require(payment, "authorize")
        if amount != payment.amount:
            raise Unprocessable(
                _("The payment is for %(expected)s, the authorization for %(given)s.")
                % {"expected": payment.amount, "given": amount},
                code="amount_mismatch", attr="amount",
            )
        order, payment = payment_change(step="authorize", topic="payment.authorized", **change)
    elif data.type == T.FAILED:
        if payment.status == S.FAILED:
            _note_status_time(payment, data.at)
            return O.UNCHANGED, order, payment
        order, payment = payment_change(step="fail", topic="payment.failed", **change)
    elif data.type == T.CAPTURED:
        ours = _unconfirmed_capture(payment, amount)
        if ours is not None:
            order, payment = _confirm_capture(ours, data, order=order, payment=payment,
                                              actor=actor)
            return O.CAPTURE_CONFIRMED, order, payment
        payment_require(payment, "capture_partially")
        # Captures of ours still in flight count as taken: both will have happened.
        _require_within(amount, payment_capturable_amount(payment=payment),
                        "amount_exceeds_open",
                        _("Only %(open)s of this payment is left to capture."))
        now = timezone.now()
        PaymentCapture.objects.create(
            payment=payment, idempotency_key=f"psp:{data.at.isoformat()}:{amount}",
            source=CaptureSource.PSP, status=CaptureStatus.SUCCEEDED, amount=amount,
            currency=payment.currency, succeeded_at=now, confirmed_at=data.at,
            created_at=now, updated_at=now,
        )
        order, payment = payment_change(step=capture_step(payment, amount),
                                        topic="payment.captured", captured=amount, **change)
    elif data.type == T.REFUNDED:
        refund = _unconfirmed_refund(payment, amount)
        if refund is not None:
            _confirm_refund(refund, data, order=order, actor=actor)
            return O.REFUND_CONFIRMED, order, payment
        asked = refund_pending_at_psp(payment=payment, amount=amount)
        if asked is not None:
            # A refund for returned goods whose call has not answered yet: this is it.
            refund_settle_by_psp(order=order, payment=payment, refund=asked, at=data.at)
            payment.refresh_from_db()
            return O.REFUND_CONFIRMED, order, payment
        payment_require(payment, "refund_partially")
        _require_within(amount, payment.captured_amount - payment.refunded_amount,
                        "amount_exceeds_captured",
                        _("Only %(open)s of this payment can still be refunded."))
        order, payment = payment_change(step=refund_step(payment, amount),
                                        topic="payment.refunded", refunded=amount, **change)
    else:  # chargeback
        payment_require(payment, "charge_back")
        _require_within(amount, payment.captured_amount, "amount_exceeds_captured",
                        _("Only %(open)s of this payment was captured."))
        order, payment = payment_change(step="charge_back", topic="payment.chargeback", **change)
    return O.APPLIED, order, payment


def _require_within(amount: Decimal, limit: Decimal, code: str, message: str) -> None:
    if amount > limit:
        raise Unprocessable(message % {"open": limit}, code=code, attr="amount")


def _unconfirmed_capture(payment: Payment, amount: Decimal) -> PaymentCapture | None:
    """The oldest capture of this amount that we made (or the channel reported) and the PSP
    has not confirmed yet. The event carries no capture id, so the amount is the match."""
    return (PaymentCapture.objects.select_for_update()
            .filter(payment=payment, amount=amount, confirmed_at__isnull=True,
                    source__in=[CaptureSource.SHIPMENT, CaptureSource.HANDOVER,
                                CaptureSource.INTAKE],
                    status__in=[CaptureStatus.PENDING, CaptureStatus.SUCCEEDED])
            .order_by("pk").first())


def _confirm_capture(capture: PaymentCapture, data: PspEventData, *, order: Order,
                     payment: Payment, actor: str) -> tuple[Order, Payment]:
    """The PSP says a capture of ours went through. If our own call has not reported back yet
    (it is in flight, or failed in a way that hid the success), the money counts now; the
    call's late answer then finds the capture settled and only logs its attempt."""
    now = timezone.now()
    capture.confirmed_at = data.at
    capture.updated_at = now
    detail = {"capture": capture.pk, "amount": str(capture.amount),
              "psp_event": {"type": data.type, "at": data.at.isoformat()}}
    if capture.status == CaptureStatus.PENDING:
        capture.status, capture.succeeded_at = CaptureStatus.SUCCEEDED, now
        capture.save()
        # our own call may still be out: its attempt is settled, its late answer only logged
        attempt_settle(kind=PSP_CAPTURE, target_id=capture.pk)
        return payment_change(order=order, payment=payment,
                              step=capture_step(payment, capture.amount),
                              topic="payment.captured", actor=actor, captured=capture.amount,
                              at=data.at, data=detail)
    capture.save(update_fields=["confirmed_at", "updated_at"])
    order_event_record(order=order, type="payment.capture_confirmed", actor=actor, data=detail)
    return order, payment


def _unconfirmed_refund(payment: Payment, amount: Decimal) -> PaymentReversal | None:
    """The oldest refund of this amount we made that the PSP has not confirmed yet (matched by
    amount, like captures: the event carries no refund id)."""
    return (PaymentReversal.objects.select_for_update()
            .filter(payment=payment, kind=ReversalKind.REFUND, amount=amount,
                    confirmed_at__isnull=True)
            .order_by("pk").first())


def _confirm_refund(refund: PaymentReversal, data: PspEventData, *, order: Order,
                    actor: str) -> None:
    """Our refund was counted when the PSP answered the call; its webhook only confirms it."""
    refund.confirmed_at = data.at
    refund.save(update_fields=["confirmed_at"])
    order_event_record(order=order, type="payment.refund_confirmed", actor=actor,
                       data={"payment": refund.payment_id, "reversal": refund.pk,
                             "amount": str(refund.amount),
                             "psp_event": {"type": data.type, "at": data.at.isoformat()}})
