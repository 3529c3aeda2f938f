"""The building blocks every fulfilment service uses: lock the order row then the fulfilment
row (the fixed order), check a transition, save it with its audit entry and outbox event, and
the units and value of fulfilment lines."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from decimal import Decimal
from typing import Any

from django.utils import timezone
from django.utils.translation import gettext as _
from django_fsm import can_proceed

from fulfillment.models import FulfillmentLine, FulfillmentOrder
from fulfillment.services import fulfillment_payload
from oms.core.errors import Conflict, InvalidTransition
from oms.core.events import event_emit
from oms.orders.amounts import PricedLine, goods_value
from oms.orders.models import Order, OrderLine
from oms.orders.services import order_event_record, order_lock
from oms.orders.states import OrderStatus


def lock_fulfillment(fulfillment: FulfillmentOrder) -> tuple[Order, FulfillmentOrder]:
    order = order_lock(order=fulfillment.order)
    fo = (FulfillmentOrder.objects.select_for_update(of=("self",), no_key=True)
          .select_related("location", "order").get(pk=fulfillment.pk))
    return order, fo


def refuse_on_hold(order: Order) -> None:
    if order.status == OrderStatus.ON_HOLD:
        raise Conflict(_("Order %(number)s is on hold until its payment is secured.")
                       % {"number": order.number}, code="order_on_hold", attr="order")


def step(fo: FulfillmentOrder, transition: Callable[[], None]) -> None:
    if not can_proceed(transition):
        raise InvalidTransition(
            _("Fulfilment %(id)s is %(status)s.") % {"id": fo.pk,
                                                   "status": fo.get_status_display()},
            attr="status",
        )
    transition()


def save_and_publish(order: Order, fo: FulfillmentOrder, topic: str, actor: str,
                     data: dict[str, Any] | None = None) -> None:
    fo.updated_at = timezone.now()
    fo.save(update_fields=["status", "reason", "updated_at"])
    payload = {**fulfillment_payload(fo), **(data or {})}
    order_event_record(order=order, type=topic, actor=actor, data=payload)
    event_emit(topic=topic, aggregate_type="fulfillment", aggregate_id=fo.pk, payload=payload)


def lines_of(fo: FulfillmentOrder) -> list[FulfillmentLine]:
    return list(fo.lines.select_related("order_line"))


def open_units(fo: FulfillmentOrder,
               lines: Iterable[FulfillmentLine] | None = None) -> dict[str, int]:
    return {ln.sku: ln.open_quantity for ln in (lines if lines is not None else lines_of(fo))
            if ln.open_quantity}


def move_out(fo: FulfillmentOrder, units: Mapping[str, int],
             lines: Iterable[FulfillmentLine] | None = None) -> None:
    """These units are no longer this location's job (re-sourced or cancelled)."""
    for line in lines if lines is not None else lines_of(fo):
        moved = units.get(line.sku, 0)
        if moved:
            line.cancelled += moved
            line.save(update_fields=["cancelled"])


def units_value(order: Order, units: Mapping[str, int], *, counted: Mapping[str, int],
                shipping: bool = False, lines: Iterable[OrderLine] | None = None) -> Decimal:
    """What `units` are worth (the amount to capture, collect or give back): the order's prices
    less their share of its discount, counted on from `counted` units of each line
    (oms.orders.amounts), plus the order's shipping if `shipping`. `lines`: the order's lines,
    if the caller read them already."""
    lines = order.lines.all() if lines is None else lines
    priced = [PricedLine(ln.product_id, ln.quantity, ln.unit_price) for ln in lines]
    value = goods_value(lines=priced, discount=order.discount_total, counted=counted,
                        units=units)
    return value + (order.shipping_total if shipping else Decimal("0.00"))


def order_lines_before(order: Order) -> tuple[list[OrderLine], dict[str, int]]:
    """The order's lines and the units of each fulfilled so far, read once before new ones
    are counted (`units_value` takes both)."""
    lines = list(order.lines.all())
    return lines, {ln.product_id: ln.fulfilled for ln in lines}


def units_json(units: Mapping[str, int]) -> list[dict[str, Any]]:
    return [{"sku": sku, "quantity": n} for sku, n in units.items()]
