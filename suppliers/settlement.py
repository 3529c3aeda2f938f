"""What a supplier is owed: one `SettlementLine` per parcel a supplier site ships for a dropship
fulfilment, and its payable in the ledger.

Booking (German GoB, the supplier's invoice is the shipment): Dr cost_of_goods (net) +
Dr input_vat:<rate> / Cr payables (gross); source ``<event id>:supplier_payable``, dated the
local day the parcel left, reference the order's number (DATEV Belegfeld 1).

Units priced by the purchase price in force on that day (`suppliers.prices`). A SKU without
one is **booked at 0 and flagged**: its line keeps the units with ``"price_missing": true``,
the settlement line's net covers only the priced units, and the statement lists it as "price
missing" for finance to settle by hand (a manual journal entry against payables). Nothing is
re-booked when a price arrives later: the booked entry is immutable (ledger migration 0002),
and a late price must not change a month already sent to the supplier.

The tax is computed per rate on the net sum of the parcel's lines of that rate (rounded half up
to the cent), as the supplier's invoice would be."""

from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from django.db import IntegrityError, transaction
from django.utils import timezone

from fulfillment.models import FulfillmentOrder
from fulfillment.states import FulfillmentKind
from ledger.services import Line, entry_post
from suppliers.models import SettlementLine, Supplier
from suppliers.prices import purchase_prices_at

logger = logging.getLogger(__name__)
ZERO = Decimal("0.00")
CENT = Decimal("0.01")
RULE = "supplier_payable"
CURRENCY = "EUR"  # suppliers.prices.CURRENCIES: the ledger books in euros


@dataclass(frozen=True)
class Shipped:
    """One parcel of a dropship fulfilment, as `fulfillment.shipped` names it."""

    event_id: str
    fulfillment_id: int
    order_number: str
    shipped_on: date
    units: Mapping[str, int]


def shipped_from_event(event_id: Any, created_at: Any, payload: Mapping[str, Any]) -> Shipped:
    units: dict[str, int] = defaultdict(int)
    for line in (payload.get("shipment") or {}).get("lines") or []:
        units[str(line["sku"])] += int(line["quantity"])
    return Shipped(event_id=str(event_id), fulfillment_id=int(payload["id"]),
                   order_number=str(payload["order"]),
                   shipped_on=timezone.localdate(created_at), units=dict(units))


def _money(value: Decimal) -> Decimal:
    return value.quantize(CENT, rounding=ROUND_HALF_UP)


def _rate_key(rate: Decimal) -> str:
    """19.00 → "19" (the ledger's role suffix)."""
    return format(rate.normalize(), "f")


def settlement_record(*, shipped: Shipped) -> SettlementLine | None:
    """The settlement line and payable of one shipped parcel; the existing line when this
    parcel was recorded already (by event id), None when the fulfilment is no dropship of a
    supplier site (logged)."""
    source = f"{shipped.event_id}:{RULE}"
    existing = SettlementLine.objects.filter(source=source).first()
    if existing is not None:
        return existing
    fo = (FulfillmentOrder.objects.select_related("location__supplier_site__supplier")
          .filter(pk=shipped.fulfillment_id).first())
    if fo is None or fo.kind != FulfillmentKind.DROPSHIP:
        return None
    site = getattr(fo.location, "supplier_site", None)
    if site is None:
        logger.error("dropship fulfilment %s ships from %s, a site of no supplier: nothing "
                     "owed is recorded", fo.pk, fo.location.code)
        return None
    supplier: Supplier = site.supplier
    prices = purchase_prices_at(supplier=supplier, skus=shipped.units, on=shipped.shipped_on)
    lines: list[dict[str, Any]] = []
    net_by_rate: dict[Decimal, Decimal] = defaultdict(lambda: ZERO)
    for sku in sorted(shipped.units):
        quantity = shipped.units[sku]
        price = prices.get(sku)
        if price is None:
            lines.append({"sku": sku, "quantity": quantity, "net_price": None,
                          "tax_rate": None, "net": "0.00", "price_missing": True})
            continue
        net = _money(price.net_price * quantity)
        net_by_rate[price.tax_rate] += net
        lines.append({"sku": sku, "quantity": quantity, "net_price": str(price.net_price),
                      "tax_rate": str(price.tax_rate), "net": str(net),
                      "price_missing": False})
    tax_by_rate = {rate: _money(net * rate / 100) for rate, net in net_by_rate.items()}
    net_total = sum(net_by_rate.values(), ZERO)
    tax_total = sum(tax_by_rate.values(), ZERO)
    with transaction.atomic():
        entry = entry_post(
            booked_on=shipped.shipped_on, reference=shipped.order_number,
            text=f"Dropship {supplier.code} {shipped.order_number}", source=source,
            lines=[Line.dr("cost_of_goods", net_total),
                   *(Line.dr(f"input_vat:{_rate_key(rate)}", tax)
                     for rate, tax in sorted(tax_by_rate.items())),
                   Line.cr("payables", net_total + tax_total)])
        try:
            with transaction.atomic():
                return SettlementLine.objects.create(
                    supplier=supplier, fulfillment=fo, order_number=shipped.order_number,
                    source=source, shipped_on=shipped.shipped_on, lines=lines,
                    net_amount=net_total, tax_amount=tax_total, currency=CURRENCY,
                    entry=entry, created_at=timezone.now())
        except IntegrityError:
            # The same parcel recorded by a concurrent run: its line stands.
            return SettlementLine.objects.get(source=source)


def price_missing(line: SettlementLine) -> list[str]:
    """The SKUs of a settlement line booked at 0 for want of a purchase price."""
    return [ln["sku"] for ln in line.lines if ln.get("price_missing")]
