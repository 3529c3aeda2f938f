"""Reads of returns, and which returns and orders a client may see and act on (API.md: a `pos`
client its store, a `supplier` its sites, selling clients their channel; 404 elsewhere)."""

from __future__ import annotations

from django.db.models import Prefetch, Q, QuerySet
from django.utils.translation import gettext as _

from fulfillment.order_scope import orders_in_scope
from inventory.models import Location
from inventory.scope import location_for_client
from oms.core.errors import NotFound
from oms.core.models import SELLING_KINDS, ApiClient, ClientKind
from oms.orders.models import Order
from payments.models import Refund
from returns.models import Return, ReturnLine

# May take goods back after the window, with a reason: people at a counter or in the office.
MAY_OVERRIDE_WINDOW = frozenset({ClientKind.POS, ClientKind.STAFF})


def returns_in_scope(client: ApiClient,
                     returns: QuerySet[Return] | None = None) -> QuerySet[Return]:
    """A client confined to a location (a till, a warehouse's WMS, a supplier's site) sees the
    returns that location takes back and those it registered itself; an unconfined selling
    client its channel's orders' returns; staff and back office every return."""
    returns = Return.objects.all() if returns is None else returns
    if client.scope_code:
        return returns.filter(Q(location__code=client.scope_code) | Q(placed_by=client.name))
    if client.kind in SELLING_KINDS:
        return returns.filter(order__channel=client.channel)
    return returns


def _with_relations(returns: QuerySet[Return]) -> QuerySet[Return]:
    return returns.select_related("order", "order__customer", "location",
                                  "exchange_order").prefetch_related(
        Prefetch("lines", queryset=ReturnLine.objects.select_related("order_line")
                 .order_by("pk")),
        # The refunds' store credits too: their codes are in the answer (one query, not one
        # per refund).
        Prefetch("order__refunds", queryset=Refund.objects.select_related("store_credit")))


def return_get(*, client: ApiClient, pk: int) -> Return:
    ret = _with_relations(returns_in_scope(client)).filter(pk=pk).first()
    if ret is None:
        raise NotFound(_("No return %(id)s.") % {"id": pk}, attr="id")
    return ret


def return_get_at_location(*, client: ApiClient, pk: int) -> Return:
    """A return the client may receive: a confined client only at its own location."""
    returns = returns_in_scope(client)
    if client.scope_code:
        returns = returns.filter(location__code=client.scope_code)
    ret = returns.filter(pk=pk).first()
    if ret is None:
        raise NotFound(_("No return %(id)s.") % {"id": pk}, attr="id")
    return ret


def return_list(*, client: ApiClient, order: str | None = None, status: str | None = None,
                location: str | None = None) -> QuerySet[Return]:
    returns = returns_in_scope(client)
    if order:
        returns = returns.filter(order__number=order)
    if status:
        returns = returns.filter(status=status)
    if location:
        returns = returns.filter(location__code=location)
    return _with_relations(returns)


def order_for_return(*, client: ApiClient, number: str) -> Order:
    """The order a client may take goods back of: a till confined to a store takes back
    orders of every channel (return in store), any other client only orders in its scope."""
    if client.kind == ClientKind.POS and client.location_code:
        orders = Order.objects.all()
    else:
        orders = orders_in_scope(client, one=True)
    order = orders.filter(number=number).first()
    if order is None:
        raise NotFound(_("No order %(number)s.") % {"number": number}, attr="order")
    return order


def location_for_return(*, client: ApiClient, code: str | None) -> Location | None:
    """Where the client says the goods come back: a till confined to a store, its store (any
    other code is out of its scope: 404); None means by mail."""
    if client.kind == ClientKind.POS and client.location_code and not code:
        code = client.location_code
    if not code:
        return None
    return location_for_client(client, code)
