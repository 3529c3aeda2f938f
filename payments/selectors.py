"""Reads of payments."""

from __future__ import annotations

from decimal import Decimal

from django.db.models import QuerySet, Sum

from payments.models import Payment, PaymentCapture, PspEvent
from payments.states import CaptureStatus


def payment_get_by_psp_reference(*, psp_reference: str) -> Payment | None:
    return Payment.objects.filter(psp_reference=psp_reference).first()


def payment_pending_capture_total(*, payment: Payment) -> Decimal:
    """Captures planned but not yet taken: counted as spoken for when planning the next."""
    total = PaymentCapture.objects.filter(payment=payment, status=CaptureStatus.PENDING) \
        .aggregate(total=Sum("amount"))["total"]
    return total or Decimal("0.00")


def payment_capturable_amount(*, payment: Payment) -> Decimal:
    """What is still authorized and neither captured, nor about to be, nor released."""
    return payment.amount - payment.voided_amount - payment.captured_amount \
        - payment_pending_capture_total(payment=payment)


def payment_refundable_amount(*, payment: Payment) -> Decimal:
    """Captured money that has not gone back yet."""
    return payment.captured_amount - payment.refunded_amount


def psp_event_find(*, psp_reference: str, type: str, amount: Decimal, at: object
                   ) -> PspEvent | None:
    return PspEvent.objects.filter(psp_reference=psp_reference, type=type, amount=amount,
                                   at=at).first()


def payment_captures(*, payment: Payment) -> QuerySet[PaymentCapture]:
    return PaymentCapture.objects.filter(payment=payment).order_by("pk")
