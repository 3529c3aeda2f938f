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
    if unique:
        require_unique_skus(skus, attr=attr)
    missing = unknown_skus(skus)
    if missing:
        raise unknown_skus_error(missing, attr=attr)


def require_unique_skus(skus: Sequence[str], *, attr: str) -> None:
    if len(set(skus)) != len(skus):
        raise InvalidInput([("duplicate_sku",
                             _("Each SKU may appear once; add up the quantities."), attr)])


def unknown_skus_error(missing: Sequence[str], *, attr: str) -> InvalidInput:
    """The 400 `unknown_sku` for writers that find unknown SKUs themselves."""
    shown = ", ".join(missing[:SHOWN]) + (" …" if len(missing) > SHOWN else "")
    return InvalidInput([("unknown_sku", _("Unknown SKUs: %(skus)s.") % {"skus": shown}, attr)])
