"""A client confined to one location or supplier site acts only there (API.md: out of scope
answers 404, never 403 and never the object)."""

from __future__ import annotations

import pytest

from tests.factories import ProductFactory, StockLevelFactory, SupplierSiteFactory, WarehouseFactory
from tests.inventory.payloads import T1, movement_body, on_hand, snapshot_body, stock_state

pytestmark = pytest.mark.django_db


@pytest.fixture
def two_warehouses():
    """WH-A and WH-B, each with 10 of SKU-1."""
    product = ProductFactory(sku="SKU-1")
    for code in ("WH-A", "WH-B"):
        StockLevelFactory(product=product, location=WarehouseFactory(code=code), on_hand=10)


def test_a_wms_scoped_to_one_warehouse_cannot_touch_another(api, two_warehouses):
    # given a WMS confined to WH-A
    wms = api("wms", location_code="WH-A")
    before = stock_state()

    # when it sends a snapshot and a movement for WH-B
    snapshot = wms.post("/api/v1/stock/snapshots", snapshot_body("WH-B", T1, ("SKU-1", 0)))
    movement = wms.post("/api/v1/stock/movements", movement_body("WH-B", "SKU-1", 5))

    # then WH-B does not exist for it, and nothing changes
    assert (snapshot.status_code, movement.status_code) == (404, 404)
    assert stock_state() == before


def test_a_wms_scoped_to_one_warehouse_writes_its_own_stock(api, two_warehouses):
    wms = api("wms", location_code="WH-A")

    snapshot = wms.post("/api/v1/stock/snapshots", snapshot_body("WH-A", T1, ("SKU-1", 4)))
    movement = wms.post("/api/v1/stock/movements", movement_body("WH-A", "SKU-1", 5))

    assert (snapshot.status_code, movement.status_code) == (200, 201)
    assert (on_hand("SKU-1", "WH-A"), on_hand("SKU-1", "WH-B")) == (9, 10)


def test_an_unscoped_erp_writes_stock_anywhere(erp, two_warehouses):
    snapshot = erp.post("/api/v1/stock/snapshots", snapshot_body("WH-B", T1, ("SKU-1", 4)))
    movement = erp.post("/api/v1/stock/movements", movement_body("WH-A", "SKU-1", 5))

    assert (snapshot.status_code, movement.status_code) == (200, 201)
    assert (on_hand("SKU-1", "WH-A"), on_hand("SKU-1", "WH-B")) == (15, 4)


def test_a_supplier_is_confined_to_its_own_site(api, two_warehouses):
    # given a supplier site and a supplier client confined to it
    SupplierSiteFactory(code="SUP-N")
    supplier = api("supplier", supplier_code="SUP-N")
    before = stock_state()

    # when it reports stock at a warehouse and reads the locations
    foreign = supplier.post("/api/v1/stock/snapshots", snapshot_body("WH-A", T1, ("SKU-1", 0)))
    foreign_move = supplier.post("/api/v1/stock/movements",
                                 movement_body("WH-A", "SKU-1", -1, kind="adjustment"))
    listing = supplier.get("/api/v1/locations")
    detail = supplier.get("/api/v1/locations/WH-A")

    # then the warehouse does not exist for it
    assert (foreign.status_code, foreign_move.status_code, detail.status_code) == (404, 404, 404)
    assert [loc["code"] for loc in listing.json()["results"]] == ["SUP-N"]
    assert stock_state() == before

    # and its own site takes its stock report
    own = supplier.post("/api/v1/stock/snapshots", snapshot_body("SUP-N", T1, ("SKU-1", 6)))
    assert own.status_code == 200
    assert on_hand("SKU-1", "SUP-N") == 6
