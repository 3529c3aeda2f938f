"""How a cart hold reads and writes: one sourcing query, the reservation with its lines in one
statement, the conditional stock UPDATEs last and in primary-key order, and a decision that
lost its units to someone else asked again (inventory.reservations, inventory.sql.hold)."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from inventory.models import Reservation, ReservationLine
from inventory.reservations import (
    RACE_RETRIES,
    InsufficientStock,
    reservation_hold,
    reservation_release,
)
from inventory.services import stock_snapshot_apply
from inventory.sourcing import DeliveryRequest, LineRequest, sourcing_decide
from inventory.sql.snapshot import LevelRow
from oms.core.models import OutboxEvent
from tests.factories import StockLevelFactory
from tests.network import level

SHIP = DeliveryRequest(method="ship")


def hold(*lines: tuple[str, int]) -> Reservation:
    return reservation_hold(reference="cart-1", channel="web", delivery=SHIP,
                            lines=[LineRequest(sku, quantity) for sku, quantity in lines])


def statements(captured: CaptureQueriesContext) -> list[str]:
    """The SQL run, without the savepoints the test's own transaction puts around a hold."""
    return [q["sql"].strip() for q in captured.captured_queries
            if "SAVEPOINT" not in q["sql"]]


def test_sourcing_reads_locations_and_stock_in_one_query(
        network, django_assert_num_queries):
    # Given stock at two warehouses and a store
    network.stock(network.kassel, "A", 1)
    network.stock(network.hamburg, "A", 5)
    network.stock(network.berlin, "B", 5)
    # When an order for A and B is sourced, for shipping and for a pickup
    with django_assert_num_queries(1):
        shipped = sourcing_decide(lines=[LineRequest("A", 2), LineRequest("B", 1)],
                                  delivery=SHIP)
    with django_assert_num_queries(1):
        picked_up = sourcing_decide(lines=[LineRequest("A", 1)],
                                    delivery=DeliveryRequest(method="pickup", location="ST-MUC"))
    # Then each decision took a single query, and still knows every candidate
    assert {c["location"] for c in shipped.candidates} == {"WH-KS", "WH-HH", "ST-BER"}
    assert [c["location"] for c in picked_up.candidates] == ["ST-MUC"]
    assert picked_up.shortages == {"A": 1}


def test_a_location_excluded_by_re_sourcing_is_no_candidate_even_for_a_pickup(network):
    network.stock(network.munich, "A", 5)
    decision = sourcing_decide(lines=[LineRequest("A", 1)],
                               delivery=DeliveryRequest(method="pickup", location="ST-MUC"),
                               exclude=[network.munich.pk])
    assert decision.candidates == []
    assert decision.shortages == {"A": 1}


def test_a_hold_writes_its_rows_in_one_statement_and_updates_stock_last(network):
    # Given A and B at Kassel
    network.stock(network.kassel, "A", 5)
    network.stock(network.kassel, "B", 5)
    # When a cart holds both
    with CaptureQueriesContext(connection) as captured:
        held = hold(("A", 2), ("B", 1))
    # Then sourcing read once, the reservation and its lines went in together, and the two
    # stock UPDATEs were the last statements of the transaction, after the outbox row
    sql = statements(captured)
    own = [s for s in sql if "inventory_" in s]
    assert len(own) == 4
    assert own[0].startswith("SELECT")
    assert own[1].startswith("WITH") and "INSERT INTO inventory_reservationline" in own[1]
    assert all(s.startswith("UPDATE inventory_stocklevel") for s in own[2:])
    assert sql[-2:] == own[2:]
    assert any(s.startswith('INSERT INTO "core_outboxevent"') for s in sql[:-2])
    assert sorted(held.lines.values_list("product_id", "quantity")) == [("A", 2), ("B", 1)]


def test_stock_rows_are_updated_in_primary_key_order_whatever_the_order_of_the_lines(network):
    # Given B's stock row was created before A's
    b = network.stock(network.kassel, "B", 5)
    a = network.stock(network.kassel, "A", 5)
    assert b.pk < a.pk
    # When a cart names A first
    with CaptureQueriesContext(connection) as captured:
        hold(("A", 1), ("B", 1))
    # Then B's row is updated before A's (concurrent holds cannot deadlock)
    updates = [s for s in statements(captured) if s.startswith("UPDATE inventory_stocklevel")]
    assert [f"WHERE id = {b.pk} " in u for u in updates] == [True, False]
    assert [f"WHERE id = {a.pk} " in u for u in updates] == [False, True]


def test_the_hold_returned_is_the_row_written(network):
    network.stock(network.kassel, "A", 5)
    held = hold(("A", 2))
    stored = Reservation.objects.get(pk=held.pk)
    assert held._state.adding is False
    assert (stored.kind, stored.state, stored.reference, stored.channel, stored.expires_at,
            stored.created_at) == (held.kind, held.state, held.reference, held.channel,
                                   held.expires_at, held.created_at)
    assert OutboxEvent.objects.get(topic="reservation.held").payload["id"] == str(held.pk)


def test_units_taken_after_sourcing_are_sourced_again_elsewhere(network, taken_after_sourcing):
    # Given A at Kassel (first choice) and at Hamburg
    kassel = network.stock(network.kassel, "A", 5)
    network.stock(network.hamburg, "A", 5)
    # When someone takes Kassel's units between the hold's decision and its UPDATE
    calls = taken_after_sourcing(kassel)
    held = hold(("A", 2))
    # Then the hold asked sourcing again and holds the units at Hamburg, once
    assert len(calls) == 2
    assert list(held.lines.values_list("location__code", "quantity")) == [("WH-HH", 2)]
    assert level("A", network.hamburg).reserved == 2
    assert level("A", network.kassel).reserved == 5  # the other buyer's
    assert Reservation.objects.count() == 1
    assert OutboxEvent.objects.filter(topic="reservation.held").count() == 1


def test_a_hold_losing_one_row_to_a_race_writes_nothing_at_all(network, taken_after_sourcing):
    # Given A and B only at Kassel, A's row first in primary-key order
    network.stock(network.kassel, "A", 5)
    b = network.stock(network.kassel, "B", 5)
    # When B's units go to someone else after the decision (A's UPDATE already succeeded)
    taken_after_sourcing(b)
    with pytest.raises(InsufficientStock):
        hold(("A", 1), ("B", 1))
    # Then A's units are back, and neither reservation, line nor event was written
    assert level("A", network.kassel).reserved == 0
    assert not Reservation.objects.exists()
    assert not ReservationLine.objects.exists()
    assert not OutboxEvent.objects.filter(topic="reservation.held").exists()


def test_a_hold_that_keeps_losing_races_is_refused_after_the_retries(
        network, always_taken_after_sourcing):
    # Given a decision that always counts on units someone else just took
    calls = always_taken_after_sourcing(network.stock(network.kassel, "A", 5))
    # When a cart holds A, Then it gets 409 after RACE_RETRIES decisions, holding nothing
    with pytest.raises(InsufficientStock) as refused:
        hold(("A", 1))
    assert refused.value.extra["skus"] == ["A"]
    assert len(calls) == RACE_RETRIES
    assert not Reservation.objects.exists()


def test_releasing_gives_units_back_even_after_a_count_cut_on_hand_below_reserved(network):
    # Given 3 of 5 units held, then a count that finds only 1
    network.stock(network.kassel, "A", 5)
    held = hold(("A", 3))
    stock_snapshot_apply(location=network.kassel, as_of=timezone.now(), actor="t",
                         levels=[LevelRow("A", 1)])
    # When the hold is released
    reservation_release(reservation=held)
    # Then all 3 units come back, although "available" was negative
    stock = level("A", network.kassel)
    assert (stock.on_hand, stock.reserved) == (1, 0)


def test_safety_stock_is_never_held(network):
    # Given 5 on hand of which 2 are safety stock
    StockLevelFactory(location=network.kassel, product__sku="A", on_hand=5, safety_stock=2)
    # When carts hold 3 and then 1 more
    hold(("A", 3))
    with pytest.raises(InsufficientStock):
        hold(("A", 1))
    # Then the second is refused and only 3 are held
    assert level("A", network.kassel).reserved == 3
