"""Every write to payments."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from oms.core.errors import Conflict
from oms.core.events import event_emit
from oms.orders.models import Order
from payments.models import Payment


@dataclass(frozen=True)
class PaymentData:
    method: str
    status: str
    amount: Decimal
    psp_reference: str | None = None


def payment_record(*, order: Order, data: PaymentData) -> Payment:
    """Record the payment a channel took with the order (its status as the channel saw it)."""
    now = timezone.now()
    with transaction.atomic():
        try:
            with transaction.atomic():
                payment = Payment.objects.create(
                    order=order, method=data.method, status=data.status, amount=data.amount,
                    currency=order.currency, psp_reference=data.psp_reference or None,
                    created_at=now, updated_at=now,
                )
        except IntegrityError:
            raise Conflict(_("Another payment already has this PSP reference."),
                           code="duplicate_psp_reference", attr="payment.psp_reference") from None
        event_emit(topic="payment.recorded", aggregate_type="payment", aggregate_id=payment.pk,
                   payload={"order": order.number, "method": payment.method,
                            "status": payment.status, "amount": str(payment.amount),
                            "currency": payment.currency})
    return payment
