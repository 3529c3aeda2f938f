"""The hand-written reads of `inventory.sql.stock` and `oms.catalog.sql` answer exactly what the
ORM answers for the same question (ARCHITECTURE.md rule 11: each statement tested against the
ORM)."""

from __future__ import annotations

import pytest

from inventory.models import Location, StockLevel
from inventory.sql.stock import (
    SITE_WIDTH,
    active_sites_select,
    sites_with_stock_select,
    stock_rows_select,
)
from oms.catalog.models import Product
from oms.catalog.sql import unknown_skus_select
from tests.factories import LocationFactory, ProductFactory, StockLevelFactory, StoreFactory

pytestmark = pytest.mark.django_db

SITE_FIELDS = ("id", "code", "kind", "ships", "ship_from_store", "click_and_collect", "lat",
               "lon", "priority")


@pytest.fixture
def stocked() -> dict[str, Location]:
    """Two warehouses and a store, one inactive location, stock of A and B in some of them."""
    kassel = LocationFactory(code="WH-KS", priority=10, lat=51.31, lon=9.48)
    hamburg = LocationFactory(code="WH-HH", priority=20)
    berlin = StoreFactory(code="ST-BER", ship_from_store=True)
    LocationFactory(code="WH-OLD", is_active=False)
    products = {sku: ProductFactory(sku=sku) for sku in "ABC"}
    for location, sku, on_hand in ((kassel, "A", 5), (kassel, "B", 2), (berlin, "A", 1),
                                   (hamburg, "C", 7)):
        StockLevelFactory(location=location, product=products[sku], on_hand=on_hand)
    return {"kassel": kassel, "hamburg": hamburg, "berlin": berlin}


def test_active_sites_are_the_active_locations(stocked):
    by_orm = set(Location.objects.filter(is_active=True).values_list(*SITE_FIELDS))

    assert set(active_sites_select()) == by_orm


@pytest.mark.parametrize("code", [None, "ST-BER", "WH-OLD"])
def test_sites_with_stock_pair_each_active_location_with_its_levels_of_the_skus(stocked, code):
    skus = ["A", "B"]

    rows = sites_with_stock_select(skus, code)

    locations = Location.objects.filter(is_active=True)
    if code is not None:
        locations = locations.filter(code=code)
    expected = set()
    for location in locations:
        site = tuple(getattr(location, "pk" if f == "id" else f) for f in SITE_FIELDS)
        levels = StockLevel.objects.filter(location=location, product_id__in=skus)
        if not levels:
            expected.add((*site, None, None, None, None, None))
        for level in levels:
            expected.add((*site, level.pk, level.product_id, level.on_hand, level.reserved,
                          level.safety_stock))
    assert {tuple(row) for row in rows} == expected
    assert all(len(row) == SITE_WIDTH + 5 for row in rows)


@pytest.mark.parametrize("only", [None, "kassel", "none"])
def test_stock_rows_are_the_levels_of_the_skus(stocked, only):
    ids = None if only is None else [] if only == "none" else [stocked[only].pk]

    rows = stock_rows_select(["A", "C"], ids)

    levels = StockLevel.objects.filter(product_id__in=["A", "C"])
    if ids is not None:
        levels = levels.filter(location_id__in=ids)
    assert set(rows) == set(levels.values_list("product_id", "location_id", "on_hand",
                                               "reserved", "safety_stock"))


def test_unknown_skus_are_those_no_product_has_in_the_order_given(stocked):
    asked = ["Z", "A", "Y", "C", "X"]

    by_orm = [sku for sku in asked if not Product.objects.filter(sku=sku).exists()]

    assert unknown_skus_select(asked) == by_orm == ["Z", "Y", "X"]
