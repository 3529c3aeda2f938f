"""Free-form JSON has a documented, bounded shape: the order's delivery address, the customer,
product attributes and media. Out of bounds answers 400 naming the offending `attr`, and
nothing is written (issue 17, class 1)."""

from __future__ import annotations

import json
from typing import Any

import pytest

from oms.catalog.models import Product
from oms.orders.models import Order
from tests.catalog.payloads import product_body
from tests.conftest import error_codes
from tests.network import SHIPPING_ADDRESS, order_body

pytestmark = pytest.mark.django_db


def attrs(response: Any) -> list[str | None]:
    return [e["attr"] for e in response.json()["errors"]]


def order_with_address(**changes: Any) -> dict[str, Any]:
    return order_body([("A", 1)], delivery={"method": "ship",
                                            "address": {**SHIPPING_ADDRESS, **changes}})


def test_a_huge_integer_in_an_order_address_is_refused_and_the_order_list_still_answers(
        network, shop):
    # Given stock, and no Idempotency-Key on the request
    network.stock(network.kassel, "A", 5)

    # When an order's address carries an integer far beyond 64 bits
    response = shop.post("/api/v1/orders", order_with_address(lat=10**40, lon=10**40))

    # Then it is refused naming the field, no order exists, and the list still answers
    assert response.status_code == 400, response.content
    assert attrs(response) == ["delivery.address.lat", "delivery.address.lon"]
    assert not Order.objects.exists()
    assert shop.get("/api/v1/orders").status_code == 200


@pytest.mark.parametrize(("change", "attr", "code"), [
    ({"lat": 1000, "lon": 13.4}, "delivery.address.lat", "max_value"),
    ({"lat": 52.5}, "delivery.address.lon", "required"),
    ({"country": "XX"}, "delivery.address.country", "unknown_country"),
    ({"country": "de"}, "delivery.address.country", "invalid"),
    ({"country": "DEU"}, "delivery.address.country", "invalid"),
    ({"postcode": "10117"}, "delivery.address.postcode", "unknown_field"),
    ({"line1": "x" * 201}, "delivery.address.line1", "max_length"),
    ({"postal_code": "1" * 21}, "delivery.address.postal_code", "max_length"),
    ({"phone": "call me maybe"}, "delivery.address.phone", "invalid"),
    ({"city": {"nested": "object"}}, "delivery.address.city", "invalid"),
    ({"line1": ""}, "delivery.address.line1", "required"),
    ({"line1": "Unter den Linden 1\x00"}, "delivery.address.line1", "null_character"),
])
def test_an_address_outside_its_shape_is_refused_and_writes_nothing(network, shop, change,
                                                                    attr, code):
    # Given stock for the order
    network.stock(network.kassel, "A", 5)

    # When the address breaks one rule of its shape
    response = shop.post("/api/v1/orders", order_with_address(**change))

    # Then the answer names the part and nothing is written
    assert response.status_code == 400, response.content
    assert attr in attrs(response)
    assert code in error_codes(response)
    assert not Order.objects.exists()


def test_a_ship_order_without_an_address_is_refused(network, shop):
    network.stock(network.kassel, "A", 5)

    response = shop.post("/api/v1/orders", order_body([("A", 1)], delivery={"method": "ship"}))

    assert response.status_code == 400
    assert set(attrs(response)) == {"delivery.address.line1", "delivery.address.postal_code",
                                    "delivery.address.city", "delivery.address.country"}
    assert not Order.objects.exists()


def test_an_address_in_its_shape_is_kept_as_sent(network, shop):
    network.stock(network.kassel, "A", 5)
    address = {**SHIPPING_ADDRESS, "line2": "3. OG", "phone": "+49 30 1234567",
               "lat": 52.517, "lon": 13.389}

    response = shop.post("/api/v1/orders", order_with_address(**address))

    assert response.status_code == 201, response.content
    assert response.json()["delivery"] == {"method": "ship", "address": address}


@pytest.mark.parametrize(("customer", "attr"), [
    ({"email": "kim@example.de", "phone": "0800-CALL-KIM"}, "customer.phone"),
    ({"email": "kim@example.de", "name": "K" * 201}, "customer.name"),
    ({"email": "kim@example.de", "external_id": "crm\t42"}, "customer.external_id"),
    ({"email": "not-an-address"}, "customer.email"),
    ({"email": "kim@example.de", "unknown": 1, "name": 10**30}, None),
])
def test_customer_fields_are_bounded(network, shop, customer, attr):
    network.stock(network.kassel, "A", 5)

    response = shop.post("/api/v1/orders", order_body([("A", 1)], customer=customer))

    if attr is None:  # a number where text is expected is taken as its digits, within bounds
        assert response.status_code == 201, response.content
        return
    assert response.status_code == 400, response.content
    assert attr in attrs(response)
    assert not Order.objects.exists()


@pytest.mark.parametrize(("attributes", "attr", "code"), [
    ({"weight": 2**53 + 1}, "attributes.weight", "number_out_of_range"),
    ({"weight": -(2**64)}, "attributes.weight", "number_out_of_range"),
    ({"weight": 1.5e300}, "attributes.weight", "number_out_of_range"),
    ({"a": {"b": {"c": {"d": {"e": {"f": 1}}}}}}, "attributes.a.b.c.d.e", "too_deep"),
    ({f"k{i}": i for i in range(501)}, "attributes", "too_many_items"),
    ({"text": "x" * 2_001}, "attributes.text", "too_long"),
    ({"k" * 101: 1}, "attributes", "too_long"),
    ({"sizes": ["x" * 1_900] * 40}, "attributes.sizes.34", "too_large"),
    ({"colour": "schwarz\x00"}, "attributes.colour", "null_character"),
    ({"colour\x00": "schwarz"}, "attributes", "null_character"),
    (["not", "an", "object"], "attributes", "not_an_object"),
])
def test_product_attributes_are_bounded_json(pim, attributes, attr, code):
    # When the PIM sends attributes out of bounds
    response = pim.put("/api/v1/products/SKU-1", product_body(attributes=attributes))

    # Then the path is named and no product is written
    assert response.status_code == 400, response.content
    assert attr in attrs(response)
    assert code in error_codes(response)
    assert not Product.objects.exists()


def test_large_numbers_in_attributes_travel_as_decimal_strings(pim):
    attributes = {"ean_batch": "123456789012345678901234567890", "weight_g": 2**53,
                  "ratio": 0.1, "tags": ["a", "b"], "dims": {"w": 1, "h": 2}}

    response = pim.put("/api/v1/products/SKU-1", product_body(attributes=attributes))

    assert response.status_code == 201, response.content
    assert pim.get("/api/v1/products/SKU-1").json()["attributes"] == attributes


@pytest.mark.parametrize("raw_value", [
    '"\\ud800"',                  # an unpaired surrogate: no UTF-8 encoding
    '"\\udc00 trailing"',
    "1e999",                      # infinite once parsed
    "-1e999",
    "NaN",
    "Infinity",
])
def test_values_json_cannot_carry_are_refused_as_parse_errors(pim, raw_value):
    # Given a body that is text, not a Python dict, so any value can be spelled
    body = json.dumps(product_body()).replace('"schwarz"', raw_value, 1)

    response = pim.put("/api/v1/products/SKU-1", raw=body)

    assert response.status_code == 400, response.content
    assert error_codes(response) == ["parse_error"]
    assert not Product.objects.exists()


def test_media_are_bounded_in_number(pim):
    media = [{"url": f"https://cdn.example.com/{i}.jpg"} for i in range(51)]

    response = pim.put("/api/v1/products/SKU-1", product_body(media=media))

    assert response.status_code == 400
    assert attrs(response) == ["media"]
    assert not Product.objects.exists()


def test_a_bulk_feed_names_the_product_whose_attributes_are_out_of_bounds(pim):
    from tests.catalog.payloads import bulk_row

    body = {"products": [bulk_row("OK-1"), bulk_row("BAD-1", attributes={"n": 2**60})]}

    response = pim.post("/api/v1/products/bulk", body)

    assert response.status_code == 400, response.content
    assert attrs(response) == ["products.1.attributes.n"]
    assert not Product.objects.exists()


@pytest.mark.parametrize(("change", "attr"), [
    ({"lat": True, "lon": False}, "delivery.address.lat"),
    ({"name": "Kim\u202eredaeH"}, "delivery.address.name"),
    ({"city": "Berlin\n"}, None),  # surrounding whitespace is trimmed, as everywhere
    ({"line2": "Hinterhaus\u0007"}, "delivery.address.line2"),
])
def test_address_text_is_plain_and_coordinates_are_numbers(network, shop, change, attr):
    network.stock(network.kassel, "A", 5)

    response = shop.post("/api/v1/orders", order_with_address(**change))

    if attr is None:
        assert response.status_code == 201, response.content
        return
    assert response.status_code == 400, response.content
    assert attr in attrs(response)
    assert not Order.objects.exists()


def test_a_customer_name_with_a_bidirectional_override_is_refused(network, shop):
    network.stock(network.kassel, "A", 5)

    response = shop.post("/api/v1/orders", order_body(
        [("A", 1)], customer={"email": "kim@example.de", "name": "a\u0007\u202e"}))

    assert response.status_code == 400
    assert attrs(response) == ["customer.name"]


@pytest.mark.parametrize(("address", "attr"), [
    ({"zzz": "a" * 1000}, "address.zzz"),
    ({"country": "XX"}, "address.country"),
    ({"street": "x" * 201}, "address.street"),
])
def test_a_location_address_has_a_shape_too(api, address, attr):
    from inventory.models import Location

    response = api("erp").put("/api/v1/locations/L1", {
        "name": "Lager", "kind": "warehouse", "address": address})

    assert response.status_code == 400, response.content
    assert attrs(response) == [attr]
    assert not Location.objects.exists()


@pytest.mark.parametrize(("path", "body", "attr"), [
    ("pick", {"lines": [{"sku": "A", "picked": 2**63}]}, "lines.0.picked"),
    ("ship", {"carrier": "dhl", "tracking_number": "T", "lines": [{"sku": "A",
                                                                  "quantity": 2**64 - 1}]},
     "lines.0.quantity"),
])
def test_line_quantities_of_fulfilment_commands_are_bounded(api, path, body, attr):
    response = api("wms").post(f"/api/v1/fulfillments/1/{path}", body)

    assert response.status_code == 400, response.content
    assert attrs(response) == [attr]
