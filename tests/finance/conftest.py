"""Fixtures for finance: the finance and ERP clients, events published as the fulfilment and
payments layers publish them (relayed, their after-commit work run), and the ledger read back
per account role."""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal
from typing import Any

import pytest
from django.db import transaction
from django.db.models import Sum

from ledger.models import JournalLine
from oms.core.events import event_emit, outbox_relay
from oms.core.models import OutboxEvent
from oms.orders.models import Order

Publish = Callable[..., OutboxEvent]
BANK = "/api/v1/bank-transactions"
OPEN_ITEMS = "/api/v1/open-items"


@pytest.fixture
def finance(api: Any) -> Any:
    return api("finance")


@pytest.fixture
def erp(api: Any) -> Any:
    return api("erp")


@pytest.fixture
def publish(django_capture_on_commit_callbacks: Any) -> Publish:
    """`publish(topic, payload)` emits an event in its own transaction and relays it, running
    every after-commit callback it sets off, as after real commits."""

    def run(topic: str, payload: dict[str, Any], *, aggregate_type: str = "fulfillment",
            aggregate_id: str | int = "1") -> OutboxEvent:
        with django_capture_on_commit_callbacks(execute=True):
            with transaction.atomic():
                event = event_emit(topic=topic, aggregate_type=aggregate_type,
                                   aggregate_id=aggregate_id, payload=payload)
            outbox_relay()
        return event

    return run


@pytest.fixture
def goods_left(publish: Publish) -> Callable[..., OutboxEvent]:
    """`goods_left(order, "119.00")`: a parcel of `order` shipped (or, with
    `topic="fulfillment.picked_up"`, a pickup handed over) worth that much."""

    def run(order: Order, amount: str, *, topic: str = "fulfillment.shipped") -> OutboxEvent:
        payload: dict[str, Any] = {"id": 7, "order": order.number, "location": "WH-KS",
                                   "kind": "ship", "status": "shipped", "amount": amount,
                                   "currency": order.currency}
        if topic == "fulfillment.picked_up":
            payload.update(kind="pickup", status="picked_up", location="ST-BER")
        return publish(topic, payload, aggregate_id=7)

    return run


@pytest.fixture
def credit_note(publish: Publish) -> Callable[..., OutboxEvent]:
    """`credit_note(order, "30.00")`: a return's refund credited against the invoice, as
    `payments.services.refunds` publishes it (``refund.issued``, route ``receivable``)."""
    ids = iter(range(500, 10_000))

    def run(order: Order, amount: str, *, route: str = "receivable") -> OutboxEvent:
        refund = next(ids)
        return publish("refund.issued", {
            "id": refund, "order": order.number, "reference": "R-000001", "method": "original",
            "route": route, "status": "issued", "amount": amount, "currency": order.currency,
            "payment": None, "location": None, "issued_at": None, "return": "R-000001"},
            aggregate_type="refund", aggregate_id=refund)

    return run


def balances(*sources: str) -> dict[str, Decimal]:
    """Debit minus credit per account role over the lines of the entries finance posted (their
    source starts with one of `sources`: the ledger's posting rules book the same events too),
    zero balances left out."""
    lines = JournalLine.objects.none()
    for source in sources:
        lines |= JournalLine.objects.filter(entry__source__startswith=source)
    rows = (lines.values("account__role")
            .annotate(debit=Sum("debit"), credit=Sum("credit")))
    return {r["account__role"]: r["debit"] - r["credit"] for r in rows
            if r["debit"] != r["credit"]}


def error_codes(response: Any) -> list[str]:
    return [e["code"] for e in response.json()["errors"]]
