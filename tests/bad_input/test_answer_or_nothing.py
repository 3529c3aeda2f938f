"""A write commits only together with its answer: if the answer cannot be produced, the write is
rolled back and the next read answers (issue 17, class 2)."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client

from fulfillment.api.orders import OrderOut
from inventory.models import StockLevel
from oms.core.api.renderers import FastJSONRenderer
from oms.core.models import OutboxEvent
from oms.orders.models import Order
from tests.network import order_body

pytestmark = pytest.mark.django_db


def reserved(sku: str) -> int:
    return sum(StockLevel.objects.filter(product_id=sku).values_list("reserved", flat=True))


def test_an_order_whose_answer_fails_to_build_is_not_written(network, shop, monkeypatch):
    # Given stock, and an order serializer that fails (a bug in building the answer)
    network.stock(network.kassel, "A", 5)

    def broken(self: Any, instance: Any) -> Any:
        raise RuntimeError("the answer cannot be built")

    monkeypatch.setattr(OrderOut, "to_representation", broken)

    # When an order is placed without an Idempotency-Key
    response = shop.post("/api/v1/orders", order_body([("A", 2)]))

    # Then the client is told it failed, and the failure took the write with it
    assert response.status_code == 500
    assert response.json()["type"] == "server_error"
    assert not Order.objects.exists()
    assert reserved("A") == 0
    assert not OutboxEvent.objects.filter(topic__startswith="order.").exists()

    # and once the answer can be built again, reads and the retry work
    monkeypatch.undo()
    assert shop.get("/api/v1/orders").json()["results"] == []
    assert shop.post("/api/v1/orders", order_body([("A", 2)])).status_code == 201
    assert Order.objects.count() == 1


def test_an_order_whose_answer_fails_to_render_is_not_written(network, shop, monkeypatch):
    # Given stock, and a renderer that fails after the view returned (outside DRF's handler)
    network.stock(network.kassel, "A", 5)
    real_render = FastJSONRenderer.render

    def failing_for_created(self: Any, data: Any, *args: Any, **kwargs: Any) -> bytes:
        if isinstance(data, dict) and "number" in data:
            raise ValueError("cannot encode the answer")
        return real_render(self, data, *args, **kwargs)

    monkeypatch.setattr(FastJSONRenderer, "render", failing_for_created)
    till = Client(HTTP_AUTHORIZATION=f"Bearer {shop.api_client.token}",
                  raise_request_exception=False)

    # When an order is placed
    response = till.post("/api/v1/orders", order_body([("A", 2)]),
                         content_type="application/json")

    # Then Django's 500 answer (the JSON one) is all that happened
    assert response.status_code == 500
    assert response.json()["type"] == "server_error"
    assert not Order.objects.exists()
    assert reserved("A") == 0
    assert shop.get("/api/v1/orders").status_code == 200


def test_a_refusal_after_a_write_inside_the_request_changes_nothing(network, shop):
    # Given an order placed, and a cancellation refused for a SKU the order does not have
    network.stock(network.kassel, "A", 5)
    number = shop.post("/api/v1/orders", order_body([("A", 2)])).json()["number"]
    events = OutboxEvent.objects.count()

    response = shop.post(f"/api/v1/orders/{number}/cancel",
                         {"reason": "changed mind", "lines": [{"sku": "ZZZ", "quantity": 1}]})

    assert 400 <= response.status_code < 500
    assert Order.objects.get(number=number).status != "cancelled"
    assert OutboxEvent.objects.count() == events
    assert reserved("A") == 2
