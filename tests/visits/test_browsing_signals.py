"""What a customer looked at online is shown when they visit a store that has it: with a
discount where the store or the channel set one, only with their consent, and only for as long
as signals are kept."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal
from typing import Any

import pytest
from django.utils import timezone

from tests.conftest import error_codes
from tests.factories import ConsentFactory, CustomerFactory, ProductFactory
from visits.browsing import signals_sweep
from visits.models import BrowsingSignal, InStoreDiscount

pytestmark = pytest.mark.django_db

KIM = {"email": "kim@example.de"}


@pytest.fixture
def kim(network: Any) -> Any:
    """Kim, who consented to offers in the store; Munich has A and C, not B."""
    customer = CustomerFactory(email="kim@example.de")
    ConsentFactory(customer=customer, purpose="in_store_offers", granted=True)
    network.stock(network.munich, "A", 3)
    network.stock(network.munich, "C", 1)
    ProductFactory(sku="B")
    return customer


def _signal(shop: Any, kind: str, skus: list[str], customer: dict[str, str] = KIM) -> Any:
    return shop.post("/api/v1/browsing-signals", {"customer": customer, "kind": kind,
                                                  "skus": skus})


def _in_store(api: Any) -> list[dict[str, Any]]:
    response = api("app", channel="app").post("/api/v1/store-visits", {
        "location": "ST-MUC", "customer": KIM, "source": "wallet"})
    assert response.status_code in (200, 201), response.content  # a new visit, or the same
    return response.json()["in_store"]


def test_what_the_customer_looked_at_online_is_shown_where_the_store_has_it(
        kim: Any, shop: Any, api: Any) -> None:
    # given Kim put A in the cart, A and B on the wishlist, and viewed C
    assert _signal(shop, "cart", ["A"]).json() == {"recorded": 1}
    _signal(shop, "wishlist", ["A", "B"])
    _signal(shop, "viewed", ["C"])

    # when Kim walks into Munich, which has A and C
    shown = _in_store(api)

    # then A shows as from the cart (the strongest intent), C as viewed, B not at all
    assert sorted((i["sku"], i["source"], i["available"]) for i in shown) == [
        ("A", "cart", 3), ("C", "viewed", 1)]
    assert all("discount_percent" not in i for i in shown)


def test_a_discount_of_the_channel_or_of_the_store_is_shown(kim: Any, shop: Any,
                                                            api: Any, network: Any) -> None:
    _signal(shop, "wishlist", ["A"])
    InStoreDiscount.objects.create(channel="web", percent=Decimal("10.00"))
    assert _in_store(api)[0]["discount_percent"] == "10.00"
    InStoreDiscount.objects.create(location=network.munich, percent=Decimal("15.00"))
    assert _in_store(api)[0]["discount_percent"] == "15.00"


def test_nothing_is_shown_without_consent_to_offers_in_the_store(kim: Any, shop: Any,
                                                                 api: Any) -> None:
    _signal(shop, "cart", ["A"])
    ConsentFactory(customer=kim, purpose="in_store_offers", granted=False)
    assert _in_store(api) == []


def test_signals_are_kept_only_for_the_configured_days(kim: Any, shop: Any, api: Any,
                                                        settings: Any) -> None:
    # given a signal of 31 days ago with signals kept 30 days
    settings.BROWSING_SIGNAL_AGE = timedelta(days=30)
    _signal(shop, "cart", ["A"])
    BrowsingSignal.objects.update(at=timezone.now() - timedelta(days=31))

    # then it is not shown, and the sweep forgets it (once)
    assert _in_store(api) == []
    assert signals_sweep() == 1
    assert signals_sweep() == 0


def test_an_unknown_customers_signal_is_answered_alike_and_stores_nothing(
        kim: Any, shop: Any) -> None:
    response = _signal(shop, "cart", ["A"], customer={"email": "nobody@example.de"})
    assert response.status_code == 201 and response.json() == {"recorded": 1}
    assert BrowsingSignal.objects.count() == 0


@pytest.mark.parametrize(("body", "code"), [
    ({"customer": KIM, "kind": "liked", "skus": ["A"]}, "invalid_choice"),
    ({"customer": KIM, "kind": "cart", "skus": []}, "empty"),
    ({"customer": KIM, "kind": "cart", "skus": ["NOPE"]}, "unknown_sku"),
    ({"customer": KIM, "kind": "cart", "skus": ["A"], "extra": 1}, "unknown_field"),
    ({"customer": {}, "kind": "cart", "skus": ["A"]}, "invalid"),
])
def test_bad_signals_are_refused_and_store_nothing(kim: Any, shop: Any, body: dict[str, Any],
                                                   code: str) -> None:
    response = shop.post("/api/v1/browsing-signals", body)
    assert response.status_code == 400, response.content
    assert code in error_codes(response)
    assert BrowsingSignal.objects.count() == 0


def test_only_the_webshop_and_the_app_send_signals(kim: Any, api: Any) -> None:
    till = api("pos", location_code="ST-MUC", channel="pos")
    assert _signal(till, "cart", ["A"]).status_code == 403
