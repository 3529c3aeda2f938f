"""Fulfilment orders serving an order (`tests.factories.orders.an_order`): parcels and store
pickups, written directly; the code under test goes through services and events."""

from __future__ import annotations

from datetime import datetime

from django.utils import timezone

from fulfillment.models import FulfillmentLine, FulfillmentOrder
from inventory.models import Location
from oms.orders.models import Order
from tests.factories.inventory import LocationFactory


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
