"""The return window: by default 30 days after the goods reached the customer (delivered, or
collected at a store), per channel policy; after it 422 ``return_window_closed``, unless people
at a counter or in the office take the goods back anyway and say why (in the audit trail)."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import pytest
from django.utils import timezone

from fulfillment.models import FulfillmentOrder, Shipment
from oms.orders.models import OrderEvent
from returns.models import Return, ReturnPolicy
from tests.conftest import error_codes
from tests.returns.conftest import return_body
from tests.returns.support import ok

pytestmark = pytest.mark.django_db


def delivered_days_ago(order: dict[str, Any], days: int) -> None:
    Shipment.objects.filter(fulfillment__order__number=order["number"]).update(
        delivered_at=timezone.now() - timedelta(days=days))


def test_a_return_29_days_after_delivery_is_taken_and_names_the_end_of_its_window(
        network: Any, delivered: Any, pos_munich: Any) -> None:
    # given an order delivered 29 days ago
    order = delivered([("A", 1)])
    delivered_days_ago(order, 29)
    shipment = Shipment.objects.get(fulfillment__order__number=order["number"])

    # when it is brought back
    ret = ok(pos_munich.post("/api/v1/returns", return_body(order, [("A", 1)])), 201)

    # then it is taken, its window ending 30 days after the delivery
    ends = shipment.delivered_at + timedelta(days=30)
    assert datetime.fromisoformat(ret["window_ends_at"]) == ends
    assert ret["override_reason"] == ""


def test_a_return_31_days_after_delivery_is_refused_and_nothing_is_written(
        network: Any, delivered: Any, pos_munich: Any) -> None:
    # given an order delivered 31 days ago
    order = delivered([("A", 1)])
    delivered_days_ago(order, 31)
    trail = OrderEvent.objects.count()

    # when it is brought back without an override
    response = pos_munich.post("/api/v1/returns", return_body(order, [("A", 1)]))

    # then the window is closed, and nothing is written
    assert response.status_code == 422, response.content
    assert error_codes(response) == ["return_window_closed"]
    error = response.json()["errors"][0]
    assert error["attr"] == "order" and error["window_ended_at"]
    assert not Return.objects.exists()
    assert OrderEvent.objects.count() == trail


def test_the_window_of_a_collected_order_runs_from_its_pickup(
        network: Any, collected: Any, pos_munich: Any) -> None:
    order = collected([("A", 1)])
    FulfillmentOrder.objects.filter(order__number=order["number"]).update(
        picked_up_at=timezone.now() - timedelta(days=31))

    response = pos_munich.post("/api/v1/returns", return_body(order, [("A", 1)]))

    assert response.status_code == 422, response.content
    assert error_codes(response) == ["return_window_closed"]


def test_a_channel_with_a_shorter_window_closes_earlier(
        network: Any, delivered: Any, pos_munich: Any) -> None:
    # given the web channel's window is 14 days
    ReturnPolicy.objects.create(channel="web", window_days=14)
    order = delivered([("A", 1)])
    delivered_days_ago(order, 15)

    response = pos_munich.post("/api/v1/returns", return_body(order, [("A", 1)]))

    assert response.status_code == 422, response.content
    assert error_codes(response) == ["return_window_closed"]


@pytest.mark.parametrize("kind", ["pos", "staff"])
def test_a_till_or_staff_overrides_the_closed_window_with_a_reason_in_the_audit_trail(
        network: Any, delivered: Any, api: Any, shop: Any, kind: str) -> None:
    # given an order delivered 40 days ago, and a till in Munich or a staff client
    order = delivered([("A", 1)])
    delivered_days_ago(order, 40)
    client = api(kind, **({"location_code": "ST-MUC", "channel": "pos"} if kind == "pos"
                          else {}))

    # when it takes the goods back anyway, saying why
    ret = ok(client.post("/api/v1/returns", return_body(
        order, [("A", 1)], location="ST-MUC",
        override_reason="Customer was in hospital; manager approved")), 201)

    # then the return is registered with the reason
    assert ret["override_reason"] == "Customer was in hospital; manager approved"
    # and the order's audit trail says who overrode the window, why, and when it had ended
    trail = shop.get(f"/api/v1/orders/{order['number']}/events").json()["results"]
    [override] = [e for e in trail if e["type"] == "return.window_overridden"]
    assert override["actor"] == client.api_client.name
    assert override["data"]["reason"] == "Customer was in hospital; manager approved"
    assert override["data"]["return"] == ret["number"]
    assert override["data"]["window_ended_at"]


def test_a_webshop_may_not_override_the_window(
        network: Any, delivered: Any, shop: Any) -> None:
    # given an order delivered 40 days ago
    network.kassel.accepts_returns = True
    network.kassel.save(update_fields=["accepts_returns"])
    order = delivered([("A", 1)])
    delivered_days_ago(order, 40)

    # when the webshop sends an override reason
    response = shop.post("/api/v1/returns", return_body(
        order, [("A", 1)], override_reason="the customer asked nicely"))

    # then it is refused as bad input, naming the field, and nothing is written
    assert response.status_code == 400, response.content
    assert error_codes(response) == ["override_not_allowed"]
    assert response.json()["errors"][0]["attr"] == "override_reason"
    assert not Return.objects.exists()


def test_a_reason_given_inside_the_window_overrides_nothing(
        network: Any, delivered: Any, pos_munich: Any, shop: Any) -> None:
    # given an order delivered 3 days ago
    order = delivered([("A", 1)])
    delivered_days_ago(order, 3)

    # when the till sends an override reason all the same
    ok(pos_munich.post("/api/v1/returns", return_body(
        order, [("A", 1)], override_reason="just in case")), 201)

    # then the trail claims no override: the window was open
    trail = shop.get(f"/api/v1/orders/{order['number']}/events").json()["results"]
    assert "return.window_overridden" not in [e["type"] for e in trail]
