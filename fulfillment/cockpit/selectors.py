"""Reads behind the cockpit's lists. Each page is one query for the rows (order and customer
joined), one for their lines and one count, however many pickups a store has."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

from django.db.models import F, Prefetch, Q, QuerySet, Sum

from fulfillment.models import FulfillmentLine, FulfillmentOrder
from fulfillment.pickup_codes import normalize
from fulfillment.pickup_lookup import pickups_by_code
from fulfillment.readiness import TRANSFER_DONE, line_on_the_counter
from fulfillment.states import TO_PICK, FulfillmentKind, FulfillmentStatus
from inventory.models import Location
from oms.core.throttle import TooManyRequests
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


@dataclass(frozen=True)
class PickupSearch:
    """Ready pickups matching what staff typed or scanned at the counter."""

    results: QuerySet[FulfillmentOrder]
    # The code, when the query was the customer's pickup code (typed or scanned), and the
    # pickups it opens: their handover form can be filled in with it.
    code: str = ""
    opened_by_code: frozenset[int] = field(default_factory=frozenset)
    # The requester looked up too many codes this minute: this query's code was not looked up.
    codes_refused: bool = False


def pickups_waiting(pickups: QuerySet[FulfillmentOrder], query: str = "", *,
                    requester_key: str) -> PickupSearch:
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
    # The code lookup policy of every counter (fulfillment.pickup_lookup). The cockpit is
    # always scoped: `pickups` are the stores the user works in (all of them for superusers).
    try:
        opened = frozenset(pickups_by_code(pickups=ready, scoped=True,
                                           requester_key=requester_key, code=code))
    except TooManyRequests:  # the search goes on by order number and email
        return PickupSearch(results=_deadline_first(ready.filter(order_id__in=orders)),
                            codes_refused=True)
    return PickupSearch(
        results=_deadline_first(ready.filter(Q(order_id__in=orders) | Q(pk__in=opened))),
        code=normalize(code) if opened else "", opened_by_code=opened)


def _deadline_first(pickups: QuerySet[FulfillmentOrder]) -> QuerySet[FulfillmentOrder]:
    return _with_order_and_lines(pickups).order_by("pickup_deadline", "pk")


@dataclass(frozen=True)
class IncomingTransfer:
    """Units on their way to a pickup's store from another location: the store came up short,
    and `transfer_receive` adds them to the pickup when they arrive. Until then the pickup's
    own lines for them hold nothing to pick."""

    source_code: str
    source_name: str
    units: int
    skus: frozenset[str] = frozenset()


@dataclass(frozen=True)
class PickupRow:
    """A pickup as the cockpit lists it: the lines with units still to prepare or hand over
    (with whether they are already on the counter), and the transfers it waits for."""

    pickup: FulfillmentOrder
    lines: list[tuple[FulfillmentLine, bool]]
    incoming: list[IncomingTransfer]


def incoming_transfers(pickups: Iterable[FulfillmentOrder]) -> dict[int, list[IncomingTransfer]]:
    """Per pickup, the transfers restocking it that are still on their way (the same ones
    `fulfillment.readiness.incoming` waits for), one entry per source location; one query."""
    pickups = list(pickups)
    if not pickups:
        return {}
    by_order = {(p.order_id, p.location_id): p.pk for p in pickups}
    rows = (FulfillmentOrder.objects
            .filter(kind=FulfillmentKind.TRANSFER, order_id__in={p.order_id for p in pickups},
                    destination_id__in={p.location_id for p in pickups})
            .exclude(status__in=TRANSFER_DONE)
            .values("order_id", "destination_id", "location__code", "location__name",
                    "lines__order_line__product_id")
            # What was sent or is still to send; a cancelled unit never comes.
            .annotate(units=Sum(F("lines__quantity") - F("lines__cancelled")))
            .order_by("location__code"))
    found: dict[int, dict[str, IncomingTransfer]] = {}
    for row in rows:
        pickup = by_order.get((row["order_id"], row["destination_id"]))
        if pickup is None or not row["units"]:
            continue
        source = row["location__code"]
        known = found.setdefault(pickup, {}).get(source) or IncomingTransfer(
            source, row["location__name"], 0)
        found[pickup][source] = IncomingTransfer(
            source, known.source_name, known.units + row["units"],
            known.skus | {row["lines__order_line__product_id"]})
    return {pickup: list(sources.values()) for pickup, sources in found.items()}


def pickup_rows(pickups: Iterable[FulfillmentOrder]) -> list[PickupRow]:
    """The rows of a page of pickups (their lines prefetched): lines with nothing left to do
    (moved to another location, cancelled, handed over) are left out."""
    pickups = list(pickups)
    incoming = incoming_transfers(pickups)
    return [PickupRow(pickup=fo, incoming=incoming.get(fo.pk, []),
                      lines=[(ln, line_on_the_counter(ln)) for ln in fo.lines.all()
                             if ln.open_quantity])
            for fo in pickups]
