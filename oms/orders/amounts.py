"""What units of an order are worth: pure arithmetic on the order's lines, no database. The one
rule for money that follows goods: what a shipment or a handover captures, what an uncollected
pickup gives back, and what a return refunds.

Each unit is worth its price less its share of the order discount. The discount is shared
out over the lines in proportion to their value, in cents, the rounding remainder going to the
line worth most (so the shares add up to the discount exactly). Within a line the value is
counted cumulatively: the first `n` units are worth `round(net * n / quantity)`, so a line
shipped in three parcels captures, and returned over several visits refunds, exactly its net
value in the end, never a cent more. Shipping is charged with the first units that leave and
refunded when the whole order is back.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
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
    `already` units of it were counted before (shipped, or returned)."""
    if units <= 0:
        return ZERO
    before = cents(net_value * already / quantity)
    after = cents(net_value * (already + units) / quantity)
    return after - before


def goods_value(*, lines: Sequence[PricedLine], discount: Decimal,
                counted: Mapping[str, int], units: Mapping[str, int]) -> Decimal:
    """What `units` more of the order's `lines` are worth, net of the discount, when
    `counted` units of each line were counted before."""
    net = net_line_values(lines, discount)
    quantity = {ln.sku: ln.quantity for ln in lines}
    return sum((units_refund(net_value=net[sku], quantity=quantity[sku],
                             already=counted.get(sku, 0), units=n)
                for sku, n in units.items()), ZERO)
