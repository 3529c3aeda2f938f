"""A till confined to its store sees and changes only the orders it placed or that its store
serves (issue 17); an unconfined client of the channel sees them all."""

from __future__ import annotations

import pytest

from oms.orders.models import Order
from tests.network import order_body

pytestmark = pytest.mark.django_db

ADDRESS = {"name": "Kim", "line1": "Unter den Linden 1", "postal_code": "10117",
           "city": "Berlin", "country": "DE"}


def pickup_at(store: str) -> dict:
    return {"method": "pickup", "location": store}


@pytest.fixture
def tills(api, network):
    """The tills of Berlin and Munich, both selling in channel `web`, and stock in both stores
    and the Kassel warehouse."""
    for location in (network.berlin, network.munich, network.kassel):
        network.stock(location, "A", 10)
    return {"berlin": api("pos", channel="web", location_code="ST-BER"),
            "munich": api("pos", channel="web", location_code="ST-MUC")}


def place(client, **overrides) -> dict:
    body = order_body([("A", 1)], **overrides)
    body["payment"] = {"method": "cash", "status": "pending", "amount": "10.00"}
    response = client.post("/api/v1/orders", body)
    assert response.status_code == 201, response.content
    return response.json()


def numbers(client) -> list[str]:
    return [o["number"] for o in client.get("/api/v1/orders").json()["results"]]


def order_row(number: str) -> tuple:
    order = Order.objects.get(number=number)
    return order.status, order.updated_at, [ln.cancelled for ln in order.lines.all()]


def test_a_till_cannot_read_list_see_events_of_or_cancel_another_stores_order(tills):
    # given an order Munich's till took for pickup in Munich
    munich_order = place(tills["munich"], delivery=pickup_at("ST-MUC"))["number"]
    before = order_row(munich_order)

    # when Berlin's till reads, lists, asks for the events of and cancels it
    berlin = tills["berlin"]
    answers = [berlin.get(f"/api/v1/orders/{munich_order}").status_code,
               berlin.get(f"/api/v1/orders/{munich_order}/events").status_code,
               berlin.post(f"/api/v1/orders/{munich_order}/cancel",
                           {"reason": "wrong till"}).status_code]

    # then the order does not exist for it, and it is unchanged
    assert answers == [404, 404, 404]
    assert munich_order not in numbers(berlin)
    assert order_row(munich_order) == before


def test_a_till_reads_lists_sees_events_of_and_cancels_its_own_stores_order(tills):
    # given an order Munich's till took for pickup in Munich
    munich = tills["munich"]
    number = place(munich, delivery=pickup_at("ST-MUC"))["number"]

    # when the same till reads, lists, asks for the events and cancels it
    read = munich.get(f"/api/v1/orders/{number}")
    events = munich.get(f"/api/v1/orders/{number}/events")
    listed = numbers(munich)
    cancelled = munich.post(f"/api/v1/orders/{number}/cancel", {"reason": "changed mind"})

    # then every answer has the order
    assert (read.status_code, events.status_code, cancelled.status_code) == (200, 200, 200)
    assert number in listed
    assert events.json()["results"]
    assert cancelled.json()["status"] == "cancelled"


def test_an_order_a_till_placed_for_shipping_from_a_warehouse_stays_visible_to_that_till(
        tills, network):
    # given Berlin's till sells an order shipped from the Kassel warehouse
    order = place(tills["berlin"], delivery={"method": "ship", "address": ADDRESS})
    assert {f["location"] for f in order["fulfillments"]} != {"ST-BER"}

    # then Berlin's till still reads and lists it, and Munich's does not
    assert tills["berlin"].get(f"/api/v1/orders/{order['number']}").status_code == 200
    assert order["number"] in numbers(tills["berlin"])
    assert tills["munich"].get(f"/api/v1/orders/{order['number']}").status_code == 404


def test_a_store_sees_the_webshop_orders_it_hands_over(api, tills):
    # given a webshop order for pickup in Munich
    number = place(api("webshop", channel="web"), delivery=pickup_at("ST-MUC"))["number"]

    # then Munich's till, which hands it over, sees it; Berlin's does not
    assert tills["munich"].get(f"/api/v1/orders/{number}").status_code == 200
    assert number in numbers(tills["munich"])
    assert tills["berlin"].get(f"/api/v1/orders/{number}").status_code == 404


def test_an_unconfined_webshop_of_the_same_channel_sees_the_orders_of_both_stores(api, tills):
    # given an order taken by each store's till
    berlin = place(tills["berlin"], delivery=pickup_at("ST-BER"))["number"]
    munich = place(tills["munich"], delivery=pickup_at("ST-MUC"))["number"]

    # when the channel's webshop (confined to no store) reads and lists them
    webshop = api("webshop", channel="web")

    # then it sees both; a webshop of another channel sees neither
    assert {berlin, munich} <= set(numbers(webshop))
    assert webshop.get(f"/api/v1/orders/{berlin}").status_code == 200
    assert webshop.get(f"/api/v1/orders/{munich}").status_code == 200
    other = api("webshop", channel="other")
    assert not {berlin, munich} & set(numbers(other))
    assert other.get(f"/api/v1/orders/{berlin}").status_code == 404


def test_a_till_keeps_the_cart_it_holds_for_shipping_and_another_store_cannot_touch_it(tills):
    # given Berlin's till holds a cart for shipping from the warehouse
    held = tills["berlin"].post("/api/v1/reservations", {
        "reference": "till-cart", "lines": [{"sku": "A", "quantity": 1}],
        "delivery": {"method": "ship", "address": ADDRESS}})
    assert held.status_code == 201, held.content
    hold = held.json()["id"]

    # when Munich's till reads, extends, releases or orders on it
    munich = tills["munich"]
    answers = [munich.get(f"/api/v1/reservations/{hold}").status_code,
               munich.post(f"/api/v1/reservations/{hold}/extend",
                           {"ttl_seconds": 60}).status_code,
               munich.delete(f"/api/v1/reservations/{hold}").status_code]
    ordered = munich.post("/api/v1/orders", {
        **order_body([("A", 1)], reservation_id=hold,
                     delivery={"method": "ship", "address": ADDRESS}),
        "payment": {"method": "cash", "status": "pending", "amount": "10.00"}})

    # then the hold does not exist for it, and it still holds the units
    assert answers == [404, 404, 404]
    assert ordered.status_code == 404
    assert tills["berlin"].get(f"/api/v1/reservations/{hold}").json()["state"] == "active"
