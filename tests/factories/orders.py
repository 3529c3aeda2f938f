"""A customer's order with named products, written directly, and the line changes the
shipping and cancelling services would make (`fulfil`, `cancel`)."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import factory
from django.utils import timezone

from oms.orders.models import Consent, Customer, Order, OrderLine
from oms.orders.states import OrderStatus
from tests.factories.catalog import ProductFactory


class CustomerFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Customer
        django_get_or_create = ("email",)

    email = factory.Sequence(lambda n: f"kunde{n}@example.de")
    name = "Kim Schmidt"
    external_id = factory.Sequence(lambda n: f"app-user-{n}")


class ConsentFactory(factory.django.DjangoModelFactory):
    """A consent record as the customer gave it (`at`), recorded now."""

    class Meta:
        model = Consent

    customer = factory.SubFactory(CustomerFactory)
    purpose = "email_marketing"
    granted = True
    source = "webshop_checkout"
    at = factory.LazyFunction(timezone.now)
    recorded_at = factory.LazyFunction(timezone.now)
    recorded_by = "test"


class OrderFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Order

    number = factory.Sequence(lambda n: str(9_000_001 + n))
    channel = "web"
    customer = factory.SubFactory(CustomerFactory)
    currency = "EUR"
    total = Decimal("0.00")
    status = OrderStatus.CONFIRMED
    language = "de"
    delivery_method = "ship"
    delivery_address = factory.LazyFunction(lambda: {
        "line1": "Unter den Linden 1", "postal_code": "10117", "city": "Berlin",
        "country": "DE"})
    placed_by = "test"
    created_at = factory.LazyFunction(timezone.now)
    updated_at = factory.LazyFunction(timezone.now)


def an_order(lines: list[tuple[str, str, int, str]], **fields: Any) -> Order:
    """An allocated order; `lines` are (sku, product name, quantity, unit price)."""
    total = sum((Decimal(price) * quantity for _, _, quantity, price in lines), Decimal("0.00"))
    order = OrderFactory(total=total, **fields)
    for position, (sku, name, quantity, price) in enumerate(lines, start=1):
        ProductFactory(sku=sku, name=name)
        OrderLine.objects.create(order=order, position=position, product_id=sku,
                                 quantity=quantity, unit_price=Decimal(price),
                                 tax_rate=Decimal("19.00"), allocated=quantity)
    return order


def fulfil(order: Order, units: dict[str, int]) -> None:
    """Mark units as shipped on the order lines, as the shipping service does."""
    for line in order.lines.filter(product_id__in=list(units)):
        line.allocated -= units[line.product_id]
        line.fulfilled += units[line.product_id]
        line.save(update_fields=["allocated", "fulfilled"])


def cancel(order: Order, units: dict[str, int]) -> None:
    for line in order.lines.filter(product_id__in=list(units)):
        line.allocated -= units[line.product_id]
        line.cancelled += units[line.product_id]
        line.save(update_fields=["allocated", "cancelled"])
