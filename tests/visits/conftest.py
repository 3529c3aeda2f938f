"""The visits suite's customer: Kim, with an order of one A and one B shipping from the Kassel
warehouse (not started there), and the Munich click-and-collect store she walks into."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest

from oms.orders.models import Customer
from tests.factories import ConsentFactory
from tests.network import order_body

CUSTOMER = {"email": "kim@example.de"}


@pytest.fixture
def app(api: Any) -> Any:
    return api("app", channel="app")


@pytest.fixture
def ordered(network: Any, shop: Any) -> Any:
    """ordered(consent=True, munich={"A": 5}, shipping="4.95", paid="authorized") → the order
    JSON of one A and one B at 10.00 shipping from Kassel (not started there), with the store's
    stock, the shipping charge, the card payment's status and the customer's consent as
    given."""

    def run(*, consent: bool | None = True, munich: dict[str, int] | None = None,
            shipping: str = "0.00", paid: str = "authorized") -> Any:
        network.stock(network.kassel, "A", 10)
        network.stock(network.kassel, "B", 10)
        for sku, n in (munich if munich is not None else {"A": 5, "B": 5}).items():
            network.stock(network.munich, sku, n)
        body = order_body([("A", 1), ("B", 1)])
        body["shipping"] = shipping
        body["payment"]["status"] = paid
        body["payment"]["amount"] = str(Decimal("20.00") + Decimal(shipping))
        response = shop.post("/api/v1/orders", body)
        assert response.status_code == 201, response.content
        if consent is not None:
            ConsentFactory(customer=Customer.objects.get(email="kim@example.de"),
                           purpose="in_store_offers", granted=consent)
        return response.json()

    return run


def visit(client: Any, location: str = "ST-MUC", **customer: str) -> Any:
    return client.post("/api/v1/store-visits", {"location": location,
                                                "customer": customer or CUSTOMER,
                                                "source": "geofence"})
