"""Reads behind the cockpit's lists. Each page is one query for the rows (order and customer
joined), one for their lines and one count, however many pickups a store has."""

from __future__ import annotations

from dataclasses import dataclass, field

from django.db.models import Prefetch, Q, QuerySet

from fulfillment.models import FulfillmentLine, FulfillmentOrder
from fulfillment.pickup import pickups_matching_code
from fulfillment.pickup_codes import ALPHABET, LENGTH, normalize
from fulfillment.states import TO_PICK, FulfillmentKind, FulfillmentStatus
from inventory.models import Location
from oms.orders.models import Order

PAGE_SIZE = 100
# What the QR code on the customer's pickup pass reads (fulfillment.pickup_codes.qr_png).
QR_PREFIX = "OMS-PICKUP:"


def pickup_lines() -> QuerySet[FulfillmentLine]:
    """Lines with the product name staff look for on the shelf (not its media and
    attributes, large JSON documents no cockpit screen shows)."""
    return (FulfillmentLine.objects.select_related("order_line__product")
            .defer("order_line__product__media", "order_line__product__attributes")
            .order_by("pk"))


def _with_order_and_lines(pickups: QuerySet[FulfillmentOrder]) -> QuerySet[FulfillmentOrder]:
    # The sourcing decision is another large JSON document.
    return (pickups.select_related("order", "order__customer", "location")
            .defer("order__sourcing")
            .prefetch_related(Prefetch("lines", queryset=pickup_lines())))


def pickups_to_pick(store: Location) -> QuerySet[FulfillmentOrder]:
    """The store's pickups staff still have to prepare, oldest first."""
    return _with_order_and_lines(FulfillmentOrder.objects.filter(
        location=store, kind=FulfillmentKind.PICKUP, status__in=TO_PICK)
    ).order_by("created_at", "pk")


def _looks_like_code(text: str) -> bool:
    code = normalize(text)
    return len(code) == LENGTH and all(ch in ALPHABET for ch in code)


@dataclass(frozen=True)
class PickupSearch:
    """Ready pickups matching what staff typed or scanned at the counter."""

    results: QuerySet[FulfillmentOrder]
    # The code, when the query was the customer's pickup code (typed or scanned), and the
    # pickups it opens: their handover form can be filled in with it.
    code: str = ""
    opened_by_code: frozenset[int] = field(default_factory=frozenset)


def pickups_waiting(pickups: QuerySet[FulfillmentOrder], query: str = "", *,
                    by_code: bool = True) -> PickupSearch:
    """Ready pickups among `pickups` by order number, customer email or pickup code (or the
    QR code, which holds order number and code); all of them, deadline first, without a
    query."""
    ready = pickups.filter(status=FulfillmentStatus.READY_FOR_PICKUP)
    query = query.strip()
    if not query:
        return PickupSearch(results=_deadline_first(ready))
    number, code = query, query
    if query.upper().startswith(QR_PREFIX):
        number, _sep, code = query[len(QR_PREFIX):].partition(":")
    # The orders first, each through its own index: an OR across the joins would scan every
    # ready pickup of the store.
    orders = [*Order.objects.filter(number=number).values_list("pk", flat=True),
              *Order.objects.filter(customer__email=query.lower()).values_list("pk", flat=True)]
    # Codes are stored hashed: each ready pickup of these stores is checked.
    opened = frozenset(pickups_matching_code(ready, code)
                       if by_code and _looks_like_code(code) else [])
    return PickupSearch(
        results=_deadline_first(ready.filter(Q(order_id__in=orders) | Q(pk__in=opened))),
        code=normalize(code) if opened else "", opened_by_code=opened)


def _deadline_first(pickups: QuerySet[FulfillmentOrder]) -> QuerySet[FulfillmentOrder]:
    return _with_order_and_lines(pickups).order_by("pickup_deadline", "pk")
