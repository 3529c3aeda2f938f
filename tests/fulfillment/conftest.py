from __future__ import annotations

from typing import Any

import pytest

from fulfillment.models import FulfillmentOrder
from oms.core.models import OutboxEvent
from tests.network import order_body


@pytest.fixture
def wms(api: Any) -> Any:
    """An unscoped WMS client (scoped ones are made in the tests that need them)."""
    return api("wms")


@pytest.fixture
def place(shop: Any) -> Any:
    """place([("A", 2)], **body overrides) → the order JSON."""

    def run(lines: list[tuple[str, int]], **overrides: Any) -> dict[str, Any]:
        response = shop.post("/api/v1/orders", order_body(lines, **overrides))
        assert response.status_code == 201, response.content
        return response.json()

    return run


def fulfillment_of(order: dict[str, Any], location: str) -> FulfillmentOrder:
    return FulfillmentOrder.objects.get(order__number=order["number"], location__code=location)


def expire_due_pickups_then_redeliver(captured: Any) -> OutboxEvent:
    """The beat sweep expires the one pickup past its deadline (its handlers run after the
    commit); then every handler of its `fulfillment.pickup_expired` is delivered again, as a
    broker redelivery would. `captured` is `django_capture_on_commit_callbacks`."""
    from fulfillment.pickup_tasks import expire_due_pickups
    from oms.core.events import handlers_for
    from oms.core.tasks import handle_event

    with captured(execute=True):
        assert expire_due_pickups.apply().get() == 1
    event = OutboxEvent.objects.get(topic="fulfillment.pickup_expired")
    for name in handlers_for(event.topic):
        with captured(execute=True):
            handle_event.apply(kwargs={"event_id": str(event.id), "handler": name})
    return event
