"""Available-to-promise: `GET /api/v1/availability`."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from inventory.selectors import distance_km
from tests.conftest import error_codes
from tests.factories import (
    BERLIN,
    HAMBURG,
    BerlinStoreFactory,
    HamburgStoreFactory,
    LocationFactory,
    MunichStoreFactory,
    ProductFactory,
    StockLevelFactory,
    StoreFactory,
    SupplierSiteFactory,
    WarehouseFactory,
)
from tests.inventory.payloads import attrs

pytestmark = pytest.mark.django_db

AVAILABILITY = "/api/v1/availability"


def by_location(entry: dict) -> dict[str, dict]:
    return {loc["location"]: loc for loc in entry["locations"]}


def stock(sku: str, location, on_hand: int, reserved: int = 0, safety_stock: int = 0):
    return StockLevelFactory(product=ProductFactory(sku=sku), location=location, on_hand=on_hand,
                             reserved=reserved, safety_stock=safety_stock)


def test_ship_available_sums_what_shipping_locations_can_promise(webshop):
    # given SKU-1 at a shipping warehouse (10 - 2 reserved - 3 safety = 5), a ship-from-store
    # store (4 - 1 = 3), a store without ship-from-store, a warehouse that does not ship,
    # a supplier that ships (2), and an inactive warehouse
    stock("SKU-1", WarehouseFactory(code="WH-A"), 10, reserved=2, safety_stock=3)
    stock("SKU-1", StoreFactory(code="ST-SFS", ship_from_store=True), 4, reserved=1)
    stock("SKU-1", StoreFactory(code="ST-CNC", ships=True), 7)
    stock("SKU-1", WarehouseFactory(code="WH-NOSHIP", ships=False), 20)
    stock("SKU-1", SupplierSiteFactory(code="SUP-A"), 2)
    stock("SKU-1", WarehouseFactory(code="WH-OLD", is_active=False), 50)

    # when the webshop asks
    response = webshop.get(AVAILABILITY, {"skus": "SKU-1"})

    # then only the shipping locations count, net of reservations and safety stock
    assert response.status_code == 200, response.json()
    [entry] = response.json()["skus"]
    assert entry["sku"] == "SKU-1"
    assert entry["ship_available"] == 5 + 3 + 2
    locations = by_location(entry)
    assert set(locations) == {"WH-A", "ST-SFS", "ST-CNC", "WH-NOSHIP", "SUP-A"}
    assert locations["WH-A"] == {"location": "WH-A", "kind": "warehouse", "on_hand": 10,
                                 "reserved": 2, "available": 5, "pickup": False}
    assert locations["ST-CNC"]["kind"] == "store"


def test_available_never_goes_below_zero(webshop):
    # given more reserved than on hand after a recount
    stock("SKU-1", WarehouseFactory(code="WH-A"), 3, reserved=5)
    stock("SKU-1", WarehouseFactory(code="WH-B"), 4)

    response = webshop.get(AVAILABILITY, {"skus": "SKU-1"})

    # then the short warehouse offers nothing instead of eating the other's stock
    [entry] = response.json()["skus"]
    assert by_location(entry)["WH-A"]["available"] == 0
    assert entry["ship_available"] == 4


def test_pickup_is_offered_only_by_click_and_collect_stores_with_stock(webshop):
    # given a click-and-collect store with stock, one with none available, a store without
    # click-and-collect and a warehouse
    stock("SKU-1", StoreFactory(code="ST-YES"), 2)
    stock("SKU-1", StoreFactory(code="ST-EMPTY"), 2, reserved=1, safety_stock=1)
    stock("SKU-1", StoreFactory(code="ST-NOCNC", click_and_collect=False), 5)
    stock("SKU-1", WarehouseFactory(code="WH-A"), 5)

    response = webshop.get(AVAILABILITY, {"skus": "SKU-1"})

    # then only the first offers pickup
    pickup = {code: loc["pickup"] for code, loc in by_location(response.json()["skus"][0]).items()}
    assert pickup == {"ST-YES": True, "ST-EMPTY": False, "ST-NOCNC": False, "WH-A": False}


def test_several_skus_come_back_in_the_order_asked_even_without_stock(webshop):
    # given SKU-A stocked and SKU-B never stocked anywhere
    stock("SKU-A", WarehouseFactory(code="WH-A"), 3)
    ProductFactory(sku="SKU-B")

    response = webshop.get(AVAILABILITY, {"skus": "SKU-B,SKU-A,SKU-B"})

    assert response.status_code == 200
    assert response.json() == {"skus": [
        {"sku": "SKU-B", "ship_available": 0, "locations": []},
        {"sku": "SKU-A", "ship_available": 3, "locations": [
            {"location": "WH-A", "kind": "warehouse", "on_hand": 3, "reserved": 0,
             "available": 3, "pickup": False}]},
    ]}


def test_the_locations_filter_narrows_the_list_but_not_ship_available(webshop):
    # given stock at a warehouse and two stores
    stock("SKU-1", WarehouseFactory(code="WH-A"), 10)
    stock("SKU-1", StoreFactory(code="ST-1"), 1)
    stock("SKU-1", StoreFactory(code="ST-2"), 2)

    # when the webshop asks about two of them
    response = webshop.get(AVAILABILITY, {"skus": "SKU-1", "locations": "ST-2,WH-A"})

    # then only those are listed, while ship_available still covers every shipping location
    [entry] = response.json()["skus"]
    assert set(by_location(entry)) == {"ST-2", "WH-A"}
    assert entry["ship_available"] == 10


def test_near_narrows_the_list_but_not_ship_available(webshop):
    # given a far warehouse that ships and a store nearby that does not
    stock("SKU-1", LocationFactory(code="WH-KS"), 10)  # Kassel, ~300 km from Berlin
    stock("SKU-1", BerlinStoreFactory(code="ST-BER"), 2)

    # when a shopper in Berlin asks within 20 km
    response = webshop.get(AVAILABILITY, {"skus": "SKU-1", "near": "52.52,13.405",
                                          "radius_km": "20"})

    # then only the store is listed, while the warehouse still counts for shipping
    [entry] = response.json()["skus"]
    assert set(by_location(entry)) == {"ST-BER"}
    assert entry["ship_available"] == 10


def test_the_answer_is_json_and_indented_on_request(webshop):
    # given a SKU stocked at a warehouse
    stock("SKU-1", WarehouseFactory(code="WH-A"), 3)

    # when the webshop asks once plainly and once for indented output
    plain = webshop.get(AVAILABILITY, {"skus": "SKU-1"})
    indented = webshop.http.get(AVAILABILITY, {"skus": "SKU-1"},
                                HTTP_ACCEPT="application/json; indent=2")

    # then both are the same JSON document, the second one indented
    assert plain["Content-Type"] == "application/json"
    assert indented.json() == plain.json()
    assert indented.content.decode().startswith('{\n  "skus": [')


def test_an_unknown_location_in_the_filter_is_refused(webshop):
    stock("SKU-1", WarehouseFactory(code="WH-A"), 10)

    response = webshop.get(AVAILABILITY, {"skus": "SKU-1", "locations": "WH-A,NOWHERE"})

    assert response.status_code == 400
    assert error_codes(response) == ["unknown_location"]


def test_near_keeps_locations_within_the_radius_sorted_by_distance(webshop):
    # given stores in Hamburg, Berlin and Munich, a warehouse in Kassel, and one store with
    # no coordinates
    stock("SKU-1", HamburgStoreFactory(code="ST-HAM"), 1)
    stock("SKU-1", MunichStoreFactory(code="ST-MUC"), 1)
    stock("SKU-1", BerlinStoreFactory(code="ST-BER"), 1)
    stock("SKU-1", LocationFactory(code="WH-KS"), 1)  # Kassel, ~300 km from Berlin
    stock("SKU-1", StoreFactory(code="ST-NOWHERE", lat=None, lon=None), 1)

    # when a shopper in Berlin asks within 280 km
    response = webshop.get(AVAILABILITY, {"skus": "SKU-1", "near": "52.52,13.405",
                                          "radius_km": "280"})

    # then Berlin comes first, then Hamburg at about 255 km; the rest are out of reach
    assert response.status_code == 200, response.json()
    locations = response.json()["skus"][0]["locations"]
    assert [loc["location"] for loc in locations] == ["ST-BER", "ST-HAM"]
    assert locations[0]["distance_km"] == 0.0
    assert locations[1]["distance_km"] == pytest.approx(255, abs=5)
    assert locations[1]["distance_km"] == round(distance_km(*BERLIN, *HAMBURG), 1)


def test_locations_near_a_point_come_nearest_first(webshop):
    # given a Berlin store, a Hamburg store and the Kassel warehouse
    stock("SKU-1", BerlinStoreFactory(code="ST-BER"), 1)
    stock("SKU-1", LocationFactory(code="WH-KS"), 1)
    stock("SKU-1", HamburgStoreFactory(code="ST-HAM"), 1)

    # when a shopper in Hamburg asks within 300 km
    response = webshop.get(AVAILABILITY, {"skus": "SKU-1", "near": "53.55,9.99",
                                          "radius_km": "300"})

    # then Hamburg (0 km), Kassel (~251 km) and Berlin (~255 km) come in that order
    locations = response.json()["skus"][0]["locations"]
    assert [loc["location"] for loc in locations] == ["ST-HAM", "WH-KS", "ST-BER"]
    assert [loc["distance_km"] for loc in locations] == pytest.approx([0, 251.5, 255.4],
                                                                      abs=0.1)


def test_without_near_locations_are_listed_by_priority(webshop):
    # given a store (priority 50) and a warehouse (priority 10)
    stock("SKU-1", StoreFactory(code="AA-STORE"), 1)
    stock("SKU-1", WarehouseFactory(code="ZZ-WH"), 1)

    response = webshop.get(AVAILABILITY, {"skus": "SKU-1"})

    # then the preferred warehouse comes first, and no distance is given
    locations = response.json()["skus"][0]["locations"]
    assert [loc["location"] for loc in locations] == ["ZZ-WH", "AA-STORE"]
    assert all("distance_km" not in loc for loc in locations)


def test_each_sku_lists_only_its_own_locations_by_priority_then_code(webshop):
    # given SKU-A at a warehouse and two stores, SKU-B at another warehouse and one of the
    # stores, created out of order
    stock("SKU-A", StoreFactory(code="ST-2"), 1)
    stock("SKU-B", WarehouseFactory(code="WH-A"), 2)
    stock("SKU-A", WarehouseFactory(code="WH-B"), 3)
    stock("SKU-B", StoreFactory(code="ST-2"), 4)
    stock("SKU-A", StoreFactory(code="ST-1"), 5)

    # when the webshop asks for both
    response = webshop.get(AVAILABILITY, {"skus": "SKU-A,SKU-B"})

    # then each lists the places it is stocked at, warehouses (priority 10) before stores
    # (priority 50), by code within a priority
    listed = {entry["sku"]: [(loc["location"], loc["on_hand"]) for loc in entry["locations"]]
              for entry in response.json()["skus"]}
    assert listed == {"SKU-A": [("WH-B", 3), ("ST-1", 5), ("ST-2", 1)],
                      "SKU-B": [("WH-A", 2), ("ST-2", 4)]}


def test_stock_for_availability_is_read_from_an_index_alone(webshop):
    # given a SKU stocked at a warehouse
    stock("SKU-1", WarehouseFactory(code="WH-A"), 3)

    # when the webshop asks for it
    with CaptureQueriesContext(connection) as queries:
        assert webshop.get(AVAILABILITY, {"skus": "SKU-1"}).status_code == 200

    # then PostgreSQL can answer the stock query from an index without visiting the table
    # (with sequential and bitmap scans off: for a table this small they would be cheaper)
    [stock_query] = [q["sql"] for q in queries if "inventory_stocklevel" in q["sql"]]
    with connection.cursor() as cursor:
        for method in ("seqscan", "bitmapscan"):
            cursor.execute(f"SET LOCAL enable_{method} = off")
        cursor.execute("EXPLAIN " + stock_query)
        plan = "\n".join(row[0] for row in cursor.fetchall())
    assert "Index Only Scan using stock_by_sku_covering" in plan, plan


def test_a_small_radius_drops_the_far_city(webshop):
    stock("SKU-1", HamburgStoreFactory(code="ST-HAM"), 1)
    stock("SKU-1", BerlinStoreFactory(code="ST-BER"), 1)

    response = webshop.get(AVAILABILITY, {"skus": "SKU-1", "near": "53.55,9.99",
                                          "radius_km": "250"})

    assert [loc["location"] for loc in response.json()["skus"][0]["locations"]] == ["ST-HAM"]


def test_near_without_a_radius_uses_the_default_radius(webshop, settings):
    # given the default radius of 25 km and stores in Berlin and Potsdam (~27 km apart)
    settings.AVAILABILITY_DEFAULT_RADIUS_KM = 25.0
    stock("SKU-1", BerlinStoreFactory(code="ST-BER"), 1)
    stock("SKU-1", BerlinStoreFactory(code="ST-POT", lat=52.39, lon=13.065), 1)

    response = webshop.get(AVAILABILITY, {"skus": "SKU-1", "near": "52.52,13.405"})

    assert [loc["location"] for loc in response.json()["skus"][0]["locations"]] == ["ST-BER"]


def test_an_unknown_sku_is_refused(webshop):
    ProductFactory(sku="SKU-1")

    response = webshop.get(AVAILABILITY, {"skus": "SKU-1,GHOST-9"})

    assert response.status_code == 400
    assert error_codes(response) == ["unknown_sku"]
    assert attrs(response) == ["skus"]
    assert "GHOST-9" in response.json()["errors"][0]["detail"]


def test_an_unknown_sku_is_refused_next_to_stocked_ones(webshop):
    # given SKU-1 stocked at a warehouse
    stock("SKU-1", WarehouseFactory(code="WH-A"), 3)

    # when the webshop asks for it and for a SKU no product has
    response = webshop.get(AVAILABILITY, {"skus": "SKU-1,GHOST-9"})

    # then the call is refused, naming only the unknown one
    assert response.status_code == 400
    assert error_codes(response) == ["unknown_sku"]
    assert "GHOST-9" in response.json()["errors"][0]["detail"]
    assert "SKU-1" not in response.json()["errors"][0]["detail"]


@pytest.mark.parametrize("params", [{}, {"skus": ""}, {"skus": " , ,"}])
def test_skus_are_required(webshop, params):
    response = webshop.get(AVAILABILITY, params)

    assert response.status_code == 400
    assert attrs(response) == ["skus"]


def test_more_than_a_hundred_skus_are_refused(webshop):
    # given 101 known products
    skus = [ProductFactory(sku=f"SKU-{n}").sku for n in range(101)]

    # when all are asked for at once
    response = webshop.get(AVAILABILITY, {"skus": ",".join(skus)})

    # then the call is refused; a hundred are fine
    assert response.status_code == 400
    assert error_codes(response) == ["max_length"]
    assert webshop.get(AVAILABILITY, {"skus": ",".join(skus[:100])}).status_code == 200


@pytest.mark.parametrize("near", ["52.52", "52.52;13.4", "north,east", "91,13", "52,181",
                                  "52.5,13.4,7", "nan,nan"])
def test_a_malformed_near_is_refused(webshop, near):
    ProductFactory(sku="SKU-1")

    response = webshop.get(AVAILABILITY, {"skus": "SKU-1", "near": near})

    assert response.status_code == 400
    assert attrs(response) == ["near"]


@pytest.mark.parametrize("radius", ["0", "-5", "5000", "far"])
def test_a_malformed_radius_is_refused(webshop, radius):
    ProductFactory(sku="SKU-1")

    response = webshop.get(AVAILABILITY, {"skus": "SKU-1", "near": "52.52,13.405",
                                          "radius_km": radius})

    assert response.status_code == 400
    assert attrs(response) == ["radius_km"]


def test_a_radius_without_near_is_refused(webshop):
    ProductFactory(sku="SKU-1")

    response = webshop.get(AVAILABILITY, {"skus": "SKU-1", "radius_km": "25"})

    assert response.status_code == 400
    assert attrs(response) == ["radius_km"]


@pytest.mark.parametrize("kind", ["psp", "pim", "finance", "supplier"])
def test_clients_that_do_not_sell_may_not_ask_for_availability(api, kind):
    ProductFactory(sku="SKU-1")

    response = api(kind).get(AVAILABILITY, {"skus": "SKU-1"})

    assert response.status_code == 403


@pytest.mark.parametrize("kind", ["app", "pos", "marketplace", "staff", "erp", "wms"])
def test_selling_and_back_office_clients_may_ask_for_availability(api, kind):
    ProductFactory(sku="SKU-1")

    response = api(kind).get(AVAILABILITY, {"skus": "SKU-1"})

    assert response.status_code == 200


@pytest.mark.parametrize("headers", [{}, {"HTTP_AUTHORIZATION": "Bearer oms_not-a-token"},
                                     {"HTTP_AUTHORIZATION": "Basic dXNlcjpwYXNz"}])
def test_a_request_without_a_valid_token_is_unauthenticated(headers):
    ProductFactory(sku="SKU-1")

    response = Client(**headers).get(AVAILABILITY, {"skus": "SKU-1"})

    assert response.status_code == 401
    assert response.json()["type"] == "client_error"

