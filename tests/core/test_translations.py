"""User-facing text is translated: German for clients that ask for it, English by default."""

from __future__ import annotations

import pytest

from tests.conftest import error_codes


@pytest.mark.django_db
def test_errors_speak_german_to_clients_that_ask_for_it(api):
    shop = api("webshop")
    response = shop.http.get("/api/v1/availability", {"skus": "NOPE"},
                             HTTP_ACCEPT_LANGUAGE="de")
    assert error_codes(response) == ["unknown_sku"]
    assert response.json()["errors"][0]["detail"] == "Unbekannte SKUs: NOPE."


@pytest.mark.django_db
def test_errors_are_english_by_default(api):
    response = api("webshop").get("/api/v1/availability", {"skus": "NOPE"})
    assert response.json()["errors"][0]["detail"] == "Unknown SKUs: NOPE."
