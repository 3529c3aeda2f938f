"""Rows a cockpit test starts from: store staff (with the permissions the cockpit asks for) and
store pickups in any state at any moment. Written directly; the code under test goes through
the cockpit's views and the pickup services."""

from __future__ import annotations

from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

import factory
from django.contrib.auth.models import Permission, User
from django.utils import timezone

from fulfillment.models import FulfillmentLine, FulfillmentOrder
from fulfillment.states import FulfillmentKind, FulfillmentStatus
from inventory.models import Location
from oms.orders.models import OrderLine
from tests.factories.catalog import ProductFactory
from tests.factories.orders import OrderFactory

PASSWORD = "store-staff-pw"
# What store staff need: the fulfilment orders (to see and to pick and hand over), and the
# stock and orders behind them.
STORE_STAFF_PERMISSIONS = [
    ("fulfillment", "view_fulfillmentorder"),
    ("fulfillment", "change_fulfillmentorder"),
    ("inventory", "view_stocklevel"),
    ("inventory", "view_stockmovement"),
    ("orders", "view_order"),
]


class StoreStaffFactory(factory.django.DjangoModelFactory):
    """`StoreStaffFactory(stores=[munich])`: a staff user (not a superuser) working there."""

    class Meta:
        model = User
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"staff{n}")
    email = factory.LazyAttribute(lambda o: f"{o.username}@example.de")
    is_staff = True
    password = factory.PostGenerationMethodCall("set_password", PASSWORD)

    @factory.post_generation
    def permissions(self, create: bool, extracted: Any, **kwargs: Any) -> None:
        wanted = STORE_STAFF_PERMISSIONS if extracted is None else extracted
        for app_label, codename in [] if self.is_superuser else wanted:
            self.user_permissions.add(Permission.objects.get(
                content_type__app_label=app_label, codename=codename))
        self.save()  # the password

    @factory.post_generation
    def stores(self, create: bool, extracted: Any, **kwargs: Any) -> None:
        for store in extracted or []:
            store.staff.add(self)


class SuperuserFactory(StoreStaffFactory):
    username = factory.Sequence(lambda n: f"admin{n}")
    is_superuser = True


def a_pickup(store: Location, units: dict[str, int] | None = None, *,
             status: str = FulfillmentStatus.PENDING, ordered_at: datetime | None = None,
             ready_at: datetime | None = None, deadline: datetime | None = None,
             email: str | None = None) -> FulfillmentOrder:
    """A click-and-collect order at `store` with its pickup fulfilment order in `status`."""
    units = units or {"BOOT-42": 1}
    ordered_at = ordered_at or timezone.now()
    fields = {"customer__email": email} if email else {}
    order = OrderFactory(delivery_method="pickup", pickup_location=store.code,
                         delivery_address={}, created_at=ordered_at, total=Decimal("0.00"),
                         **fields)
    pickup = FulfillmentOrder.objects.create(
        order=order, location=store, kind=FulfillmentKind.PICKUP, status=status,
        created_at=ordered_at, updated_at=ordered_at, ready_at=ready_at,
        pickup_deadline=deadline or (ready_at + timedelta(days=3) if ready_at else None))
    for position, (sku, quantity) in enumerate(units.items(), start=1):
        ProductFactory(sku=sku)
        line = OrderLine.objects.create(order=order, position=position, product_id=sku,
                                        quantity=quantity, unit_price=Decimal("10.00"),
                                        tax_rate=Decimal("19.00"), allocated=quantity)
        FulfillmentLine.objects.create(fulfillment=pickup, order_line=line, quantity=quantity)
    return pickup
