"""Where the money goes back depends on how the order was paid: a pay-in-store order at the till,
an invoice order against what is still owed (the event finance books), and cash only where
there is a till."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest

from oms.core.models import OutboxEvent
from payments.adapters import psp
from payments.models import Payment, Refund, StoreCredit
from returns.models import Return
from tests.conftest import error_codes
from tests.returns.conftest import return_body
from tests.returns.support import credit_of, ok, receive, register, take_back

pytestmark = pytest.mark.django_db

PAY_IN_STORE = {"method": "pay_in_store", "status": "pending", "amount": "20.00"}
INVOICE = {"method": "invoice", "status": "pending", "amount": "20.00"}


@pytest.fixture(autouse=True)
def _kassel_takes_parcels_back(network: Any) -> None:
    network.kassel.accepts_returns = True
    network.kassel.save(update_fields=["accepts_returns"])


def test_a_pay_in_store_order_is_refunded_at_the_till(
        network: Any, collected: Any, pos_munich: Any, after_commit: Any) -> None:
    # given a click-and-collect order paid at the Munich till when it was collected
    order = collected([("A", 2)], payment=PAY_IN_STORE)
    payment = Payment.objects.get(order__number=order["number"])
    assert payment.captured_amount == Decimal("20.00")

    # when one unit comes back to the original payment
    ret = take_back(pos_munich, after_commit, order, [("A", 1)])

    # then the till pays it out, nothing goes to the PSP
    [refund] = Refund.objects.filter(reference=ret["number"])
    assert (refund.route, refund.status, refund.amount, refund.location_code) == (
        "till", "issued", Decimal("10.00"), "ST-MUC")
    assert refund.payment == payment
    assert psp.fake.refunds == {}
    # and the till payment counts it as refunded
    payment.refresh_from_db()
    assert (payment.status, payment.refunded_amount) == ("partially_refunded", Decimal("10.00"))


def test_an_invoice_order_is_credited_against_the_invoice_and_finance_hears_of_it(
        network: Any, delivered: Any, shop: Any, wms_kassel: Any, after_commit: Any) -> None:
    # given an order on invoice, delivered from Kassel
    order = delivered([("A", 2)], payment=INVOICE)

    # when the customer sends one unit back and Kassel receives it
    ret = register(shop, order, [("A", 1)])
    received = ok(after_commit(wms_kassel.post, f"/api/v1/returns/{ret['id']}/receive",
                               {"lines": [{"sku": "A", "quantity": 1,
                                           "disposition": "restock"}]}))

    # then the refund is credited against the invoice, issued at once
    [part] = received["refund"]["refunds"]
    assert (part["route"], part["status"], part["amount"]) == ("receivable", "issued", "10.00")
    assert received["status"] == "closed"
    # and `refund.issued` is emitted for finance, naming the return and the route
    [event] = OutboxEvent.objects.filter(topic="refund.issued")
    assert event.payload | {"id": None, "issued_at": None, "payment": None} == {
        "id": None, "order": order["number"], "reference": ret["number"],
        "method": "original", "route": "receivable", "status": "issued", "amount": "10.00",
        "currency": "EUR", "payment": None, "location": None, "issued_at": None,
        "return": ret["number"]}
    assert psp.fake.refunds == {}


def test_cash_by_mail_is_refused_and_nothing_is_written(
        network: Any, delivered: Any, shop: Any) -> None:
    # given a delivered card order
    order = delivered([("A", 2)])

    # when the webshop registers a return by mail with cash back
    response = shop.post("/api/v1/returns", return_body(order, [("A", 1)], method="cash"))

    # then it is refused: a parcel has no till
    assert response.status_code == 422, response.content
    assert error_codes(response) == ["refund_method_unavailable"]
    assert response.json()["errors"][0]["attr"] == "refund.method"
    assert not Return.objects.exists()


def test_a_pay_in_store_order_sent_back_by_mail_cannot_go_to_the_original_payment(
        network: Any, collected: Any, shop: Any) -> None:
    # given a pay-in-store order collected in Munich
    order = collected([("A", 1)], payment={**PAY_IN_STORE, "amount": "10.00"})

    # when the webshop registers a return by mail to the original payment
    response = shop.post("/api/v1/returns", return_body(order, [("A", 1)]))

    # then it is refused (only store credit works by mail), and nothing is written
    assert response.status_code == 422, response.content
    assert error_codes(response) == ["refund_method_unavailable"]
    assert not Return.objects.exists()


def test_an_order_paid_with_store_credit_goes_back_onto_the_same_credit(
        network: Any, delivered: Any, collected: Any, pos_munich: Any, shop: Any,
        after_commit: Any) -> None:
    # given a store credit of 20.00, which paid a new order of 20.00 in full
    credit = credit_of(take_back(pos_munich, after_commit, delivered([("A", 2)]), [("A", 2)],
                                 method="store_credit"))
    order = collected([("C", 2)], payment={"method": "store_credit", "status": "captured",
                                           "amount": "20.00", "store_credit_code": credit.code})
    credit.refresh_from_db()
    assert credit.balance == 0

    # when one unit of the new order comes back to the original payment
    ret = take_back(pos_munich, after_commit, order, [("C", 1)])

    # then the same credit holds 10.00 again, no new credit was issued
    credit.refresh_from_db()
    assert credit.balance == Decimal("10.00")
    assert [e.kind for e in credit.entries.all()] == ["issue", "redeem", "refund"]
    assert StoreCredit.objects.count() == 1
    assert credit_of(ret) == credit


def test_an_order_paid_by_gift_card_is_refunded_as_a_new_store_credit(
        network: Any, collected: Any, pos_munich: Any, after_commit: Any) -> None:
    order = collected([("A", 1)], payment={"method": "gift_card", "status": "captured",
                                           "amount": "10.00"})

    ret = take_back(pos_munich, after_commit, order, [("A", 1)])

    credit = credit_of(ret)
    assert credit.balance == Decimal("10.00")
    assert Refund.objects.get(reference=ret["number"]).route == "store_credit"


def test_a_return_announced_online_for_a_store_is_received_and_paid_out_at_its_till(
        network: Any, delivered: Any, shop: Any, pos_munich: Any, pos_berlin: Any,
        after_commit: Any) -> None:
    # given the webshop announced a return the customer brings to Munich, with cash back
    order = delivered([("A", 1)])
    ret = register(shop, order, [("A", 1)], method="cash", location="ST-MUC")
    assert (ret["mode"], ret["location"]) == ("in_store", "ST-MUC")

    # when the Berlin till tries to receive it, then the Munich till
    elsewhere = pos_berlin.post(f"/api/v1/returns/{ret['id']}/receive",
                                {"lines": [{"sku": "A", "quantity": 1,
                                            "disposition": "restock"}]})
    received = ok(after_commit(pos_munich.post, f"/api/v1/returns/{ret['id']}/receive",
                               {"lines": [{"sku": "A", "quantity": 1,
                                           "disposition": "restock"}]}))

    # then Berlin does not see it; Munich takes it and pays out the cash
    assert elsewhere.status_code == 404
    assert received["status"] == "closed"
    [refund] = Refund.objects.filter(reference=ret["number"])
    assert (refund.route, refund.location_code) == ("till", "ST-MUC")


def test_the_replacement_of_an_exchange_comes_back_as_store_credit_for_the_goods_value(
        network: Any, delivered: Any, pos_munich: Any, after_commit: Any) -> None:
    # given A exchanged for C in Munich, C handed over
    order = delivered([("A", 1)])
    network.stock(network.munich, "C", 2)
    ret = register(pos_munich, order, [("A", 1)], exchange=[
        {"sku": "C", "quantity": 1, "unit_price": "10.00"}])
    receive(pos_munich, after_commit, ret, [("A", 1)])
    replacement = pos_munich.get(f"/api/v1/returns/{ret['id']}").json()["exchange_order"]

    # when the customer brings C back too, to the original payment
    back = take_back(pos_munich, after_commit, {"number": replacement}, [("C", 1)])

    # then the value that paid C becomes a store credit: it cannot go back to A's card twice
    assert credit_of(back).balance == Decimal("10.00")
    assert psp.fake.refunds == {}
