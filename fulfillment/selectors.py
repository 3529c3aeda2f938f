"""Reads of orders and fulfilment orders as an API client may see them: the rows with the
relations their representation shows, loaded in a fixed number of queries, narrowed to the
client's scope. Anything outside the scope does not exist for the client (404, absent from
lists; API.md: never 403 with data).

Which orders a client may see is decided in `fulfillment.order_scope` (the one place, with its
index-driven queries); these selectors add the relations and the 404."""

from __future__ import annotations

from datetime import datetime

from django.db.models import Prefetch, Q, QuerySet
from django.utils.translation import gettext as _

from fulfillment.dispatch import with_dispatch_attempt
from fulfillment.models import FulfillmentLine, FulfillmentOrder, Shipment
from fulfillment.order_scope import orders_in_scope
from oms.core.errors import NotFound
from oms.core.models import SELLING_KINDS, ApiClient
from oms.orders.models import Order, OrderEvent


def _orders_with_relations(client: ApiClient, *, one: bool) -> QuerySet[Order]:
    orders = Order.objects.select_related("customer").prefetch_related(
        "lines", "payments",
        Prefetch("fulfillments", queryset=FulfillmentOrder.objects.select_related("location")
                 .prefetch_related(Prefetch("lines", queryset=FulfillmentLine.objects
                                            .select_related("order_line")))
                 .order_by("pk")),
    )
    # Channel and store/supplier confinement: decided in one place (fulfillment.order_scope).
    return orders_in_scope(client, orders, one=one)


def order_list(*, client: ApiClient, status: str | None = None,
               customer_email: str | None = None,
               updated_since: datetime | None = None) -> QuerySet[Order]:
    """The orders `client` may see, with lines, payments and fulfilments (and theirs),
    narrowed by whichever filters are given."""
    orders = _orders_with_relations(client, one=False)
    if status is not None:
        orders = orders.filter(status=status)
    if customer_email is not None:
        orders = orders.filter(customer__email=customer_email.lower())
    if updated_since is not None:
        orders = orders.filter(updated_at__gte=updated_since)
    return orders


def order_get(*, client: ApiClient, number: str) -> Order:
    """One order `client` may see, as `order_list` loads it; NotFound (404) otherwise."""
    order = _orders_with_relations(client, one=True).filter(number=number).first()
    if order is None:
        raise NotFound(_("No order %(number)s.") % {"number": number}, attr="number")
    return order


def order_event_list(*, order: Order) -> QuerySet[OrderEvent]:
    """The audit trail of an order the caller has already found in scope (`order_get`)."""
    return OrderEvent.objects.filter(order=order)


def fulfillment_list(*, client: ApiClient, incoming: bool = True, location: str | None = None,
                     status: str | None = None, kind: str | None = None,
                     order: str | None = None,
                     customer_email: str | None = None) -> QuerySet[FulfillmentOrder]:
    """The fulfilment orders `client` may see, with lines and shipments, narrowed by whichever
    filters are given (`location`: its code, `order`: the order number).

    A client confined to a location sees its fulfilment orders, of every channel (a store
    hands over the webshop's pickups), and, when `incoming`, the transfers on their way to it
    (which it may only receive). A selling client confined to no location sees only its own
    channel's, as with orders (fulfillment.order_scope)."""
    fulfillments = with_dispatch_attempt(FulfillmentOrder.objects).select_related(
        "order", "order__customer", "location", "destination").prefetch_related(
        Prefetch("lines", queryset=FulfillmentLine.objects.select_related("order_line")
                 .order_by("pk")),
        Prefetch("shipments", queryset=Shipment.objects.prefetch_related(
            "lines__fulfillment_line__order_line").order_by("pk")),
    )
    if client.scope_code:
        mine = Q(location__code=client.scope_code)
        if incoming:
            mine |= Q(destination__code=client.scope_code)
        fulfillments = fulfillments.filter(mine)
    elif client.kind in SELLING_KINDS:
        fulfillments = fulfillments.filter(order__channel=client.channel)
    if location is not None:
        fulfillments = fulfillments.filter(location__code=location)
    if status is not None:
        fulfillments = fulfillments.filter(status=status)
    if kind is not None:
        fulfillments = fulfillments.filter(kind=kind)
    if order is not None:
        fulfillments = fulfillments.filter(order__number=order)
    if customer_email is not None:
        fulfillments = fulfillments.filter(order__customer__email=customer_email.lower())
    return fulfillments


def fulfillment_get(*, client: ApiClient, pk: int, incoming: bool = False) -> FulfillmentOrder:
    """One fulfilment order `client` may see (see `fulfillment_list`); NotFound otherwise."""
    fulfillment = fulfillment_list(client=client, incoming=incoming).filter(pk=pk).first()
    if fulfillment is None:
        raise NotFound(_("No fulfilment %(id)s.") % {"id": pk}, attr="id")
    return fulfillment


def transfer_get_for_receiver(*, client: ApiClient, pk: int) -> FulfillmentOrder:
    """A transfer only the store it is meant for receives, not the location sending it."""
    transfers = fulfillment_list(client=client, incoming=True)
    if client.scope_code:
        transfers = transfers.filter(destination__code=client.scope_code)
    transfer = transfers.filter(pk=pk).first()
    if transfer is None:
        raise NotFound(_("No fulfilment %(id)s.") % {"id": pk}, attr="id")
    return transfer
