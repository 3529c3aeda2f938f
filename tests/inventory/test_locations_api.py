"""The location feed: `PUT /api/v1/locations/{code}`, `GET /api/v1/locations[/{code}]`."""

from __future__ import annotations

import pytest

from inventory.models import Location
from oms.core.models import OutboxEvent
from tests.conftest import error_codes
from tests.factories import LocationFactory, StoreFactory
from tests.inventory.payloads import attrs, location_body

pytestmark = pytest.mark.django_db


def test_the_erp_creates_a_warehouse(erp):
    # when the ERP puts a new location
    response = erp.put("/api/v1/locations/WH-KS", location_body())

    # then it is created with its capabilities and announced
    assert response.status_code == 201, response.json()
    body = response.json()
    assert body["code"] == "WH-KS"
    assert body["kind"] == "warehouse"
    assert sorted(body["capabilities"]) == ["accepts_returns", "ships"]
    assert body["address"]["city"] == "Kassel"
    location = Location.objects.get(code="WH-KS")
    assert (location.ships, location.accepts_returns, location.click_and_collect) == (
        True, True, False)
    assert (location.lat, location.lon, location.priority) == (51.3127, 9.4797, 10)
    event = OutboxEvent.objects.get(topic="location.upserted")
    assert event.payload["created"] is True


def test_staff_update_a_store_and_its_capabilities_are_replaced(api):
    # given a click-and-collect store
    staff = api("staff")
    staff.put("/api/v1/locations/ST-BER", location_body(
        name="Filiale Berlin", kind="store",
        capabilities=["click_and_collect", "ship_from_store"]))

    # when staff put it again with only ship-from-store and a new name
    response = staff.put("/api/v1/locations/ST-BER", location_body(
        name="Filiale Berlin Mitte", kind="store", capabilities=["ship_from_store"]))

    # then it is updated in place and click-and-collect is gone
    assert response.status_code == 200, response.json()
    assert response.json()["capabilities"] == ["ship_from_store"]
    store = Location.objects.get(code="ST-BER")
    assert store.name == "Filiale Berlin Mitte"
    assert (store.click_and_collect, store.ship_from_store) == (False, True)
    assert Location.objects.count() == 1


@pytest.mark.parametrize("kind", ["warehouse", "supplier"])
@pytest.mark.parametrize("capability", ["click_and_collect", "ship_from_store"])
def test_store_only_capabilities_are_refused_elsewhere(erp, kind, capability):
    # when a non-store claims a store-only capability
    response = erp.put("/api/v1/locations/X-1", location_body(
        kind=kind, capabilities=["ships", capability]))

    # then it is refused and nothing is stored
    assert response.status_code == 400
    assert error_codes(response) == ["invalid_capability"]
    assert attrs(response) == ["capabilities"]
    assert not Location.objects.exists()


def test_an_existing_warehouse_cannot_gain_a_store_capability(erp):
    # given a warehouse
    LocationFactory(code="WH-KS", name="old")

    # when it is put with click-and-collect
    response = erp.put("/api/v1/locations/WH-KS", location_body(
        capabilities=["ships", "click_and_collect"]))

    # then it is refused and stays as it was
    assert response.status_code == 400
    warehouse = Location.objects.get(code="WH-KS")
    assert (warehouse.name, warehouse.click_and_collect) == ("old", False)


@pytest.mark.parametrize(
    ("coordinates", "attr"),
    [
        ({"lat": 90.5, "lon": 9.0}, "lat"),
        ({"lat": -91, "lon": 9.0}, "lat"),
        ({"lat": 51.0, "lon": 180.5}, "lon"),
        ({"lat": "north", "lon": 9.0}, "lat"),
    ],
    ids=["lat-above-90", "lat-below-minus-90", "lon-above-180", "lat-not-a-number"],
)
def test_coordinates_out_of_range_are_refused(erp, coordinates, attr):
    response = erp.put("/api/v1/locations/WH-KS", location_body(**coordinates))

    assert response.status_code == 400
    assert attrs(response) == [attr]
    assert not Location.objects.exists()


@pytest.mark.parametrize("coordinates", [{"lat": 51.0, "lon": None}, {"lat": None, "lon": 9.0}])
def test_only_one_of_lat_and_lon_is_refused(erp, coordinates):
    response = erp.put("/api/v1/locations/WH-KS", location_body(**coordinates))

    assert response.status_code == 400
    assert response.json()["type"] == "validation_error"
    assert not Location.objects.exists()


def test_a_location_without_coordinates_is_fine(erp):
    response = erp.put("/api/v1/locations/WH-KS", location_body(lat=None, lon=None))

    assert response.status_code == 201
    assert Location.objects.get(code="WH-KS").lat is None


def test_an_unknown_capability_is_named_by_its_position(erp):
    response = erp.put("/api/v1/locations/WH-KS", location_body(
        capabilities=["ships", "teleports"]))

    assert response.status_code == 400
    assert attrs(response) == ["capabilities.1"]


def test_a_bad_location_code_in_the_path_is_refused(erp):
    response = erp.put("/api/v1/locations/_bad", location_body())

    assert response.status_code == 400
    assert attrs(response) == ["code"]
    assert not Location.objects.exists()


@pytest.mark.parametrize("kind", ["webshop", "wms", "pim", "pos"])
def test_clients_other_than_erp_and_staff_may_not_write_locations(api, kind):
    # when a client that does not own locations puts one
    response = api(kind).put("/api/v1/locations/WH-KS", location_body())

    # then it is forbidden and nothing is stored
    assert response.status_code == 403
    assert error_codes(response) == ["permission_denied"]
    assert not Location.objects.exists()


def test_any_client_lists_and_reads_locations(webshop):
    # given a warehouse and a store
    LocationFactory(code="WH-KS")
    StoreFactory(code="ST-BER")

    # when a webshop lists them and reads one
    listing = webshop.get("/api/v1/locations")
    detail = webshop.get("/api/v1/locations/ST-BER")

    # then it sees both, paginated, and the store's details
    assert listing.status_code == 200
    assert set(listing.json()) >= {"next", "previous", "results"}
    assert {loc["code"] for loc in listing.json()["results"]} == {"WH-KS", "ST-BER"}
    assert detail.status_code == 200
    assert detail.json()["kind"] == "store"
    assert "click_and_collect" in detail.json()["capabilities"]


def test_reading_an_unknown_location_answers_404(webshop):
    response = webshop.get("/api/v1/locations/NOWHERE")

    assert response.status_code == 404
    assert error_codes(response) == ["not_found"]


def test_a_client_scoped_to_a_store_sees_only_that_store(api):
    # given two stores and a warehouse, and a POS confined to one store
    StoreFactory(code="ST-BER")
    StoreFactory(code="ST-HAM", name="Filiale Hamburg")
    LocationFactory(code="WH-KS")
    pos = api("pos", location_code="ST-BER")

    # when it lists and reads locations
    listing = pos.get("/api/v1/locations")
    own = pos.get("/api/v1/locations/ST-BER")
    other = pos.get("/api/v1/locations/ST-HAM")
    missing = pos.get("/api/v1/locations/ST-XXX")

    # then the other locations do not exist for it: the answer tells nothing a missing
    # location would not
    assert [loc["code"] for loc in listing.json()["results"]] == ["ST-BER"]
    assert own.status_code == 200
    assert other.status_code == 404
    assert "Filiale Hamburg" not in other.content.decode()
    assert other.content.decode().replace("ST-HAM", "ST-XXX") == missing.content.decode()


def test_scoped_staff_cannot_write_a_location_outside_their_scope(api):
    # given staff confined to one store, and another store
    StoreFactory(code="ST-BER")
    StoreFactory(code="ST-HAM", name="Hamburg")
    staff = api("staff", location_code="ST-BER")

    # when they put the other store and a brand-new code
    other = staff.put("/api/v1/locations/ST-HAM", location_body(kind="store", name="Mine"))
    new = staff.put("/api/v1/locations/ST-NEW", location_body(kind="store"))
    own = staff.put("/api/v1/locations/ST-BER", location_body(kind="store", name="Berlin"))

    # then both answer 404 and change nothing; their own store they may update
    assert (other.status_code, new.status_code, own.status_code) == (404, 404, 200)
    assert Location.objects.get(code="ST-HAM").name == "Hamburg"
    assert not Location.objects.filter(code="ST-NEW").exists()
