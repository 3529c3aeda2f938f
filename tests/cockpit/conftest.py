"""Two click-and-collect stores (Munich and Berlin, from the order tests' network), their
staff logged into the cockpit, and pickups placed through the API like any webshop order."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from django.contrib.auth.models import User
from django.test import Client

from fulfillment.models import FulfillmentOrder
from inventory.models import Location, StockLevel
from tests.factories.cockpit import StoreStaffFactory
from tests.network import order_body


def logged_in(user: User) -> Client:
    browser = Client()
    browser.force_login(user)
    return browser


@pytest.fixture
def munich_staff(network: Any) -> Client:
    return logged_in(StoreStaffFactory(username="mia", stores=[network.munich]))


@pytest.fixture
def berlin_staff(network: Any) -> Client:
    return logged_in(StoreStaffFactory(username="ben", stores=[network.berlin]))


PlacePickup = Callable[..., FulfillmentOrder]


@pytest.fixture
def place_pickup(network: Any, api: Any) -> PlacePickup:
    """place_pickup(store, {"A": 2}) → the store's pickup fulfilment order of a new webshop
    order (the store gets the stock it needs first)."""
    shop = api("webshop", channel="web")

    def place(store: Location, units: dict[str, int], **overrides: Any) -> FulfillmentOrder:
        for sku in units:
            if not StockLevel.objects.filter(product_id=sku, location=store).exists():
                network.stock(store, sku, 100)
        body = order_body(list(units.items()),
                          delivery={"method": "pickup", "location": store.code}, **overrides)
        response = shop.post("/api/v1/orders", body)
        assert response.status_code == 201, response.content
        return FulfillmentOrder.objects.get(order__number=response.json()["number"],
                                            location=store)

    return place


def messages_of(response: Any) -> list[str]:
    return [str(m) for m in response.context["messages"]]
