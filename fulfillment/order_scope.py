"""Which orders a client may see and change: the one place order scope is decided.

Every order read of the API (one order, the list, the audit trail, cancellation) goes through
`orders_in_scope`, so an order outside a client's scope does not exist for it (404, absent from
lists; API.md: never 403 with data).

- A selling client (webshop, app, pos, marketplace) sees only its own channel's orders.
- A client confined to a location (a store's till, a WMS of one warehouse, a supplier's site)
  sees, within that, only the orders it placed itself and the orders its location serves: a
  fulfilment order at the location, a transfer on its way to it, or a pickup there. A till of
  store A thus keeps the orders it took for shipping from a warehouse, and the click-and-collect
  orders its store hands over, but not the orders store B's till took.
- Unconfined back-office clients (staff, ERP) see every order.
"""

from __future__ import annotations

from django.db.models import Exists, OuterRef, Q, QuerySet

from fulfillment.models import FulfillmentOrder
from inventory.models import Location
from oms.core.models import SELLING_KINDS, ApiClient
from oms.orders.models import Order


def orders_in_scope(client: ApiClient, orders: QuerySet[Order] | None = None, *,
                    one: bool = False) -> QuerySet[Order]:
    """`orders` (every order by default) narrowed to what `client` may see and change. `one`:
    the caller narrows to a single order (by number), which then is checked row by row."""
    orders = Order.objects.all() if orders is None else orders
    if client.kind in SELLING_KINDS:
        orders = orders.filter(channel=client.channel)
    if client.scope_code:
        orders = orders.filter(_one_in_scope(client) if one else _ids_in_scope(client))
    return orders


def _location_id(code: str) -> QuerySet[Location]:
    # A scalar subquery: the fulfilment orders are then probed by an integer column, no join.
    return Location.objects.filter(code=code).order_by().values("pk")[:1]


def _ids_in_scope(client: ApiClient) -> Q:
    """For lists: the ids in scope as one UNION ALL of four index scans (`order_placed_by`,
    `order_pickup_location`, the fulfilment orders' location and destination indexes), which
    PostgreSQL hashes once and merges with the list's walk down the primary key. An OR of the
    same conditions cannot use an index and scanned every order of the channel (EXPLAIN on
    300,000 orders and 200 stores: 9 ms instead of 100-780 ms). IN, not a join: no order twice."""
    code, location = client.scope_code, _location_id(client.scope_code)
    ids = Order.objects.filter(placed_by=client.name).values("pk").union(
        Order.objects.filter(pickup_location=code).exclude(pickup_location="").values("pk"),
        FulfillmentOrder.objects.filter(location_id=location).values("order_id"),
        FulfillmentOrder.objects.filter(destination_id=location).values("order_id"),
        all=True)
    return Q(pk__in=ids)


def _one_in_scope(client: ApiClient) -> Q:
    """For one order: the same conditions checked on its row, with an EXISTS probing its own
    fulfilment orders (0.2 ms, whatever the size of the store's history)."""
    code, location = client.scope_code, _location_id(client.scope_code)
    served_here = FulfillmentOrder.objects.filter(order=OuterRef("pk")).filter(
        Q(location_id=location) | Q(destination_id=location))
    return Q(placed_by=client.name) | Q(pickup_location=code) | Exists(served_here)
