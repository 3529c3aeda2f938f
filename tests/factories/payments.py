"""Payments written directly, and the bodies the PSP sends (a valid event unless a test says
otherwise)."""

from __future__ import annotations

import factory
from django.utils import timezone

from oms.orders.models import Order
from payments.models import Payment


class PspEventBodyFactory(factory.DictFactory):
    """`PspEventBodyFactory(psp_reference="psp_1", type="captured", amount="10.00")` → the JSON
    body of `POST /api/v1/payments/events`."""

    psp_reference = "psp_unknown"
    type = "authorized"
    amount = "20.00"
    currency = "EUR"
    # one second apart, so that two events of one test are two events, not a redelivery
    at = factory.Sequence(lambda n: f"2031-05-04T10:{n // 60 % 60:02d}:{n % 60:02d}+02:00")


def a_payment(order: Order, method: str, *, status: str = "authorized") -> Payment:
    now = timezone.now()
    return Payment.objects.create(order=order, method=method, status=status, amount=order.total,
                                  currency=order.currency, created_at=now, updated_at=now)
