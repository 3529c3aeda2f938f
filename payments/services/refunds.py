"""Refunds for returned goods: the money side of a return (returns.services calls in).

`refunds_issue` splits an amount over the ways the customer's money goes back, as the method
they chose says (API.md, Returns):

- **cash**: paid out at the till of the store taking the goods back (route ``till``), issued
  at once. Only in a store: a parcel has no till.
- **store_credit**: a new store credit with a code (route ``store_credit``), issued at once.
- **original**: back the way the order was paid, payment by payment, oldest first, never more
  than each can take:
  - card and PayPal: a referenced, partial refund at the PSP (route ``psp``). It works for an
    online card payment refunded at a store: the PSP refunds by the payment's reference, not
    by the terminal. Written `pending` with an attempt (kind ``psp_refund``, the one attempt
    mechanism: claim, call with no lock held, record), `issued` once the PSP said yes;
  - pay in store and cash: paid out at the till (route ``till``), in a store only;
  - store credit: put back on the credit that paid (route ``store_credit``);
  - invoice and direct debit: credited against what the customer owes (route ``receivable``),
    issued at once; the ``refund.issued`` event is what finance books (a credit note);
  - gift card and the value of returned goods (an exchange order): a new store credit.

  What no payment can take (a payment charged back meanwhile) is refused with 409
  ``refund_not_possible``: the till then chooses cash or store credit.

The caller holds the order's row lock (the fixed order: order, payments, refunds, store
credits), so two returns of one order refund one after the other, each seeing the other's
rows. Every refund row carries an idempotency key made from the caller's stable key, unique
in the database: issuing the same return twice finds the first rows.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import Any

from django.db.models import Sum
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from oms.core.attempts.kinds import Outcome, kind_register
from oms.core.attempts.models import Attempt, AttemptTry
from oms.core.attempts.selectors import attempt_of
from oms.core.attempts.services import (
    attempt_retry,
    attempt_run_for,
    attempt_settle,
    attempts_create,
)
from oms.core.errors import Conflict, Unprocessable
from oms.core.events import event_emit
from oms.orders.models import Order
from oms.orders.services import order_event_record
from payments.adapters.psp import RETRYABLE_HTTP, PaymentServiceProvider
from payments.models import Payment, PaymentReversal, Refund
from payments.selectors import payment_refundable_amount
from payments.services.core import payment_change, payment_lock, refund_step
from payments.services.psp_calls import PspCallKind, PspRequest
from payments.services.store_credit import store_credit_give_back, store_credit_issue
from payments.states import (
    CAPTURED_ON_SHIPMENT,
    PaymentMethod,
    RefundMethod,
    RefundRoute,
    RefundStatus,
    ReversalKind,
)

logger = logging.getLogger(__name__)
ZERO = Decimal("0.00")
M = PaymentMethod
R = RefundRoute
# Paid at a till, so given back at one.
TILL_METHODS = frozenset({M.PAY_IN_STORE, M.CASH})
RECEIVABLE_METHODS = frozenset({M.INVOICE, M.DIRECT_DEBIT})
# Nothing can be paid back to them: the customer gets a store credit instead.
CREDITED_METHODS = frozenset({M.GIFT_CARD, M.RETURN_CREDIT})


@dataclass(frozen=True)
class RefundRequest:
    order: Order  # locked by the caller
    amount: Decimal
    method: str  # RefundMethod
    reference: str  # what caused it, e.g. "return R-000012"
    key: str  # stable for that cause, e.g. "return:12"
    in_store: bool
    location_code: str
    actor: str
    context: dict[str, Any] = field(default_factory=dict)


def refund_method_check(*, order: Order, method: str, in_store: bool) -> None:
    """Refuse (422 ``refund_method_unavailable``) a method that cannot work for this order
    where the goods come back: cash, or an order paid at a till, need a till."""
    if in_store:
        return
    if method == RefundMethod.CASH:
        raise Unprocessable(_("Cash is paid out at a store's till; a return by mail is "
                              "refunded to the original payment or as store credit."),
                            code="refund_method_unavailable", attr="refund.method")
    if method == RefundMethod.ORIGINAL and order.payments.filter(
            method__in=TILL_METHODS).exists():
        raise Unprocessable(_("This order was paid at a till; by mail it is refunded as store "
                              "credit."), code="refund_method_unavailable",
                            attr="refund.method")


def refunds_issue(*, request: RefundRequest) -> list[Refund]:
    """Give `request.amount` back as `request.method` says; returns the refund rows (the same
    rows again for a key already issued). Call inside a transaction with the order locked."""
    # By the indexed reference first: a prefix match alone would scan every refund.
    existing = list(Refund.objects.filter(reference=request.reference,
                                          idempotency_key__startswith=f"{request.key}:")
                    .order_by("pk"))
    if existing or request.amount <= 0:
        return existing
    refund_method_check(order=request.order, method=request.method, in_store=request.in_store)
    if request.method == RefundMethod.CASH:
        return [_issue_now(request, None, R.TILL, request.amount, f"{request.key}:cash")]
    if request.method == RefundMethod.STORE_CREDIT:
        return [_issue_now(request, None, R.STORE_CREDIT, request.amount,
                           f"{request.key}:credit")]
    return _to_original(request)


def _to_original(request: RefundRequest) -> list[Refund]:
    payments = list(Payment.objects.select_for_update(no_key=True)
                    .filter(order=request.order).order_by("pk"))
    made: list[Refund] = []
    remaining = request.amount
    for payment in payments:
        if remaining <= 0:
            break
        route = _route(payment)
        if route is None or payment.currency != request.order.currency:
            continue
        take = min(remaining, _room(payment, route))
        if take <= 0:
            continue
        key = f"{request.key}:payment:{payment.pk}"
        if route == R.PSP:
            made.append(_request_at_psp(request, payment, take, key))
        else:
            made.append(_issue_now(request, payment, route, take, key))
        remaining -= take
    if remaining > 0:
        raise Conflict(
            _("Only %(possible)s %(currency)s can go back to the original payment; refund the "
              "rest in cash or as store credit.")
            % {"possible": request.amount - remaining, "currency": request.order.currency},
            code="refund_not_possible", attr="refund.method",
            extra={"possible": str(request.amount - remaining)})
    return made


def _route(payment: Payment) -> str | None:
    if payment.method in CAPTURED_ON_SHIPMENT:
        return R.PSP if payment.psp_reference else None
    if payment.method in TILL_METHODS:
        return R.TILL
    if payment.method in RECEIVABLE_METHODS:
        return R.RECEIVABLE
    return R.STORE_CREDIT  # store credit (the same one), gift card, value of returned goods


def _refunded_through(payment: Payment, *statuses: str) -> Decimal:
    total = Refund.objects.filter(payment=payment, status__in=statuses) \
        .aggregate(total=Sum("amount"))["total"]
    return total or ZERO


def _room(payment: Payment, route: str) -> Decimal:
    """How much more this payment can take back."""
    if route == R.PSP:
        # Refunds still at the PSP are spoken for.
        return payment_refundable_amount(payment=payment) \
            - _refunded_through(payment, RefundStatus.PENDING)
    if route == R.TILL or payment.method == M.STORE_CREDIT:
        return payment_refundable_amount(payment=payment)
    # Invoice, direct debit, gift card, returned goods' value: what was asked, less what
    # earlier refunds of this payment gave back.
    return payment.amount - _refunded_through(payment, RefundStatus.ISSUED,
                                              RefundStatus.PENDING)


def _new_refund(request: RefundRequest, payment: Payment | None, route: str, amount: Decimal,
                key: str, **fields: Any) -> Refund:
    return Refund.objects.create(
        order=request.order, payment=payment, method=request.method, route=route,
        amount=amount, currency=request.order.currency, reference=request.reference,
        idempotency_key=key, location_code=request.location_code if route == R.TILL else "",
        actor=request.actor, created_at=timezone.now(), **fields)


def _issue_now(request: RefundRequest, payment: Payment | None, route: str, amount: Decimal,
               key: str) -> Refund:
    """Cash, store credit and credits against an invoice: done in this transaction."""
    credit = None
    if route == R.STORE_CREDIT:
        if payment is not None and payment.method == M.STORE_CREDIT:
            credit = store_credit_give_back(payment=payment, amount=amount, reference=key,
                                            actor=request.actor)
        else:
            credit = store_credit_issue(amount=amount, currency=request.order.currency,
                                        customer=request.order.customer, reference=key,
                                        actor=request.actor, order=request.order)
    refund = _new_refund(request, payment, route, amount, key, store_credit=credit)
    if payment is not None and route != R.RECEIVABLE and payment.method not in CREDITED_METHODS:
        # The payment's own money goes back (the till's cash, the same store credit).
        payment_change(order=request.order, payment=payment,
                       step=refund_step(payment, amount), topic="payment.refunded",
                       actor=request.actor, refunded=amount,
                       data={"refund": refund.pk, "amount": str(amount), **request.context})
    _issued(request.order, refund, timezone.now(), request.context)
    return refund


def _request_at_psp(request: RefundRequest, payment: Payment, amount: Decimal,
                    key: str) -> Refund:
    refund = _new_refund(request, payment, R.PSP, amount, key)
    order_event_record(order=request.order, type="refund.requested", actor=request.actor,
                       data={**refund_payload(refund), **request.context})
    attempts_create(kind=PSP_REFUND, target_ids=[refund.pk], fresh=True)
    return refund


def refund_payload(refund: Refund) -> dict[str, Any]:
    """What webhook subscribers and the audit trail get about a refund. Never the store
    credit's code: it is worth money to whoever reads it."""
    return {"id": refund.pk, "order": refund.order.number, "reference": refund.reference,
            "method": refund.method, "route": refund.route, "status": refund.status,
            "amount": str(refund.amount), "currency": refund.currency,
            "payment": refund.payment_id, "location": refund.location_code or None,
            "issued_at": refund.issued_at.isoformat() if refund.issued_at else None}


def _issued(order: Order, refund: Refund, now: Any, context: dict[str, Any]) -> None:
    refund.issue()
    refund.issued_at = now
    refund.save(update_fields=["status", "issued_at"])
    payload = {**refund_payload(refund), **context}
    order_event_record(order=order, type="refund.issued", actor=refund.actor, data=payload)
    event_emit(topic="refund.issued", aggregate_type="refund", aggregate_id=refund.pk,
               payload=payload)


# --- the PSP call, through the attempt mechanism ----------------------------------------------
class PspRefundKind(PspCallKind):
    name = "psp_refund"
    label = gettext_lazy("Refund at the PSP")
    max_attempts_setting = "PSP_REFUND_MAX_ATTEMPTS"
    backoff_base_setting = "PSP_REFUND_BACKOFF_BASE_SECONDS"
    operation = "refund"
    task = "execute_refund"

    def prepare(self, attempt: Attempt) -> PspRequest | None:
        refund = (Refund.objects.select_related("payment")
                  .filter(pk=attempt.target_id, status=RefundStatus.PENDING).first())
        if refund is None or refund.payment is None:
            return None
        return PspRequest(psp_reference=refund.payment.psp_reference or "",
                          amount=refund.amount, currency=refund.currency,
                          idempotency_key=refund.psp_key)

    def lock_target(self, target_id: int) -> tuple[Order, Payment, Refund]:
        # The fixed order of every payment write: order, payment, refund (then the attempt).
        payment_id = Refund.objects.values_list("payment_id", flat=True).get(pk=target_id)
        order, payment = payment_lock(payment_id=payment_id)
        return order, payment, Refund.objects.select_for_update().get(pk=target_id)

    def succeeded(self, attempt: Attempt, target: Any, outcome: Outcome) -> None:
        order, payment, refund = target
        _count_at_psp(order, payment, refund, outcome.detail.get("reference", ""))

    def dead(self, attempt: Attempt, target: Any, outcome: Outcome) -> None:
        order, _payment, refund = target
        refund.fail()
        refund.failure = outcome.error[:2000]
        refund.save(update_fields=["status", "failure"])
        payload = {**refund_payload(refund), **_psp_context(refund), "error": outcome.error,
                   "attempts": attempt.tries}
        order_event_record(order=order, type="refund.failed", actor=refund.actor, data=payload)
        event_emit(topic="refund.failed", aggregate_type="refund", aggregate_id=refund.pk,
                   payload=payload)

    def before_retry(self, attempt: Attempt, target: Any) -> bool:
        _order, payment, refund = target
        if refund.status != RefundStatus.FAILED or \
                payment_refundable_amount(payment=payment) < refund.amount:
            return False
        last = AttemptTry.objects.filter(attempt=attempt).order_by("-number", "-pk").first()
        if last is not None and last.status_code is not None and \
                400 <= last.status_code < 500 and last.status_code not in RETRYABLE_HTTP:
            # A PSP answers a key it refused with the same refusal: only a fresh one makes it
            # look again (nothing moved under the old one).
            refund.psp_idempotency_key = f"{refund.idempotency_key}:retry-{attempt.tries}"
        refund.retry()
        refund.save(update_fields=["status", "psp_idempotency_key"])
        return True

    def describe(self, target_id: int) -> str:
        return str(gettext_lazy("refund %(id)s") % {"id": target_id})

    def admin_url(self, target_id: int) -> str | None:
        return reverse("admin:payments_refund_change", args=[target_id])


PSP_REFUND = kind_register(PspRefundKind())


def _count_at_psp(order: Order, payment: Payment, refund: Refund, psp_refund_reference: str,
                  confirmed_at: datetime | None = None) -> None:
    """The PSP refunded: count it on the payment once, record the reversal (confirmed when the
    PSP's own event told us), and issue the refund. Called with order, payment and refund
    locked, by whichever learns it first: our call's answer or the PSP's webhook."""
    refund.psp_refund_reference = psp_refund_reference
    refund.save(update_fields=["psp_refund_reference"])
    PaymentReversal.objects.get_or_create(
        payment=payment, idempotency_key=refund.idempotency_key,
        defaults={"kind": ReversalKind.REFUND, "amount": refund.amount,
                  "currency": refund.currency, "psp_reference": psp_refund_reference,
                  "context": {"refund": refund.pk, "reference": refund.reference},
                  "confirmed_at": confirmed_at, "created_at": timezone.now()})
    counted = min(refund.amount, payment_refundable_amount(payment=payment))
    if counted < refund.amount:
        # Refunded elsewhere meanwhile (a refund made in the PSP's dashboard): the money
        # moved; keep the amounts within what was captured and let finance look.
        logger.error("refund %s succeeded but payment %s can take only %s more",
                     refund.pk, payment.pk, counted)
    if counted > 0:
        payment_change(order=order, payment=payment, step=refund_step(payment, counted),
                       topic="payment.refunded", actor=refund.actor, refunded=counted,
                       data={"refund": refund.pk, "amount": str(counted),
                             "psp_reference": psp_refund_reference})
    _issued(order, refund, timezone.now(), _psp_context(refund))


def refund_pending_at_psp(*, payment: Payment, amount: Decimal) -> Refund | None:
    """The oldest refund of this amount we asked the PSP for and have no answer to yet, locked
    (the PSP's `refunded` event carries no refund id: the amount is the match)."""
    return (Refund.objects.select_for_update()
            .filter(payment=payment, route=RefundRoute.PSP, status=RefundStatus.PENDING,
                    amount=amount).order_by("pk").first())


def refund_settle_by_psp(*, order: Order, payment: Payment, refund: Refund,
                         at: datetime) -> None:
    """The PSP's `refunded` event arrived before our call's answer (the call is in flight, or
    timed out after the PSP did it): the refund counts now, once, and its attempt is settled,
    so the call's late answer is only logged. Order, payment and refund locked by the
    caller."""
    _count_at_psp(order, payment, refund, refund.psp_refund_reference, confirmed_at=at)
    attempt_settle(kind=PSP_REFUND, target_id=refund.pk)


def _psp_context(refund: Refund) -> dict[str, Any]:
    """What the caller's context said, for a refund finished by the PSP later: the events of
    one topic carry the same keys whichever way the money went (a till refund's event has
    them from `RefundRequest.context`). Refunds are written for returns only, today, and
    their reference is the return's number."""
    return {"return": refund.reference}


def refund_execute(*, refund_id: int, provider: PaymentServiceProvider | None = None) -> str:
    """Try one PSP refund now (a shell, a test); returns its attempt's status afterwards."""
    return attempt_run_for(kind=PSP_REFUND, target_id=refund_id, adapter=provider)


def refund_retry(*, refund: Refund) -> bool:
    """From the cockpit: try a failed PSP refund once more."""
    attempt = attempt_of(kind=PSP_REFUND, target_id=refund.pk)
    return attempt is not None and attempt_retry(attempt=attempt)
