"""Every payment method through a sale, a partial return and its refund: what the ledger holds
at the end is what the business holds. Revenue and VAT are those of the goods the customer
kept, the receivable is what they still owe (nothing, unless they pay by invoice or direct
debit, whose money finance books from the bank), and the money is where it went: the PSP's
clearing account, the store's till, the store credit or gift card liability."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest

from oms.core.models import OutboxEvent
from payments.models import Refund
from tests.ledger.conftest import balances, delta, order_lines, relay_all
from tests.returns.support import credit_of, take_back

D = Decimal
pytestmark = pytest.mark.django_db

# Two A at 11.90 (19 %), one B at 10.70 (7 %); a parcel adds 4.90 shipping.
LINES = order_lines(("A", 2, "11.90", "19.00"), ("B", 1, "10.70", "7.00"))
UNITS = [("A", 2), ("B", 1)]
PARCEL_TOTAL, PICKUP_TOTAL = D("39.40"), D("34.50")
# The goods the customer kept: one A and B, and for a parcel the shipping.
KEPT = {"revenue:19": D("-20.00"), "returns:19": D("10.00"), "vat:19": D("-1.90"),
        "revenue:7": D("-10.00"), "vat:7": D("-0.70")}
SHIPPING = {"shipping": D("-4.12"), "vat:19": D("-0.78")}

# method: (status at checkout, parcel or pickup, the refund's route, where the money ends)
WALKS = {
    "card": ("authorized", "parcel", "psp", {"psp_clearing:card": D("27.50")}),
    "paypal": ("authorized", "parcel", "psp", {"psp_clearing:paypal": D("27.50")}),
    "invoice": ("pending", "parcel", "receivable", {"receivables": D("27.50")}),
    "direct_debit": ("authorized", "parcel", "receivable", {"receivables": D("27.50")}),
    "pay_in_store": ("pending", "pickup", "till", {"cash:ST-MUC": D("22.60")}),
    "cash": ("captured", "pickup", "till", {"cash:ST-MUC": D("22.60")}),
    "store_credit": ("captured", "pickup", "store_credit", {"store_credit": D("22.60")}),
    "gift_card": ("captured", "pickup", "store_credit",
                  {"gift_cards": D("34.50"), "store_credit": D("-11.90")}),
}


def expected(how: str, money: dict[str, Decimal]) -> dict[str, Decimal]:
    out = dict(KEPT)
    if how == "parcel":
        for role, amount in SHIPPING.items():
            out[role] = out.get(role, D("0")) + amount
    return {**out, **money}


@pytest.mark.parametrize("method", list(WALKS))
def test_sale_partial_return_and_refund_leave_the_ledger_where_the_business_is(
        method: str, network: Any, delivered: Any, collected: Any, pos_munich: Any,
        after_commit: Any) -> None:
    status, how, route, money = WALKS[method]
    payment: dict[str, Any] = {"method": method, "status": status}
    if method in ("card", "paypal", "direct_debit"):
        payment["psp_reference"] = f"psp_walk_{method}"
    if method == "store_credit":
        # given a store credit of 40.00 the customer got for an earlier return
        earlier = take_back(pos_munich, after_commit, delivered([("X", 4)]), [("X", 4)],
                            method="store_credit")
        payment["store_credit_code"] = credit_of(earlier).code
    relay_all()
    before = balances()

    # when the customer buys two A and a B (a parcel from Kassel, or collected in Munich)
    if how == "parcel":
        order = delivered(UNITS, lines=LINES, shipping="4.90",
                          payment={**payment, "amount": str(PARCEL_TOTAL)})
    else:
        order = collected(UNITS, lines=LINES, payment={**payment, "amount": str(PICKUP_TOTAL)})
    # and brings one A back to the Munich till, refunded the way they paid
    ret = take_back(pos_munich, after_commit, order, [("A", 1)])
    relay_all()

    # then the refund went the way the method says
    assert [r.route for r in Refund.objects.filter(reference=ret["number"])] == [route]
    assert not OutboxEvent.objects.filter(published_at__isnull=True).exists()
    # and the ledger moved by the goods kept, what is owed and where the money is
    assert delta(balances(), before) == expected(how, money)
