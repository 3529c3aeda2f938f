"""One JSON error format for the whole API (API.md Conventions, ARCHITECTURE.md rule 10)."""

from __future__ import annotations

from typing import Any

import pytest
from django.db import transaction
from django.test import Client

from inventory.models import StockLevel, StockMovement
from tests.conftest import error_codes
from tests.factories import LocationFactory, ProductFactory, StockLevelFactory

pytestmark = pytest.mark.django_db

SNAPSHOTS = "/api/v1/stock/snapshots"
MOVEMENTS = "/api/v1/stock/movements"


def assert_error_format(response: Any, status: int, error_type: str) -> list[dict[str, Any]]:
    """The response is the documented error body; returns its errors."""
    assert response.status_code == status, response.content
    assert response.headers["Content-Type"].startswith("application/json")
    body = response.json()
    assert set(body) == {"type", "errors"}
    assert body["type"] == error_type
    assert body["errors"]
    for error in body["errors"]:
        assert {"code", "detail", "attr"} <= set(error)
        assert isinstance(error["detail"], str) and error["detail"]
    return body["errors"]


def snapshot(location: str, levels: list[Any]) -> dict[str, Any]:
    return {"location": location, "as_of": "2026-11-01T08:00:00+01:00", "levels": levels}


def test_an_unknown_api_path_is_a_json_404(api: Any) -> None:
    # when a client calls a path that does not exist
    response = api("webshop").get("/api/v1/no-such-thing")

    # then it is a 404 in the error format
    errors = assert_error_format(response, 404, "client_error")
    assert errors[0]["code"] == "not_found"


def test_an_unknown_path_outside_the_api_is_a_json_404_too() -> None:
    # when anyone calls a path that does not exist at all
    response = Client().get("/wp-login.php")

    # then it is a JSON 404, not Django's HTML page
    assert_error_format(response, 404, "client_error")
    assert error_codes(response) == ["not_found"]


def test_a_wrong_method_is_a_json_405(api: Any) -> None:
    # when a client DELETEs the movements collection
    response = api("wms").delete(MOVEMENTS)

    # then it is a 405 in the error format
    errors = assert_error_format(response, 405, "client_error")
    assert errors[0]["code"] == "method_not_allowed"


def test_malformed_json_is_a_400_parse_error(api: Any) -> None:
    # when a client sends a body that is not JSON
    response = api("wms").post(MOVEMENTS, raw='{"location": "WH", ')

    # then it is a 400 parse_error, not a 500
    errors = assert_error_format(response, 400, "client_error")
    assert [e["code"] for e in errors] == ["parse_error"]


def test_a_body_that_is_not_json_is_a_415(api: Any) -> None:
    # when a client sends form data
    client = api("wms")
    response = client.http.post(MOVEMENTS, {"location": "WH"})

    # then it is told the media type is unsupported
    errors = assert_error_format(response, 415, "client_error")
    assert errors[0]["code"] == "unsupported_media_type"


def test_a_validation_error_names_each_field_by_its_dotted_path(api: Any) -> None:
    # given a location and a product
    location = LocationFactory()
    product = ProductFactory()

    # when a snapshot has a negative count in its first level and a bad SKU in its third
    response = api("wms").post(SNAPSHOTS, snapshot(location.code, [
        {"sku": product.sku, "on_hand": -1},
        {"sku": product.sku, "on_hand": 3},
        {"sku": "no spaces allowed", "on_hand": 1},
    ]))

    # then each error names the offending field by its path in the body
    errors = assert_error_format(response, 400, "validation_error")
    assert [(e["attr"], e["code"]) for e in errors] == [
        ("levels.0.on_hand", "invalid"), ("levels.2.sku", "invalid")]


def test_a_validation_error_names_missing_top_level_fields(api: Any) -> None:
    # when a snapshot lacks its location and its time
    response = api("wms").post(SNAPSHOTS, {"levels": [{"sku": "A", "on_hand": 1}]})

    # then both are named
    errors = assert_error_format(response, 400, "validation_error")
    assert sorted((e["attr"], e["code"]) for e in errors) == [
        ("as_of", "required"), ("location", "required")]


def test_a_refused_request_changes_nothing(api: Any) -> None:
    # given stock of 10
    level = StockLevelFactory(on_hand=10)

    # when a snapshot with one good and one bad level is sent
    response = api("wms").post(SNAPSHOTS, snapshot(level.location.code, [
        {"sku": level.product.sku, "on_hand": 99},
        {"sku": level.product.sku, "on_hand": "many"},
    ]))

    # then it is refused as a whole
    assert response.status_code == 400
    level.refresh_from_db()
    assert level.on_hand == 10
    assert not StockMovement.objects.exists()


def test_a_refused_request_leaves_a_transaction_it_did_not_open_usable(api: Any) -> None:
    # given a caller's open transaction with work in it
    with transaction.atomic():
        level = StockLevelFactory(on_hand=10)

        # when a request inside it is refused
        response = Client().get("/api/v1/locations")
        assert response.status_code == 401

        # then the caller can go on using its transaction, and its work commits
        level.on_hand = 11
        level.save()
    assert StockLevel.objects.get(pk=level.pk).on_hand == 11


def test_an_unexpected_exception_in_an_api_view_is_a_json_500(api: Any, settings: Any) -> None:
    # given an API view with a bug
    settings.ROOT_URLCONF = "tests.core.urls"

    # when a client calls it
    response = api("webshop").get("/api/v1/test/crash")

    # then the client gets the error format without any internals
    errors = assert_error_format(response, 500, "server_error")
    assert "RuntimeError" not in response.content.decode()
    assert errors[0]["attr"] is None


def test_an_unexpected_exception_in_a_plain_view_is_a_json_500(settings: Any) -> None:
    # given a non-API view with a bug
    settings.ROOT_URLCONF = "tests.core.urls"

    # when it is called
    response = Client(raise_request_exception=False).get("/test/crash")

    # then Django's 500 handler answers in the error format too
    assert_error_format(response, 500, "server_error")
