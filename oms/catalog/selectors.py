from __future__ import annotations

from collections.abc import Iterable

from oms.catalog.models import Product


def product_get(*, sku: str) -> Product | None:
    return Product.objects.filter(sku=sku).prefetch_related("prices").first()


def unknown_skus(skus: Iterable[str]) -> list[str]:
    """The SKUs among `skus` that no product has, in the order given."""
    wanted = list(dict.fromkeys(skus))
    known = set(Product.objects.filter(sku__in=wanted).values_list("sku", flat=True))
    return [s for s in wanted if s not in known]
