"""The dangerous parts, with real threads and connections against PostgreSQL."""

from __future__ import annotations

import pytest
from django.db.models import Sum
from django.test import Client
from django.utils import timezone

from inventory.models import Reservation, ReservationLine, StockLevel
from inventory.reservations import reservations_expire_due
from oms.core.models import OutboxEvent
from oms.orders.models import Order, OrderLine
from oms.orders.services import order_confirm
from tests.orders.conftest import level, order_body

pytestmark = pytest.mark.django_db(transaction=True)


def http(session):
    """A fresh test client per thread, carrying the session's token."""
    return Client(HTTP_AUTHORIZATION=f"Bearer {session.api_client.token}")


def post_json(client, path, body, **headers):
    import json

    return client.post(path, data=json.dumps(body), content_type="application/json",
                       **{f"HTTP_{k.upper().replace('-', '_')}": v for k, v in headers.items()})


def test_64_concurrent_orders_for_37_units_sell_exactly_37(network, api, run_concurrently):
    # Given 37 units of a hot SKU in the only warehouse that ships it
    network.stock(network.kassel, "HOT", 37)
    shop = api("webshop", channel="web")
    # When 64 customers order one each at the same moment
    results = run_concurrently(64, lambda i: post_json(
        http(shop), "/api/v1/orders", order_body([("HOT", 1)])).status_code)
    # Then exactly 37 orders succeed, 27 are refused, and nothing is oversold
    assert sorted(set(results)) == [201, 409], results
    assert results.count(201) == 37
    assert results.count(409) == 27
    hot = level("HOT", network.kassel)
    assert (hot.on_hand, hot.reserved) == (37, 37)
    assert Order.objects.count() == 37


def test_multi_line_orders_naming_skus_in_opposite_order_never_deadlock(
        network, api, run_concurrently):
    # Given 15 units each of A and B
    network.stock(network.kassel, "A", 15)
    network.stock(network.kassel, "B", 15)
    shop = api("webshop", channel="web")

    def place(i: int) -> int:
        lines = [("A", 1), ("B", 1)] if i % 2 else [("B", 1), ("A", 1)]
        return post_json(http(shop), "/api/v1/orders", order_body(lines)).status_code

    # When 24 such orders arrive at once, half naming B first
    results = run_concurrently(24, place)
    # Then no client saw an error other than a clean 409, and every order is all-or-nothing
    assert set(results) <= {201, 409}, results
    placed = results.count(201)
    assert placed == 15
    assert level("A", network.kassel).reserved == placed
    assert level("B", network.kassel).reserved == placed
    assert OrderLine.objects.count() == 2 * placed


def test_cancel_racing_payment_confirmation_ends_consistently(network, api, run_concurrently):
    network.stock(network.kassel, "A", 50)
    shop = api("webshop", channel="web")
    for _ in range(6):
        # Given an order on hold for a pending payment
        body = order_body([("A", 1)])
        body["payment"]["status"] = "pending"
        number = post_json(http(shop), "/api/v1/orders", body).json()["number"]
        order = Order.objects.get(number=number)

        def act(i: int, order=order, number=number):
            if i == 0:
                return post_json(http(shop), f"/api/v1/orders/{number}/cancel",
                                 {"reason": "race"}).status_code
            try:
                order_confirm(order=order, actor="psp")
                return 200
            except Exception as exc:
                return getattr(exc, "status_code", exc)

        # When the cancel and the payment confirmation arrive together
        cancel_status, confirm_status = run_concurrently(2, act)
        # Then the second sees the first's outcome: a cancel after the confirmation still
        # cancels; a confirmation after the cancel is refused with 409
        order.refresh_from_db()
        assert cancel_status == 200
        assert confirm_status in (200, 409)
        assert order.status == "cancelled"
        types = list(order.events.values_list("type", flat=True))
        if confirm_status == 200:
            assert types.index("order.confirmed") < types.index("order.cancelled")
        else:
            assert "order.confirmed" not in types
    assert level("A", network.kassel).reserved == 0


def test_a_hold_expiring_while_an_order_consumes_it_counts_its_units_once(
        network, api, run_concurrently):
    shop = api("webshop", channel="web")
    for attempt in range(5):
        # Given a hold on the last 2 units, reaching its deadline right now
        sku = f"LAST-{attempt}"
        network.stock(network.kassel, sku, 2)
        hold = post_json(http(shop), "/api/v1/reservations", {
            "reference": "cart", "lines": [{"sku": sku, "quantity": 2}],
            "delivery": {"method": "ship"}}).json()
        Reservation.objects.filter(pk=hold["id"]).update(expires_at=timezone.now())

        def act(i: int, hold=hold, sku=sku):
            if i == 0:
                return reservations_expire_due()
            return post_json(http(shop), "/api/v1/orders",
                             order_body([(sku, 2)], reservation_id=hold["id"])).status_code

        # When the sweep and the order run together
        _swept, order_status = run_concurrently(2, act)
        # Then the order got the units, exactly once
        assert order_status == 201
        assert level(sku, network.kassel).reserved == 2
        state = Reservation.objects.get(pk=hold["id"]).state
        assert state in ("consumed", "expired")
        ended = OutboxEvent.objects.filter(aggregate_id=hold["id"],
                                           topic__in=["reservation.consumed",
                                                      "reservation.expired"])
        assert ended.count() == 1


def test_20_concurrent_posts_with_one_idempotency_key_create_one_order(
        network, api, run_concurrently):
    network.stock(network.kassel, "A", 50)
    shop = api("webshop", channel="web")
    body = order_body([("A", 1)])
    results = run_concurrently(20, lambda i: post_json(
        http(shop), "/api/v1/orders", body, **{"Idempotency-Key": "checkout-1"}))
    statuses = [r.status_code for r in results]
    assert set(statuses) <= {201, 409}, statuses
    assert Order.objects.count() == 1
    assert level("A", network.kassel).reserved == 1
    numbers = {r.json()["number"] for r in results if r.status_code == 201}
    assert len(numbers) == 1
    assert all(r.json()["errors"][0]["code"] == "idempotency_key_in_use"
               for r in results if r.status_code == 409)


def test_reserved_always_equals_the_sum_of_active_reservation_lines(network, api, run_concurrently):
    # A closing check over everything the threads above can do, in one more mixed run
    network.stock(network.kassel, "A", 10)
    network.stock(network.hamburg, "A", 10)
    shop = api("webshop", channel="web")

    def act(i: int) -> int:
        client = http(shop)
        if i % 3 == 0:
            return post_json(client, "/api/v1/reservations", {
                "reference": f"c{i}", "lines": [{"sku": "A", "quantity": 2}],
                "delivery": {"method": "ship"}}).status_code
        response = post_json(client, "/api/v1/orders", order_body([("A", 3)]))
        if response.status_code == 201 and i % 2:
            post_json(client, f"/api/v1/orders/{response.json()['number']}/cancel",
                      {"reason": "x"})
        return response.status_code

    run_concurrently(18, act)
    for stock in StockLevel.objects.filter(product_id="A"):
        held = ReservationLine.objects.filter(
            stock_level=stock, reservation__state="active").aggregate(n=Sum("quantity"))["n"]
        assert stock.reserved == (held or 0)
        assert stock.on_hand - stock.reserved >= 0


def test_concurrent_orders_with_one_external_id_create_one_order_and_conflicts(
        network, api, run_concurrently):
    network.stock(network.kassel, "A", 50)
    shop = api("webshop", channel="web")
    results = run_concurrently(4, lambda i: post_json(
        http(shop), "/api/v1/orders", order_body([("A", 1)], external_id="EXT-1")).status_code)
    assert sorted(results) == [201, 409, 409, 409]
    assert Order.objects.count() == 1
    assert level("A", network.kassel).reserved == 1
