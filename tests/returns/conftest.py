"""Orders that reached the customer, ready to come back: shipped from the Kassel warehouse and
delivered, or collected at the Munich store; and the tills that take them back."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from django.utils import timezone

from fulfillment.models import FulfillmentOrder
from fulfillment.pickup import pickup_code
from payments.adapters import psp
from returns.adapters import carrier
from tests.network import order_body


@pytest.fixture(autouse=True)
def _fakes(settings: Any) -> None:
    settings.PSP_ADAPTER = "payments.adapters.psp.fake"
    settings.RETURN_LABEL_ADAPTER = "returns.adapters.carrier.fake"
    psp.fake.reset()
    carrier.fake.reset()


@pytest.fixture
def pos_munich(api: Any) -> Any:
    return api("pos", location_code="ST-MUC", channel="pos")


@pytest.fixture
def pos_berlin(api: Any) -> Any:
    return api("pos", location_code="ST-BER", channel="pos")


@pytest.fixture
def wms_kassel(api: Any) -> Any:
    return api("wms", location_code="WH-KS")


def _order(lines: list[tuple[str, int]], overrides: dict[str, Any]) -> dict[str, Any]:
    """order_body(lines, **overrides), where the overrides may bring lines of their own (with
    prices, tests.returns.support.priced)."""
    own = overrides.pop("lines", None)
    body = order_body(lines, **overrides)
    return body if own is None else {**body, "lines": own}


def _ok(response: Any, status: int = 200) -> dict[str, Any]:
    assert response.status_code == status, response.content
    return response.json()


@pytest.fixture
def after_commit(django_capture_on_commit_callbacks: Any) -> Callable[..., Any]:
    """after_commit(session.post, path, body) → the response, with everything the request
    left for after its commit run (the outbox relay, its handlers, the tasks they queue: a
    capture, a refund at the PSP, a label from the carrier)."""

    def run(call: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
        with django_capture_on_commit_callbacks(execute=True):
            return call(*args, **kwargs)

    return run


@pytest.fixture
def delivered(network: Any, shop: Any, wms_kassel: Any,
              after_commit: Any) -> Callable[..., dict[str, Any]]:
    """delivered([("A", 2)], **order body overrides) → the order JSON, after Kassel shipped
    everything and the carrier reported it delivered."""

    def run(lines: list[tuple[str, int]], /, **overrides: Any) -> dict[str, Any]:
        for sku, _quantity in lines:
            network.stock(network.kassel, sku, 20)
        order = _ok(after_commit(shop.post, "/api/v1/orders", _order(lines, overrides)),
                    201)
        fo = FulfillmentOrder.objects.get(order__number=order["number"])
        _ok(after_commit(wms_kassel.post, f"/api/v1/fulfillments/{fo.pk}/ship",
                         {"carrier": "dhl", "tracking_number": f"T{fo.pk}"}))
        _ok(wms_kassel.post(f"/api/v1/fulfillments/{fo.pk}/tracking-events",
                            {"status": "delivered", "at": timezone.now().isoformat()}))
        return _ok(shop.get(f"/api/v1/orders/{order['number']}"))

    return run


@pytest.fixture
def collected(network: Any, shop: Any, pos_munich: Any,
              after_commit: Any) -> Callable[..., dict[str, Any]]:
    """collected([("A", 2)], **overrides) → a click-and-collect order handed over in Munich."""

    def run(lines: list[tuple[str, int]], /, **overrides: Any) -> dict[str, Any]:
        for sku, _quantity in lines:
            network.stock(network.munich, sku, 20)
        order = _ok(shop.post("/api/v1/orders", _order(
            lines, {"delivery": {"method": "pickup", "location": "ST-MUC"}, **overrides})), 201)
        fo = FulfillmentOrder.objects.get(order__number=order["number"])
        _ok(pos_munich.post(f"/api/v1/fulfillments/{fo.pk}/pick", {"lines": [
            {"sku": sku, "picked": n} for sku, n in lines]}))
        fo.refresh_from_db()
        _ok(after_commit(pos_munich.post, f"/api/v1/fulfillments/{fo.pk}/handover",
                         {"pickup_code": pickup_code(fo)}))
        return _ok(shop.get(f"/api/v1/orders/{order['number']}"))

    return run


def return_body(order: dict[str, Any], lines: list[tuple[str, int]], *,
                method: str = "original", condition: str = "resellable",
                **extra: Any) -> dict[str, Any]:
    return {"order": order["number"],
            "lines": [{"sku": sku, "quantity": n, "reason": "too_small", "condition": condition}
                      for sku, n in lines],
            "refund": {"method": method}, **extra}


def receive_body(lines: list[tuple[str, int]], disposition: str = "restock") -> dict[str, Any]:
    return {"lines": [{"sku": sku, "quantity": n, "disposition": disposition}
                      for sku, n in lines]}
