"""Limits of the parser and the headers answer in the API's one error format, never a 500 or an
HTML page (issue 17, class 3)."""

from __future__ import annotations

import json

import pytest

from oms.catalog.models import Product
from oms.core.api.parsers import too_deep
from oms.core.models import IdempotencyKey
from oms.orders.models import Order
from tests.catalog.payloads import bulk_row, product_body
from tests.conftest import error_codes
from tests.network import order_body

pytestmark = pytest.mark.django_db


def test_a_body_over_the_limit_answers_413_before_it_is_read(pim, settings):
    # Given a limit of 2 KiB for ordinary endpoints
    settings.API_MAX_BODY_BYTES = 2048

    # When a product arrives with 3 KiB of attributes
    response = pim.put("/api/v1/products/SKU-1",
                       product_body(attributes={"text": "x" * 1_900, "more": "y" * 1_100}))

    # Then the answer is the JSON 413 and nothing is written
    assert response.status_code == 413
    assert response.json() == {"type": "client_error", "errors": [{
        "code": "request_too_large", "attr": None,
        "detail": response.json()["errors"][0]["detail"]}]}
    assert "2048" in response.json()["errors"][0]["detail"]
    assert not Product.objects.exists()


def test_a_bulk_feed_has_its_own_larger_limit(pim, settings):
    # Given ordinary bodies limited to 2 KiB and bulk feeds to 64 KiB
    settings.API_MAX_BODY_BYTES = 2048
    settings.API_BULK_MAX_BODY_BYTES = 64 * 1024
    body = {"products": [bulk_row(f"SKU-{i}") for i in range(30)]}
    assert 2048 < len(json.dumps(body)) < 64 * 1024

    # When 30 products (about 10 KiB) come in one call, and then 300 (over 64 KiB)
    within = pim.post("/api/v1/products/bulk", body)
    beyond = pim.post("/api/v1/products/bulk",
                      {"products": [bulk_row(f"SKU-{i}") for i in range(300)]})

    # Then the first is taken and the second refused whole
    assert within.status_code == 200, within.content
    assert beyond.status_code == 413
    assert error_codes(beyond) == ["request_too_large"]
    assert Product.objects.count() == 30


@pytest.mark.parametrize("depth", [33, 200, 5_000, 100_000])
def test_nesting_beyond_a_sane_depth_is_a_parse_error(pim, depth):
    body = "[" * depth + "]" * depth

    response = pim.put("/api/v1/products/SKU-1", raw=body)

    assert response.status_code == 400
    assert response.json()["type"] == "client_error"
    assert error_codes(response) == ["parse_error"]


def test_depth_is_counted_in_containers():
    assert not too_deep({"a": [1, {"b": "c"}]}, 3)
    assert too_deep({"a": [1, {"b": []}]}, 3)
    assert not too_deep("scalar", 0)


@pytest.mark.parametrize("raw", ["{", "{\"name\": }", "\xff\xfe", "[1, 2,]", ""])
def test_a_body_that_is_not_json_is_a_parse_error(pim, raw):
    response = pim.put("/api/v1/products/SKU-1", raw=raw)

    assert response.status_code == 400, response.content
    assert response.json()["type"] in ("client_error", "validation_error")
    assert not Product.objects.exists()


def test_a_charset_other_than_utf8_is_refused(pim):
    response = pim.http.put("/api/v1/products/SKU-1", data=json.dumps(product_body()),
                            content_type="application/json; charset=latin-1")

    assert response.status_code == 415
    assert error_codes(response) == ["unsupported_media_type"]


def test_an_unknown_charset_is_refused_too(pim):
    response = pim.http.put("/api/v1/products/SKU-1", data=json.dumps(product_body()),
                            content_type="application/json; charset=no-such-charset")

    assert response.status_code == 415


@pytest.mark.parametrize("key", ["tab\there", "line\nbreak", "nul\x00", "ümlaut", "x" * 256,
                                 "\x7f"])
def test_an_idempotency_key_outside_printable_ascii_is_refused_and_nothing_runs(
        network, shop, key):
    network.stock(network.kassel, "A", 5)

    response = shop.post("/api/v1/orders", order_body([("A", 1)]),
                         headers={"Idempotency-Key": key})

    assert response.status_code == 400
    assert response.json()["errors"][0]["attr"] == "Idempotency-Key"
    assert error_codes(response) == ["invalid_idempotency_key"]
    assert not Order.objects.exists()
    assert not IdempotencyKey.objects.exists()


def test_an_idempotency_key_of_255_printable_characters_is_taken(network, shop):
    network.stock(network.kassel, "A", 5)

    response = shop.post("/api/v1/orders", order_body([("A", 1)]),
                         headers={"Idempotency-Key": "k ~" * 85})

    assert response.status_code == 201


@pytest.mark.parametrize("path", ["/api/v1/orders/A%00B", "/api/v1/products/SKU%00",
                                  "/api/v1/locations/%00", "/api/v1/orders?status=%00"])
def test_a_nul_character_in_the_address_answers_400(shop, path):
    response = shop.get(path)

    assert response.status_code == 400
    assert error_codes(response) == ["null_character"]


def test_a_nonsense_content_length_answers_400(shop):
    response = shop.http.post("/api/v1/orders", data="{}", content_type="application/json",
                              CONTENT_LENGTH="12abc")

    assert response.status_code == 400
    assert response.json()["type"] == "client_error"



def test_a_chunked_body_without_content_length_is_refused_not_read_as_empty(pim):
    response = pim.http.put("/api/v1/products/SKU-1", data=json.dumps(product_body()),
                            content_type="application/json",
                            HTTP_TRANSFER_ENCODING="chunked", CONTENT_LENGTH="")

    assert response.status_code == 411
    assert error_codes(response) == ["length_required"]
    assert not Product.objects.exists()


@pytest.mark.parametrize("length", ["\u0663", "\u00b2", "-1", "1e3", " 12"])
def test_a_content_length_of_anything_but_ascii_digits_answers_400(shop, length):
    response = shop.http.post("/api/v1/orders", data="{}", content_type="application/json",
                              CONTENT_LENGTH=length)

    assert response.status_code == 400
    assert error_codes(response) == ["bad_request"]
