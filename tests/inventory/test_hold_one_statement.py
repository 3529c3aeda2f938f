"""A cart hold called outside any transaction (a bare service call, an API request without an
Idempotency-Key) takes units from one stock row and writes the reservation, its line and its
outbox event in one statement (inventory.sql.hold.hold_write), so the hot row is locked only
inside the server. Everything else keeps the transactional path. Either way: never more than
there is, all or nothing, the same `reservation.held` event."""

from __future__ import annotations

from typing import Any

import pytest
from django.conf import settings
from django.db import connection, transaction
from django.db.models import Sum
from django.test.utils import CaptureQueriesContext

import inventory.reservations
from inventory.models import Location, Reservation, ReservationLine, StockLevel
from inventory.reservations import (
    RACE_RETRIES,
    InsufficientStock,
    cart_hold_statement,
    reservation_extend,
    reservation_hold,
    reservation_release,
)
from inventory.sourcing import DeliveryRequest, LineRequest, sourcing_decide
from inventory.sql.hold import hold_param_positions
from oms.core.models import OutboxEvent
from oms.core.relay_wakeup import relay_starting
from tests.conftest import RunConcurrently
from tests.core.support import BrokerQueues
from tests.factories import StockLevelFactory, WarehouseFactory, WebhookSubscriptionFactory

pytestmark = pytest.mark.django_db(transaction=True)  # the threads see only committed rows

SHIP = DeliveryRequest(method="ship")
HELD = "reservation.held"
RELAY = "oms.core.tasks.relay_outbox"
ONE_STATEMENT = "WITH held AS (UPDATE inventory_stocklevel"


def hold(*lines: tuple[str, int], reference: str = "cart-1") -> Reservation:
    return reservation_hold(reference=reference, channel="web", delivery=SHIP,
                            lines=[LineRequest(sku, quantity) for sku, quantity in lines])


def stock(location: Location, sku: str, on_hand: int) -> StockLevel:
    return StockLevelFactory(location=location, product__sku=sku, on_hand=on_hand)


def reserved(level: StockLevel) -> int:
    level.refresh_from_db()
    return level.reserved


def units_on_lines(level: StockLevel) -> int:
    return ReservationLine.objects.filter(stock_level=level).aggregate(
        units=Sum("quantity"))["units"] or 0


def held_events() -> list[OutboxEvent]:
    return list(OutboxEvent.objects.filter(topic=HELD).order_by("created_at"))


@pytest.fixture
def kassel() -> Location:
    return WarehouseFactory(code="WH-KS", priority=10)


@pytest.fixture
def hamburg() -> Location:
    return WarehouseFactory(code="WH-HH", priority=20, lat=53.55, lon=9.99)


@pytest.fixture
def one_statement_writes(monkeypatch: pytest.MonkeyPatch) -> list[bool]:
    """The result of every one-statement write (True: held), from any thread."""
    results: list[bool] = []
    write = inventory.reservations.hold_write

    def spy(*args: Any) -> Any:
        written = write(*args)
        results.append(written is not None)
        return written

    monkeypatch.setattr(inventory.reservations, "hold_write", spy)
    return results


# --- one statement, server-side lock -------------------------------------------------------


def test_a_cart_hold_outside_a_transaction_is_one_statement_after_sourcing(kassel):
    # Given 5 units of A at Kassel
    level = stock(kassel, "A", 5)
    # When a cart holds 2 outside any transaction
    with CaptureQueriesContext(connection) as captured:
        held = hold(("A", 2))
    # Then sourcing read once and one statement wrote the UPDATE, reservation, line and event;
    # what follows is the outbox relay, run in-process after the commit, which writes no stock
    sql = [q["sql"] for q in captured.captured_queries]
    assert sql[0].lstrip().startswith("SELECT")
    assert sql[1].startswith(ONE_STATEMENT)
    assert not any("inventory_" in q for q in sql[2:])
    assert "INSERT INTO inventory_reservationline" in sql[1]
    assert "INSERT INTO core_outboxevent" in sql[1]
    assert connection.get_autocommit() and not connection.in_atomic_block
    assert reserved(level) == 2
    assert list(held.lines.values_list("stock_level_id", "product_id", "quantity")) == [
        (level.pk, "A", 2)]
    assert [e.aggregate_id for e in held_events()] == [str(held.pk)]


def test_the_statement_handed_to_a_benchmark_is_the_one_a_hold_runs(kassel):
    # Given 5 units of A at Kassel and a hold already made through the service
    level = stock(kassel, "A", 5)
    with CaptureQueriesContext(connection) as captured:
        hold(("A", 1), reference="through-the-service")
    ran = [q["sql"] for q in captured.captured_queries if q["sql"].startswith(ONE_STATEMENT)]
    allocation = sourcing_decide(lines=[LineRequest("A", 2)], delivery=SHIP).allocations[0]
    # When the statement cart_hold_statement hands out is run as it is
    statement, params = cart_hold_statement(reference="by-hand", channel="web", delivery=SHIP,
                                            allocation=allocation)
    with connection.cursor() as cursor:
        cursor.execute(statement, params)
    # Then it is the statement the service ran, and it held 2 more units with a line and event
    assert len(ran) == 1 and ran[0].startswith(statement.split("%s")[0])
    assert statement.count("%s") == len(params)
    assert reserved(level) == 3
    by_hand = Reservation.objects.get(reference="by-hand")
    assert list(by_hand.lines.values_list("stock_level_id", "quantity")) == [(level.pk, 2)]
    assert [e.aggregate_id for e in held_events()][-1] == str(by_hand.pk)
    # and hold_param_positions names where the new ids sit among the parameters
    fresh = hold_param_positions()
    assert params[fresh.reservation_id] == by_hand.pk
    assert params[fresh.event_id] == held_events()[-1].pk
    assert params[fresh.event_aggregate_id] == str(by_hand.pk)


def test_holds_repeated_on_one_connection_reuse_the_statements_postgresql_prepared(kassel):
    # Given plenty of A at Kassel and a connection that prepares what it runs repeatedly
    level = stock(kassel, "A", 100)
    threshold = settings.DATABASES["default"]["OPTIONS"]["prepare_threshold"]
    assert threshold is not None and settings.DATABASES["default"]["OPTIONS"][
        "server_side_binding"]
    # When more carts than the threshold hold a unit each, one after another
    for n in range(threshold + 2):
        hold(("A", 1), reference=f"cart-{n}")
    # Then PostgreSQL parsed and planned the sourcing read and the hold statement once, and
    # ran their prepared plans since
    with connection.cursor() as cursor:
        cursor.execute("SELECT statement, generic_plans + custom_plans FROM pg_prepared_statements")
        runs = {sql.lstrip()[:40]: count for sql, count in cursor.fetchall()}
    assert runs[ONE_STATEMENT[:40]] >= 2
    assert any(sql.startswith("SELECT l.id") and count >= 2 for sql, count in runs.items())
    assert reserved(level) == threshold + 2


def test_32_concurrent_one_statement_holds_on_20_units_grant_exactly_20(
        kassel, run_concurrently: RunConcurrently, one_statement_writes):
    # Given 20 units of A at one warehouse
    level = stock(kassel, "A", 20)

    # When 32 carts hold one unit each at the same moment, each on its own connection
    def attempt(n: int) -> bool:
        try:
            hold(("A", 1), reference=f"cart-{n}")
        except InsufficientStock:
            return False
        return True

    granted = run_concurrently(32, attempt)

    # Then exactly 20 are granted, each written by the one statement, and the counts agree
    assert granted.count(True) == 20
    assert one_statement_writes.count(True) == 20
    assert reserved(level) == 20
    assert units_on_lines(level) == 20
    assert Reservation.objects.count() == 20
    assert {e.aggregate_id for e in held_events()} == {
        str(pk) for pk in Reservation.objects.values_list("pk", flat=True)}


def test_units_taken_after_sourcing_are_sourced_again_elsewhere_in_one_statement(
        kassel, hamburg, taken_after_sourcing, one_statement_writes):
    # Given A at Kassel (first choice) and at Hamburg
    at_kassel = stock(kassel, "A", 5)
    at_hamburg = stock(hamburg, "A", 5)
    # When someone takes Kassel's units between the hold's decision and its statement
    calls = taken_after_sourcing(at_kassel)
    held = hold(("A", 2))
    # Then the first statement wrote nothing, sourcing was asked again, Hamburg holds the units
    assert len(calls) == 2
    assert one_statement_writes == [False, True]
    assert list(held.lines.values_list("location__code", "quantity")) == [("WH-HH", 2)]
    assert (reserved(at_kassel), reserved(at_hamburg)) == (5, 2)
    assert Reservation.objects.count() == 1
    assert len(held_events()) == 1


def test_a_one_statement_hold_that_keeps_losing_races_is_refused_and_writes_nothing(
        kassel, always_taken_after_sourcing):
    # Given a decision that always counts on units someone else just took
    level = stock(kassel, "A", 5)
    calls = always_taken_after_sourcing(level)
    # When a cart holds A, Then it gets 409 after RACE_RETRIES decisions
    with pytest.raises(InsufficientStock) as refused:
        hold(("A", 1))
    # And nothing was written
    assert refused.value.extra["skus"] == ["A"]
    assert len(calls) == RACE_RETRIES
    assert reserved(level) == 5
    assert not Reservation.objects.exists()
    assert not ReservationLine.objects.exists()
    assert held_events() == []


# --- several stock rows: the transaction stays --------------------------------------------


def test_a_multi_line_hold_whose_second_row_is_short_at_the_update_persists_nothing(
        kassel, taken_after_sourcing, one_statement_writes):
    # Given A and B only at Kassel, A's row first in primary-key order
    a = stock(kassel, "A", 5)
    b = stock(kassel, "B", 5)
    # When B's units go to someone else after the decision (A's UPDATE then succeeds)
    taken_after_sourcing(b)
    with pytest.raises(InsufficientStock):
        hold(("A", 1), ("B", 1))
    # Then the hold never took the one-statement path, and A's unit is back: nothing persisted
    assert one_statement_writes == []
    assert (reserved(a), reserved(b)) == (0, 5)
    assert not Reservation.objects.exists()
    assert not ReservationLine.objects.exists()
    assert held_events() == []


def test_concurrent_multi_line_holds_in_opposite_orders_are_granted_whole_or_not_at_all(
        kassel, run_concurrently: RunConcurrently):
    # Given 10 units of A and 6 of B
    a = stock(kassel, "A", 10)
    b = stock(kassel, "B", 6)

    # When 16 carts hold one of each at once, half naming B first
    def attempt(n: int) -> bool:
        lines = [("A", 1), ("B", 1)] if n % 2 else [("B", 1), ("A", 1)]
        try:
            hold(*lines, reference=f"cart-{n}")
        except InsufficientStock:
            return False
        return True

    granted = run_concurrently(16, attempt)

    # Then no deadlock, 6 whole holds, and every reserved unit sits on a line of one of them
    assert granted.count(True) == 6
    assert (reserved(a), reserved(b)) == (6, 6)
    assert (units_on_lines(a), units_on_lines(b)) == (6, 6)
    assert Reservation.objects.count() == 6
    assert len(held_events()) == 6


def test_a_hold_inside_a_caller_transaction_is_undone_with_it(kassel, one_statement_writes):
    # Given 5 units of A
    level = stock(kassel, "A", 5)
    # When a hold runs inside a transaction that then fails
    with pytest.raises(RuntimeError), transaction.atomic():
        hold(("A", 2))
        raise RuntimeError("the caller fails after the hold")
    # Then the hold took the transactional path and was rolled back with the caller
    assert one_statement_writes == []
    assert reserved(level) == 0
    assert not Reservation.objects.exists()
    assert held_events() == []


# --- what the one statement leaves behind --------------------------------------------------


def in_transaction_hold(reference: str) -> Reservation:
    with transaction.atomic():
        return hold(("A", 1), reference=reference)


def comparable(event: OutboxEvent, held: Reservation) -> dict[str, Any]:
    """Every column of an outbox row, with what differs between two holds by construction (ids
    and times) checked against the hold and replaced."""
    row = {f.attname: getattr(event, f.attname) for f in OutboxEvent._meta.concrete_fields}
    row["payload"] = dict(row["payload"])
    assert row.pop("aggregate_id") == str(held.pk)
    assert row["payload"].pop("id") == str(held.pk)
    assert row["payload"].pop("expires_at") == held.expires_at.isoformat()
    assert row.pop("created_at") >= held.created_at
    row["published"] = row.pop("published_at") is not None
    del row["id"]
    return row


@pytest.mark.parametrize("subscribed", [False, True], ids=["nobody_subscribed", "subscribed"])
def test_the_held_event_written_in_one_statement_is_the_row_event_emit_writes(
        kassel, broker: BrokerQueues, one_statement_writes, subscribed):
    # Given 5 units of A, and a webhook subscriber to reservation.held or none
    stock(kassel, "A", 5)
    if subscribed:
        WebhookSubscriptionFactory(topics=[HELD])
    # When one hold is written by event_emit in a transaction and one by the one statement,
    # a worker taking the first kick and starting its relay run in between
    by_emit = in_transaction_hold("cart-1")
    kicks = [len(broker.tasks(RELAY))]
    broker.take_all()
    relay_starting()
    by_statement = hold(("A", 1), reference="cart-1")
    kicks.append(len(broker.tasks(RELAY)))
    assert one_statement_writes == [True]
    # Then both outbox rows are the same but for ids and times: topic, aggregate, payload
    first, second = held_events()
    assert comparable(first, by_emit) == comparable(second, by_statement)
    assert second.payload == {"id": str(by_statement.pk), "kind": "cart",
                              "reference": "cart-1", "state": "active",
                              "expires_at": by_statement.expires_at.isoformat()}
    # And the relay was kicked for each, once committed, subscriber or not: whether anyone
    # wants it is decided by the relay, so a subscription made a moment earlier is not missed
    assert kicks == [1, 1]
    assert second.published_at is None


def test_the_hold_returned_by_the_one_statement_behaves_as_loaded_from_the_database(kassel):
    # Given a hold written in one statement
    level = stock(kassel, "A", 5)
    held = hold(("A", 2))
    # Then it is the stored row
    stored = Reservation.objects.get(pk=held.pk)
    assert held._state.adding is False
    assert held._state.db == "default"
    fields = [f.attname for f in Reservation._meta.concrete_fields]
    assert [getattr(held, f) for f in fields] == [getattr(stored, f) for f in fields]
    # And it can be extended and released like one loaded from the database
    extended = reservation_extend(reservation=held, ttl_seconds=2 * 3600)
    assert extended.expires_at > held.expires_at
    released = reservation_release(reservation=held)
    assert released.state == "released"
    assert reserved(level) == 0


def test_a_cart_hold_through_the_api_is_still_one_statement_outside_a_transaction(
        kassel, api, one_statement_writes):
    # Given 5 units of A at Kassel and a webshop
    level = stock(kassel, "A", 5)
    shop = api("webshop", channel="web")

    # When it holds 2 over HTTP, without an Idempotency-Key
    response = shop.post("/api/v1/reservations", {
        "reference": "cart-1", "lines": [{"sku": "A", "quantity": 2}],
        "delivery": {"method": "ship"}})

    # Then the request did not wrap the hold in a transaction of its own: the one statement
    # committed by itself (oms.core.atomic_writes, `atomic_request = False`)
    assert response.status_code == 201, response.content
    assert one_statement_writes == [True]
    level.refresh_from_db()
    assert level.reserved == 2
