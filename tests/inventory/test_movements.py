"""Stock movements: `POST /api/v1/stock/movements` and the append-only journal."""

from __future__ import annotations

import pytest
from django.db import DatabaseError, transaction
from django.utils import timezone

from inventory.models import StockLevel, StockMovement
from oms.core.models import OutboxEvent
from tests.conftest import error_codes
from tests.factories import LocationFactory, ProductFactory, StockLevelFactory
from tests.inventory.payloads import attrs, movement_body, on_hand, stock_state

pytestmark = pytest.mark.django_db

MOVEMENTS = "/api/v1/stock/movements"


@pytest.fixture
def warehouse():
    return LocationFactory(code="WH-KS")


@pytest.fixture
def stocked(warehouse):
    """SKU-1 with 10 on hand at WH-KS."""
    return StockLevelFactory(product=ProductFactory(sku="SKU-1"), location=warehouse, on_hand=10)


def test_a_receipt_adds_to_on_hand_and_is_journaled(wms, stocked):
    # when the WMS books a receipt of 5
    response = wms.post(MOVEMENTS, movement_body("WH-KS", "SKU-1", 5, reference="ASN-77"))

    # then on hand grows and the movement records the result
    assert response.status_code == 201, response.json()
    body = response.json()
    assert {k: body[k] for k in ("location", "sku", "quantity", "kind", "reference",
                                 "on_hand_after")} == {
        "location": "WH-KS", "sku": "SKU-1", "quantity": 5, "kind": "receipt",
        "reference": "ASN-77", "on_hand_after": 15}
    assert on_hand("SKU-1", "WH-KS") == 15
    movement = StockMovement.objects.get()
    assert (movement.quantity, movement.on_hand_after, movement.actor) == (
        5, 15, wms.api_client.name)
    event = OutboxEvent.objects.get(topic="stock.movement_recorded")
    assert event.payload["on_hand"] == 15


def test_a_first_receipt_creates_the_stock_level(wms, warehouse):
    # given a product never stocked at the warehouse
    ProductFactory(sku="SKU-NEW")

    # when a receipt arrives
    response = wms.post(MOVEMENTS, movement_body("WH-KS", "SKU-NEW", 3))

    # then the level starts at the received quantity
    assert response.status_code == 201
    assert on_hand("SKU-NEW", "WH-KS") == 3


@pytest.mark.parametrize(("kind", "quantity", "after"), [
    ("damage", -2, 8), ("transfer_out", -10, 0), ("transfer_in", 4, 14),
    ("adjustment", -3, 7), ("adjustment", 3, 13),
])
def test_each_kind_moves_stock_in_its_direction(wms, stocked, kind, quantity, after):
    response = wms.post(MOVEMENTS, movement_body("WH-KS", "SKU-1", quantity, kind=kind))

    assert response.status_code == 201, response.json()
    assert response.json()["on_hand_after"] == after
    assert on_hand("SKU-1", "WH-KS") == after


@pytest.mark.parametrize(("kind", "quantity"), [
    ("damage", 2), ("transfer_out", 2), ("receipt", -2), ("transfer_in", -2),
])
def test_a_movement_with_the_wrong_sign_is_refused(wms, stocked, kind, quantity):
    # given the current stock
    before = stock_state()

    # when a movement goes the wrong way for its kind
    response = wms.post(MOVEMENTS, movement_body("WH-KS", "SKU-1", quantity, kind=kind))

    # then it is refused and nothing changes
    assert response.status_code == 400
    assert error_codes(response) == ["invalid_sign"]
    assert attrs(response) == ["quantity"]
    assert stock_state() == before


@pytest.mark.parametrize(("field", "value"), [
    ("quantity", 0), ("quantity", 1.5), ("quantity", "many"), ("quantity", 3_000_000_000),
    ("kind", "count"), ("kind", "pick"), ("kind", "theft"), ("sku", "bad sku"),
])
def test_a_malformed_movement_is_refused(wms, stocked, field, value):
    before = stock_state()
    body = movement_body("WH-KS", "SKU-1", -1, kind="adjustment")
    body[field] = value

    response = wms.post(MOVEMENTS, body)

    assert response.status_code == 400
    assert attrs(response) == [field]
    assert stock_state() == before


def test_a_movement_may_not_take_on_hand_below_zero(wms, stocked):
    # given 10 on hand
    before = stock_state()

    # when 11 are written off as damaged
    response = wms.post(MOVEMENTS, movement_body("WH-KS", "SKU-1", -11, kind="damage"))

    # then it is a conflict and nothing is written
    assert response.status_code == 409
    assert error_codes(response) == ["negative_stock"]
    assert stock_state() == before


def test_a_refused_first_movement_leaves_no_empty_stock_level_behind(wms, warehouse):
    # given a product never stocked here
    ProductFactory(sku="SKU-NEW")

    # when a damage is booked for it
    response = wms.post(MOVEMENTS, movement_body("WH-KS", "SKU-NEW", -1, kind="damage"))

    # then it is refused and no level row was created on the way
    assert response.status_code == 409
    assert not StockLevel.objects.exists()


def test_a_receipt_that_would_overflow_on_hand_is_a_conflict_not_a_server_error(wms, warehouse):
    # given a level close to the largest storable count
    StockLevelFactory(product=ProductFactory(sku="SKU-1"), location=warehouse,
                      on_hand=2_000_000_000)
    before = stock_state()

    # when another 2 billion are received
    response = wms.post(MOVEMENTS, movement_body("WH-KS", "SKU-1", 2_000_000_000))

    # then the client is told why and nothing changes
    assert response.status_code == 409, response.content
    assert error_codes(response) == ["stock_overflow"]
    assert attrs(response) == ["quantity"]
    assert stock_state() == before


def test_a_damage_below_the_reserved_quantity_announces_a_shortfall(wms, warehouse):
    # given 10 on hand, 9 of them reserved
    StockLevelFactory(product=ProductFactory(sku="SKU-1"), location=warehouse, on_hand=10,
                      reserved=9)

    # when 3 are damaged
    response = wms.post(MOVEMENTS, movement_body("WH-KS", "SKU-1", -3, kind="damage"))

    # then the damage stands and a shortfall is announced
    assert response.status_code == 201
    event = OutboxEvent.objects.get(topic="stock.shortfall")
    assert event.payload == {"location": "WH-KS", "sku": "SKU-1", "on_hand": 7, "reserved": 9,
                             "safety_stock": 0}


def test_an_unknown_sku_is_refused(wms, warehouse):
    response = wms.post(MOVEMENTS, movement_body("WH-KS", "GHOST-1", 1))

    assert response.status_code == 400
    assert error_codes(response) == ["unknown_sku"]
    assert attrs(response) == ["sku"]
    assert not StockLevel.objects.exists()


def test_an_unknown_location_answers_404(wms):
    ProductFactory(sku="SKU-1")

    response = wms.post(MOVEMENTS, movement_body("NOWHERE", "SKU-1", 1))

    assert response.status_code == 404
    assert attrs(response) == ["location"]


@pytest.mark.parametrize("kind", ["webshop", "pim", "psp"])
def test_clients_that_do_not_own_stock_may_not_book_movements(api, stocked, kind):
    response = api(kind).post(MOVEMENTS, movement_body("WH-KS", "SKU-1", 1))

    assert response.status_code == 403
    assert on_hand("SKU-1", "WH-KS") == 10


@pytest.fixture
def movement(stocked):
    return StockMovement.objects.create(
        location=stocked.location, product_id="SKU-1", quantity=10, kind="receipt",
        on_hand_after=10, created_at=timezone.now())


def test_a_stock_movement_cannot_be_updated(movement):
    # when anyone tries to rewrite the journal, by queryset or by instance
    with pytest.raises(DatabaseError, match="append-only"), transaction.atomic():
        StockMovement.objects.filter(pk=movement.pk).update(quantity=99)
    movement.reference = "tampered"
    with pytest.raises(DatabaseError, match="append-only"), transaction.atomic():
        movement.save()

    # then the row is as it was written
    movement.refresh_from_db()
    assert (movement.quantity, movement.reference) == (10, "")


def test_a_stock_movement_cannot_be_deleted(movement):
    with pytest.raises(DatabaseError, match="append-only"), transaction.atomic():
        StockMovement.objects.filter(pk=movement.pk).delete()
    with pytest.raises(DatabaseError, match="append-only"), transaction.atomic():
        movement.delete()

    assert StockMovement.objects.filter(pk=movement.pk).exists()
