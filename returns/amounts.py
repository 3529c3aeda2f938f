"""What returned units are worth: pure arithmetic on the order's lines, no database.

Each unit is refunded at its price less its share of the order discount. The discount is shared
out over the lines in proportion to their value, in cents, the rounding remainder going to the
line worth most (so the shares add up to the discount exactly). Within a line the refund is
counted cumulatively: the first `n` units returned are worth `round(net * n / quantity)`, so a
line returned over several visits refunds exactly its net value in the end, never a cent more.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

CENT = Decimal("0.01")
ZERO = Decimal("0.00")


@dataclass(frozen=True)
class PricedLine:
    sku: str
    quantity: int
    unit_price: Decimal


def cents(value: Decimal) -> Decimal:
    return value.quantize(CENT, rounding=ROUND_HALF_UP)


def net_line_values(lines: Sequence[PricedLine], discount: Decimal) -> dict[str, Decimal]:
    """Each line's value after its share of the order discount."""
    gross = {ln.sku: ln.unit_price * ln.quantity for ln in lines}
    subtotal = sum(gross.values(), ZERO)
    if subtotal <= 0 or discount <= 0:
        return {sku: cents(value) for sku, value in gross.items()}
    shares = {sku: cents(discount * value / subtotal) for sku, value in gross.items()}
    largest = max(gross, key=lambda sku: (gross[sku], sku))
    shares[largest] += discount - sum(shares.values(), ZERO)
    return {sku: cents(gross[sku] - shares[sku]) for sku in gross}


def units_refund(*, net_value: Decimal, quantity: int, already: int, units: int) -> Decimal:
    """What `units` more of a line worth `net_value` for `quantity` units are worth, when
    `already` units of it were refunded before."""
    if units <= 0:
        return ZERO
    before = cents(net_value * already / quantity)
    after = cents(net_value * (already + units) / quantity)
    return after - before
