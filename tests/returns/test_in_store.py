"""Return in store: a customer brings an online order back to a store; the till registers and
receives it in one visit, the goods go back on that store's shelf and the money back at once."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest

from inventory.models import MovementKind, StockMovement
from payments.adapters import psp
from payments.models import Payment, Refund
from tests.network import level
from tests.returns.conftest import receive_body, return_body

pytestmark = pytest.mark.django_db


def test_an_online_order_comes_back_in_a_store_with_a_card_refund_and_restock_there(
        network: Any, delivered: Any, pos_berlin: Any, shop: Any, after_commit: Any) -> None:
    # given an order shipped from Kassel to the customer, paid by card
    order = delivered([("A", 2), ("B", 1)])
    network.stock(network.berlin, "A", 0)

    # when the customer brings one A back to the Berlin store
    registered = pos_berlin.post("/api/v1/returns", return_body(order, [("A", 1)]))
    assert registered.status_code == 201, registered.content
    ret = registered.json()
    received = after_commit(pos_berlin.post, f"/api/v1/returns/{ret['id']}/receive",
                            receive_body([("A", 1)]))

    # then the unit is on the Berlin shelf with a return movement, available at once
    assert received.status_code == 200, received.content
    assert level("A", network.berlin).on_hand == 1
    movement = StockMovement.objects.get(location=network.berlin, product_id="A")
    assert movement.kind == MovementKind.RETURN and movement.reference == ret["number"]
    # and the card is refunded 10.00 through the PSP, referenced to the online payment
    [refund] = Refund.objects.filter(reference=ret["number"])
    assert refund.route == "psp" and refund.status == "issued"
    assert refund.amount == Decimal("10.00")
    [call] = psp.fake.refunds.values()
    payment = Payment.objects.get(order__number=order["number"])
    assert call.psp_reference == payment.psp_reference
    assert payment.refunded_amount == Decimal("10.00")
    # and the return is closed, the order partially returned with the unit counted
    now = pos_berlin.get(f"/api/v1/returns/{ret['id']}").json()
    assert now["status"] == "closed"
    assert now["refund"]["status"] == "issued"
    seen = shop.get(f"/api/v1/orders/{order['number']}").json()
    assert seen["status"] == "partially_returned"
    assert {ln["sku"]: ln["returned"] for ln in seen["lines"]} == {"A": 1, "B": 0}
