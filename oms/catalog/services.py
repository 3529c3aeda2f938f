"""Writes to the catalog. Products are upserted whole (PUT semantics): the given prices and
media replace the stored ones."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from django.db import transaction
from django.utils import timezone

from oms.catalog.models import Price, Product
from oms.core.events import NewEvent, events_emit


@dataclass(frozen=True)
class PriceData:
    channel: str
    currency: str
    amount: Decimal


@dataclass(frozen=True)
class ProductData:
    sku: str
    name: str
    ean: str = ""
    attributes: dict[str, Any] = field(default_factory=dict)
    media: list[dict[str, Any]] = field(default_factory=list)
    prices: list[PriceData] | None = None  # None: leave the stored prices as they are


@dataclass(frozen=True)
class UpsertResult:
    created: list[str]
    updated: list[str]


def products_upsert(*, products: Sequence[ProductData]) -> UpsertResult:
    """Insert or update products in set-based statements, replace their given prices and emit
    one ``product.upserted`` event per product."""
    now = timezone.now()
    skus = [p.sku for p in products]
    with transaction.atomic():
        existing = set(Product.objects.filter(sku__in=skus).values_list("sku", flat=True))
        rows = Product.objects.bulk_create(
            [
                Product(sku=p.sku, name=p.name, ean=p.ean, attributes=p.attributes,
                        media=p.media, updated_at=now)
                for p in products
            ],
            update_conflicts=True,
            unique_fields=["sku"],
            update_fields=["name", "ean", "attributes", "media", "updated_at"],
            batch_size=2000,
        )
        ids = {row.sku: row.pk for row in rows}
        if any(row.pk is None for row in rows):  # backends that return no ids on upsert
            ids = dict(Product.objects.filter(sku__in=skus).values_list("sku", "pk"))
        priced = [p for p in products if p.prices is not None]
        Price.objects.filter(product_id__in=[ids[p.sku] for p in priced]).delete()
        Price.objects.bulk_create(
            [
                Price(product_id=ids[p.sku], channel=price.channel, currency=price.currency,
                      amount=price.amount)
                for p in priced
                for price in p.prices or []
            ],
            batch_size=2000,
        )
        events_emit(
            NewEvent("product.upserted", "product", p.sku,
                     {"sku": p.sku, "name": p.name, "created": p.sku not in existing})
            for p in products
        )
    return UpsertResult(
        created=[s for s in skus if s not in existing], updated=[s for s in skus if s in existing]
    )
