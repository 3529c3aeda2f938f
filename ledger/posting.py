"""The posting rules: which accounts a business fact moves, as journal lines. Pure functions,
no database: the handlers (`ledger.handlers`) read the event and the rows it names, and post
what these return through `ledger.services.entry_post`.

Amounts are gross (VAT included), as orders, payments and refunds carry them. A gross amount at
a tax rate splits into net = gross / (1 + rate) and VAT = gross - net, rounded to the cent per
rate (and separately for shipping), so every entry balances to the cent. Tax rates are
percentages as on order lines (``Decimal("19.00")``); the chart knows 19, 7 and 0 (`ledger.chart`).

Facts and entries (German GoB, the invoice date is the day goods leave):

- goods left (a parcel shipped, a pickup handed over): Dr receivables (gross) / Cr
  revenue:<rate> (net) + vat:<rate>; shipping Cr shipping (net) + vat:19;
- money captured (card or PayPal at the PSP, cash at a till, store credit, gift card, the value
  of returned goods paying an exchange order): Dr the money's account / Cr receivables;
- goods returned (the credit note): Dr returns:<rate> (net) + vat:<rate>, refunded shipping
  Dr shipping (net) + vat:19 / Cr receivables;
- refund paid (back to the card, out of the till, as a store credit): Dr receivables / Cr the
  money's account; a chargeback is one the PSP made;
- and for the finance app: a bank payment, a payout by bank, a PSP's payout, a till's cash
  taken to the bank, a write-off, a dunning fee.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal

from ledger.services import Line
from oms.orders.amounts import PricedLine, cents, net_line_values, units_refund

ZERO = Decimal("0.00")
HUNDRED = Decimal("100")
SHIPPING_RATE = Decimal("19.00")  # the chart's shipping revenue account is a 19 % account
RECEIVABLES = "receivables"
# Payment methods whose money a PSP holds until it pays out: one clearing account each.
PSP_METHODS = ("card", "paypal")
# Payment methods paid at a store's till.
TILL_METHODS = ("cash", "pay_in_store")
# Money that is not money: what the customer already had with us.
CREDIT_ROLES = {"store_credit": "store_credit", "gift_card": "gift_cards",
                "return_credit": "exchange_clearing"}

GrossByRate = Mapping[Decimal, Decimal]  # tax rate (percent) → gross amount


# --- amounts ----------------------------------------------------------------------------------
def rate_key(rate: Decimal) -> str:
    """The rate as the chart's roles spell it: 19.00 → "19", 7.00 → "7", 0.00 → "0"."""
    return f"{Decimal(rate).normalize():f}"


def net_and_vat(gross: Decimal, rate: Decimal) -> tuple[Decimal, Decimal]:
    """Net and VAT of a gross amount at `rate` percent; together exactly `gross`."""
    net = cents(gross * HUNDRED / (HUNDRED + rate))
    return net, gross - net


@dataclass(frozen=True)
class TaxedLine:
    """An order line as the posting rules need it."""

    sku: str
    quantity: int
    unit_price: Decimal
    tax_rate: Decimal


def gross_by_rate(amounts: Iterable[tuple[Decimal, Decimal]]) -> dict[Decimal, Decimal]:
    """Sum (rate, gross) pairs per rate."""
    out: dict[Decimal, Decimal] = defaultdict(lambda: ZERO)
    for rate, gross in amounts:
        out[Decimal(rate)] += gross
    return dict(out)


def units_gross_by_rate(*, lines: Sequence[TaxedLine], discount: Decimal,
                        counted: Mapping[str, int], units: Mapping[str, int]
                        ) -> dict[Decimal, Decimal]:
    """What `units` more of the order's lines are worth, per tax rate: the same cumulative rule
    as the capture (`oms.orders.amounts`): the order discount shared out by the lines' net
    values, `counted` units of each line counted before."""
    net = net_line_values([PricedLine(ln.sku, ln.quantity, ln.unit_price) for ln in lines],
                          discount)
    by_sku = {ln.sku: ln for ln in lines}
    return gross_by_rate(
        (by_sku[sku].tax_rate,
         units_refund(net_value=net[sku], quantity=by_sku[sku].quantity,
                      already=counted.get(sku, 0), units=n))
        for sku, n in units.items() if sku in by_sku)


def _with_rest(goods: GrossByRate, rest: Decimal) -> dict[Decimal, Decimal]:
    """`goods` with a few cents more (or less) on the rate worth most: the event's amount is
    the truth, the split by rate only says where it goes."""
    out = dict(goods)
    if rest:
        largest = max(out, key=lambda rate: (out[rate], rate)) if out else SHIPPING_RATE
        out[largest] = out.get(largest, ZERO) + rest
    return out


def goods_left_split(*, amount: Decimal, lines: Sequence[TaxedLine], discount: Decimal,
                     counted: Mapping[str, int], units: Mapping[str, int]
                     ) -> tuple[dict[Decimal, Decimal], Decimal]:
    """The gross `amount` of a shipment or handover split into goods per rate and shipping.
    Shipping goes with the first goods that leave (nothing `counted` before), as the capture
    charges it: it is what the amount holds beyond the goods. Any other difference (none, as
    long as the rows are those the amount was computed from) stays with the goods."""
    goods = units_gross_by_rate(lines=lines, discount=discount, counted=counted, units=units)
    rest = amount - sum(goods.values(), ZERO)
    first = not any(counted.values())
    shipping = rest if first and rest > 0 else ZERO
    return _with_rest(goods, rest - shipping), shipping


def _tax_lines(goods: GrossByRate, shipping: Decimal, *, prefix: str,
               debit: bool) -> list[Line]:
    """Net per rate on `<prefix>:<rate>`, shipping net on `shipping`, VAT per rate on
    `vat:<rate>` (one line per rate, shipping's VAT included); debits if `debit`."""
    side = Line.dr if debit else Line.cr
    out: list[Line] = []
    vat: dict[str, Decimal] = defaultdict(lambda: ZERO)
    for rate, gross in sorted(goods.items(), reverse=True):
        net, tax = net_and_vat(gross, rate)
        out.append(side(f"{prefix}:{rate_key(rate)}", net))
        vat[rate_key(rate)] += tax
    if shipping:
        net, tax = net_and_vat(shipping, SHIPPING_RATE)
        out.append(side("shipping", net))
        vat[rate_key(SHIPPING_RATE)] += tax
    out.extend(side(f"vat:{key}", tax) for key, tax in vat.items() if key != "0" and tax)
    return out


# --- the rules --------------------------------------------------------------------------------
def goods_left(goods: GrossByRate, shipping: Decimal = ZERO) -> list[Line]:
    """Goods left (shipped, handed over): the invoice. Dr receivables / Cr revenue + VAT."""
    total = sum(goods.values(), ZERO) + shipping
    return [Line.dr(RECEIVABLES, total),
            *_tax_lines(goods, shipping, prefix="revenue", debit=False)]


def goods_returned(goods: GrossByRate, shipping: Decimal = ZERO) -> list[Line]:
    """Goods came back: the credit note. Dr returns (Erlösschmälerungen) + VAT, refunded
    shipping Dr shipping + VAT / Cr receivables."""
    total = sum(goods.values(), ZERO) + shipping
    return [*_tax_lines(goods, shipping, prefix="returns", debit=True),
            Line.cr(RECEIVABLES, total)]


def money_captured(amount: Decimal, into: str) -> list[Line]:
    """Money (or a credit the customer held) paid the order: Dr `into` / Cr receivables."""
    return [Line.dr(into, amount), Line.cr(RECEIVABLES, amount)]


def refund_paid(amount: Decimal, out_of: str) -> list[Line]:
    """Money went back to the customer (or a store credit was issued): Dr receivables / Cr
    `out_of`."""
    return [Line.dr(RECEIVABLES, amount), Line.cr(out_of, amount)]


def chargeback(amount: Decimal, method: str) -> list[Line]:
    """The PSP took money back for the customer: it is owed again. Dr receivables / Cr the
    PSP's clearing account."""
    return refund_paid(amount, psp_clearing(method))


def return_value_to_exchange(amount: Decimal) -> list[Line]:
    """The returned goods' value pays an exchange order instead of going back: the credit
    note's amount moves from the original order to the exchange clearing account (the exchange
    order's `return_credit` payment takes it out again). Dr receivables / Cr exchange_clearing."""
    return refund_paid(amount, CREDIT_ROLES["return_credit"])


def exchange_credit_unused(amount: Decimal) -> list[Line]:
    """An exchange order paid with returned goods' value was cancelled: the value did not pay
    it. Dr receivables / Cr exchange_clearing (the reverse of its payment)."""
    return refund_paid(amount, CREDIT_ROLES["return_credit"])


# --- for the finance app ----------------------------------------------------------------------
def bank_payment_lines(amount: Decimal) -> list[Line]:
    """A bank transfer paid an invoice or a direct debit: Dr bank / Cr receivables."""
    return money_captured(amount, "bank")


def bank_payout_lines(amount: Decimal) -> list[Line]:
    """Money paid back by bank transfer (an overpayment, a credit): Dr receivables / Cr bank."""
    return refund_paid(amount, "bank")


def psp_payout_lines(amount: Decimal, method: str) -> list[Line]:
    """The PSP paid out what it held for `method` (card, paypal) to the bank: Dr bank / Cr
    psp_clearing:<method> (fees: book them apart)."""
    return [Line.dr("bank", amount), Line.cr(psp_clearing(method), amount)]


def till_deposit_lines(amount: Decimal, store_code: str | None) -> list[Line]:
    """A store's till cash taken to the bank: Dr bank / Cr cash:<store>."""
    return [Line.dr("bank", amount), Line.cr(till(store_code), amount)]


def write_off_lines(gross: Decimal, rate: Decimal) -> list[Line]:
    """An uncollectible receivable written off: the VAT in it is corrected (§ 17 UStG).
    Dr write_offs (net) + vat:<rate> / Cr receivables."""
    return write_off_lines_by_rate({Decimal(rate): gross})


def write_off_lines_by_rate(gross: GrossByRate) -> list[Line]:
    """`write_off_lines` for a receivable of several rates (gross per rate)."""
    out: list[Line] = []
    for rate, amount in sorted(gross.items(), reverse=True):
        net, tax = net_and_vat(amount, rate)
        out.append(Line.dr("write_offs", net))
        if rate_key(rate) != "0":
            out.append(Line.dr(f"vat:{rate_key(rate)}", tax))
    out.append(Line.cr(RECEIVABLES, sum(gross.values(), ZERO)))
    return out


def dunning_fee_lines(fee: Decimal) -> list[Line]:
    """A dunning fee charged (damages, no VAT): Dr receivables / Cr dunning_fees."""
    return [Line.dr(RECEIVABLES, fee), Line.cr("dunning_fees", fee)]


# --- where money of a payment method is -------------------------------------------------------
def psp_clearing(method: str) -> str:
    return f"psp_clearing:{method}"


def till(store_code: str | None) -> str:
    """A store's till account; the main cash account when the store is not known."""
    return f"cash:{store_code}" if store_code else "cash"


def money_role(method: str, store_code: str | None = None) -> str | None:
    """The account holding money paid by `method`; None for invoice and direct debit (their
    money comes in by bank: the finance app books it) and anything unknown."""
    if method in PSP_METHODS:
        return psp_clearing(method)
    if method in TILL_METHODS:
        return till(store_code)
    return CREDIT_ROLES.get(method)


METHOD_TEXT = {"card": "Karte", "paypal": "PayPal", "cash": "Bar", "pay_in_store": "Kasse",
               "store_credit": "Store Credit", "gift_card": "Gutschein",
               "return_credit": "Umtausch", "invoice": "Rechnung",
               "direct_debit": "Lastschrift"}


def method_text(method: str) -> str:
    return METHOD_TEXT.get(method, method)
