"""factory-boy factories of the finance app: invoice orders, open items as the world a test
starts from, and the bodies an ERP posts (the code under test creates items from events and
transactions through the API)."""

from __future__ import annotations

import itertools
import uuid
from datetime import timedelta
from decimal import Decimal
from typing import Any

import factory
from django.utils import timezone

from finance.models import OpenItem, PaymentTerms
from finance.services.schedule import dunning_levels, next_step_at
from oms.orders.models import Order
from payments.models import Payment
from tests.factories import an_order

_skus = itertools.count(1)


def an_invoice_order(total: str = "119.00", *, method: str = "invoice",
                     tax_rate: str = "19.00", **fields: Any) -> Order:
    """An order of one line worth `total` (gross), paid by invoice (or `method`)."""
    sku = f"FIN-{next(_skus)}"
    order = an_order([(sku, "Wanderjacke", 1, total)], **fields)
    order.lines.update(tax_rate=Decimal(tax_rate))
    now = timezone.now()
    Payment.objects.create(order=order, method=method, status="pending", amount=order.total,
                           currency=order.currency, created_at=now, updated_at=now)
    return order


class OpenItemFactory(factory.django.DjangoModelFactory):
    """An open item of an invoice order, invoiced `invoiced_on` (default: 30 days ago), due 14
    days later, in the dunning queue as the service would put it."""

    class Meta:
        model = OpenItem
        skip_postgeneration_save = True

    order = factory.LazyAttribute(lambda o: an_invoice_order(str(o.amount)))
    customer = factory.LazyAttribute(lambda o: o.order.customer)
    event_id = factory.LazyFunction(uuid.uuid4)
    kind = "invoice"
    currency = "EUR"
    amount = Decimal("119.00")
    invoiced_on = factory.LazyFunction(lambda: timezone.localdate() - timedelta(days=30))
    due_date = factory.LazyAttribute(lambda o: o.invoiced_on + timedelta(days=14))
    created_at = factory.LazyFunction(timezone.now)
    updated_at = factory.LazyFunction(timezone.now)

    @factory.post_generation
    def scheduled(item: OpenItem, create: bool, extracted: Any, **kwargs: Any) -> None:
        if create and extracted is not False:
            item.next_dunning_at = next_step_at(item, dunning_levels())
            item.save(update_fields=["next_dunning_at"])


def an_item_due(days_ago: int, amount: str = "119.00", **fields: Any) -> OpenItem:
    """An open item whose due date was `days_ago` days ago (negative: still to come)."""
    due = timezone.localdate() - timedelta(days=days_ago)
    return OpenItemFactory(amount=Decimal(amount), due_date=due,
                           invoiced_on=due - timedelta(days=14), **fields)


class PaymentTermsFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = PaymentTerms
        django_get_or_create = ("channel",)

    channel = "web"
    days = 30


class BankTransactionBodyFactory(factory.DictFactory):
    """The JSON body of `POST /api/v1/bank-transactions`."""

    reference = factory.Sequence(lambda n: f"BANK-2026-{n:06d}")
    amount = "119.00"
    currency = "EUR"
    booked_at = factory.LazyFunction(lambda: timezone.localdate().isoformat())
    purpose = "Rechnung"
