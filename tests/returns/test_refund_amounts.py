"""What a return refunds: what was paid for those units, the order discount shared out over
the lines in proportion to their value, counted cumulatively over several visits, and shipping
once when the whole order is back (if the channel's policy says so)."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest

from payments.models import Payment, Refund
from returns.models import ReturnPolicy
from tests.returns.support import credit_of, priced, register, skus, take_back

pytestmark = pytest.mark.django_db

A3_B1 = [("A", 3, "10.00"), ("B", 1, "20.00")]


def till_refunds(order: dict[str, Any]) -> list[Decimal]:
    return [r.amount for r in Refund.objects.filter(order__number=order["number"], route="till")
            .order_by("pk")]


def refunded(order: dict[str, Any]) -> Decimal:
    return Payment.objects.get(order__number=order["number"]).refunded_amount


def test_the_order_discount_is_shared_out_over_the_lines_by_their_value(
        network: Any, delivered: Any, pos_munich: Any, after_commit: Any) -> None:
    # given 3 A at 10.00 and 1 B at 20.00 (50.00) with 5.00 off the order: A carries 3.00 of
    # the discount (27.00 for three), B 2.00 (18.00)
    order = delivered(skus(A3_B1), **priced(A3_B1, discount="5.00"))

    # when one A comes back, and then B
    one_a = take_back(pos_munich, after_commit, order, [("A", 1)])
    b = take_back(pos_munich, after_commit, order, [("B", 1)])

    # then each refunds what was paid for it after its share of the discount
    assert one_a["refund"]["amount"] == "9.00"
    assert [ln["refund_amount"] for ln in one_a["lines"]] == ["9.00"]
    assert b["refund"]["amount"] == "18.00"
    assert refunded(order) == Decimal("27.00")


def test_the_estimate_at_registration_is_what_the_receipt_refunds(
        network: Any, delivered: Any, pos_munich: Any, after_commit: Any) -> None:
    # given the discounted order
    order = delivered(skus(A3_B1), **priced(A3_B1, discount="5.00"))

    # when two A are announced
    ret = register(pos_munich, order, [("A", 2)])

    # then the refund is estimated from them, before anything is in hand
    assert ret["refund"] | {"refunds": []} == {
        "method": "original", "amount": "18.00", "currency": "EUR", "status": "estimated",
        "refunds": []}


def test_a_line_returned_over_three_visits_refunds_exactly_its_net_value(
        network: Any, delivered: Any, pos_munich: Any, after_commit: Any) -> None:
    # given 3 A at 10.00 with 0.10 off: the line is worth 29.90, which three do not divide
    lines = [("A", 3, "10.00")]
    order = delivered(skus(lines), **priced(lines, discount="0.10"))

    # when the customer brings one unit back on each of three visits
    visits = [take_back(pos_munich, after_commit, order, [("A", 1)]) for _visit in range(3)]

    # then the cents are shared out so that the three add up to 29.90, not a cent more
    amounts = [Decimal(v["refund"]["amount"]) for v in visits]
    assert amounts == [Decimal("9.97"), Decimal("9.96"), Decimal("9.97")]
    assert sum(amounts) == Decimal("29.90")
    assert refunded(order) == Decimal("29.90")
    # and the returns are numbered one after the other
    assert [v["number"] for v in visits] == [f"{order['number']}-R{n}" for n in (1, 2, 3)]


def test_shipping_is_refunded_once_with_the_return_that_brings_the_last_unit_back(
        network: Any, delivered: Any, pos_munich: Any, after_commit: Any) -> None:
    # given an order of A and B with 4.95 shipping, under the default policy
    lines = [("A", 1, "10.00"), ("B", 1, "20.00")]
    order = delivered(skus(lines), **priced(lines, shipping="4.95"))

    # when A comes back, then B (paid out in cash at the till)
    first = take_back(pos_munich, after_commit, order, [("A", 1)], method="cash")
    last = take_back(pos_munich, after_commit, order, [("B", 1)], method="cash")

    # then the first refunds the goods alone, the last one the goods and the shipping
    assert (first["shipping_refund"], first["refund"]["amount"]) == ("0.00", "10.00")
    assert (last["shipping_refund"], last["refund"]["amount"]) == ("4.95", "24.95")
    assert till_refunds(order) == [Decimal("10.00"), Decimal("24.95")]


def test_shipping_comes_back_with_a_single_return_of_the_whole_order(
        network: Any, delivered: Any, pos_munich: Any, after_commit: Any) -> None:
    lines = [("A", 2, "10.00")]
    order = delivered(skus(lines), **priced(lines, shipping="4.95", discount="1.00"))

    ret = take_back(pos_munich, after_commit, order, [("A", 2)], method="store_credit")

    assert (ret["shipping_refund"], ret["refund"]["amount"]) == ("4.95", "23.95")
    assert credit_of(ret).balance == Decimal("23.95")


def test_shipping_is_not_refunded_when_the_channels_policy_says_no(
        network: Any, delivered: Any, pos_munich: Any, after_commit: Any) -> None:
    # given a webshop channel whose policy keeps the shipping
    ReturnPolicy.objects.create(channel="web", refund_shipping_on_full_return=False)
    lines = [("A", 1, "10.00")]
    order = delivered(skus(lines), **priced(lines, shipping="4.95"))

    # when the whole order comes back
    ret = take_back(pos_munich, after_commit, order, [("A", 1)], method="cash")

    # then only the goods are refunded
    assert (ret["shipping_refund"], ret["refund"]["amount"]) == ("0.00", "10.00")
    assert till_refunds(order) == [Decimal("10.00")]


def test_a_card_paid_order_returned_whole_gets_goods_and_shipping_back_on_the_card(
        network: Any, delivered: Any, pos_munich: Any, after_commit: Any) -> None:
    # given a card order of 20.00 goods and 4.95 shipping, shipped and delivered
    lines = [("A", 2, "10.00")]
    order = delivered(skus(lines), **priced(lines, shipping="4.95"))

    # when all of it comes back to the card
    ret = take_back(pos_munich, after_commit, order, [("A", 2)])

    # then the card gets back everything it paid
    assert ret["refund"]["amount"] == "24.95"
    assert refunded(order) == Decimal("24.95")
