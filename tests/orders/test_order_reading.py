"""Reading orders: one order, lists with filters and cursors, the audit trail; channel scope."""

from __future__ import annotations

import pytest

from tests.network import order_body


def place(shop, network, email="kim@example.de", **overrides):
    body = order_body([("A", 1)], **overrides)
    body["customer"]["email"] = email
    response = shop.post("/api/v1/orders", body)
    assert response.status_code == 201, response.content
    return response.json()


def test_an_order_reads_back_with_lines_fulfilments_and_payments(network, shop):
    network.stock(network.kassel, "A", 5)
    placed = place(shop, network)
    response = shop.get(f"/api/v1/orders/{placed['number']}")
    assert response.status_code == 200
    order = response.json()
    assert order == placed
    assert set(order) >= {"number", "status", "channel", "customer", "currency", "total",
                          "lines", "fulfillments", "payments", "created_at"}


SHAPES = {
    # one line each from two warehouses: two fulfilment orders
    "split": dict(lines=[("A", 3), ("B", 2)], overrides={}),
    "on_hold": dict(lines=[("A", 1)], overrides={"payment": {
        "method": "card", "status": "pending", "amount": "10.00", "psp_reference": "psp_held"}}),
    "prepaid": dict(lines=[("A", 2)], overrides={"external_id": "shop-77", "payment": {
        "method": "paypal", "status": "captured", "amount": "20.00",
        "psp_reference": "psp_prepaid"}}),
    "pickup_pay_in_store": dict(lines=[("A", 1)], overrides={
        "delivery": {"method": "pickup", "location": "ST-MUC"},
        "payment": {"method": "pay_in_store", "status": "pending", "amount": "10.00"},
        "language": "en"}),
}


@pytest.mark.parametrize("shape", sorted(SHAPES))
def test_the_answer_to_placing_an_order_is_what_reading_it_returns(network, shop, shape):
    # Given stock that splits "split" over Kassel and Hamburg and serves every other shape
    network.stock(network.kassel, "A", 5)
    network.stock(network.hamburg, "B", 5)
    network.stock(network.munich, "A", 5)
    # When an order of that shape is placed
    body = order_body(SHAPES[shape]["lines"], **SHAPES[shape]["overrides"])
    response = shop.post("/api/v1/orders", body)
    assert response.status_code == 201, response.content
    # Then the 201 answer (built from what intake wrote) is exactly what a read returns
    assert shop.get(f"/api/v1/orders/{response.json()['number']}").json() == response.json()


def test_a_client_sees_only_its_own_channels_orders(network, shop, api):
    network.stock(network.kassel, "A", 5)
    placed = place(shop, network)
    app = api("app", channel="app")
    assert app.get(f"/api/v1/orders/{placed['number']}").status_code == 404
    assert app.get(f"/api/v1/orders/{placed['number']}/events").status_code == 404
    assert app.get("/api/v1/orders").json()["results"] == []
    assert api("staff").get(f"/api/v1/orders/{placed['number']}").status_code == 200


def test_orders_filter_by_status_customer_and_update_time(network, shop):
    network.stock(network.kassel, "A", 10)
    kim = place(shop, network)
    held = place(shop, network, email="Lea@Example.de",
                 payment={"method": "card", "status": "pending", "amount": "10.00",
                          "psp_reference": "psp_lea"})

    def numbers(**params):
        response = shop.get("/api/v1/orders", params)
        assert response.status_code == 200, response.content
        return [o["number"] for o in response.json()["results"]]

    assert numbers(status="on_hold") == [held["number"]]
    assert numbers(customer_email="lea@example.de") == [held["number"]]
    assert set(numbers(updated_since=kim["created_at"])) == {kim["number"], held["number"]}
    assert numbers(updated_since="2999-01-01T00:00:00+00:00") == []


def test_bad_list_filters_are_rejected(network, shop):
    assert shop.get("/api/v1/orders", {"status": "lost"}).status_code == 400
    assert shop.get("/api/v1/orders", {"updated_since": "yesterday"}).status_code == 400
    assert shop.get("/api/v1/orders", {"customer_email": "nope"}).status_code == 400


def test_order_lists_are_cursor_paginated(network, shop):
    network.stock(network.kassel, "A", 10)
    placed = [place(shop, network)["number"] for _ in range(3)]
    first = shop.get("/api/v1/orders", {"limit": 2}).json()
    assert len(first["results"]) == 2 and first["next"]
    second = shop.get(first["next"].split("testserver")[1]).json()
    seen = [o["number"] for o in first["results"] + second["results"]]
    assert sorted(seen) == sorted(placed)


def test_the_audit_trail_shows_the_sourcing_decision_and_every_transition(network, shop):
    network.stock(network.kassel, "A", 5)
    placed = place(shop, network)
    shop.post(f"/api/v1/orders/{placed['number']}/cancel", {"reason": "changed my mind"})
    events = shop.get(f"/api/v1/orders/{placed['number']}/events").json()["results"]
    assert [e["type"] for e in events] == [
        "sourcing.decided", "order.placed", "order.confirmed", "order.cancelled",
        "fulfillment.cancelled"]
    decided = events[0]["data"]
    assert decided["allocations"][0]["location"] == "WH-KS"
    assert decided["candidates"][0]["reason"]
    assert all(e["actor"] == shop.api_client.name for e in events)
    assert events[3]["data"]["reason"] == "changed my mind"


def test_an_unknown_order_is_404(network, shop):
    assert shop.get("/api/v1/orders/999").status_code == 404
