"""Fixtures for payments: the fake PSP, orders placed through the API, the PSP as a client,
shipments leaving and pickups handed over or expiring (the `fulfillment.shipped`,
`fulfillment.picked_up` and `fulfillment.pickup_expired` events the fulfilment layer
publishes)."""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import pytest
from django.db import transaction

from oms.core import tasks
from oms.core.events import event_emit
from oms.core.models import OutboxEvent
from oms.orders.models import Order
from payments.adapters.psp import FakePaymentServiceProvider, fake
from payments.handlers import (
    capture_picked_up_amount,
    capture_shipped_amount,
    give_back_expired_pickup,
)
from payments.models import Payment
from tests.factories import PspEventBodyFactory
from tests.network import order_body

EVENTS = "/api/v1/payments/events"
CAPTURE_HANDLER = f"{capture_shipped_amount.__module__}.{capture_shipped_amount.__qualname__}"
HANDOVER_HANDLER = f"{capture_picked_up_amount.__module__}.{capture_picked_up_amount.__qualname__}"
EXPIRY_HANDLER = f"{give_back_expired_pickup.__module__}.{give_back_expired_pickup.__qualname__}"
_tracking = itertools.count(1)


@pytest.fixture
def psp(settings: Any) -> Iterator[FakePaymentServiceProvider]:
    """The fake PSP every capture goes to; inspect `calls`, `captures`, queue `fail_next`."""
    settings.PSP_ADAPTER = "payments.adapters.psp.fake"
    fake.reset()
    yield fake
    fake.reset()


@pytest.fixture
def psp_client(api: Any) -> Any:
    return api("psp")


@pytest.fixture
def stocked(network: Any) -> Any:
    """Kassel holds plenty of A and B."""
    network.stock(network.kassel, "A", 50)
    network.stock(network.kassel, "B", 50)
    return network


@dataclass
class Placed:
    number: str
    payment: Payment

    @property
    def order(self) -> Order:
        return Order.objects.get(number=self.number)

    def reload(self) -> Payment:
        self.payment.refresh_from_db()
        return self.payment


@pytest.fixture
def place(stocked: Any, shop: Any) -> Callable[..., Placed]:
    """`place(method="card", status="authorized", lines=[("A", 2)])` places an order through the
    API (price 10.00 a unit) and returns its number and payment."""

    def make(*, method: str = "card", status: str = "authorized",
             lines: list[tuple[str, int]] | None = None, price: str = "10.00") -> Placed:
        body = order_body(lines or [("A", 2)], price=price)
        body["payment"].update(method=method, status=status)
        if method not in ("card", "paypal", "direct_debit"):
            body["payment"].pop("psp_reference")
        response = shop.post("/api/v1/orders", body)
        assert response.status_code == 201, response.content
        number = response.json()["number"]
        return Placed(number, Payment.objects.get(order__number=number))

    return make


def psp_event(placed: Placed, **fields: Any) -> dict[str, Any]:
    return PspEventBodyFactory(psp_reference=placed.payment.psp_reference, **fields)


def shipped(number: str, amount: str, *, currency: str = "EUR", kind: str = "ship",
            lines: list[tuple[str, int]] | None = None) -> OutboxEvent:
    """The fulfilment layer's event for a shipment that left, committed to the outbox."""
    tracking = f"TRK{next(_tracking):06d}"
    with transaction.atomic():
        return event_emit(
            topic="fulfillment.shipped", aggregate_type="fulfillment", aggregate_id=7,
            payload={
                "id": 7, "order": number, "location": "WH-KS", "kind": kind,
                "status": "shipped",
                "shipment": {"id": int(tracking[3:]), "carrier": "DHL",
                             "tracking_number": tracking,
                             "lines": [{"sku": s, "quantity": q}
                                       for s, q in (lines or [("A", 1)])]},
                "amount": amount, "currency": currency,
            },
        )


def pickup_event(topic: str, number: str, amount: str, *, currency: str = "EUR") -> OutboxEvent:
    """The fulfilment layer's event for a pickup at store KS-CITY that was collected
    (``fulfillment.picked_up``) or not (``fulfillment.pickup_expired``), committed to the
    outbox."""
    status = "picked_up" if topic == "fulfillment.picked_up" else "expired"
    with transaction.atomic():
        return event_emit(
            topic=topic, aggregate_type="fulfillment", aggregate_id=8,
            payload={"id": 8, "order": number, "location": "KS-CITY", "kind": "pickup",
                     "status": status, "amount": amount, "currency": currency},
        )


def picked_up(number: str, amount: str, **kwargs: Any) -> OutboxEvent:
    return pickup_event("fulfillment.picked_up", number, amount, **kwargs)


def pickup_expired(number: str, amount: str, **kwargs: Any) -> OutboxEvent:
    return pickup_event("fulfillment.pickup_expired", number, amount, **kwargs)


@pytest.fixture
def run_capture_handler(django_capture_on_commit_callbacks: Any) -> Callable[[OutboxEvent], None]:
    """Deliver the event to the capture handler as the relay does (the Celery task
    `handle_event`, run in-process), then run what it queued after commit (the captures)."""

    def run(event: OutboxEvent) -> None:
        with django_capture_on_commit_callbacks(execute=True):
            tasks.handle_event.delay(event_id=str(event.id), handler=CAPTURE_HANDLER)

    return run


@pytest.fixture
def deliver(django_capture_on_commit_callbacks: Any) -> Callable[[OutboxEvent, str], None]:
    """`deliver(event, HANDOVER_HANDLER)`: what `run_capture_handler` does, for any handler."""

    def run(event: OutboxEvent, handler: str) -> None:
        with django_capture_on_commit_callbacks(execute=True):
            tasks.handle_event.delay(event_id=str(event.id), handler=handler)

    return run


def money(value: str) -> Decimal:
    return Decimal(value)
