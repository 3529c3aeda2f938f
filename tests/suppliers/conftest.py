"""A dropship supplier (Nordwerk, site SUP-NORD) whose staff are logged in to the portal, and
dropship orders the webshop places into its site (the SKUs stocked there only, so sourcing
sends them to the supplier)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from django.test import Client
from django.utils import timezone

from fulfillment.models import FulfillmentOrder
from inventory.models import Location, StockLevel
from payments.adapters import psp
from suppliers.models import Supplier, SupplierUser
from tests.factories import ProductFactory
from tests.network import order_body
from tests.suppliers.factories import SupplierFactory, SupplierSiteFactory, SupplierUserFactory


@pytest.fixture(autouse=True)
def _fake_psp(settings: Any) -> None:
    # Shipping captures the payment: at the fake PSP, never a real one.
    settings.PSP_ADAPTER = "payments.adapters.psp.fake"
    psp.fake.reset()


@pytest.fixture
def supplier(db: Any) -> Supplier:
    return SupplierFactory(code="NORD", name="Nordwerk GmbH")


@pytest.fixture
def supplier_site(supplier: Supplier) -> Location:
    return SupplierSiteFactory(supplier=supplier, location__code="SUP-NORD").location


@pytest.fixture
def supplier_user(supplier: Supplier) -> SupplierUser:
    return SupplierUserFactory(supplier=supplier, user__username="nora")


def portal_client(link: SupplierUser, language: str = "en") -> Client:
    """A browser of that supplier user, logged in, in `language` (the switcher's cookie)."""
    client = Client()
    client.force_login(link.user)
    client.cookies["django_language"] = language
    return client


@pytest.fixture
def supplier_client(supplier_user: SupplierUser) -> Client:
    """The portal as Nordwerk's Nora sees it, in English."""
    return portal_client(supplier_user)


def stock(location: Location, sku: str, on_hand: int) -> StockLevel:
    ProductFactory(sku=sku)
    level, _ = StockLevel.objects.update_or_create(
        product_id=sku, location=location,
        defaults={"on_hand": on_hand, "safety_stock": 0, "reserved": 0,
                  "updated_at": timezone.now()})
    return level


@pytest.fixture
def place_dropship(shop: Any, django_capture_on_commit_callbacks: Any,
                   supplier_site: Location) -> Callable[..., FulfillmentOrder]:
    """place_dropship([("BOOT-42", 2)], site=...) → the dropship fulfilment order the webshop's
    order became at the site (Nordwerk's by default), pending."""

    def place(lines: list[tuple[str, int]], *, site: Location | None = None,
              **overrides: Any) -> FulfillmentOrder:
        site = site or supplier_site
        for sku, quantity in lines:
            stock(site, sku, quantity + 10)
        with django_capture_on_commit_callbacks(execute=True):
            response = shop.post("/api/v1/orders", order_body(lines, **overrides))
        assert response.status_code == 201, response.content
        return FulfillmentOrder.objects.get(order__number=response.json()["number"],
                                            location=site)

    return place


@pytest.fixture
def dropship_order(place_dropship: Callable[..., FulfillmentOrder]) -> FulfillmentOrder:
    """One order of 2 boots and 3 pairs of socks, waiting at Nordwerk's site to be accepted."""
    return place_dropship([("BOOT-42", 2), ("SOCK-1", 3)])
