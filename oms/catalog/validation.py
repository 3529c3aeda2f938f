"""Checks every writer runs on the SKUs it is given, with one wording and one error code."""

from __future__ import annotations

from collections.abc import Sequence

from django.utils.translation import gettext as _

from oms.catalog.selectors import unknown_skus
from oms.core.errors import InvalidInput

SHOWN = 20


def require_known_skus(skus: Sequence[str], *, attr: str, unique: bool = True) -> None:
    """400 `duplicate_sku` if a SKU repeats (when `unique`), 400 `unknown_sku` naming up to 20
    SKUs no product has."""
    if unique and len(set(skus)) != len(skus):
        raise InvalidInput([("duplicate_sku",
                             _("Each SKU may appear once; add up the quantities."), attr)])
    missing = unknown_skus(skus)
    if missing:
        shown = ", ".join(missing[:SHOWN]) + (" …" if len(missing) > SHOWN else "")
        raise InvalidInput([("unknown_sku", _("Unknown SKUs: %(skus)s.") % {"skus": shown},
                             attr)])
