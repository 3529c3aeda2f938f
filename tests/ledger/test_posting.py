"""The posting rules: every business fact the OMS publishes is booked once, on the accounts the
German bookkeeping rules want, and every entry balances to the cent.

The rules themselves (`ledger.posting`) are pure functions, tested first on plain numbers; then
each rule is driven through the API as it happens in the shop (goods leave, money comes in,
goods come back, money goes back), and what was booked is read from the journal."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest
from django.utils import timezone

from fulfillment.models import FulfillmentOrder
from ledger import posting
from ledger.chart import account_for
from ledger.handlers import book_goods_left
from ledger.models import JournalEntry
from ledger.services import Line
from oms.core.events import event_handle, handler_registered_name
from oms.core.models import OutboxEvent
from payments.models import Payment
from tests.ledger.conftest import balances, entries, lines_of, order_lines, relay_all
from tests.network import order_body
from tests.payments.conftest import pickup_expired
from tests.returns.support import credit_of, ok, receive, register, take_back

D = Decimal
pytestmark = pytest.mark.django_db


def balanced(lines: list[Line]) -> bool:
    return sum((ln.debit for ln in lines), D(0)) == sum((ln.credit for ln in lines), D(0))


# --- the rules on plain numbers ---------------------------------------------------------------
@pytest.mark.parametrize(("gross", "rate", "net", "vat"), [
    ("119.00", "19.00", "100.00", "19.00"),
    ("10.00", "19.00", "8.40", "1.60"),
    ("10.70", "7.00", "10.00", "0.70"),
    ("0.01", "19.00", "0.01", "0.00"),
    ("12.34", "0.00", "12.34", "0.00"),
])
def test_a_gross_amount_splits_into_net_and_vat_to_the_cent(
        gross: str, rate: str, net: str, vat: str) -> None:
    assert posting.net_and_vat(D(gross), D(rate)) == (D(net), D(vat))


def test_goods_that_left_credit_revenue_and_vat_per_rate_and_shipping_on_its_own_account(
        ) -> None:
    # given goods of two rates and shipping
    lines = posting.goods_left({D("19.00"): D("22.26"), D("7.00"): D("10.01")}, D("4.90"))

    # then the receivable is the gross, revenue and VAT per rate, shipping's VAT with 19 %
    assert set(lines) == {
        Line.dr("receivables", D("37.17")),
        Line.cr("revenue:19", D("18.71")), Line.cr("revenue:7", D("9.36")),
        Line.cr("shipping", D("4.12")),
        Line.cr("vat:19", D("3.55") + D("0.78")), Line.cr("vat:7", D("0.65"))}
    assert balanced(lines)


def test_shipping_goes_with_the_first_goods_only_and_the_event_amount_is_the_truth() -> None:
    lines = [posting.TaxedLine("A", 3, D("11.90"), D("19.00")),
             posting.TaxedLine("B", 1, D("10.70"), D("7.00"))]
    # the first parcel: two A (their share of the 3.00 discount off) and the shipping
    first = posting.goods_left_split(amount=D("27.16"), lines=lines, discount=D("3.00"),
                                     counted={}, units={"A": 2})
    assert first == ({D("19.00"): D("22.26")}, D("4.90"))
    # the second: the rest, no shipping; a cent the rows disagree on stays with the goods
    second = posting.goods_left_split(amount=D("21.15"), lines=lines, discount=D("3.00"),
                                      counted={"A": 2}, units={"A": 1, "B": 1})
    assert second == ({D("19.00"): D("11.14"), D("7.00"): D("10.01")}, D("0.00"))


def test_the_finance_app_gets_balanced_lines_for_bank_payments_write_offs_and_fees() -> None:
    assert set(posting.bank_payment_lines(D("50.00"))) == {
        Line.dr("bank", D("50.00")), Line.cr("receivables", D("50.00"))}
    assert set(posting.bank_payout_lines(D("5.00"))) == {
        Line.dr("receivables", D("5.00")), Line.cr("bank", D("5.00"))}
    assert set(posting.psp_payout_lines(D("30.00"), "paypal")) == {
        Line.dr("bank", D("30.00")), Line.cr("psp_clearing:paypal", D("30.00"))}
    assert set(posting.till_deposit_lines(D("80.00"), "ST-MUC")) == {
        Line.dr("bank", D("80.00")), Line.cr("cash:ST-MUC", D("80.00"))}
    assert set(posting.write_off_lines(D("119.00"), D("19.00"))) == {
        Line.dr("write_offs", D("100.00")), Line.dr("vat:19", D("19.00")),
        Line.cr("receivables", D("119.00"))}
    both = posting.write_off_lines_by_rate({D("19.00"): D("11.90"), D("7.00"): D("10.70")})
    assert balanced(both) and Line.cr("receivables", D("22.60")) in both
    assert set(posting.dunning_fee_lines(D("2.50"))) == {
        Line.dr("receivables", D("2.50")), Line.cr("dunning_fees", D("2.50"))}


# --- goods leave ------------------------------------------------------------------------------
def test_each_parcel_is_an_invoice_for_its_goods_and_the_first_carries_the_shipping(
        network: Any, shop: Any, wms_kassel: Any, after_commit: Any) -> None:
    # given a card order of 3 A at 19 % and 1 B at 7 %, 3.00 off and 4.90 shipping
    network.stock(network.kassel, "A", 5)
    network.stock(network.kassel, "B", 5)
    body = order_body([("A", 3), ("B", 1)], discount="3.00", shipping="4.90")
    body["lines"] = order_lines(("A", 3, "11.90", "19.00"), ("B", 1, "10.70", "7.00"))
    body["payment"]["amount"] = "48.30"
    order = ok(after_commit(shop.post, "/api/v1/orders", body), 201)
    fo = FulfillmentOrder.objects.get(order__number=order["number"])

    # when Kassel ships two A, then the rest
    ok(after_commit(wms_kassel.post, f"/api/v1/fulfillments/{fo.pk}/ship",
                    {"carrier": "dhl", "tracking_number": "T1", "lines": [
                        {"sku": "A", "quantity": 2}]}))
    ok(after_commit(wms_kassel.post, f"/api/v1/fulfillments/{fo.pk}/ship",
                    {"carrier": "dhl", "tracking_number": "T2"}))

    # then each parcel is booked on its day: revenue and VAT by rate, shipping with the first
    first, second = entries(order["number"], "goods_left")
    assert lines_of(first) == {
        ("receivables", D("27.16"), 0), ("revenue:19", 0, D("18.71")),
        ("shipping", 0, D("4.12")), ("vat:19", 0, D("4.33"))}
    assert lines_of(second) == {
        ("receivables", D("21.14"), 0), ("revenue:19", 0, D("9.35")),
        ("vat:19", 0, D("1.78")), ("revenue:7", 0, D("9.36")), ("vat:7", 0, D("0.65"))}
    left = OutboxEvent.objects.filter(topic="fulfillment.shipped").earliest("created_at")
    assert (first.text, first.booked_on) == (f"Versand {order['number']}",
                                             timezone.localdate(left.created_at))
    # and the card captures moved the whole receivable to the PSP's clearing account
    assert len(entries(order["number"], "money_captured")) == 2
    relay_all()
    assert balances() == {
        "psp_clearing:card": D("48.30"), "revenue:19": D("-28.06"), "revenue:7": D("-9.36"),
        "shipping": D("-4.12"), "vat:19": D("-6.11"), "vat:7": D("-0.65")}


def test_a_pickup_paid_at_the_till_is_an_invoice_and_cash_in_that_stores_till(
        network: Any, collected: Any) -> None:
    # when a click-and-collect order paid in store is collected in Munich
    order = collected([("A", 2)], payment={"method": "pay_in_store", "status": "pending",
                                           "amount": "20.00"})
    relay_all()

    # then the handover is the invoice, and the money is in Munich's till account
    [sale] = entries(order["number"], "goods_left")
    assert sale.text == f"Abholung {order['number']}"
    assert lines_of(sale) == {("receivables", D("20.00"), 0), ("revenue:19", 0, D("16.81")),
                              ("vat:19", 0, D("3.19"))}
    [paid] = entries(order["number"], "money_captured")
    assert lines_of(paid) == {("cash:ST-MUC", D("20.00"), 0), ("receivables", 0, D("20.00"))}
    assert account_for("cash:ST-MUC").number == "1001"  # numbered on from Kasse 1000 (SKR03)
    assert balances() == {"cash:ST-MUC": D("20.00"), "revenue:19": D("-16.81"),
                          "vat:19": D("-3.19")}


def test_store_credit_spent_on_an_order_pays_its_receivable(
        network: Any, delivered: Any, collected: Any, pos_munich: Any,
        after_commit: Any) -> None:
    # given a store credit of 20.00 from a return
    credit = credit_of(take_back(pos_munich, after_commit, delivered([("A", 2)]), [("A", 2)],
                                 method="store_credit"))
    relay_all()
    assert balances()["store_credit"] == D("-20.00")  # owed to the customer

    # when it pays a new order in full, collected in Munich
    order = collected([("C", 2)], payment={"method": "store_credit", "status": "captured",
                                           "amount": "20.00", "store_credit_code": credit.code})
    relay_all()

    # then the credit is spent against the order's receivable, nothing is owed any more
    [spent] = entries(order["number"], "money_captured")
    assert lines_of(spent) == {("store_credit", D("20.00"), 0), ("receivables", 0, D("20.00"))}
    now = balances()
    assert "store_credit" not in now and "receivables" not in now


# --- goods and money come back ----------------------------------------------------------------
def test_a_return_is_a_credit_note_and_its_refund_goes_back_to_the_card(
        network: Any, delivered: Any, pos_munich: Any, after_commit: Any) -> None:
    # given a card order of 2 A, delivered and captured
    order = delivered([("A", 2)])

    # when one A comes back to Munich, refunded to the card
    ret = take_back(pos_munich, after_commit, order, [("A", 1)])
    relay_all()

    # then the credit note lowers revenue and VAT, and the refund leaves the PSP's clearing
    [note] = entries(ret["number"], "goods_returned")
    assert (note.text, lines_of(note)) == (f"Retoure {ret['number']}", {
        ("returns:19", D("8.40"), 0), ("vat:19", D("1.60"), 0), ("receivables", 0, D("10.00"))})
    [refund] = entries(ret["number"], "refund_paid")
    assert lines_of(refund) == {("receivables", D("10.00"), 0),
                                ("psp_clearing:card", 0, D("10.00"))}
    assert balances() == {"psp_clearing:card": D("10.00"), "revenue:19": D("-16.81"),
                          "returns:19": D("8.40"), "vat:19": D("-1.59")}


@pytest.mark.parametrize(("method", "account"), [
    ("cash", "cash:ST-MUC"), ("store_credit", "store_credit")])
def test_a_card_order_refunded_in_cash_or_as_store_credit_books_the_till_or_the_credit(
        network: Any, delivered: Any, pos_munich: Any, after_commit: Any, method: str,
        account: str) -> None:
    order = delivered([("A", 2)])

    ret = take_back(pos_munich, after_commit, order, [("A", 1)], method=method)
    relay_all()

    [refund] = entries(ret["number"], "refund_paid")
    assert lines_of(refund) == {("receivables", D("10.00"), 0), (account, 0, D("10.00"))}
    now = balances()
    assert (now[account], now["psp_clearing:card"], now.get("receivables")) == (
        D("-10.00"), D("20.00"), None)


def test_an_invoice_credited_by_a_return_is_owed_less_and_nothing_else_moves(
        network: Any, delivered: Any, pos_munich: Any, after_commit: Any) -> None:
    # given an invoice order of 2 A, delivered
    order = delivered([("A", 2)], payment={"method": "invoice", "status": "pending",
                                           "amount": "20.00"})

    # when one A comes back, credited against the invoice
    ret = take_back(pos_munich, after_commit, order, [("A", 1)])
    relay_all()

    # then only the credit note is booked (the refund's route `receivable` moves no money)
    assert [e.source.rsplit(":", 1)[1] for e in entries(ret["number"])] == ["goods_returned"]
    assert balances()["receivables"] == D("10.00")


def test_a_chargeback_makes_the_captured_money_owed_again(
        network: Any, delivered: Any, api: Any) -> None:
    # given a card order delivered and captured
    order = delivered([("A", 2)])
    payment = Payment.objects.get(order__number=order["number"])

    # when the PSP charges 20.00 back
    ok(api("psp").post("/api/v1/payments/events", {
        "psp_reference": payment.psp_reference, "type": "chargeback", "amount": "20.00",
        "currency": "EUR", "at": "2031-05-04T10:00:00+02:00"}))
    relay_all()

    # then the receivable is open again and the PSP's clearing account is empty
    [back] = entries(order["number"], "chargeback")
    assert lines_of(back) == {("receivables", D("20.00"), 0),
                              ("psp_clearing:card", 0, D("20.00"))}
    now = balances()
    assert (now["receivables"], now.get("psp_clearing:card")) == (D("20.00"), None)


def test_a_prepaid_pickup_nobody_collected_is_refunded_and_nothing_was_sold(
        network: Any, shop: Any) -> None:
    # given a pickup order paid by card at checkout (captured: money in the PSP's clearing)
    network.stock(network.munich, "A", 5)
    body = order_body([("A", 2)], delivery={"method": "pickup", "location": "ST-MUC"})
    body["payment"]["status"] = "captured"
    order = ok(shop.post("/api/v1/orders", body), 201)
    relay_all()
    assert balances() == {"psp_clearing:card": D("20.00"), "receivables": D("-20.00")}

    # when the pickup expires and the money goes back to the card
    pickup_expired(order["number"], "20.00")
    relay_all()

    # then the refund empties the clearing account, and no revenue was ever booked
    [refund] = entries(order["number"], "refund_paid")
    assert lines_of(refund) == {("receivables", D("20.00"), 0),
                                ("psp_clearing:card", 0, D("20.00"))}
    assert balances() == {}


def test_the_returned_goods_value_pays_an_exchange_through_the_exchange_clearing_account(
        network: Any, delivered: Any, pos_munich: Any, after_commit: Any) -> None:
    # given a delivered card order of one A, and Munich holding C
    order = delivered([("A", 1)])
    network.stock(network.munich, "C", 2)

    # when the customer swaps A for a C of the same price at the Munich till
    ret = register(pos_munich, order, [("A", 1)],
                   exchange=[{"sku": "C", "quantity": 1, "unit_price": "10.00"}])
    receive(pos_munich, after_commit, ret, [("A", 1)])
    relay_all()

    # then A's credit note, its value moved to the exchange order, C sold: nothing owed
    [moved] = entries(ret["number"], "exchange_credit")
    assert lines_of(moved) == {("receivables", D("10.00"), 0),
                               ("exchange_clearing", 0, D("10.00"))}
    [paid] = entries(ret["exchange_order"], "money_captured")
    assert lines_of(paid) == {("exchange_clearing", D("10.00"), 0),
                              ("receivables", 0, D("10.00"))}
    assert len(entries(ret["exchange_order"], "goods_left")) == 1
    assert balances() == {"psp_clearing:card": D("10.00"), "revenue:19": D("-16.80"),
                          "returns:19": D("8.40"), "vat:19": D("-1.60")}


def test_an_exchange_cancelled_before_the_goods_came_gives_the_value_back(
        network: Any, delivered: Any, pos_munich: Any, after_commit: Any) -> None:
    # given an exchange of A for C registered in Munich (C's order paid by A's value)
    order = delivered([("A", 1)])
    network.stock(network.munich, "C", 2)
    ret = register(pos_munich, order, [("A", 1)],
                   exchange=[{"sku": "C", "quantity": 1, "unit_price": "10.00"}])

    # when the customer changes their mind and the return is cancelled
    ok(after_commit(pos_munich.post, f"/api/v1/returns/{ret['id']}/cancel",
                    {"reason": "keeps A"}))
    relay_all()

    # then the exchange order's payment by returned goods is undone: the clearing is empty
    [undone] = entries(ret["exchange_order"], "exchange_cancelled")
    assert lines_of(undone) == {("receivables", D("10.00"), 0),
                                ("exchange_clearing", 0, D("10.00"))}
    now = balances()
    assert "exchange_clearing" not in now and "receivables" not in now


# --- once per event ---------------------------------------------------------------------------
def test_an_event_handled_twice_books_once(network: Any, delivered: Any) -> None:
    # given a delivered order whose shipment was booked by the relay
    order = delivered([("A", 2)])
    shipped = OutboxEvent.objects.get(topic="fulfillment.shipped")
    [entry] = entries(order["number"], "goods_left")
    assert entry.source == f"{shipped.id}:goods_left"

    # when the event reaches the handler again: as a task, and called directly
    assert not event_handle(event_id=shipped.id,
                            handler_name=handler_registered_name(book_goods_left))
    book_goods_left(shipped)

    # then it is still booked once
    assert entries(order["number"], "goods_left") == [entry]
    assert JournalEntry.objects.filter(source__startswith=str(shipped.id)).count() == 1
