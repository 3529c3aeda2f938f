"""Cancelling orders, whole or by lines, releases exactly the cancelled units."""

from __future__ import annotations

import pytest

from fulfillment.models import FulfillmentOrder
from inventory.models import Reservation
from oms.orders.models import Order
from tests.conftest import error_codes
from tests.network import level, order_body


@pytest.fixture
def order(network, shop):
    network.stock(network.kassel, "A", 5)
    network.stock(network.kassel, "B", 5)
    response = shop.post("/api/v1/orders", order_body([("A", 2), ("B", 3)]))
    assert response.status_code == 201
    return response.json()


def cancel(shop, number, **body):
    return shop.post(f"/api/v1/orders/{number}/cancel", {"reason": "customer", **body})


def test_cancelling_a_whole_order_releases_every_reservation(network, shop, order):
    response = cancel(shop, order["number"])
    assert response.status_code == 200, response.content
    assert response.json()["status"] == "cancelled"
    assert [f["status"] for f in response.json()["fulfillments"]] == ["cancelled"]
    assert level("A", network.kassel).reserved == 0
    assert level("B", network.kassel).reserved == 0
    assert Reservation.objects.get(kind="order", reference=order["number"]).state == "released"


def test_cancelling_some_lines_releases_only_those_units(network, shop, order):
    response = cancel(shop, order["number"], lines=[{"sku": "B", "quantity": 2}])
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["status"] == "confirmed"
    lines = {ln["sku"]: (ln["allocated"], ln["cancelled"]) for ln in body["lines"]}
    assert lines == {"A": (2, 0), "B": (1, 2)}
    assert level("B", network.kassel).reserved == 1
    assert level("A", network.kassel).reserved == 2
    fulfilment_lines = {ln["sku"]: ln["cancelled"] for ln in body["fulfillments"][0]["lines"]}
    assert fulfilment_lines == {"A": 0, "B": 2}


def test_cancelling_the_last_open_units_cancels_the_order(network, shop, order):
    cancel(shop, order["number"], lines=[{"sku": "A", "quantity": 2}])
    response = cancel(shop, order["number"], lines=[{"sku": "B", "quantity": 3}])
    assert response.json()["status"] == "cancelled"
    assert level("B", network.kassel).reserved == 0


def test_a_cancelled_order_cannot_be_cancelled_again(network, shop, order):
    cancel(shop, order["number"])
    again = cancel(shop, order["number"])
    assert again.status_code == 409
    assert error_codes(again) == ["invalid_transition"]


def test_a_shipped_order_cannot_be_cancelled(network, shop, order):
    # Given the order has shipped (shipping arrives with the fulfilment issue; set it directly)
    Order.objects.filter(number=order["number"]).update(status="shipped")
    response = cancel(shop, order["number"])
    assert response.status_code == 409
    assert error_codes(response) == ["invalid_transition"]
    assert level("A", network.kassel).reserved == 2


@pytest.mark.parametrize(("lines", "status", "code"), [
    ([{"sku": "A", "quantity": 3}], 409, "invalid_transition"),
    ([{"sku": "ZZZ", "quantity": 1}], 400, "unknown_sku"),
    ([{"sku": "A", "quantity": 0}], 400, "min_value"),
    ([{"sku": "A", "quantity": 1}, {"sku": "A", "quantity": 1}], 400, "duplicate_sku"),
])
def test_bad_cancellations_change_nothing(network, shop, order, lines, status, code):
    response = cancel(shop, order["number"], lines=lines)
    assert response.status_code == status, response.content
    assert error_codes(response) == [code]
    assert level("A", network.kassel).reserved == 2
    assert FulfillmentOrder.objects.get().status == "pending"


def test_a_cancellation_needs_a_reason(network, shop, order):
    response = shop.post(f"/api/v1/orders/{order['number']}/cancel", {})
    assert response.status_code == 400
    assert response.json()["errors"][0]["attr"] == "reason"


def test_a_wms_may_not_cancel_orders(network, api, order):
    assert api("wms").post(f"/api/v1/orders/{order['number']}/cancel",
                           {"reason": "x"}).status_code == 403
