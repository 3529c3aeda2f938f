"""Stock snapshots: `POST /api/v1/stock/snapshots` and the set-based `stock_snapshot_apply`."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from django.db.models import Sum
from django.utils import timezone

from inventory.models import MovementKind, StockLevel, StockMovement
from inventory.services import stock_snapshot_apply
from inventory.sql.snapshot import LevelRow
from oms.catalog.models import Product
from oms.core.models import OutboxEvent
from tests.conftest import error_codes
from tests.factories import LocationFactory, ProductFactory, StockLevelFactory
from tests.inventory.payloads import T0, T1, T2, attrs, on_hand, snapshot_body, stock_state

pytestmark = pytest.mark.django_db

SNAPSHOTS = "/api/v1/stock/snapshots"


def at(iso: str) -> datetime:
    return datetime.fromisoformat(iso)


@pytest.fixture
def warehouse():
    return LocationFactory(code="WH-KS")


@pytest.fixture
def skus():
    return [ProductFactory(sku=f"SKU-{n}").sku for n in range(1, 6)]


def test_a_snapshot_sets_absolute_counts_and_journals_only_the_changes(wms, warehouse, skus):
    # given SKU-1 with 10 and SKU-2 with 5 on hand, SKU-3 never counted here
    StockLevelFactory(product_id="SKU-1", location=warehouse, on_hand=10)
    StockLevelFactory(product_id="SKU-2", location=warehouse, on_hand=5)

    # when the WMS reports 7, 5 and 3
    response = wms.post(SNAPSHOTS, snapshot_body(
        "WH-KS", T1, ("SKU-1", 7), ("SKU-2", 5), ("SKU-3", 3), reference="count 42"))

    # then all three are applied and only the two changed rows get a count movement
    assert response.status_code == 200, response.json()
    assert response.json() == {"applied": 3, "ignored": 0, "movements": 2, "shortfalls": 0}
    assert [on_hand(s, "WH-KS") for s in ("SKU-1", "SKU-2", "SKU-3")] == [7, 5, 3]
    movements = {m.product_id: m for m in StockMovement.objects.all()}
    assert set(movements) == {"SKU-1", "SKU-3"}
    assert (movements["SKU-1"].quantity, movements["SKU-1"].on_hand_after) == (-3, 7)
    assert (movements["SKU-3"].quantity, movements["SKU-3"].on_hand_after) == (3, 3)
    assert {m.kind for m in movements.values()} == {MovementKind.COUNT}
    assert {m.reference for m in movements.values()} == {"count 42"}
    assert {m.actor for m in movements.values()} == {wms.api_client.name}
    assert StockLevel.objects.get(product_id="SKU-2").snapshot_as_of == at(T1)


def test_stale_rows_are_ignored_and_counted_while_fresh_rows_apply(wms, warehouse, skus):
    # given rows last counted at different times: SKU-2 and SKU-4 after the incoming snapshot
    StockLevelFactory(product_id="SKU-1", location=warehouse, on_hand=1, snapshot_as_of=at(T0))
    StockLevelFactory(product_id="SKU-2", location=warehouse, on_hand=2, snapshot_as_of=at(T2))
    StockLevelFactory(product_id="SKU-3", location=warehouse, on_hand=3, snapshot_as_of=None)
    StockLevelFactory(product_id="SKU-4", location=warehouse, on_hand=4, snapshot_as_of=at(T2))

    # when a snapshot taken at T1 reports 50 for each of them
    response = wms.post(SNAPSHOTS, snapshot_body(
        "WH-KS", T1, ("SKU-1", 50), ("SKU-2", 50), ("SKU-3", 50), ("SKU-4", 50)))

    # then the two newer rows keep their counts and their as-of; the others take the snapshot
    assert response.status_code == 200, response.json()
    assert response.json()["applied"] == 2
    assert response.json()["ignored"] == 2
    assert response.json()["movements"] == 2
    assert [on_hand(f"SKU-{n}", "WH-KS") for n in range(1, 5)] == [50, 2, 50, 4]
    assert StockLevel.objects.get(product_id="SKU-2").snapshot_as_of == at(T2)
    assert set(StockMovement.objects.values_list("product_id", flat=True)) == {"SKU-1", "SKU-3"}


def test_a_snapshot_with_the_same_as_of_applies(wms, warehouse, skus):
    # given a row counted at T1
    StockLevelFactory(product_id="SKU-1", location=warehouse, on_hand=5, snapshot_as_of=at(T1))

    # when a correction with the same as_of arrives
    response = wms.post(SNAPSHOTS, snapshot_body("WH-KS", T1, ("SKU-1", 4)))

    # then it applies
    assert response.json()["applied"] == 1
    assert on_hand("SKU-1", "WH-KS") == 4


def test_staleness_compares_instants_not_wall_clock_times(wms, warehouse, skus):
    # given a row counted at 09:30 UTC
    StockLevelFactory(product_id="SKU-1", location=warehouse, on_hand=5,
                      snapshot_as_of=at("2025-03-01T09:30:00+00:00"))

    # when a snapshot stamped 10:00 Berlin time (09:00 UTC, so older) arrives
    response = wms.post(SNAPSHOTS, snapshot_body("WH-KS", "2025-03-01T10:00:00+01:00",
                                                 ("SKU-1", 9)))

    # then it is ignored
    assert response.json() == {"applied": 0, "ignored": 1, "movements": 0, "shortfalls": 0}
    assert on_hand("SKU-1", "WH-KS") == 5


def test_a_snapshot_sets_safety_stock_only_where_given(wms, warehouse, skus):
    # given two rows with a safety stock of 2
    StockLevelFactory(product_id="SKU-1", location=warehouse, on_hand=5, safety_stock=2)
    StockLevelFactory(product_id="SKU-2", location=warehouse, on_hand=5, safety_stock=2)

    # when the snapshot gives a safety stock for SKU-1 only
    response = wms.post(SNAPSHOTS, snapshot_body(
        "WH-KS", T1, {"sku": "SKU-1", "on_hand": 5, "safety_stock": 4}, ("SKU-2", 5)))

    # then SKU-1 takes it and SKU-2 keeps its own; unchanged counts write no movement
    assert response.status_code == 200
    levels = dict(StockLevel.objects.values_list("product_id", "safety_stock"))
    assert levels == {"SKU-1": 4, "SKU-2": 2}
    assert not StockMovement.objects.exists()


def test_a_count_below_the_reserved_quantity_is_a_shortfall_not_an_error(wms, warehouse, skus):
    # given 10 on hand of which 8 are reserved
    StockLevelFactory(product_id="SKU-1", location=warehouse, on_hand=10, reserved=8)

    # when the count finds only 3
    response = wms.post(SNAPSHOTS, snapshot_body("WH-KS", T1, ("SKU-1", 3)))

    # then the count stands and a shortfall is announced for re-sourcing
    assert response.status_code == 200
    assert response.json()["shortfalls"] == 1
    level = StockLevel.objects.get(product_id="SKU-1")
    assert (level.on_hand, level.reserved, level.available) == (3, 8, 0)
    event = OutboxEvent.objects.get(topic="stock.shortfall")
    assert event.aggregate_id == "SKU-1@WH-KS"
    assert event.payload == {"location": "WH-KS", "sku": "SKU-1", "on_hand": 3, "reserved": 8,
                             "safety_stock": 0}


def test_a_count_that_still_covers_reservations_raises_no_shortfall(wms, warehouse, skus):
    StockLevelFactory(product_id="SKU-1", location=warehouse, on_hand=10, reserved=8)

    wms.post(SNAPSHOTS, snapshot_body("WH-KS", T1, ("SKU-1", 8)))

    assert not OutboxEvent.objects.filter(topic="stock.shortfall").exists()
    assert OutboxEvent.objects.filter(topic="stock.snapshot_applied").count() == 1


def test_an_unknown_sku_refuses_the_whole_snapshot(wms, warehouse, skus):
    # given a counted row
    StockLevelFactory(product_id="SKU-1", location=warehouse, on_hand=10)
    before = stock_state()

    # when a snapshot names a SKU the catalog does not know
    response = wms.post(SNAPSHOTS, snapshot_body("WH-KS", T1, ("SKU-1", 1), ("GHOST-1", 1)))

    # then nothing at all is written
    assert response.status_code == 400
    assert error_codes(response) == ["unknown_sku"]
    assert "GHOST-1" in response.json()["errors"][0]["detail"]
    assert stock_state() == before


def test_an_unknown_location_answers_404(wms, skus):
    response = wms.post(SNAPSHOTS, snapshot_body("NOWHERE", T1, ("SKU-1", 1)))

    assert response.status_code == 404
    assert attrs(response) == ["location"]
    assert not StockLevel.objects.exists()


def test_more_levels_than_the_limit_are_refused(wms, warehouse, skus, settings):
    # given a limit of four levels per snapshot
    settings.SNAPSHOT_MAX_LEVELS = 4

    # when five are sent
    response = wms.post(SNAPSHOTS, snapshot_body("WH-KS", T1, *[(s, 1) for s in skus]))

    # then it is refused as a whole
    assert response.status_code == 400
    assert error_codes(response) == ["max_length"]
    assert attrs(response) == ["levels"]
    assert not StockLevel.objects.exists()


def test_a_sku_reported_twice_is_refused(wms, warehouse, skus):
    response = wms.post(SNAPSHOTS, snapshot_body("WH-KS", T1, ("SKU-1", 1), ("SKU-2", 1),
                                                 ("SKU-1", 2)))

    assert response.status_code == 400
    assert error_codes(response) == ["duplicate_sku"]
    assert not StockLevel.objects.exists()


def test_an_empty_snapshot_is_refused(wms, warehouse):
    response = wms.post(SNAPSHOTS, snapshot_body("WH-KS", T1))

    assert response.status_code == 400
    assert attrs(response) == ["levels"]


@pytest.mark.parametrize(
    ("bad_level", "attr"),
    [
        ({"sku": "SKU-3", "on_hand": -1}, "levels.2.on_hand"),
        ({"sku": "SKU-3", "on_hand": 1.5}, "levels.2.on_hand"),
        ({"sku": "SKU-3", "on_hand": "7"}, "levels.2.on_hand"),
        ({"sku": "SKU-3", "on_hand": True}, "levels.2.on_hand"),
        ({"sku": "SKU-3", "on_hand": None}, "levels.2.on_hand"),
        ({"sku": "SKU-3"}, "levels.2.on_hand"),
        ({"sku": "SKU-3", "on_hand": 3_000_000_000}, "levels.2.on_hand"),
        ({"sku": "SKU-3", "on_hand": 1, "safety_stock": -2}, "levels.2.safety_stock"),
        ({"sku": "SKU-3", "on_hand": 1, "safety_stock": False}, "levels.2.safety_stock"),
        ({"sku": "bad sku", "on_hand": 1}, "levels.2.sku"),
        ({"sku": 42, "on_hand": 1}, "levels.2.sku"),
        (["SKU-3", 1], "levels.2.sku"),
    ],
    ids=["negative", "fraction", "string", "boolean", "null", "missing", "too-large",
         "negative-safety-stock", "boolean-safety-stock", "bad-sku", "numeric-sku",
         "not-an-object"],
)
def test_a_malformed_level_is_named_by_its_path(wms, warehouse, skus, bad_level, attr):
    # when the third level is malformed
    response = wms.post(SNAPSHOTS, snapshot_body("WH-KS", T1, ("SKU-1", 1), ("SKU-2", 1),
                                                 bad_level))

    # then its path is named and nothing is applied
    assert response.status_code == 400
    assert response.json()["type"] == "validation_error"
    assert attrs(response) == [attr]
    assert not StockLevel.objects.exists()


def test_a_malformed_first_level_is_named_with_index_zero(wms, warehouse, skus):
    response = wms.post(SNAPSHOTS, snapshot_body("WH-KS", T1, ("SKU-1", -1)))

    assert response.status_code == 400
    assert attrs(response) == ["levels.0.on_hand"]


@pytest.mark.parametrize("as_of", ["2025-03-01T09:00:00", "2025-03-01 09:00", "yesterday", None])
def test_as_of_must_be_a_timestamp_with_an_offset(wms, warehouse, skus, as_of):
    response = wms.post(SNAPSHOTS, snapshot_body("WH-KS", as_of, ("SKU-1", 1)))

    assert response.status_code == 400
    assert attrs(response) == ["as_of"]
    assert not StockLevel.objects.exists()


@pytest.mark.parametrize(("as_of", "instant"), [
    ("2025-03-01T08:00:00Z", "2025-03-01T08:00:00+00:00"),
    ("2025-03-01T09:00:00.123+01:00", "2025-03-01T08:00:00.123+00:00"),
    ("2025-03-01T03:00:00-0500", "2025-03-01T08:00:00+00:00"),
])
def test_as_of_with_an_offset_is_accepted(wms, warehouse, skus, as_of, instant):
    response = wms.post(SNAPSHOTS, snapshot_body("WH-KS", as_of, ("SKU-1", 1)))

    assert response.status_code == 200, response.json()
    assert StockLevel.objects.get(product_id="SKU-1").snapshot_as_of == at(instant)


@pytest.mark.parametrize("kind", ["webshop", "pim", "psp", "finance"])
def test_clients_that_do_not_own_stock_may_not_send_snapshots(api, warehouse, skus, kind):
    response = api(kind).post(SNAPSHOTS, snapshot_body("WH-KS", T1, ("SKU-1", 1)))

    assert response.status_code == 403
    assert not StockLevel.objects.exists()


def test_applying_thousands_of_rows_takes_a_handful_of_statements(
    django_assert_max_num_queries,
):
    # given 3,000 products, a third of them already counted at the warehouse
    warehouse = LocationFactory(code="WH-BULK")
    Product.objects.bulk_create(
        [ProductFactory.build(sku=f"BULK-{n:05d}") for n in range(3000)])
    now = timezone.now()
    StockLevel.objects.bulk_create([
        StockLevel(product_id=f"BULK-{n:05d}", location=warehouse, on_hand=5, updated_at=now,
                   snapshot_as_of=now - timedelta(days=1) if n % 2 else now + timedelta(days=1))
        for n in range(0, 3000, 3)
    ])
    rows = [LevelRow(f"BULK-{n:05d}", n % 7) for n in range(3000)]

    # when one snapshot applies them all (a statement per row, or per batch of rows, would
    # need far more than the few set-based statements)
    with django_assert_max_num_queries(8):
        result = stock_snapshot_apply(location=warehouse, as_of=now, levels=rows, actor="test")

    # then every row but the 500 newer ones applies, and the journal explains every count
    newer = {f"BULK-{n:05d}" for n in range(0, 3000, 3) if n % 2 == 0}
    assert (result.applied, result.ignored) == (2500, 500)
    expected = {r.sku: (5 if r.sku in newer else r.on_hand) for r in rows}
    assert dict(StockLevel.objects.values_list("product_id", "on_hand")) == expected
    assert StockLevel.objects.aggregate(total=Sum("on_hand"))["total"] == sum(expected.values())
    previous = {f"BULK-{n:05d}": 5 for n in range(0, 3000, 3)}
    changed = [r for r in rows if r.sku not in newer and r.on_hand != previous.get(r.sku, 0)]
    assert result.movements == len(changed) == StockMovement.objects.count()
    assert StockMovement.objects.aggregate(total=Sum("quantity"))["total"] == sum(
        r.on_hand - previous.get(r.sku, 0) for r in changed)


@pytest.mark.django_db(transaction=True)
def test_concurrent_snapshots_of_new_rows_let_the_later_count_win(run_concurrently):
    # given 500 SKUs a store has never counted
    store = LocationFactory(code="ST-RACE")
    Product.objects.bulk_create([ProductFactory.build(sku=f"RACE-{n:04d}") for n in range(500)])
    now = timezone.now()
    counts = {0: (now - timedelta(minutes=5), 3), 1: (now, 7)}

    # when an older and a newer count of all of them arrive at the same moment
    def send(index: int) -> int:
        as_of, count = counts[index]
        rows = [LevelRow(f"RACE-{n:04d}", count) for n in range(500)]
        return stock_snapshot_apply(location=store, as_of=as_of, levels=rows,
                                    actor=f"feed-{index}").applied

    applied = run_concurrently(2, send)

    # then the newer count stands on every row, whichever transaction inserted it first
    assert set(StockLevel.objects.values_list("on_hand", flat=True)) == {7}
    assert StockLevel.objects.count() == 500
    # and the journal explains every unit on the shelf
    assert StockMovement.objects.aggregate(total=Sum("quantity"))["total"] == 500 * 7
    # and the newer count applied everywhere, the older one only where it came first
    assert applied[1] == 500
    assert 0 <= applied[0] <= 500
