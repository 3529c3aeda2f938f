"""Rows and steps the settlement and supplier-returns tests start from: purchase prices, and a
dropship fulfilment accepted and shipped (in part) through the fulfilment services, with every
after-commit effect run (the outbox relay and its handlers: the settlement, the ledger, the
capture at the fake PSP).

Importing this module registers the settlement handler (`suppliers.settlement_handlers`), as
`SuppliersConfig.ready()` will once the lead wires it."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

import factory
from django.utils import timezone

import suppliers.settlement_handlers  # noqa: F401 - registers the handler
from fulfillment.lifecycle import fulfillment_accept, fulfillment_ship, fulfillment_tracking_event
from fulfillment.models import FulfillmentOrder, Shipment
from fulfillment.states import FulfillmentStatus
from suppliers.models import PurchasePrice


class PurchasePriceFactory(factory.django.DjangoModelFactory):
    """`PurchasePriceFactory(supplier=s, product_id="BOOT-42", net_price="20.00")`."""

    class Meta:
        model = PurchasePrice

    net_price = Decimal("10.00")
    currency = "EUR"
    tax_rate = Decimal("19.00")
    valid_from = date(2020, 1, 1)


def ship(capture: Any, fo: FulfillmentOrder, units: dict[str, int] | None = None, *,
         tracking: str | None = None) -> Shipment:
    """The supplier accepts (if not yet) and ships `units` (everything open if None);
    `capture` is pytest-django's django_capture_on_commit_callbacks."""
    fo.refresh_from_db()
    with capture(execute=True):
        if fo.status == FulfillmentStatus.PENDING:
            fulfillment_accept(fulfillment=fo, actor="supplier:test")
        shipment = fulfillment_ship(
            fulfillment=fo, carrier="dhl",
            tracking_number=tracking or f"T{fo.pk}-{Shipment.objects.count() + 1}",
            lines=units, actor="supplier:test")
    return shipment


def deliver(capture: Any, fo: FulfillmentOrder) -> None:
    with capture(execute=True):
        fulfillment_tracking_event(fulfillment=fo, status="delivered", at=timezone.now(),
                                   actor="carrier:test")
