from __future__ import annotations

from collections.abc import Iterable

from oms.catalog.models import Product
from oms.catalog.sql import unknown_skus_select


def product_get(*, sku: str) -> Product | None:
    return Product.objects.filter(sku=sku).prefetch_related("prices").first()


def unknown_skus(skus: Iterable[str]) -> list[str]:
    """The SKUs among `skus` that no product has, in the order given."""
    return unknown_skus_select(list(dict.fromkeys(skus)))
