"""Cart holds: POST /reservations, DELETE, extend, and the expiry sweep."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from inventory.models import Reservation
from inventory.reservations import reservations_expire_due
from oms.core.models import OutboxEvent
from tests.conftest import error_codes
from tests.network import level


def hold_body(lines, **extra):
    return {"reference": "cart-1", "lines": [{"sku": s, "quantity": q} for s, q in lines],
            "delivery": {"method": "ship"}, **extra}


def test_a_hold_reserves_every_line_for_fifteen_minutes_by_default(network, shop):
    network.stock(network.kassel, "A", 5)
    network.stock(network.kassel, "B", 5)
    before = timezone.now()
    response = shop.post("/api/v1/reservations", hold_body([("A", 2), ("B", 1)]))
    assert response.status_code == 201, response.content
    hold = response.json()
    assert sorted((ln["sku"], ln["quantity"], ln["location"]) for ln in hold["lines"]) == [
        ("A", 2, "WH-KS"), ("B", 1, "WH-KS")]
    expires = Reservation.objects.get(pk=hold["id"]).expires_at
    assert timedelta(minutes=14) < expires - before <= timedelta(minutes=15, seconds=5)
    assert level("A", network.kassel).reserved == 2


def test_a_hold_is_all_or_nothing(network, shop):
    network.stock(network.kassel, "A", 5)
    network.stock(network.kassel, "B", 1)
    response = shop.post("/api/v1/reservations", hold_body([("A", 2), ("B", 2)]))
    assert response.status_code == 409
    assert error_codes(response) == ["insufficient_stock"]
    assert response.json()["errors"][0]["skus"] == ["B"]
    assert level("A", network.kassel).reserved == 0
    assert not Reservation.objects.exists()


def test_a_ttl_beyond_the_maximum_is_refused(network, shop, settings):
    settings.RESERVATION_MAX_TTL_SECONDS = 600
    network.stock(network.kassel, "A", 5)
    response = shop.post("/api/v1/reservations", hold_body([("A", 1)], ttl_seconds=601))
    assert response.status_code == 400
    assert response.json()["errors"][0]["attr"] == "ttl_seconds"
    assert level("A", network.kassel).reserved == 0


@pytest.mark.parametrize(("body", "attr"), [
    ({"lines": [{"sku": "A", "quantity": 1}], "delivery": {"method": "ship"}}, "reference"),
    (hold_body([("A", 0)]), "lines.0.quantity"),
    (hold_body([("A", 1), ("A", 1)]), "lines"),
    (hold_body([("ZZZ", 1)]), "lines"),
    (hold_body([("A", 1)], ttl_seconds=0), "ttl_seconds"),
    (hold_body([]), "lines"),
])
def test_bad_holds_get_a_clear_error_and_reserve_nothing(network, shop, body, attr):
    network.stock(network.kassel, "A", 5)
    response = shop.post("/api/v1/reservations", body)
    assert response.status_code == 400, response.content
    assert response.json()["errors"][0]["attr"] == attr
    assert level("A", network.kassel).reserved == 0


def test_deleting_a_hold_releases_it_once(network, shop):
    network.stock(network.kassel, "A", 5)
    hold = shop.post("/api/v1/reservations", hold_body([("A", 3)])).json()
    first = shop.delete(f"/api/v1/reservations/{hold['id']}")
    second = shop.delete(f"/api/v1/reservations/{hold['id']}")
    assert first.status_code == 204
    assert second.status_code == 409
    assert error_codes(second) == ["invalid_transition"]
    assert level("A", network.kassel).reserved == 0
    assert OutboxEvent.objects.filter(topic="reservation.released").count() == 1


def test_extending_a_hold_moves_its_deadline(network, shop):
    network.stock(network.kassel, "A", 5)
    hold = shop.post("/api/v1/reservations", hold_body([("A", 1)], ttl_seconds=60)).json()
    response = shop.post(f"/api/v1/reservations/{hold['id']}/extend", {"ttl_seconds": 1800})
    assert response.status_code == 200, response.content
    expires = Reservation.objects.get(pk=hold["id"]).expires_at
    assert expires - timezone.now() > timedelta(minutes=29)


def test_an_expired_hold_cannot_be_extended_and_the_sweep_gives_its_units_back(network, shop):
    network.stock(network.kassel, "A", 5)
    hold = shop.post("/api/v1/reservations", hold_body([("A", 2)])).json()
    Reservation.objects.filter(pk=hold["id"]).update(expires_at=timezone.now())
    response = shop.post(f"/api/v1/reservations/{hold['id']}/extend", {"ttl_seconds": 60})
    assert response.status_code == 409
    assert reservations_expire_due() == 1
    assert Reservation.objects.get(pk=hold["id"]).state == "expired"
    assert level("A", network.kassel).reserved == 0


def test_an_orders_own_reservation_is_not_a_cart_hold(network, shop):
    # Given an order (its reservation holds the units)
    network.stock(network.kassel, "A", 5)
    from tests.network import order_body

    number = shop.post("/api/v1/orders", order_body([("A", 2)])).json()["number"]
    own = Reservation.objects.get(kind="order", reference=number)
    # When a client tries to read, extend or delete it as if it were a cart hold
    # Then it does not exist for them, and the units stay held
    assert shop.get(f"/api/v1/reservations/{own.pk}").status_code == 404
    assert shop.post(f"/api/v1/reservations/{own.pk}/extend",
                     {"ttl_seconds": 60}).status_code == 404
    assert shop.delete(f"/api/v1/reservations/{own.pk}").status_code == 404
    assert level("A", network.kassel).reserved == 2


def test_another_channels_hold_does_not_exist_for_a_client(network, shop, api):
    network.stock(network.kassel, "A", 5)
    hold = shop.post("/api/v1/reservations", hold_body([("A", 1)])).json()
    marketplace = api("marketplace", channel="amazon")
    assert marketplace.get(f"/api/v1/reservations/{hold['id']}").status_code == 404
    assert marketplace.delete(f"/api/v1/reservations/{hold['id']}").status_code == 404
    assert level("A", network.kassel).reserved == 1


def test_the_sweep_expires_due_holds_and_a_second_run_changes_nothing(network, shop):
    # Given two holds, one past its deadline
    network.stock(network.kassel, "A", 5)
    due = shop.post("/api/v1/reservations", hold_body([("A", 2)])).json()
    fresh = shop.post("/api/v1/reservations", hold_body([("A", 1)])).json()
    Reservation.objects.filter(pk=due["id"]).update(
        expires_at=timezone.now() - timedelta(seconds=1))
    # When the sweep runs twice
    first, second = reservations_expire_due(), reservations_expire_due()
    # Then only the due hold expired, once, and its units are available again
    assert (first, second) == (1, 0)
    assert Reservation.objects.get(pk=due["id"]).state == "expired"
    assert Reservation.objects.get(pk=fresh["id"]).state == "active"
    assert level("A", network.kassel).reserved == 1
    assert OutboxEvent.objects.filter(topic="reservation.expired").count() == 1


def test_the_expiry_sweep_is_scheduled_well_within_a_minute(settings):
    schedule = settings.CELERY_BEAT_SCHEDULE["expire-cart-holds"]
    assert schedule["task"] == "inventory.tasks.expire_cart_holds"
    assert schedule["schedule"] <= 30
