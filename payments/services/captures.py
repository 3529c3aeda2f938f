"""Capturing card and PayPal payments as shipments leave and pickups are handed over.

1. **Plan** (`payment_captures_plan`, run by the ``fulfillment.shipped`` and
   ``fulfillment.picked_up`` handlers inside `event_handle`, at most once per event): split
   the shipped (or handed over) amount over the order's capturable card and PayPal payments
   (oldest first, never more than is still open on each) and write one `pending` capture row
   per payment with the idempotency key ``capture:<event id>:<payment id>``, unique per
   payment, and its attempt (kind ``psp_capture``, `oms.core.attempts`), queued after commit.
2. **Execute** through the attempt mechanism: claim with a lease, call the PSP with no
   transaction open and the row's idempotency key, record the try under the order → payment
   → capture → attempt locks (`PspCaptureKind.lock_target`). Success adds to the payment's
   `captured_amount` through `payment_change`; a retryable failure is tried again after a
   backoff; a refusal, or `PSP_CAPTURE_MAX_ATTEMPTS` failures, fail the capture and publish
   ``payment.capture_failed`` for finance to act on.

Executing twice captures once: the second claim finds the attempt settled (or leased), and
should a worker die after the PSP took the money but before we recorded it, the retry asks the
PSP again with the same key and gets the first result back. The PSP's own ``captured`` event
may settle a capture whose call is still out (`attempt_settle`); the call's late answer is then
only logged.
"""

from __future__ import annotations

import logging
from decimal import Decimal
from typing import Any

from django.db import transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django_fsm import can_proceed

from oms.core.attempts.kinds import Outcome, kind_register
from oms.core.attempts.models import Attempt, AttemptTry
from oms.core.attempts.selectors import attempt_of
from oms.core.attempts.services import attempt_retry, attempt_run_for, attempts_create
from oms.core.events import event_emit
from oms.orders.models import Order
from oms.orders.services import order_event_record, order_lock
from payments.adapters.psp import RETRYABLE_HTTP, PaymentServiceProvider
from payments.models import Payment, PaymentCapture
from payments.selectors import payment_capturable_amount
from payments.services.core import capture_step, payment_change, payment_lock, payment_payload
from payments.services.psp_calls import PspCallKind, PspRequest
from payments.states import CAPTURABLE, CAPTURED_ON_SHIPMENT, CaptureSource, CaptureStatus

logger = logging.getLogger(__name__)
ACTOR = "payments"
ZERO = Decimal("0.00")


def capture_key(event_id: str, payment_id: int) -> str:
    return f"capture:{event_id}:{payment_id}"


def payment_captures_plan(*, event_id: str, order_number: str, amount: Decimal,
                          currency: str, context: dict[str, Any] | None = None,
                          source: str = CaptureSource.SHIPMENT) -> list[PaymentCapture]:
    """Plan the captures for goods worth `amount` that left (a shipment, or a pickup handed
    over: `source`); returns the order's captures for this event (planning the same event again
    plans nothing new)."""
    order = Order.objects.filter(number=order_number).first()
    if order is None:
        logger.error("shipment event %s names unknown order %s", event_id, order_number)
        return []
    now = timezone.now()
    planned: list[PaymentCapture] = []
    new: list[int] = []
    with transaction.atomic():
        order = order_lock(order=order)
        payments = list(Payment.objects.select_for_update(no_key=True).filter(order=order)
                        .order_by("pk"))
        remaining = amount
        for payment in payments:
            if payment.method not in CAPTURED_ON_SHIPMENT:
                continue  # invoice, cash, pay in store, gift card, direct debit
            key = capture_key(event_id, payment.pk)
            existing = PaymentCapture.objects.filter(payment=payment, idempotency_key=key).first()
            if existing is not None:
                planned.append(existing)
                remaining -= existing.amount
                continue
            if remaining <= 0:
                break
            reason = _not_capturable(payment, currency)
            if reason:
                order_event_record(order=order, type="payment.not_captured", actor=ACTOR,
                                   data={"payment": payment.pk, "status": payment.status,
                                         "reason": reason, "event": event_id,
                                         "amount": str(remaining)})
                continue
            take = min(remaining, payment_capturable_amount(payment=payment))
            if take <= 0:
                continue
            capture = PaymentCapture.objects.create(
                payment=payment, idempotency_key=key, source=source,
                amount=take, currency=payment.currency, context=context or {},
                created_at=now, updated_at=now,
            )
            order_event_record(order=order, type="payment.capture_requested", actor=ACTOR,
                               data={"payment": payment.pk, "capture": capture.pk,
                                     "amount": str(take), **(context or {})})
            planned.append(capture)
            new.append(capture.pk)
            remaining -= take
        attempts_create(kind=PSP_CAPTURE, target_ids=new, fresh=True, now=now)
    return planned


def _not_capturable(payment: Payment, currency: str) -> str:
    if payment.currency != currency:
        return f"shipment in {currency}, payment in {payment.currency}"
    if payment.status not in CAPTURABLE:
        return f"payment is {payment.status}"
    return ""


class PspCaptureKind(PspCallKind):
    name = "psp_capture"
    label = _("Capture at the PSP")
    max_attempts_setting = "PSP_CAPTURE_MAX_ATTEMPTS"
    backoff_base_setting = "PSP_CAPTURE_BACKOFF_BASE_SECONDS"
    operation = "capture"
    task = "execute_capture"

    def prepare(self, attempt: Attempt) -> PspRequest | None:
        capture = (PaymentCapture.objects.select_related("payment")
                   .filter(pk=attempt.target_id, status=CaptureStatus.PENDING).first())
        if capture is None:
            return None
        return PspRequest(psp_reference=capture.payment.psp_reference or "",
                           amount=capture.amount, currency=capture.currency,
                           idempotency_key=capture.psp_key)

    def lock_target(self, target_id: int) -> tuple[Order, Payment, PaymentCapture]:
        # The fixed order of every payment write: order, payment, capture (then the attempt).
        payment_id = PaymentCapture.objects.values_list("payment_id", flat=True).get(
            pk=target_id)
        order, payment = payment_lock(payment_id=payment_id)
        return order, payment, PaymentCapture.objects.select_for_update().get(pk=target_id)

    def succeeded(self, attempt: Attempt, target: Any, outcome: Outcome) -> None:
        order, payment, capture = target
        now = timezone.now()
        capture.status, capture.succeeded_at = CaptureStatus.SUCCEEDED, now
        capture.psp_capture_reference = outcome.detail.get("reference", "")
        capture.updated_at = now
        capture.save()
        _apply_capture(order, payment, capture)

    def dead(self, attempt: Attempt, target: Any, outcome: Outcome) -> None:
        order, payment, capture = target
        capture.status, capture.updated_at = CaptureStatus.FAILED, timezone.now()
        capture.save()
        data = {"payment": payment.pk, "capture": capture.pk, "amount": str(capture.amount),
                "attempts": attempt.tries, "error": outcome.error}
        order_event_record(order=order, type="payment.capture_failed", actor=ACTOR, data=data)
        event_emit(topic="payment.capture_failed", aggregate_type="payment",
                   aggregate_id=payment.pk,
                   payload={**payment_payload(payment, order.number), "detail": data})

    def before_retry(self, attempt: Attempt, target: Any) -> bool:
        """Only a failed capture whose amount is still open on the payment (a later capture
        may have taken it)."""
        _order, payment, capture = target
        if capture.status != CaptureStatus.FAILED or \
                payment_capturable_amount(payment=payment) < capture.amount:
            return False
        last = AttemptTry.objects.filter(attempt=attempt).order_by("-number", "-pk").first()
        refused = last is not None and last.status_code is not None and \
            400 <= last.status_code < 500 and last.status_code not in RETRYABLE_HTTP
        if refused:
            # A refusal is what the PSP stored under the old key and nothing was taken under
            # it: only a fresh key makes the PSP look again. After timeouts or 5xx answers the
            # money may have moved, so the same key is kept and the PSP answers its result.
            capture.psp_idempotency_key = f"{capture.idempotency_key}:retry-{attempt.tries}"
        capture.status, capture.updated_at = CaptureStatus.PENDING, timezone.now()
        capture.save(update_fields=["status", "psp_idempotency_key", "updated_at"])
        return True

    def describe(self, target_id: int) -> str:
        return str(_("capture %(id)s") % {"id": target_id})

    def admin_url(self, target_id: int) -> str | None:
        return reverse("admin:payments_paymentcapture_change", args=[target_id])


PSP_CAPTURE = kind_register(PspCaptureKind())


def payment_capture_execute(*, capture_id: int,
                            provider: PaymentServiceProvider | None = None) -> str:
    """Take one pending capture from the PSP now, whatever its number of tries (a shell, a
    test). Returns its attempt's status afterwards (succeeded, pending: will be tried again,
    dead: given up), or "skipped" (settled, or being tried elsewhere)."""
    return attempt_run_for(kind=PSP_CAPTURE, target_id=capture_id, adapter=provider)


def _apply_capture(order: Order, payment: Payment, capture: PaymentCapture) -> None:
    detail = {"capture": capture.pk, "amount": str(capture.amount),
              "psp_capture_reference": capture.psp_capture_reference, **capture.context}
    step: str | None = capture_step(payment, capture.amount)
    if not can_proceed(getattr(payment, step)):
        # The money moved at the PSP whatever happened here meanwhile (a chargeback, a refund
        # of everything captured so far): count it, keep the status, and let finance look.
        logger.error("capture %s succeeded while payment %s is %s", capture.pk, payment.pk,
                     payment.status)
        step = None
    payment_change(order=order, payment=payment, step=step, topic="payment.captured",
                   actor=ACTOR, captured=capture.amount, data=detail)


def payment_capture_retry(*, capture: PaymentCapture) -> bool:
    """From the cockpit: try a failed capture once more now. False if it had not failed, or if
    its amount is no longer open on the payment (a later capture took it)."""
    attempt = attempt_of(kind=PSP_CAPTURE, target_id=capture.pk)
    return attempt is not None and attempt_retry(attempt=attempt)
