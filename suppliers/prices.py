"""Purchase prices: what a supplier charges us per unit of a SKU (net), from a date on.

Staff load them from a CSV file (`manage.py import_purchase_prices`, columns
``sku;net_price;currency;tax_rate;valid_from``); settlement reads the price in force on the day
a shipment left (`purchase_price_at`). A file is checked row by row first: with any bad row
nothing is written, unless the caller asks to apply the valid rows (as the stock upload does).
A row for a (SKU, valid_from) the supplier already has replaces that price: a correction of the
same day's price, not a new one."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal, InvalidOperation

from django.db import transaction
from django.utils.translation import gettext as _

from oms.catalog.models import Product
from suppliers.models import PurchasePrice, Supplier

COLUMNS = ("sku", "net_price", "currency", "tax_rate", "valid_from")
# The ledger books in euros and has input VAT accounts for these rates only (ledger.chart).
CURRENCIES = ("EUR",)
TAX_RATES = (Decimal("19"), Decimal("7"), Decimal("0"))
MAX_PRICE = Decimal("9999999999.99")  # max_digits=12, decimal_places=2


@dataclass(frozen=True)
class RowError:
    row: int  # the line of the file (the header is line 1)
    code: str
    message: str
    sku: str = ""


@dataclass
class PriceImportReport:
    """What a file held and what was done with it."""

    rows: int = 0
    valid: int = 0
    created: int = 0
    updated: int = 0
    applied: bool = False
    errors: list[RowError] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.errors


@dataclass(frozen=True)
class _Price:
    row: int
    sku: str
    net_price: Decimal
    currency: str
    tax_rate: Decimal
    valid_from: date


def purchase_price_at(*, supplier: Supplier, sku: str, on: date) -> PurchasePrice | None:
    """The price in force for `sku` on `on`: the one with the latest `valid_from` not after
    it; None when the supplier has none yet."""
    return (PurchasePrice.objects
            .filter(supplier=supplier, product_id=sku, valid_from__lte=on)
            .order_by("-valid_from").first())


def purchase_prices_at(*, supplier: Supplier, skus: Iterable[str],
                       on: date) -> dict[str, PurchasePrice]:
    """`purchase_price_at` for several SKUs in one query (a shipment's lines)."""
    found: dict[str, PurchasePrice] = {}
    rows = (PurchasePrice.objects
            .filter(supplier=supplier, product_id__in=list(skus), valid_from__lte=on)
            .order_by("product_id", "-valid_from").distinct("product_id"))
    for price in rows:
        found[price.product_id] = price
    return found


def _decimal(text: str) -> Decimal | None:
    """12.50 or 12,50 (German Excel writes the comma)."""
    text = text.strip().replace(" ", "")
    if "," in text and "." in text:
        text = text.replace(".", "")  # 1.234,50
    try:
        value = Decimal(text.replace(",", "."))
    except InvalidOperation:
        return None
    return value if value.is_finite() else None


def _parse_row(number: int, raw: dict[str, str]) -> tuple[_Price | None, list[RowError]]:
    sku = (raw.get("sku") or "").strip()
    errors: list[RowError] = []

    def bad(code: str, message: str) -> None:
        errors.append(RowError(number, code, message, sku))

    if not sku:
        bad("sku_missing", _("The SKU is missing."))
    price = _decimal(raw.get("net_price") or "")
    if price is None:
        bad("invalid_price", _("The net price is not a number."))
    elif price < 0:
        bad("negative_price", _("The net price must not be negative."))
    elif price > MAX_PRICE or price != price.quantize(Decimal("0.01")):
        bad("invalid_price", _("The net price has more than two decimal places or is too "
                               "large."))
    currency = (raw.get("currency") or "").strip().upper()
    if currency not in CURRENCIES:
        bad("invalid_currency", _("Currency %(currency)s is not booked; use %(allowed)s.")
            % {"currency": currency or "—", "allowed": ", ".join(CURRENCIES)})
    rate = _decimal(raw.get("tax_rate") or "")
    if rate is None or rate not in TAX_RATES:
        bad("invalid_tax_rate", _("The tax rate must be one of %(allowed)s.")
            % {"allowed": ", ".join(str(r) for r in TAX_RATES)})
    try:
        valid_from = date.fromisoformat((raw.get("valid_from") or "").strip())
    except ValueError:
        valid_from = None
        bad("invalid_date", _("valid_from is not a date (YYYY-MM-DD)."))
    if errors:
        return None, errors
    assert price is not None and rate is not None and valid_from is not None
    return _Price(number, sku, price.quantize(Decimal("0.01")), currency,
                  rate.quantize(Decimal("0.01")), valid_from), []


def _read(content: bytes | str) -> tuple[list[str] | None, list[dict[str, str]]]:
    text = content.decode("utf-8-sig") if isinstance(content, bytes) else content.lstrip("\ufeff")
    reader = csv.DictReader(io.StringIO(text), delimiter=";")
    header = [h.strip().lower() for h in reader.fieldnames or []]
    reader.fieldnames = header
    return header, [row for row in reader if any((v or "").strip() for v in row.values()
                                                 if isinstance(v, str))]


def purchase_prices_import(*, supplier: Supplier, content: bytes | str,
                           apply_valid: bool = False) -> PriceImportReport:
    """Check every row of a price file and, if all are valid (or `apply_valid`), write them.
    Unknown SKUs, negative or malformed prices, unbooked currencies or tax rates, bad dates
    and a row repeating an earlier (SKU, valid_from) are reported with their line number."""
    report = PriceImportReport()
    try:
        header, rows = _read(content)
    except (UnicodeDecodeError, csv.Error):
        report.errors.append(RowError(0, "unreadable", _("The file is not UTF-8 CSV text.")))
        return report
    missing = [c for c in COLUMNS if c not in (header or [])]
    extra = [c for c in (header or []) if c not in COLUMNS]
    if missing or extra:
        report.errors.append(RowError(1, "wrong_columns", _(
            "The columns must be %(expected)s (separated by ';'); missing: %(missing)s; "
            "unknown: %(extra)s.") % {"expected": ";".join(COLUMNS),
                                      "missing": ", ".join(missing) or "—",
                                      "extra": ", ".join(extra) or "—"}))
        return report
    report.rows = len(rows)
    parsed: list[_Price] = []
    for number, raw in enumerate(rows, start=2):
        if None in raw:  # more cells than columns
            report.errors.append(RowError(number, "wrong_columns",
                                          _("The row has more cells than the header."),
                                          (raw.get("sku") or "").strip()))
            continue
        price, errors = _parse_row(number, raw)
        report.errors.extend(errors)
        if price is not None:
            parsed.append(price)
    known = set(Product.objects.filter(sku__in={p.sku for p in parsed})
                .values_list("sku", flat=True))
    seen: set[tuple[str, date]] = set()
    valid: list[_Price] = []
    for price in parsed:
        if price.sku not in known:
            report.errors.append(RowError(price.row, "unknown_sku",
                                          _("No product has this SKU."), price.sku))
        elif (price.sku, price.valid_from) in seen:
            report.errors.append(RowError(price.row, "duplicate_row", _(
                "This SKU already has a price from this date earlier in the file."), price.sku))
        else:
            seen.add((price.sku, price.valid_from))
            valid.append(price)
    report.errors.sort(key=lambda e: e.row)
    report.valid = len(valid)
    if report.errors and not apply_valid:
        return report
    with transaction.atomic():
        for price in valid:
            _row, created = PurchasePrice.objects.update_or_create(
                supplier=supplier, product_id=price.sku, valid_from=price.valid_from,
                defaults={"net_price": price.net_price, "currency": price.currency,
                          "tax_rate": price.tax_rate})
            if created:
                report.created += 1
            else:
                report.updated += 1
    report.applied = True
    return report
