"""Recording a payment at intake, and the one place a payment changes afterwards.

Lock order, everywhere in this app: the order row, then the payment row(s) in primary-key
order, then capture rows. Fulfilment locks the order before its own rows too, so a payment
event and a shipment of the same order queue up instead of deadlocking.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django_fsm import can_proceed

from oms.core.errors import Conflict, InvalidTransition
from oms.core.events import event_emit
from oms.orders.models import Order, OrderEvent
from oms.orders.services import order_confirm, order_event_record, order_hold, order_lock
from oms.orders.states import OrderStatus
from payments.models import Payment, PaymentCapture
from payments.services.store_credit import store_credit_redeem
from payments.states import CaptureSource, CaptureStatus, PaymentMethod, PaymentStatus

logger = logging.getLogger(__name__)
S = PaymentStatus
ZERO = Decimal("0.00")


@dataclass(frozen=True)
class PaymentData:
    method: str
    status: str
    amount: Decimal
    psp_reference: str | None = None
    store_credit_code: str | None = None  # method store_credit: the credit that pays


def payment_payload(payment: Payment, order_number: str) -> dict[str, Any]:
    """What webhook subscribers get about a payment."""
    return {
        "id": payment.pk,
        "order": order_number,
        "method": payment.method,
        "status": payment.status,
        "amount": str(payment.amount),
        "captured_amount": str(payment.captured_amount),
        "refunded_amount": str(payment.refunded_amount),
        "voided_amount": str(payment.voided_amount),
        "currency": payment.currency,
        "psp_reference": payment.psp_reference,
    }


def payment_record(*, order: Order, data: PaymentData) -> Payment:
    """Record the payment a channel took with the order (its status as the channel saw it).

    A payment the channel reports as captured gets its capture row, so that the PSP's own
    `captured` event for it later confirms that capture instead of counting the money twice."""
    now = timezone.now()
    captured = data.amount if data.status == S.CAPTURED else ZERO
    stated = data.status in (S.AUTHORIZED, S.CAPTURED)
    with transaction.atomic(savepoint=False):  # see oms.orders.services.order_create
        try:
            with transaction.atomic(savepoint=False):
                payment = Payment.objects.create(
                    order=order, method=data.method, status=data.status, amount=data.amount,
                    captured_amount=captured, currency=order.currency,
                    psp_reference=data.psp_reference or None,
                    status_at=now if stated else None, created_at=now, updated_at=now,
                )
        except IntegrityError:
            raise Conflict(_("Another payment already has this PSP reference."),
                           code="duplicate_psp_reference", attr="payment.psp_reference") from None
        if data.method == PaymentMethod.STORE_CREDIT:
            # Spent in the same transaction: an order the credit cannot pay is not placed.
            store_credit_redeem(code=data.store_credit_code or "", payment=payment, order=order,
                                actor=order.placed_by)
        if captured > 0:
            PaymentCapture.objects.create(
                payment=payment, idempotency_key=f"intake:{payment.pk}",
                source=CaptureSource.INTAKE, status=CaptureStatus.SUCCEEDED, amount=captured,
                currency=payment.currency, succeeded_at=now, created_at=now, updated_at=now,
            )
        event_emit(topic="payment.recorded", aggregate_type="payment", aggregate_id=payment.pk,
                   payload={"order": order.number, "method": payment.method,
                            "status": payment.status, "amount": str(payment.amount),
                            "currency": payment.currency})
    return payment


def payment_lock(*, payment_id: int) -> tuple[Order, Payment]:
    """Lock the payment's order, then the payment (call inside a transaction)."""
    order_id = Payment.objects.values_list("order_id", flat=True).get(pk=payment_id)
    order = order_lock(order=Order(pk=order_id))
    return order, Payment.objects.select_for_update(no_key=True).get(pk=payment_id)


def payment_require(payment: Payment, step: str) -> None:
    """Raise 409 invalid_transition unless the payment's status allows `step`."""
    if not can_proceed(getattr(payment, step)):
        raise InvalidTransition(
            _("Payment %(id)s is %(status)s; this is not possible now.")
            % {"id": payment.pk, "status": payment.get_status_display()},
            attr="type",
        )


def payment_collectable(payment: Payment) -> Decimal:
    """What may still be captured at most: the amount less what was released (voided)."""
    return payment.amount - payment.voided_amount


def capture_step(payment: Payment, amount: Decimal) -> str:
    """The transition a capture of `amount` makes."""
    return "capture_fully" if payment.captured_amount + amount >= payment_collectable(payment) \
        else "capture_partially"


def refund_step(payment: Payment, amount: Decimal) -> str:
    """Refunded means done: everything not released was captured and all of it went back."""
    refunded = payment.refunded_amount + amount
    done = refunded >= payment.captured_amount \
        and payment.captured_amount >= payment_collectable(payment)
    return "refund_fully" if done else "refund_partially"


def void_step(payment: Payment, amount: Decimal) -> str | None:
    """The transition releasing `amount` of the authorization makes: none while money stays
    open (the payment is still waiting for captures), `void` when nothing was captured,
    `void_rest` when what was captured is all there will be. A payment already partly refunded
    keeps its status: the amounts say the rest."""
    if payment.captured_amount + payment.voided_amount + amount < payment.amount:
        return None
    if payment.status == S.AUTHORIZED and payment.captured_amount == 0:
        return "void"
    if payment.status == S.PARTIALLY_CAPTURED:
        return "void_rest"
    return None


def payment_change(*, order: Order, payment: Payment, step: str | None, topic: str, actor: str,
                   captured: Decimal = ZERO, refunded: Decimal = ZERO, voided: Decimal = ZERO,
                   at: datetime | None = None, data: dict[str, Any] | None = None
                   ) -> tuple[Order, Payment]:
    """Every change of a payment's status or amounts: call with `order` and `payment` locked by
    `payment_lock`, inside the transaction. Checks the transition (`step`, a transition method
    name; None changes amounts only), saves, appends to the order's audit trail, writes the
    outbox event `topic`, then holds or releases the order. Returns both, as they are now."""
    previous = payment.status
    if step is not None:
        payment_require(payment, step)
        getattr(payment, step)()
    payment.captured_amount += captured
    payment.refunded_amount += refunded
    payment.voided_amount += voided
    if at is not None and (payment.status_at is None or at > payment.status_at):
        payment.status_at = at
    payment.updated_at = timezone.now()
    payment.save(update_fields=["status", "captured_amount", "refunded_amount", "voided_amount",
                                "status_at", "updated_at"])
    detail = {"payment": payment.pk, "method": payment.method, "from": previous,
              "to": payment.status, "captured_amount": str(payment.captured_amount),
              "refunded_amount": str(payment.refunded_amount),
              "voided_amount": str(payment.voided_amount), **(data or {})}
    order_event_record(order=order, type=topic, actor=actor, data=detail)
    event_emit(topic=topic, aggregate_type="payment", aggregate_id=payment.pk,
               payload={**payment_payload(payment, order.number), "from": previous,
                        "detail": data or {}})
    return _settle_order(order, payment, actor), payment


def _settle_order(order: Order, payment: Payment, actor: str) -> Order:
    """A failed payment holds the order while nothing has left (the order state machine allows
    a hold from placed and confirmed); once every payment of an order on hold secures it
    again, the hold is released."""
    if payment.status == S.FAILED:
        if can_proceed(order.hold):
            return order_hold(order=order, actor=actor,
                              reason=f"payment {payment.pk} ({payment.method}) failed")
        if order.status != OrderStatus.ON_HOLD:
            logger.warning("payment %s of order %s failed while the order is %s",
                           payment.pk, order.number, order.status)
        return order
    if order.status == OrderStatus.ON_HOLD and payment.secures_order \
            and all(p.secures_order for p in order.payments.all()) and _held_for_payment(order):
        return order_confirm(order=order, actor=actor,
                             reason=f"payment {payment.pk} ({payment.method}) {payment.status}")
    return order


def _held_for_payment(order: Order) -> bool:
    """Is the order on hold because of its payment? An exchange order sent by mail is held
    until the return arrives (returns.exchange); a payment event must not release it. The
    reason is the one its hold wrote to the audit trail ("payment ..." for every hold a
    payment causes)."""
    reason = (OrderEvent.objects.filter(order=order, type="order.on_hold").order_by("-pk")
              .values_list("data__reason", flat=True).first())
    return reason is None or str(reason).startswith("payment")
