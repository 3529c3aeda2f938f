"""The dangerous parts, with real threads and connections against PostgreSQL."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from functools import partial
from typing import TypeVar

import pytest
from django.db import connection, connections, transaction
from django.db.models import Sum
from django.test import Client
from django.utils import timezone

from inventory.models import Reservation, ReservationLine, StockLevel
from inventory.reservations import reservations_expire_due
from oms.core.models import OutboxEvent
from oms.orders.models import Customer, Order, OrderLine
from oms.orders.services import order_confirm
from tests.conftest import error_codes
from tests.network import level, order_body

pytestmark = pytest.mark.django_db(transaction=True)
T = TypeVar("T")


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


class HeldOpen:
    """Runs `write` in a transaction of another thread and keeps it open until `commit()`:
    what a concurrent request looks like while it has written but not yet committed."""

    def __init__(self, write: Callable[[], None]) -> None:
        self.written, self.release = threading.Event(), threading.Event()
        self.thread = threading.Thread(target=self._run, args=(write,))

    def _run(self, write: Callable[[], None]) -> None:
        try:
            with transaction.atomic():
                write()
                self.written.set()
                self.release.wait(timeout=20)
        finally:
            connections.close_all()

    def __enter__(self) -> HeldOpen:
        self.thread.start()
        assert self.written.wait(timeout=10)
        return self

    def commit_once_someone_waits_for_it(self) -> None:
        """Commit as soon as another connection is blocked on one of our row locks."""
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline and not blocked_backends():
            time.sleep(0.02)
        self.release.set()

    def __exit__(self, *exc: object) -> None:
        self.release.set()
        self.thread.join(timeout=20)


def blocked_backends() -> int:
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
                       "AND wait_event_type = 'Lock'")
        return cursor.fetchone()[0]


def in_a_thread(fn: Callable[[], T]) -> Callable[[], T]:
    """Start fn in a thread now; the returned function waits for its result."""
    result: list[T] = []

    def run() -> None:
        try:
            result.append(fn())
        finally:
            connections.close_all()

    thread = threading.Thread(target=run)
    thread.start()

    def wait() -> T:
        thread.join(timeout=20)
        return result[0]

    return wait


def test_an_order_losing_the_race_for_its_external_id_is_a_conflict_naming_the_winner(
        network, api):
    # Given an order of the web channel
    network.stock(network.kassel, "A", 50)
    shop = api("webshop", channel="web")
    winner = post_json(http(shop), "/api/v1/orders", order_body([("A", 1)])).json()["number"]
    # and another request giving it the external id EXT-RACE, written but not yet committed
    take_id = partial(Order.objects.filter(number=winner).update, external_id="EXT-RACE")
    with HeldOpen(take_id) as other:
        # when an order with EXT-RACE arrives now (its check cannot see the uncommitted id)
        placing = in_a_thread(lambda: post_json(
            http(shop), "/api/v1/orders", order_body([("A", 2)], external_id="EXT-RACE")))
        other.commit_once_someone_waits_for_it()
        response = placing()
    # then it waited for the other transaction and is refused, naming the order that won
    assert response.status_code == 409, response.content
    assert error_codes(response) == ["duplicate_order"]
    assert response.json()["errors"][0]["order"] == winner
    # and it left nothing behind
    assert Order.objects.count() == 1
    assert level("A", network.kassel).reserved == 1


def test_a_first_order_racing_another_for_a_new_customer_uses_the_customer_written_first(
        network, api):
    # Given a new customer being written by another request, not yet committed
    network.stock(network.kassel, "A", 50)
    shop = api("webshop", channel="web")
    create = partial(Customer.objects.create, email="new@example.de", name="Other request")
    with HeldOpen(create) as other:
        # when this customer's order arrives now
        body = order_body([("A", 1)], customer={"email": "New@Example.de", "name": "Kim New"})
        placing = in_a_thread(lambda: post_json(http(shop), "/api/v1/orders", body))
        other.commit_once_someone_waits_for_it()
        response = placing()
    # then the order is placed for the customer the other request wrote, with our name
    assert response.status_code == 201, response.content
    customer = Customer.objects.get(email="new@example.de")
    assert Order.objects.get(number=response.json()["number"]).customer == customer
    assert customer.name == "Kim New"
