"""POST /api/v1/orders: validate, source, reserve and write the whole order, or nothing."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from fulfillment.models import FulfillmentOrder
from inventory.models import Reservation, StockLevel
from oms.core.models import OutboxEvent
from oms.orders.models import Order, OrderEvent
from payments.models import Payment
from tests.conftest import error_codes
from tests.network import level, order_body


def test_an_order_is_reserved_written_and_confirmed_in_one_go(network, shop):
    # Given Kassel has 5 of A and 3 of B
    network.stock(network.kassel, "A", 5)
    network.stock(network.kassel, "B", 3)
    # When the webshop places an order paid by an authorized card
    response = shop.post("/api/v1/orders", order_body([("A", 2), ("B", 1)]))
    # Then the order is confirmed, its units are reserved in Kassel, one pending fulfilment
    # order and the payment exist, and order.placed and order.confirmed are published
    assert response.status_code == 201, response.content
    order = response.json()
    assert order["status"] == "confirmed"
    assert order["total"] == "30.00"
    assert [(ln["sku"], ln["quantity"], ln["allocated"]) for ln in order["lines"]] == [
        ("A", 2, 2), ("B", 1, 1)]
    assert [(f["location"], f["kind"], f["status"]) for f in order["fulfillments"]] == [
        ("WH-KS", "ship", "pending")]
    assert order["payments"][0]["status"] == "authorized"
    assert level("A", network.kassel).reserved == 2
    assert level("B", network.kassel).reserved == 1
    topics = set(OutboxEvent.objects.filter(aggregate_id=order["number"])
                 .values_list("topic", flat=True))
    assert {"order.placed", "order.confirmed"} <= topics


@pytest.mark.parametrize(("method", "status", "expected", "reason"), [
    ("card", "authorized", "confirmed", "payment card authorized"),
    ("card", "pending", "on_hold", "payment pending"),
    ("paypal", "captured", "confirmed", "payment paypal captured"),
    ("invoice", "pending", "confirmed", "payment invoice pending"),
    ("pay_in_store", "pending", "confirmed", "payment pay_in_store pending"),
])
def test_the_payment_decides_the_state_a_new_order_is_written_in_never_updated_after(
        network, shop, method, status, expected, reason):
    # Given stock in Kassel and a payment by `method` in `status`
    network.stock(network.kassel, "A", 5)
    body = order_body([("A", 1)])
    body["payment"].update(method=method, status=status)
    # When the webshop places the order
    with CaptureQueriesContext(connection) as captured:
        response = shop.post("/api/v1/orders", body)
    # Then it is confirmed or held as the payment decides
    assert response.status_code == 201, response.content
    assert response.json()["status"] == expected
    # And the order row is inserted once, in that state, and never updated
    writes = [q["sql"] for q in captured.captured_queries
              if q["sql"].startswith(('INSERT INTO "orders_order"', 'UPDATE "orders_order"'))]
    assert len(writes) == 1 and writes[0].startswith("INSERT")
    # And the audit trail still tells the step from placed, with its reason
    number = response.json()["number"]
    trail = list(OrderEvent.objects.filter(order__number=number).order_by("pk")
                 .values_list("type", "data"))
    step = "order.confirmed" if expected == "confirmed" else "order.on_hold"
    assert [type_ for type_, _data in trail] == ["sourcing.decided", "order.placed", step]
    assert trail[2][1] == {"from": "placed", "to": expected, "reason": reason}
    # And subscribers hear of the order as placed, and of the step with the order in its state
    published = dict(OutboxEvent.objects.filter(aggregate_type="order", aggregate_id=number)
                     .values_list("topic", "payload"))
    assert published["order.placed"]["status"] == "placed"
    assert published[step]["status"] == expected
    assert published[step]["detail"]["reason"] == reason


def test_a_shortage_answers_409_naming_the_skus_and_creates_nothing(network, shop):
    # Given A is plentiful but only 1 B exists anywhere
    network.stock(network.kassel, "A", 5)
    network.stock(network.hamburg, "B", 1)
    # When 2 of B are ordered with A
    response = shop.post("/api/v1/orders", order_body([("A", 1), ("B", 2)]))
    # Then 409 insufficient_stock names B, and no order, reservation or payment exists
    assert response.status_code == 409
    assert error_codes(response) == ["insufficient_stock"]
    assert response.json()["errors"][0]["skus"] == ["B"]
    assert Order.objects.count() == 0
    assert Payment.objects.count() == 0
    assert FulfillmentOrder.objects.count() == 0
    assert not Reservation.objects.exists()
    assert StockLevel.objects.filter(reserved__gt=0).count() == 0


def test_an_order_consumes_the_cart_hold_it_names_and_counts_the_units_once(network, shop):
    # Given a cart hold of the last 2 units of A
    network.stock(network.kassel, "A", 2)
    hold = shop.post("/api/v1/reservations", {"reference": "cart-9",
                                              "lines": [{"sku": "A", "quantity": 2}],
                                              "delivery": {"method": "ship"}})
    assert hold.status_code == 201, hold.content
    # When the order names the hold
    response = shop.post("/api/v1/orders",
                         order_body([("A", 2)], reservation_id=hold.json()["id"]))
    # Then the order gets the held units, reserved stays 2 and the hold is consumed
    assert response.status_code == 201, response.content
    assert level("A", network.kassel).reserved == 2
    held = Reservation.objects.get(pk=hold.json()["id"])
    assert held.state == "consumed"
    assert held.consumed_by == response.json()["number"]
    # And a second order naming the same hold is refused
    again = shop.post("/api/v1/orders", order_body([("A", 2)], reservation_id=hold.json()["id"]))
    assert again.status_code == 409
    assert error_codes(again) == ["reservation_consumed"]


def test_an_order_naming_a_hold_that_loses_a_race_for_another_line_is_sourced_again(
        network, shop, taken_after_sourcing):
    # Given a cart hold of 2 A at Kassel, and B at Kassel (first choice) and at Hamburg
    network.stock(network.kassel, "A", 2)
    kassel_b = network.stock(network.kassel, "B", 5)
    network.stock(network.hamburg, "B", 5)
    hold = shop.post("/api/v1/reservations", {"reference": "cart-7",
                                              "lines": [{"sku": "A", "quantity": 2}],
                                              "delivery": {"method": "ship"}}).json()
    # When someone takes Kassel's B between the order's sourcing decision and its UPDATE
    calls = taken_after_sourcing(kassel_b)
    response = shop.post("/api/v1/orders", order_body([("A", 2), ("B", 1)],
                                                      reservation_id=hold["id"]))
    # Then the order is decided again, B comes from Hamburg, and the hold is consumed once
    assert response.status_code == 201, response.content
    assert len(calls) == 2
    assert level("B", network.hamburg).reserved == 1
    assert level("A", network.kassel).reserved == 2
    held = Reservation.objects.get(pk=hold["id"])
    assert (held.state, held.consumed_by) == ("consumed", response.json()["number"])
    assert OutboxEvent.objects.filter(topic="reservation.consumed").count() == 1


def test_an_order_naming_an_expired_hold_reserves_afresh(network, shop):
    network.stock(network.kassel, "A", 3)
    hold = shop.post("/api/v1/reservations", {"reference": "c", "ttl_seconds": 60,
                                              "lines": [{"sku": "A", "quantity": 1}],
                                              "delivery": {"method": "ship"}}).json()
    Reservation.objects.filter(pk=hold["id"]).update(expires_at="2020-01-01T00:00:00Z")
    response = shop.post("/api/v1/orders", order_body([("A", 3)], reservation_id=hold["id"]))
    assert response.status_code == 201, response.content
    assert Reservation.objects.get(pk=hold["id"]).state == "expired"
    assert level("A", network.kassel).reserved == 3


def test_a_pickup_order_reserves_in_the_named_store(network, shop):
    network.stock(network.kassel, "A", 50)
    network.stock(network.munich, "A", 2)
    body = order_body([("A", 2)], delivery={"method": "pickup", "location": "ST-MUC"})
    response = shop.post("/api/v1/orders", body)
    assert response.status_code == 201, response.content
    assert response.json()["fulfillments"][0]["kind"] == "pickup"
    assert response.json()["delivery"] == {"method": "pickup", "location": "ST-MUC"}
    assert level("A", network.munich).reserved == 2
    assert level("A", network.kassel).reserved == 0


def test_a_pickup_in_a_store_short_of_stock_is_409(network, shop):
    network.stock(network.munich, "A", 1)
    body = order_body([("A", 2)], delivery={"method": "pickup", "location": "ST-MUC"})
    response = shop.post("/api/v1/orders", body)
    assert response.status_code == 409
    assert error_codes(response) == ["insufficient_stock"]


def test_order_numbers_are_unique_and_ascending(network, shop):
    network.stock(network.kassel, "A", 10)
    numbers = [shop.post("/api/v1/orders", order_body([("A", 1)])).json()["number"]
               for _ in range(3)]
    assert len(set(numbers)) == 3
    assert [int(n) for n in numbers] == sorted(int(n) for n in numbers)


def test_the_same_external_id_twice_in_a_channel_is_a_conflict(network, shop):
    network.stock(network.kassel, "A", 10)
    first = shop.post("/api/v1/orders", order_body([("A", 1)], external_id="shop-77"))
    again = shop.post("/api/v1/orders", order_body([("A", 1)], external_id="shop-77"))
    assert first.status_code == 201
    assert again.status_code == 409
    assert error_codes(again) == ["duplicate_order"]
    assert again.json()["errors"][0]["order"] == first.json()["number"]


def _with(body: dict, path: str, value: object) -> dict:
    target = body
    keys = path.split(".")
    for key in keys[:-1]:
        target = target[int(key)] if key.isdigit() else target[key]
    target[keys[-1]] = value
    return body


@pytest.mark.parametrize(("path", "value", "status", "code", "attr"), [
    ("lines.0.quantity", 0, 400, "min_value", "lines.0.quantity"),
    ("lines.0.quantity", "two", 400, "invalid", "lines.0.quantity"),
    ("lines.0.sku", "NOPE", 400, "unknown_sku", "lines"),
    ("lines.0.unit_price", "-1.00", 400, "min_value", "lines.0.unit_price"),
    ("currency", "euro", 400, "invalid", "currency"),
    ("customer.email", "not-an-email", 400, "invalid", "customer.email"),
    ("lines", [], 400, "empty", "lines"),
    ("delivery", {"method": "pickup"}, 400, "required", "delivery.location"),
    ("delivery", {"method": "drone"}, 400, "invalid_choice", "delivery.method"),
    ("delivery", {"method": "pickup", "location": "NOWHERE"}, 404, "not_found",
     "delivery.location"),
    ("delivery", {"method": "pickup", "location": "WH-KS"}, 422, "pickup_not_offered",
     "delivery.location"),
    ("payment.amount", "99.00", 422, "payment_amount_mismatch", "payment.amount"),
    ("payment.psp_reference", "", 400, "required", "payment.psp_reference"),
    ("payment.status", "failed", 400, "invalid_choice", "payment.status"),
    ("discount", "10.01", 422, "discount_exceeds_subtotal", "discount"),
    ("discount", "-1.00", 400, "min_value", "discount"),
    ("shipping", "4.95", 422, "payment_amount_mismatch", "payment.amount"),
    ("payment.method", "return_credit", 400, "invalid_choice", "payment.method"),
    ("payment.store_credit_code", "SC-AAAA-BBBB-CCCC", 400, "invalid",
     "payment.store_credit_code"),
    ("reservation_id", "not-a-uuid", 400, "invalid", "reservation_id"),
    ("reservation_id", "7b1d2f3e-0000-4000-8000-000000000000", 404, "not_found",
     "reservation_id"),
])
def test_bad_orders_get_a_clear_error_and_change_nothing(network, shop, path, value, status,
                                                        code, attr):
    network.stock(network.kassel, "A", 5)
    response = shop.post("/api/v1/orders", _with(order_body([("A", 1)]), path, value))
    assert response.status_code == status, response.content
    assert (response.json()["errors"][0]["code"], response.json()["errors"][0]["attr"]) == (
        code, attr)
    assert Order.objects.count() == 0
    assert level("A", network.kassel).reserved == 0


def test_malformed_json_and_duplicate_skus_are_rejected(network, shop):
    network.stock(network.kassel, "A", 5)
    assert error_codes(shop.post("/api/v1/orders", raw="{nope")) == ["parse_error"]
    duplicate = shop.post("/api/v1/orders", order_body([("A", 1), ("A", 1)]))
    assert duplicate.status_code == 400
    assert error_codes(duplicate) == ["duplicate_sku"]
    assert Order.objects.count() == 0


@pytest.mark.parametrize("kind", ["wms", "psp", "pim", "finance", "supplier"])
def test_clients_that_do_not_sell_may_not_place_orders(network, api, kind):
    network.stock(network.kassel, "A", 5)
    response = api(kind).post("/api/v1/orders", order_body([("A", 1)]))
    assert response.status_code == 403
    assert Order.objects.count() == 0


def test_replaying_an_order_with_its_idempotency_key_returns_the_same_order(network, shop):
    network.stock(network.kassel, "A", 5)
    body = order_body([("A", 1)])
    first = shop.post("/api/v1/orders", body, headers={"Idempotency-Key": "o1"})
    again = shop.post("/api/v1/orders", body, headers={"Idempotency-Key": "o1"})
    assert again.status_code == 201
    assert again["Idempotent-Replayed"] == "true"
    assert again.json()["number"] == first.json()["number"]
    assert Order.objects.count() == 1
    assert level("A", network.kassel).reserved == 1


def test_a_psp_reference_already_used_by_another_payment_is_a_conflict(network, shop):
    network.stock(network.kassel, "A", 5)
    body = order_body([("A", 1)])
    body["payment"]["psp_reference"] = "psp_same"
    assert shop.post("/api/v1/orders", body).status_code == 201
    again = shop.post("/api/v1/orders", body)
    assert again.status_code == 409
    assert error_codes(again) == ["duplicate_psp_reference"]
    assert Order.objects.count() == 1
    assert level("A", network.kassel).reserved == 1


@pytest.mark.parametrize("delivery", ["ship", "pickup"])
def test_the_answer_to_placing_an_order_is_what_reading_it_returns(network, shop, delivery):
    # Given stock for a two-line order in Kassel and at the Munich store
    for location in (network.kassel, network.munich):
        network.stock(location, "A", 5)
        network.stock(location, "B", 5)
    overrides = {} if delivery == "ship" else {
        "delivery": {"method": "pickup", "location": "ST-MUC"},
        "payment": {"method": "pay_in_store", "status": "pending", "amount": "30.00"}}

    # When the webshop places it (answered from the rows the intake wrote)
    placed = shop.post("/api/v1/orders", order_body([("A", 1), ("B", 2)], **overrides))

    # Then the answer is exactly what a read of the order returns
    assert placed.status_code == 201, placed.content
    read = shop.get(f"/api/v1/orders/{placed.json()['number']}")
    assert placed.json() == read.json()
    assert [ln["sku"] for ln in placed.json()["lines"]] == ["A", "B"]
    assert placed.json()["fulfillments"][0]["lines"]


def test_an_order_with_a_discount_and_shipping_charges_the_lines_less_discount_plus_shipping(
        network, shop):
    # Given Kassel has A and B
    network.stock(network.kassel, "A", 5)
    network.stock(network.kassel, "B", 5)
    # When the webshop places 2 A and 1 B at 10.00 with a 6.00 voucher and 4.95 shipping
    body = order_body([("A", 2), ("B", 1)], discount="6.00", shipping="4.95")
    body["payment"]["amount"] = "28.95"
    response = shop.post("/api/v1/orders", body)
    # Then the order's total is 30.00 - 6.00 + 4.95, and it shows both amounts
    assert response.status_code == 201, response.content
    order = response.json()
    assert (order["total"], order["discount"], order["shipping"]) == ("28.95", "6.00", "4.95")
    assert shop.get(f"/api/v1/orders/{order['number']}").json()["discount"] == "6.00"
