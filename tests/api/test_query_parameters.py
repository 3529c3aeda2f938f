"""Query parameters are validated, never ignored (issue 17): a bad `limit`, `cursor`, enum or
date, or a parameter the endpoint does not take, answers 400 with the parameter as `attr`."""

from __future__ import annotations

from base64 import b64encode
from typing import Any

import pytest
from django.test import Client

from oms.core.models import ClientKind
from tests.conftest import ApiClientSession
from tests.factories import a_fulfillment, an_order

pytestmark = pytest.mark.django_db

# (kind of client that may read it, path) of lists that are cursor-paginated.
LISTS = [
    (ClientKind.WEBSHOP, "/api/v1/orders"),
    (ClientKind.WMS, "/api/v1/fulfillments"),
    (ClientKind.ERP, "/api/v1/locations"),
    (ClientKind.STAFF, "/api/v1/webhook-subscriptions"),
    (ClientKind.WEBSHOP, "/api/v1/orders/{order}/events"),
]
# (kind, path, parameter, value) of filters with a fixed set of values or a timestamp.
FILTERS = [
    (ClientKind.WEBSHOP, "/api/v1/orders", "status", "lost_in_space"),
    (ClientKind.WMS, "/api/v1/fulfillments", "status", "lost_in_space"),
    (ClientKind.WMS, "/api/v1/fulfillments", "kind", "teleport"),
    (ClientKind.WEBSHOP, "/api/v1/orders", "updated_since", "2026-05-01T10:00:00"),
    (ClientKind.WEBSHOP, "/api/v1/orders", "updated_since", "yesterday"),
    (ClientKind.WEBSHOP, "/api/v1/orders", "updated_since", "2026-13-45T99:00:00Z"),
    (ClientKind.WEBSHOP, "/api/v1/orders", "customer_email", "not-an-address"),
    (ClientKind.WEBSHOP, "/api/v1/availability", "radius_km", "0"),
]
# Every read the API offers, for the parameters no read takes.
READS = [
    *[(kind, path) for kind, path in LISTS],
    (ClientKind.WEBSHOP, "/api/v1/availability"),
    (ClientKind.WEBSHOP, "/api/v1/orders/{order}"),
    (ClientKind.WMS, "/api/v1/fulfillments/{fulfillment}"),
    (ClientKind.PIM, "/api/v1/products/SKU-1"),
    (ClientKind.ERP, "/api/v1/locations/WH-KS"),
]


def cursor_of(raw: str) -> str:
    return b64encode(raw.encode()).decode()


@pytest.fixture
def world(db: Any) -> dict[str, str]:
    """An order of channel `web` with a fulfilment at WH-KS, for the paths that name them."""
    order = an_order([("SKU-1", "Kaffee", 1, "9.99")], channel="web")
    fulfillment = a_fulfillment(order, {"SKU-1": 1})
    return {"order": order.number, "fulfillment": str(fulfillment.pk)}


def reader(api: Any, kind: str) -> ApiClientSession:
    return api(kind, channel="web") if kind == ClientKind.WEBSHOP else api(kind)


def attrs_and_codes(response: Any) -> list[tuple[str | None, str]]:
    return [(e["attr"], e["code"]) for e in response.json()["errors"]]


@pytest.mark.parametrize(("kind", "path"), LISTS)
@pytest.mark.parametrize("limit", ["0", "501", "abc", "-1", "1.5", ""])
def test_a_list_refuses_a_limit_outside_1_to_500(api, world, kind, path, limit):
    # given a client allowed to read the list
    client = reader(api, kind)
    # when it asks for a page size the API does not offer
    response = client.get(path.format(**world), {"limit": limit})
    # then the answer is 400 naming `limit`, not a page of another size
    assert response.status_code == 400, response.content
    assert [attr for attr, _code in attrs_and_codes(response)] == ["limit"]


@pytest.mark.parametrize(("kind", "path"), LISTS)
@pytest.mark.parametrize("cursor", [
    "not-a-cursor", cursor_of("o=1&p=abc"), cursor_of("o=-5"), cursor_of("r=x"), "x" * 201,
    "Ärger",
])
def test_a_list_refuses_a_malformed_cursor(api, world, kind, path, cursor):
    # given a client allowed to read the list
    client = reader(api, kind)
    # when it sends a cursor the API never gave out
    response = client.get(path.format(**world), {"cursor": cursor})
    # then the answer is 400 naming `cursor` (never a 404 or a 500)
    assert response.status_code == 400, response.content
    assert [attr for attr, _code in attrs_and_codes(response)] == ["cursor"]


@pytest.mark.parametrize(("kind", "path"), LISTS)
def test_a_list_follows_its_own_next_link(api, world, kind, path):
    # given a list read one item per page
    client = reader(api, kind)
    first = client.get(path.format(**world), {"limit": 1})
    assert first.status_code == 200, first.content
    # when the client follows `next`, if there is one
    if first.json()["next"]:
        second = client.get(first.json()["next"])
        # then the cursor and limit it carries are accepted
        assert second.status_code == 200, second.content


@pytest.mark.parametrize(("kind", "path", "parameter", "value"), FILTERS)
def test_a_filter_refuses_a_value_it_does_not_know(api, world, kind, path, parameter, value):
    # given a client allowed to read the list
    client = reader(api, kind)
    params = {parameter: value}
    if path.endswith("availability"):
        params["skus"] = "SKU-1"
    # when it filters by an unknown status, a date without offset or a garbage date
    response = client.get(path.format(**world), params)
    # then the answer is 400 naming the parameter, not an unfiltered list
    assert response.status_code == 400, response.content
    assert [attr for attr, _code in attrs_and_codes(response)] == [parameter]


@pytest.mark.parametrize(("kind", "path"), READS)
def test_a_read_refuses_a_parameter_it_does_not_take(api, world, kind, path):
    # given a client allowed to read
    client = reader(api, kind)
    params = {"skus": "SKU-1"} if path.endswith("availability") else {}
    # when it sends a misspelt or foreign parameter
    response = client.get(path.format(**world), {**params, "stauts": "shipped"})
    # then the answer is 400 `unknown_parameter` naming it
    assert response.status_code == 400, response.content
    assert attrs_and_codes(response) == [("stauts", "unknown_parameter")]


def test_a_list_refuses_a_parameter_given_twice(api, world):
    # given a shop reading its orders
    shop = reader(api, ClientKind.WEBSHOP)
    # when it names the status twice
    response = shop.http.get("/api/v1/orders?status=placed&status=shipped")
    # then the answer is 400 `repeated_parameter`: which one it meant is not guessed
    assert response.status_code == 400
    assert attrs_and_codes(response) == [("status", "repeated_parameter")]


def test_a_date_with_offset_and_a_known_status_filter_the_list(api, world):
    # given a shop with one confirmed order
    shop = reader(api, ClientKind.WEBSHOP)
    # when it filters by that status and a time with an offset before the order
    response = shop.get("/api/v1/orders", {"status": "confirmed",
                                           "updated_since": "2000-01-01T00:00:00+01:00",
                                           "limit": "500"})
    # then the order is listed
    assert response.status_code == 200, response.content
    assert [o["number"] for o in response.json()["results"]] == [world["order"]]


def test_an_unauthenticated_read_with_bad_parameters_answers_401_first(world):
    # given no token at all
    anonymous = Client()
    # when a list is read with a bad limit
    response = anonymous.get("/api/v1/orders", {"limit": "0"})
    # then authentication is refused before the parameters are looked at
    assert response.status_code == 401
