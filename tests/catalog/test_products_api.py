"""The product feed: `PUT /api/v1/products/{sku}`, `GET` and `POST /api/v1/products/bulk`."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest

from oms.catalog.models import Price, Product
from oms.core.models import OutboxEvent
from tests.catalog.payloads import bulk_row, product_body
from tests.conftest import error_codes
from tests.factories import ProductFactory

pytestmark = pytest.mark.django_db

BULK = "/api/v1/products/bulk"


def prices_of(sku: str) -> set[tuple[str, str, Decimal]]:
    return set(Price.objects.filter(product__sku=sku).values_list("channel", "currency", "amount"))


def attrs(response: Any) -> list[str | None]:
    return [e["attr"] for e in response.json()["errors"]]


def nothing_was_written() -> bool:
    return not (Product.objects.exists() or Price.objects.exists()
                or OutboxEvent.objects.filter(topic="product.upserted").exists())


# --- PUT and GET -----------------------------------------------------------------------------


def test_putting_a_new_sku_creates_the_product_with_its_prices(pim):
    # when the PIM puts a SKU nobody has seen
    response = pim.put("/api/v1/products/SNK-42", product_body())

    # then it is created and echoed back
    assert response.status_code == 201, response.json()
    body = response.json()
    assert body["sku"] == "SNK-42"
    assert body["name"] == "Sneaker schwarz"
    assert body["ean"] == "4006381333931"
    assert body["attributes"] == {"colour": "schwarz", "size": "42"}
    assert body["media"][0]["url"] == "https://cdn.example.com/sneaker.jpg"
    assert sorted((p["channel"], p["amount"]) for p in body["prices"]) == [
        ("store", "94.99"), ("web", "89.99"),
    ]
    assert prices_of("SNK-42") == {("web", "EUR", Decimal("89.99")),
                                   ("store", "EUR", Decimal("94.99"))}


def test_putting_a_known_sku_again_updates_it_and_replaces_its_prices(pim):
    # given a product with two prices
    assert pim.put("/api/v1/products/SNK-42", product_body()).status_code == 201

    # when the PIM puts it again with a new name and a single, different price
    response = pim.put("/api/v1/products/SNK-42", product_body(
        name="Sneaker weiß",
        prices=[{"channel": "web", "currency": "CHF", "amount": "99.00"}],
    ))

    # then it is updated (200), not duplicated, and only the new price remains
    assert response.status_code == 200, response.json()
    assert response.json()["name"] == "Sneaker weiß"
    assert Product.objects.filter(sku="SNK-42").count() == 1
    assert prices_of("SNK-42") == {("web", "CHF", Decimal("99.00"))}


def test_putting_a_product_without_prices_keeps_the_stored_prices(pim):
    # given a product with prices
    pim.put("/api/v1/products/SNK-42", product_body())

    # when the PIM updates only its name
    body = product_body(name="Sneaker neu")
    del body["prices"]
    response = pim.put("/api/v1/products/SNK-42", body)

    # then the prices stay as they were
    assert response.status_code == 200
    assert len(prices_of("SNK-42")) == 2


def test_a_put_product_can_be_read_back(pim, api):
    # given a product put by the PIM
    pim.put("/api/v1/products/SNK-42", product_body())

    # when a webshop reads it
    response = api("webshop").get("/api/v1/products/SNK-42")

    # then it sees the stored product
    assert response.status_code == 200
    assert response.json()["sku"] == "SNK-42"
    assert len(response.json()["prices"]) == 2


def test_reading_an_unknown_sku_answers_404(pim):
    response = pim.get("/api/v1/products/NOPE-1")

    assert response.status_code == 404
    assert error_codes(response) == ["not_found"]


def test_each_upsert_writes_a_product_upserted_event(pim):
    # when a product is created and then updated
    pim.put("/api/v1/products/SNK-42", product_body())
    pim.put("/api/v1/products/SNK-42", product_body(name="Sneaker v2"))

    # then two outbox events tell the story, the first one a creation
    events = list(OutboxEvent.objects.filter(topic="product.upserted").order_by("created_at"))
    assert [e.aggregate_id for e in events] == ["SNK-42", "SNK-42"]
    assert [e.payload["created"] for e in events] == [True, False]
    assert events[1].payload["name"] == "Sneaker v2"


def test_a_bad_sku_in_the_path_is_refused(pim):
    response = pim.put("/api/v1/products/-leading-dash", product_body())

    assert response.status_code == 400
    assert attrs(response) == ["sku"]
    assert nothing_was_written()


GOOD_PRICE = {"channel": "web", "currency": "EUR", "amount": "1.00"}


@pytest.mark.parametrize(
    ("bad_price", "attr"),
    [
        ({"channel": "app", "currency": "EUR", "amount": "-1.00"}, "prices.1.amount"),
        ({"channel": "app", "currency": "eur", "amount": "1.00"}, "prices.1.currency"),
        ({"channel": "app", "currency": "EURO", "amount": "1.00"}, "prices.1.currency"),
        ({"channel": "app", "currency": "EUR", "amount": "1.001"}, "prices.1.amount"),
        ({"channel": "web", "currency": "EUR", "amount": "2.00"}, "prices"),
    ],
    ids=["negative-amount", "lowercase-currency", "long-currency", "sub-cent-amount",
         "second-price-for-web-eur"],
)
def test_an_invalid_price_is_refused_with_its_path(pim, bad_price, attr):
    # when a product arrives with a good and a bad price
    response = pim.put("/api/v1/products/SNK-42", product_body(prices=[GOOD_PRICE, bad_price]))

    # then the bad price is named and nothing is stored
    assert response.status_code == 400
    assert response.json()["type"] == "validation_error"
    assert attrs(response) == [attr]
    assert nothing_was_written()


def test_an_invalid_first_price_is_named_with_index_zero(pim):
    # when the first price of a product is negative
    response = pim.put("/api/v1/products/SNK-42", product_body(
        prices=[{"channel": "web", "currency": "EUR", "amount": "-1.00"}]))

    # then the path names index 0
    assert response.status_code == 400
    assert attrs(response) == ["prices.0.amount"]


def test_a_webshop_may_read_but_not_write_products(api):
    # given a webshop client
    webshop = api("webshop")

    # when it tries to write
    put = webshop.put("/api/v1/products/SNK-42", product_body())
    bulk = webshop.post(BULK, {"products": [bulk_row("SNK-42")]})

    # then both are forbidden and nothing is written
    assert put.status_code == 403
    assert bulk.status_code == 403
    assert error_codes(put) == ["permission_denied"]
    assert nothing_was_written()


def test_a_request_without_a_token_is_unauthenticated(client):
    response = client.get("/api/v1/products/SNK-42")

    assert response.status_code == 401


def test_a_sku_containing_a_slash_can_be_put_and_read(pim):
    # given a SKU with a slash, which the SKU pattern allows
    sku = "JKT/42-blue"

    # when it is put and read back through its path
    put = pim.put(f"/api/v1/products/{sku}", product_body())
    get = pim.get(f"/api/v1/products/{sku}")

    # then both reach the product
    assert put.status_code == 201, put.content
    assert get.status_code == 200
    assert get.json()["sku"] == sku


# --- bulk ------------------------------------------------------------------------------------


def test_bulk_upsert_creates_new_and_updates_known_products(pim):
    # given one product that exists already
    ProductFactory(sku="OLD-1", name="old name")

    # when the PIM sends it with two new ones
    response = pim.post(BULK, {"products": [
        bulk_row("OLD-1"), bulk_row("NEW-1"), bulk_row("NEW-2"),
    ]})

    # then two are created and one updated, each with its prices and its event
    assert response.status_code == 200, response.json()
    assert response.json() == {"created": 2, "updated": 1}
    assert Product.objects.get(sku="OLD-1").name == "Product OLD-1"
    assert Product.objects.count() == 3
    assert Price.objects.count() == 6
    events = OutboxEvent.objects.filter(topic="product.upserted")
    assert {(e.aggregate_id, e.payload["created"]) for e in events} == {
        ("OLD-1", False), ("NEW-1", True), ("NEW-2", True),
    }


def test_bulk_upsert_replaces_the_prices_of_every_product_sent(pim):
    # given a product with two prices
    pim.post(BULK, {"products": [bulk_row("SNK-1")]})

    # when it is sent again with one price
    pim.post(BULK, {"products": [bulk_row("SNK-1", prices=[
        {"channel": "marketplace", "currency": "EUR", "amount": "79.00"},
    ])]})

    # then only that price remains
    assert prices_of("SNK-1") == {("marketplace", "EUR", Decimal("79.00"))}


def test_bulk_upsert_refuses_more_products_than_the_limit(pim, settings):
    # given a limit of three products per call
    settings.PRODUCTS_BULK_MAX = 3

    # when four are sent
    response = pim.post(BULK, {"products": [bulk_row(f"SKU-{n}") for n in range(4)]})

    # then the call is refused as a whole
    assert response.status_code == 400
    assert error_codes(response) == ["max_length"]
    assert attrs(response) == ["products"]
    assert nothing_was_written()


def test_bulk_upsert_accepts_exactly_the_limit(pim, settings):
    # given a limit of three products per call
    settings.PRODUCTS_BULK_MAX = 3

    # when three are sent
    response = pim.post(BULK, {"products": [bulk_row(f"SKU-{n}") for n in range(3)]})

    # then all are stored
    assert response.status_code == 200
    assert response.json() == {"created": 3, "updated": 0}


def test_bulk_upsert_refuses_an_empty_list(pim):
    response = pim.post(BULK, {"products": []})

    assert response.status_code == 400
    assert error_codes(response) == ["empty"]
    assert attrs(response) == ["products"]


def test_bulk_upsert_refuses_a_sku_sent_twice(pim):
    # when the same SKU appears twice in one call
    response = pim.post(BULK, {"products": [bulk_row("SNK-1"), bulk_row("SNK-2"),
                                            bulk_row("SNK-1")]})

    # then the call is refused and nothing is written
    assert response.status_code == 400
    assert error_codes(response) == ["duplicate_sku"]
    assert attrs(response) == ["products"]
    assert nothing_was_written()


@pytest.mark.parametrize(
    ("bad_row", "attr"),
    [
        (bulk_row("has space"), "products.1.sku"),
        (bulk_row("X" * 65), "products.1.sku"),
        ({"name": "no sku"}, "products.1.sku"),
        (bulk_row("SNK-2", prices=[GOOD_PRICE,
                                   {"channel": "app", "currency": "EUR", "amount": "-0.01"}]),
         "products.1.prices.1.amount"),
        (bulk_row("SNK-2", prices=[GOOD_PRICE,
                                   {"channel": "app", "currency": "E1R", "amount": "1.00"}]),
         "products.1.prices.1.currency"),
        (bulk_row("SNK-2", prices=[{"channel": "web", "currency": "EUR", "amount": "1.00"},
                                   {"channel": "web", "currency": "EUR", "amount": "1.50"}]),
         "products.1.prices"),
        (bulk_row("SNK-2", ean="123"), "products.1.ean"),
    ],
    ids=["sku-with-space", "sku-too-long", "sku-missing", "negative-price", "bad-currency",
         "duplicate-price", "bad-ean"],
)
def test_one_bad_row_refuses_the_whole_bulk_call_and_names_its_path(pim, bad_row, attr):
    # when the second of three products is invalid
    response = pim.post(BULK, {"products": [bulk_row("SNK-1"), bad_row, bulk_row("SNK-3")]})

    # then the error points at it and not even the valid products are written
    assert response.status_code == 400
    assert response.json()["type"] == "validation_error"
    assert attrs(response) == [attr]
    assert nothing_was_written()


def test_a_bad_first_row_is_named_with_index_zero(pim):
    response = pim.post(BULK, {"products": [bulk_row("bad sku"), bulk_row("SNK-2")]})

    assert response.status_code == 400
    assert attrs(response) == ["products.0.sku"]
    assert nothing_was_written()


def test_the_same_price_channel_in_two_currencies_is_fine(pim):
    # when a product has one channel priced in two currencies
    response = pim.post(BULK, {"products": [bulk_row("SNK-1", prices=[
        {"channel": "web", "currency": "EUR", "amount": "10.00"},
        {"channel": "web", "currency": "CHF", "amount": "11.00"},
    ])]})

    # then both prices are stored
    assert response.status_code == 200
    assert len(prices_of("SNK-1")) == 2
