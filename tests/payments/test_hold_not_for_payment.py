"""A payment event releases only an order its payment held: an exchange sent by mail waits for
the return to arrive, whatever the PSP says meanwhile."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest

from fulfillment.use_cases.order_intake import OrderRequest, order_place_as
from inventory.sourcing import DeliveryRequest
from oms.orders.services import CustomerData, OrderLineData
from payments.services import PaymentData
from tests.network import SHIPPING_ADDRESS
from tests.payments.conftest import EVENTS

pytestmark = pytest.mark.django_db


def test_an_authorization_does_not_release_an_order_held_for_a_return(
        stocked: Any, psp: Any, psp_client: Any) -> None:
    # given a replacement order held until a return arrives, its difference paid by a card
    # whose authorization was still pending
    placed = order_place_as(channel="web", placed_by="returns", request=OrderRequest(
        customer=CustomerData(email="kim@example.de"), currency="EUR",
        lines=[OrderLineData(sku="A", quantity=1, unit_price=Decimal("10.00"),
                             tax_rate=Decimal("19.00"))],
        delivery=DeliveryRequest.to_address(SHIPPING_ADDRESS), delivery_address=SHIPPING_ADDRESS,
        payment=PaymentData(method="card", status="pending", amount=Decimal("10.00"),
                            psp_reference="psp-exchange-1"),
        held_for="waiting for return 1000001-R1"))
    assert placed.order.status == "on_hold"

    # when the PSP reports the authorization
    response = psp_client.post(EVENTS, {"psp_reference": "psp-exchange-1", "type": "authorized",
                                        "amount": "10.00", "currency": "EUR",
                                        "at": "2026-12-07T10:00:00+00:00"})

    # then the payment is authorized and the order still waits for the return
    assert response.status_code == 200, response.content
    placed.order.refresh_from_db()
    placed.payment.refresh_from_db()
    assert placed.payment.status == "authorized"
    assert placed.order.status == "on_hold"
