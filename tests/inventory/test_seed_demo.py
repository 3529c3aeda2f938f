"""`manage.py seed_demo` loads a usable demo world and can be run again."""

from __future__ import annotations

import re
from io import StringIO

import pytest
from django.core.management import call_command
from django.test import Client

from inventory.models import Location, StockLevel, StockMovement
from oms.catalog.models import Price, Product
from oms.core.models import ApiClient, ClientKind

pytestmark = pytest.mark.django_db

TOKEN_LINE = re.compile(r"^\s+(demo-[a-z]+)\s+(oms_\S+)$", re.MULTILINE)


def seed() -> dict[str, str]:
    out = StringIO()
    call_command("seed_demo", "--products", "20", stdout=out)
    return dict(TOKEN_LINE.findall(out.getvalue()))


def world() -> tuple[int, ...]:
    return (Location.objects.count(), Product.objects.count(), Price.objects.count(),
            StockLevel.objects.count(), StockMovement.objects.count(),
            ApiClient.objects.count())


def status_with(token: str) -> int:
    return Client(HTTP_AUTHORIZATION=f"Bearer {token}").get("/api/v1/locations").status_code


def test_seed_demo_loads_locations_products_stock_and_clients():
    # when the demo is seeded with 20 products
    tokens = seed()

    # then there is a warehouse, a supplier site and seven stores
    kinds = list(Location.objects.values_list("kind", flat=True))
    assert (kinds.count("warehouse"), kinds.count("supplier"), kinds.count("store")) == (1, 1, 7)
    # and 20 products with two prices each, stocked at the warehouse and every store
    assert Product.objects.count() == 20
    assert Price.objects.count() == 40
    assert StockLevel.objects.count() == 20 * 8
    assert StockLevel.objects.filter(location__code="WH-KS", on_hand__gt=0).exists()
    # and one working client per kind, the POS and the supplier confined to their sites
    assert set(tokens) == {f"demo-{kind.value}" for kind in ClientKind}
    assert status_with(tokens["demo-webshop"]) == 200
    assert ApiClient.objects.get(name="demo-pos").location_code == "ST-BER"
    assert ApiClient.objects.get(name="demo-supplier").supplier_code == "SUP-FL"


def test_seeding_again_rotates_tokens_without_duplicating_data():
    # given a seeded demo
    first = seed()
    before = world()

    # when it is seeded again
    second = seed()

    # then nothing is duplicated and every client got a new token; the old ones stop working
    assert world() == before
    assert set(second) == set(first)
    assert all(second[name] != first[name] for name in first)
    assert status_with(first["demo-erp"]) == 401
    assert status_with(second["demo-erp"]) == 200
