"""The PSP's `refunded` event may arrive before our refund call's answer (the call in flight,
or timed out after the PSP did it): the refund counts once, whichever comes first."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest

from payments.models import Payment, PaymentReversal, Refund
from payments.services import refund_execute
from tests.factories.payments import PspEventBodyFactory
from tests.returns.conftest import receive_body
from tests.returns.support import register

pytestmark = pytest.mark.django_db


def test_the_psps_event_before_the_calls_answer_counts_the_refund_once(
        network: Any, delivered: Any, pos_munich: Any, api: Any, shop: Any) -> None:
    # given a delivered order of two A (20.00 captured), one A taken back to the card, and
    # the refund call to the PSP not answered yet
    order = delivered([("A", 2)])
    ret = register(pos_munich, order, [("A", 1)])
    assert pos_munich.post(f"/api/v1/returns/{ret['id']}/receive",
                           receive_body([("A", 1)])).status_code == 200
    [refund] = Refund.objects.filter(reference=ret["number"])
    assert refund.status == "pending"
    payment = Payment.objects.get(order__number=order["number"])

    # when the PSP's event for that 10.00 refund arrives first, then the call runs
    response = api("psp").post("/api/v1/payments/events", PspEventBodyFactory(
        psp_reference=payment.psp_reference, type="refunded", amount="10.00"))
    assert response.status_code == 200, response.content
    assert response.json()["outcome"] == "refund_confirmed"
    assert refund_execute(refund_id=refund.pk) == "skipped"

    # then 10.00 went back once: the refund is issued, the payment says 10.00, and the second
    # A can still go back to the card
    payment.refresh_from_db()
    refund.refresh_from_db()
    assert payment.refunded_amount == Decimal("10.00")
    assert refund.status == "issued"
    [reversal] = PaymentReversal.objects.filter(payment=payment)
    assert reversal.confirmed_at is not None
    second = register(pos_munich, order, [("A", 1)])
    assert pos_munich.post(f"/api/v1/returns/{second['id']}/receive",
                           receive_body([("A", 1)])).status_code == 200
