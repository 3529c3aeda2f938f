"""What of an order can still come back, until when, and under which channel policy. Called
with the order row locked (returns.services), so that two returns of one order count each
other's units."""

from __future__ import annotations

from datetime import datetime, timedelta

from django.db.models import Max, Sum
from django.db.models.functions import Coalesce

from fulfillment.models import FulfillmentOrder, Shipment
from oms.orders.models import Order
from returns.models import ReturnLine, ReturnPolicy
from returns.states import OPEN, LineStatus


def policy_for(channel: str) -> ReturnPolicy:
    """The channel's policy, else the default row, else the built-in defaults (30 days)."""
    policies = {p.channel: p for p in ReturnPolicy.objects.filter(channel__in=[channel, ""])}
    return policies.get(channel) or policies.get("") or ReturnPolicy(channel="")


def returnable_units(order: Order) -> dict[str, int]:
    """Per SKU: units delivered or handed over, less those back already and those announced
    by returns still open."""
    announced = dict(ReturnLine.objects
                     .filter(return_order__order=order, return_order__status__in=OPEN,
                             status=LineStatus.ANNOUNCED)
                     .values_list("order_line__product_id")
                     .annotate(n=Sum("quantity")).values_list("order_line__product_id", "n"))
    return {ln.product_id: ln.fulfilled - ln.returned - announced.get(ln.product_id, 0)
            for ln in order.lines.all()}


def arrived_at(order: Order) -> datetime | None:
    """When the customer last got goods of the order: a pickup handed over, a parcel
    delivered (or, without a delivery scan, shipped). The window runs from there."""
    picked_up = FulfillmentOrder.objects.filter(order=order).aggregate(
        at=Max("picked_up_at"))["at"]
    delivered = Shipment.objects.filter(fulfillment__order=order).aggregate(
        at=Max(Coalesce("delivered_at", "shipped_at")))["at"]
    times = [t for t in (picked_up, delivered) if t is not None]
    return max(times) if times else None


def window_end(order: Order, policy: ReturnPolicy) -> datetime | None:
    arrived = arrived_at(order)
    return arrived + timedelta(days=policy.window_days) if arrived else None


