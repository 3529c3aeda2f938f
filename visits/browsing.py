"""Browsing signals (issue 20, part 6): what a customer put in their cart or wishlist or viewed
online, shown at a store visit as in stock here (`in_store`), with a discount where the store or
the channel set one, and only with the customer's consent to offers in the store."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.db import transaction
from django.db.models import F
from django.utils import timezone

from inventory.models import StockLevel
from oms.catalog.validation import require_known_skus
from oms.orders.consents import consents_current
from oms.orders.models import ConsentPurpose, Customer
from visits.models import BrowsingSignal, InStoreDiscount, SignalKind, StoreVisit

# The strongest intent first: shown once per SKU with it.
STRENGTH = [SignalKind.CART, SignalKind.WISHLIST, SignalKind.VIEWED]


def signals_record(*, customer: Customer | None, kind: str, skus: Sequence[str], channel: str,
                   now: datetime | None = None) -> int:
    """Keep what the customer looked at (one row per kind and SKU, its time moved on). An
    unknown customer records nothing (the caller learns nothing either). Returns how many."""
    require_known_skus(skus, attr="skus")
    if customer is None:
        return 0
    now = now or timezone.now()
    with transaction.atomic():
        BrowsingSignal.objects.bulk_create(
            [BrowsingSignal(customer=customer, kind=kind, product_id=sku, channel=channel,
                            at=now) for sku in dict.fromkeys(skus)],
            update_conflicts=True, unique_fields=["customer", "kind", "product"],
            update_fields=["at", "channel"])
    return len(set(skus))


def signals_sweep(*, now: datetime | None = None) -> int:
    """The beat sweep: forget signals older than `BROWSING_SIGNAL_DAYS`."""
    now = now or timezone.now()
    deleted, _rows = BrowsingSignal.objects.filter(
        at__lt=now - settings.BROWSING_SIGNAL_AGE).delete()
    return deleted


def _discount(visit: StoreVisit, channels: set[str]) -> dict[str, Decimal]:
    """Percent by channel: the store's own for every channel, else each channel's."""
    rows = list(InStoreDiscount.objects.filter(location=visit.location)) or list(
        InStoreDiscount.objects.filter(location__isnull=True, channel__in=channels))
    if rows and rows[0].location_id is not None:
        return dict.fromkeys(channels, rows[0].percent)
    return {row.channel: row.percent for row in rows}


def in_store(visit: StoreVisit, now: datetime | None = None, *,
             consented: bool | None = None) -> list[dict[str, Any]]:
    """What the visit's customer looked at online and this store has available now.
    `consented`: whether the customer consents to offers in the store, if the caller has just
    read it in this transaction (a new visit: `VisitRegistered.consented`); else it is read."""
    if visit.customer_id is None:
        return []
    customer = visit.customer
    if consented is None:
        consent = consents_current(customer=customer).get(ConsentPurpose.IN_STORE_OFFERS)
        consented = consent is not None and consent.granted
    if not consented:
        return []
    now = now or timezone.now()
    signals = sorted(BrowsingSignal.objects.filter(
        customer=customer, at__gte=now - settings.BROWSING_SIGNAL_AGE),
        key=lambda s: (STRENGTH.index(SignalKind(s.kind)), -s.at.timestamp()))
    strongest: dict[str, BrowsingSignal] = {}
    for signal in signals:
        strongest.setdefault(signal.product_id, signal)
    if not strongest:
        return []
    available = dict(StockLevel.objects.filter(location=visit.location,
                                               product_id__in=list(strongest))
                     .annotate(free=F("on_hand") - F("reserved") - F("safety_stock"))
                     .filter(free__gt=0).values_list("product_id", "free"))
    discounts = _discount(visit, {s.channel for s in strongest.values()})
    shown = []
    for sku, signal in strongest.items():
        if sku not in available:
            continue
        item: dict[str, Any] = {"sku": sku, "available": available[sku], "source": signal.kind}
        if signal.channel in discounts:
            item["discount_percent"] = discounts[signal.channel]
        shown.append(item)
    return shown
