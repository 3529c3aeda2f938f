"""The monthly statement of a supplier: the month's settlement lines, one row per SKU of each
parcel, and its totals, as CSV for the supplier (portal) and for finance
(`manage.py supplier_statement`).

Format, chosen for German Excel, which opens it with a double click: UTF-8 with a byte order
mark (else umlauts break), `;` between cells, decimal comma without thousands separators
(12,50), dates as ISO 8601 (Excel reads 2026-12-03 as a date), CRLF line ends. Headings are in
the supplier's language. Rows of SKUs without a purchase price show an empty price, a net of
0,00 and "price missing": finance settles those by hand."""

from __future__ import annotations

import csv
import io
from collections import defaultdict
from dataclasses import dataclass
from datetime import date
from decimal import ROUND_HALF_UP, Decimal

from django.db.models import Count, QuerySet, Sum
from django.db.models.functions import TruncMonth
from django.utils import translation
from django.utils.translation import gettext as _

from suppliers.models import SettlementLine, Supplier

ZERO = Decimal("0.00")
CENT = Decimal("0.01")
BOM = "\ufeff"


@dataclass(frozen=True)
class MonthTotal:
    month: date  # the first day
    parcels: int
    net: Decimal
    tax: Decimal

    @property
    def gross(self) -> Decimal:
        return self.net + self.tax

    @property
    def key(self) -> str:
        return self.month.strftime("%Y-%m")


def month_parse(text: str) -> date | None:
    """"2026-12" → 2026-12-01; None when it is no month."""
    try:
        year, month = (int(part) for part in text.split("-"))
        return date(year, month, 1)
    except ValueError:
        return None


def _month_end(month: date) -> date:
    return date(month.year + (month.month == 12), month.month % 12 + 1, 1)


def month_lines(supplier: Supplier, month: date) -> QuerySet[SettlementLine]:
    return (SettlementLine.objects
            .filter(supplier=supplier, shipped_on__gte=month, shipped_on__lt=_month_end(month))
            .order_by("shipped_on", "pk"))


def statement_months(supplier: Supplier) -> list[MonthTotal]:
    """Every month with settlement lines, newest first, with its totals."""
    rows = (SettlementLine.objects.filter(supplier=supplier)
            .annotate(month=TruncMonth("shipped_on")).values("month")
            .annotate(parcels=Count("pk"), net=Sum("net_amount"), tax=Sum("tax_amount"))
            .order_by("-month"))
    return [MonthTotal(month=row["month"], parcels=row["parcels"], net=row["net"],
                       tax=row["tax"]) for row in rows]


def _num(value: Decimal | str | None) -> str:
    if value is None:
        return ""
    return format(Decimal(value).quantize(CENT), "f").replace(".", ",")


def _rate(value: Decimal | str) -> str:
    return format(Decimal(value).normalize(), "f").replace(".", ",")


def statement_csv(supplier: Supplier, month: date) -> bytes:
    """The statement of `month` (its first day) as the bytes of a CSV file."""
    out = io.StringIO()
    out.write(BOM)
    writer = csv.writer(out, delimiter=";", lineterminator="\r\n")
    net_by_rate: dict[str, Decimal] = defaultdict(lambda: ZERO)
    tax_by_rate: dict[str, Decimal] = defaultdict(lambda: ZERO)
    net_total = tax_total = ZERO
    missing = 0
    with translation.override(supplier.language):
        writer.writerow([_("Statement"), supplier.name, supplier.code, month.strftime("%Y-%m")])
        writer.writerow([_("Shipped"), _("Order"), _("Parcel"), _("SKU"), _("Quantity"),
                         _("Net unit price"), _("Net"), _("VAT rate %"), _("Note")])
        for line in month_lines(supplier, month):
            parcel_net: dict[str, Decimal] = defaultdict(lambda: ZERO)
            for item in line.lines:
                if item.get("price_missing"):
                    missing += 1
                else:
                    parcel_net[_rate(item["tax_rate"])] += Decimal(item["net"])
                writer.writerow([
                    line.shipped_on.isoformat(), line.order_number, line.pk, item["sku"],
                    item["quantity"], _num(item.get("net_price")), _num(item.get("net")),
                    _rate(item["tax_rate"]) if item.get("tax_rate") is not None else "",
                    _("price missing") if item.get("price_missing") else ""])
            # The tax per rate as the parcel was booked (suppliers.settlement).
            for rate, net in parcel_net.items():
                net_by_rate[rate] += net
                tax_by_rate[rate] += (net * Decimal(rate.replace(",", ".")) / 100).quantize(
                    CENT, rounding=ROUND_HALF_UP)
            net_total += line.net_amount
            tax_total += line.tax_amount
        writer.writerow([])
        for rate in sorted(net_by_rate, key=lambda r: Decimal(r.replace(",", "."))):
            writer.writerow([_("Net at %(rate)s %%") % {"rate": rate}, "", "", "", "", "",
                             _num(net_by_rate[rate]), rate, ""])
            writer.writerow([_("Input VAT %(rate)s %%") % {"rate": rate}, "", "", "", "", "",
                             _num(tax_by_rate[rate]), rate, ""])
        writer.writerow([_("Total net"), "", "", "", "", "", _num(net_total), "", ""])
        writer.writerow([_("Total input VAT"), "", "", "", "", "", _num(tax_total), "", ""])
        writer.writerow([_("Total gross"), "", "", "", "", "", _num(net_total + tax_total), "",
                         ""])
        if missing:
            writer.writerow([_("Rows without a purchase price (not included)"), "", "", "",
                             missing, "", "", "", _("price missing")])
    return out.getvalue().encode("utf-8")


def statement_filename(supplier: Supplier, month: date) -> str:
    return f"statement-{supplier.code}-{month.strftime('%Y-%m')}.csv"
