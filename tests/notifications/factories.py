"""Rows a notification test starts from: a customer's order with named products, and the
fulfilment orders serving it. Written directly; the code under test goes through events."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any

import factory
from django.utils import timezone

from fulfillment.models import FulfillmentLine, FulfillmentOrder
from inventory.models import Location
from oms.orders.models import Customer, Order, OrderLine
from oms.orders.states import OrderStatus
from payments.models import Payment
from tests.factories import LocationFactory, ProductFactory


class CustomerFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Customer
        django_get_or_create = ("email",)

    email = factory.Sequence(lambda n: f"kunde{n}@example.de")
    name = "Kim Schmidt"
    external_id = factory.Sequence(lambda n: f"app-user-{n}")


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


def a_fulfillment(order: Order, units: dict[str, int], *, location: Location | None = None,
                  kind: str = "ship") -> FulfillmentOrder:
    now = timezone.now()
    fulfillment = FulfillmentOrder.objects.create(
        order=order, location=location or LocationFactory(code="WH-KS"), kind=kind,
        created_at=now, updated_at=now)
    lines = {ln.product_id: ln for ln in order.lines.all()}
    for sku, quantity in units.items():
        FulfillmentLine.objects.create(fulfillment=fulfillment, order_line=lines[sku],
                                       quantity=quantity)
    return fulfillment


def a_pickup(order: Order, units: dict[str, int], *, store: Location,
             status: str = "ready_for_pickup", deadline: datetime | None = None,
             with_code: bool = True) -> FulfillmentOrder:
    """A click-and-collect fulfilment at `store` with a pickup code, waiting at the counter
    (status written directly: the field is protected and the pickup flow is not under test)."""
    from fulfillment.pickup_codes import code_hash, derive_code, new_salt

    fulfillment = a_fulfillment(order, units, location=store, kind="pickup")
    salt = new_salt() if with_code else ""
    FulfillmentOrder.objects.filter(pk=fulfillment.pk).update(
        status=status, pickup_code_salt=salt,
        pickup_code_hash=code_hash(salt, derive_code(fulfillment.pk, salt)) if salt else "",
        ready_at=timezone.now(), pickup_deadline=deadline)
    return FulfillmentOrder.objects.select_related("location").get(pk=fulfillment.pk)


def a_payment(order: Order, method: str, *, status: str = "authorized") -> Payment:
    now = timezone.now()
    return Payment.objects.create(order=order, method=method, status=status, amount=order.total,
                                  currency=order.currency, created_at=now, updated_at=now)


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


def a_pending_notification(order: Order, *, channel: str = "email") -> Any:
    """A rendered notification whose send task has not run (or was lost)."""
    import uuid

    from fulfillment.notifications.models import Notification

    now = timezone.now()
    return Notification.objects.create(
        event_id=uuid.uuid4(), topic="order.confirmed", kind="order_confirmation",
        channel=channel, order=order, recipient=order.customer.email, language="de",
        subject=f"Ihre Bestellung {order.number} ist bestätigt", body_text="Vielen Dank!\n",
        created_at=now, next_attempt_at=now)
