"""Cancelling a return: nothing is refunded for goods that never came, and a return whose
replacement has left already cannot be cancelled (the goods must come back to pay for it)."""

from __future__ import annotations

from typing import Any

import pytest

from fulfillment.models import FulfillmentOrder
from returns.models import Return, ReturnPolicy
from tests.returns.conftest import return_body
from tests.returns.support import ok

pytestmark = pytest.mark.django_db


def test_a_return_whose_replacement_already_shipped_cannot_be_cancelled(
        network: Any, delivered: Any, shop: Any, wms_kassel: Any, after_commit: Any) -> None:
    # given the web channel sends replacements at once, and one was shipped
    network.kassel.accepts_returns = True
    network.kassel.save(update_fields=["accepts_returns"])
    ReturnPolicy.objects.create(channel="web", exchange_ships_at_once=True)
    order = delivered([("A", 1)])
    network.stock(network.kassel, "A-L", 5)
    ret = ok(after_commit(shop.post, "/api/v1/returns", return_body(
        order, [("A", 1)], exchange=[{"sku": "A-L", "quantity": 1, "unit_price": "10.00"}])),
        201)
    fo = FulfillmentOrder.objects.get(order__number=ret["exchange_order"])
    ok(after_commit(wms_kassel.post, f"/api/v1/fulfillments/{fo.pk}/ship",
                    {"carrier": "dhl", "tracking_number": "EX-9"}))

    # when the webshop cancels the return (the customer keeps A)
    response = after_commit(shop.post, f"/api/v1/returns/{ret['id']}/cancel",
                            {"reason": "kept it"})

    # then it is refused, and the return stays open: the replacement was paid by A's value
    assert response.status_code == 409, response.content
    assert response.json()["errors"][0]["code"] == "exchange_already_sent"
    assert Return.objects.get(pk=ret["id"]).status == "requested"


def test_a_cancelled_return_shows_nothing_to_refund(network: Any, delivered: Any,
                                                    pos_munich: Any) -> None:
    # given a return registered at the till
    ret = ok(pos_munich.post("/api/v1/returns", return_body(delivered([("A", 1)]), [("A", 1)])),
             201)
    assert ret["refund"]["status"] == "estimated"

    # when it is cancelled: the customer kept the goods
    cancelled = ok(pos_munich.post(f"/api/v1/returns/{ret['id']}/cancel",
                                   {"reason": "kept it"}))

    # then no refund is to come
    assert cancelled["status"] == "cancelled"
    assert cancelled["refund"]["status"] == "none"
