"""Capturing card and PayPal payments as shipments leave and pickups are handed over.

Two steps, so that no lock is held while the PSP thinks and a failed call leaves a trace:

1. **Plan** (`payment_captures_plan`, run by the ``fulfillment.shipped`` and
   ``fulfillment.picked_up`` handlers inside `event_handle`, at most once per event): split
   the shipped (or handed over) amount over the order's capturable card and PayPal payments
   (oldest first, never more than is still open on each) and write one `pending` capture row
   per payment with the idempotency key ``capture:<event id>:<payment id>``, unique per
   payment. After commit each is queued.
2. **Execute** (`payment_capture_execute`, the `payments.tasks.execute_capture` task), in three
   short steps like fulfilment dispatch: claim the row (lock, `attempts + 1`, a lease) and
   commit; call the PSP with no transaction open, with the row's idempotency key; record the
   attempt and the outcome under the order → payment → capture locks. Success adds to the
   payment's `captured_amount` through `payment_change`; a retryable failure leaves the row
   pending with a backoff (`next_attempt_at`) and makes the task raise so Celery retries it
   soon; a refusal, or `PSP_CAPTURE_MAX_ATTEMPTS` failures, fail the capture and publish
   ``payment.capture_failed`` for finance to act on.

Executing twice captures once: the second claim finds the row settled (or leased), and should a
worker die after the PSP took the money but before we recorded it, the retry asks the PSP again
with the same key and gets the first result back. Rows whose task was lost are picked up by the
beat sweep (`payment_captures_requeue_due`).
"""

from __future__ import annotations

import logging
import time
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from django_fsm import can_proceed

from oms.core.backoff import exponential_backoff
from oms.core.events import event_emit
from oms.orders.models import Order
from oms.orders.services import order_event_record, order_lock
from payments.adapters.psp import RETRYABLE_HTTP, PaymentServiceProvider, PspResult, psp_adapter
from payments.models import Payment, PaymentCapture, PaymentCaptureAttempt
from payments.selectors import payment_capturable_amount
from payments.services.core import capture_step, payment_change, payment_lock, payment_payload
from payments.states import CAPTURABLE, CAPTURED_ON_SHIPMENT, CaptureSource, CaptureStatus

logger = logging.getLogger(__name__)
ACTOR = "payments"
ZERO = Decimal("0.00")


def capture_key(event_id: str, payment_id: int) -> str:
    return f"capture:{event_id}:{payment_id}"


def _lease() -> timedelta:
    """Longer than one PSP call can take; a claim older than this belongs to a dead worker."""
    return timedelta(seconds=2 * settings.PSP_TIMEOUT_SECONDS + 30)


def _enqueue(capture_ids: list[int]) -> None:
    from payments import tasks

    def send() -> None:
        for capture_id in capture_ids:
            tasks.execute_capture.delay(capture_id=capture_id)

    if capture_ids:
        transaction.on_commit(send, robust=True)


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
                next_attempt_at=now + _lease(), created_at=now, updated_at=now,
            )
            order_event_record(order=order, type="payment.capture_requested", actor=ACTOR,
                               data={"payment": payment.pk, "capture": capture.pk,
                                     "amount": str(take), **(context or {})})
            planned.append(capture)
            new.append(capture.pk)
            remaining -= take
        _enqueue(new)
    return planned


def _not_capturable(payment: Payment, currency: str) -> str:
    if payment.currency != currency:
        return f"shipment in {currency}, payment in {payment.currency}"
    if payment.status not in CAPTURABLE:
        return f"payment is {payment.status}"
    return ""


def _claim(capture_id: int) -> PaymentCapture | None:
    now = timezone.now()
    with transaction.atomic():
        capture = (PaymentCapture.objects.select_for_update(skip_locked=True, of=("self",))
                   .select_related("payment")
                   .filter(pk=capture_id, status=CaptureStatus.PENDING)
                   .filter(Q(lease_until__isnull=True) | Q(lease_until__lte=now))
                   .first())
        if capture is None:
            return None  # settled, or another worker holds it
        capture.attempts += 1
        capture.lease_until = capture.next_attempt_at = now + _lease()
        capture.updated_at = now
        capture.save(update_fields=["attempts", "lease_until", "next_attempt_at", "updated_at"])
    return capture


def payment_capture_execute(*, capture_id: int,
                            provider: PaymentServiceProvider | None = None) -> str:
    """Take one pending capture from the PSP. Returns ``succeeded``, ``retry`` (failed, will be
    tried again), ``failed`` (given up) or ``skipped`` (settled, or being tried elsewhere)."""
    capture = _claim(capture_id)
    if capture is None:
        return "skipped"
    started = time.monotonic()
    if not capture.payment.psp_reference:
        result = PspResult.failed("the payment has no PSP reference", retryable=False)
    else:
        try:
            result = (provider or psp_adapter()).capture(
                psp_reference=capture.payment.psp_reference, amount=capture.amount,
                currency=capture.currency, idempotency_key=capture.psp_key)
        except Exception as exc:
            # A bug in or around the adapter: record it like a failure, so that it shows in
            # the cockpit and gives up after PSP_CAPTURE_MAX_ATTEMPTS instead of looping.
            logger.exception("PSP adapter raised for capture %s", capture.pk)
            result = PspResult.failed(f"{type(exc).__name__}: {exc}")
    return _record(capture, result, int((time.monotonic() - started) * 1000))


def _record(claimed: PaymentCapture, result: PspResult, duration_ms: int) -> str:
    now = timezone.now()
    with transaction.atomic():
        order, payment = payment_lock(payment_id=claimed.payment_id)
        capture = PaymentCapture.objects.select_for_update().get(pk=claimed.pk)
        PaymentCaptureAttempt.objects.create(
            capture=capture, number=claimed.attempts, at=now, ok=result.ok,
            http_status=result.http_status, error=result.error, duration_ms=duration_ms)
        if capture.status != CaptureStatus.PENDING:
            return "skipped"  # the PSP's `captured` event settled it while we waited
        capture.lease_until = None
        capture.updated_at = now
        if result.ok:
            capture.status, capture.succeeded_at = CaptureStatus.SUCCEEDED, now
            capture.psp_capture_reference = result.reference
            capture.next_attempt_at, capture.last_error = None, ""
            capture.save()
            _apply_capture(order, payment, capture)
            return "succeeded"
        capture.last_error = result.error
        if result.retryable and capture.attempts < settings.PSP_CAPTURE_MAX_ATTEMPTS:
            capture.next_attempt_at = now + exponential_backoff(
                capture.attempts, settings.PSP_CAPTURE_BACKOFF_BASE_SECONDS)
            capture.save()
            logger.warning("capture %s failed (attempt %s), will retry: %s",
                           capture.pk, capture.attempts, result.error)
            return "retry"
        capture.status, capture.next_attempt_at = CaptureStatus.FAILED, None
        capture.save()
        data = {"payment": payment.pk, "capture": capture.pk, "amount": str(capture.amount),
                "attempts": capture.attempts, "error": result.error}
        order_event_record(order=order, type="payment.capture_failed", actor=ACTOR, data=data)
        event_emit(topic="payment.capture_failed", aggregate_type="payment",
                   aggregate_id=payment.pk,
                   payload={**payment_payload(payment, order.number), "detail": data})
        logger.error("capture %s of payment %s failed for good: %s",
                     capture.pk, payment.pk, result.error)
        return "failed"


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


def payment_captures_requeue_due(*, now: datetime | None = None, limit: int = 500) -> int:
    """The beat sweep: queue every pending capture whose next attempt is due (after a backoff,
    or because the task that should have run it was lost); returns how many."""
    now = now or timezone.now()
    with transaction.atomic():
        due = list(
            PaymentCapture.objects.select_for_update(skip_locked=True)
            .filter(status=CaptureStatus.PENDING, next_attempt_at__lte=now)
            .filter(Q(lease_until__isnull=True) | Q(lease_until__lte=now))
            .order_by("next_attempt_at").values_list("pk", flat=True)[:limit]
        )
        if due:
            PaymentCapture.objects.filter(pk__in=due).update(next_attempt_at=now + _lease())
            _enqueue(due)
    return len(due)


def payment_capture_retry(*, capture: PaymentCapture) -> bool:
    """From the cockpit: try a failed capture once more now. False if it had not failed, or if
    its amount is no longer open on the payment (a later capture took it)."""
    with transaction.atomic():
        _order, payment = payment_lock(payment_id=capture.payment_id)
        locked = PaymentCapture.objects.select_for_update().get(pk=capture.pk)
        if locked.status != CaptureStatus.FAILED or \
                payment_capturable_amount(payment=payment) < locked.amount:
            return False
        now = timezone.now()
        locked.status, locked.lease_until = CaptureStatus.PENDING, None
        locked.next_attempt_at, locked.updated_at = now + _lease(), now
        last = locked.attempt_log.order_by("-number").first()
        refused = last is not None and last.http_status is not None and \
            400 <= last.http_status < 500 and last.http_status not in RETRYABLE_HTTP
        if refused:
            # A refusal is what the PSP stored under the old key and nothing was taken under
            # it: only a fresh key makes the PSP look again. After timeouts or 5xx answers the
            # money may have moved, so the same key is kept and the PSP answers its result.
            locked.psp_idempotency_key = f"{locked.idempotency_key}:retry-{locked.attempts}"
        locked.save(update_fields=["status", "lease_until", "next_attempt_at",
                                   "psp_idempotency_key", "updated_at"])
        _enqueue([locked.pk])
    return True
