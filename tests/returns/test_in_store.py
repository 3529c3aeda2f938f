"""Return in store: a customer brings an online order back to a store; the till registers and
receives it in one visit, the goods go back on that store's shelf and the money back at once."""

from __future__ import annotations

import re
from decimal import Decimal
from typing import Any

import pytest

from inventory.models import MovementKind, StockMovement
from oms.core.events import handlers_for
from oms.core.models import OutboxEvent
from oms.core.tasks import handle_event
from oms.orders.models import Order
from payments.adapters import psp
from payments.models import STORE_CREDIT_CODE_PATTERN, Payment, Refund
from tests.conftest import error_codes
from tests.network import level, order_body
from tests.returns.conftest import receive_body, return_body
from tests.returns.support import credit_of, ok, take_back

pytestmark = pytest.mark.django_db


def test_an_online_order_comes_back_in_a_store_with_a_card_refund_and_restock_there(
        network: Any, delivered: Any, pos_berlin: Any, shop: Any, after_commit: Any) -> None:
    # given an order shipped from Kassel to the customer, paid by card
    order = delivered([("A", 2), ("B", 1)])
    network.stock(network.berlin, "A", 0)

    # when the customer brings one A back to the Berlin store
    registered = pos_berlin.post("/api/v1/returns", return_body(order, [("A", 1)]))
    assert registered.status_code == 201, registered.content
    ret = registered.json()
    received = after_commit(pos_berlin.post, f"/api/v1/returns/{ret['id']}/receive",
                            receive_body([("A", 1)]))

    # then the unit is on the Berlin shelf with a return movement, available at once
    assert received.status_code == 200, received.content
    assert level("A", network.berlin).on_hand == 1
    movement = StockMovement.objects.get(location=network.berlin, product_id="A")
    assert movement.kind == MovementKind.RETURN and movement.reference == ret["number"]
    # and the card is refunded 10.00 through the PSP, referenced to the online payment
    [refund] = Refund.objects.filter(reference=ret["number"])
    assert refund.route == "psp" and refund.status == "issued"
    assert refund.amount == Decimal("10.00")
    [call] = psp.fake.refunds.values()
    payment = Payment.objects.get(order__number=order["number"])
    assert call.psp_reference == payment.psp_reference
    assert payment.refunded_amount == Decimal("10.00")
    # and the return is closed, the order partially returned with the unit counted
    now = pos_berlin.get(f"/api/v1/returns/{ret['id']}").json()
    assert now["status"] == "closed"
    assert now["refund"]["status"] == "issued"
    seen = shop.get(f"/api/v1/orders/{order['number']}").json()
    assert seen["status"] == "partially_returned"
    assert {ln["sku"]: ln["returned"] for ln in seen["lines"]} == {"A": 1, "B": 0}


# --- helpers --------------------------------------------------------------------------------
def spend_body(code: str, amount: str, lines: list[tuple[str, int]],
               price: str = "10.00") -> dict[str, Any]:
    return order_body(lines, price=price, payment={
        "method": "store_credit", "status": "captured", "amount": amount,
        "store_credit_code": code})


# --- the refund ---------------------------------------------------------------------------
def test_a_card_refund_at_a_store_is_a_referenced_partial_refund_of_the_online_payment(
        network: Any, delivered: Any, pos_munich: Any, after_commit: Any) -> None:
    # given an online order of three units paid by card and delivered from Kassel
    order = delivered([("A", 3)])
    payment = Payment.objects.get(order__number=order["number"])

    # when the customer brings one unit to the Munich store and wants it back on the card
    ret = take_back(pos_munich, after_commit, order, [("A", 1)])

    # then the PSP was asked once for a refund of that unit, by the online payment's reference
    [call] = [c for c in psp.fake.calls if c.operation == "refund"]
    assert (call.psp_reference, call.amount, call.currency) == (
        payment.psp_reference, Decimal("10.00"), "EUR")
    # and the payment is partially refunded, the rest still captured
    payment.refresh_from_db()
    assert payment.status == "partially_refunded"
    assert payment.refunded_amount == Decimal("10.00")
    assert payment.captured_amount == Decimal("30.00")
    # and the return shows the refund issued through the PSP
    assert ret["refund"]["method"] == "original"
    [part] = pos_munich.get(f"/api/v1/returns/{ret['id']}").json()["refund"]["refunds"]
    assert part["route"] == "psp" and part["status"] == "issued"
    assert part["amount"] == "10.00" and part["store_credit_code"] is None
    # and `refund.issued` names the return like a till's refund does
    [issued] = OutboxEvent.objects.filter(topic="refund.issued")
    assert (issued.payload["return"], issued.payload["reference"]) == (ret["number"],) * 2


def test_a_cash_refund_is_paid_out_at_the_till_and_nothing_goes_to_the_psp(
        network: Any, delivered: Any, pos_munich: Any, after_commit: Any) -> None:
    # given a card order delivered to the customer
    order = delivered([("A", 2)])

    # when the customer brings one unit to Munich and takes cash
    ret = take_back(pos_munich, after_commit, order, [("A", 1)], method="cash")

    # then the refund is issued at once, at the Munich till, and the PSP was asked for no refund
    assert ret["status"] == "closed"
    assert ret["refund"] | {"refunds": None} == {
        "method": "cash", "amount": "10.00", "currency": "EUR", "status": "issued",
        "refunds": None}
    [refund] = Refund.objects.filter(reference=ret["number"])
    assert (refund.route, refund.status, refund.location_code, refund.payment) == (
        "till", "issued", "ST-MUC", None)
    assert psp.fake.refunds == {}
    # and the card payment is untouched: the money went back as cash
    payment = Payment.objects.get(order__number=order["number"])
    assert payment.refunded_amount == Decimal("0.00")


def test_a_store_credit_refund_gives_a_code_with_a_balance_and_a_history(
        network: Any, delivered: Any, pos_munich: Any, after_commit: Any) -> None:
    # given a card order delivered to the customer
    order = delivered([("A", 2)])

    # when the customer brings both units to Munich and takes store credit
    ret = take_back(pos_munich, after_commit, order, [("A", 2)], method="store_credit")

    # then a store credit of 20.00 exists under the code the till shows
    credit = credit_of(ret)
    assert re.fullmatch(STORE_CREDIT_CODE_PATTERN, credit.code)
    assert (credit.balance, credit.currency) == (Decimal("20.00"), "EUR")
    assert credit.customer.email == "kim@example.de"
    # and its history has the one issue entry naming the return's refund
    [entry] = credit.entries.all()
    assert (entry.kind, entry.amount, entry.balance_after) == (
        "issue", Decimal("20.00"), Decimal("20.00"))
    assert entry.order.number == order["number"]
    # and no refund went to the PSP
    assert psp.fake.refunds == {}


def test_store_credit_pays_a_later_order_at_intake_and_its_history_shows_both(
        network: Any, delivered: Any, pos_munich: Any, shop: Any, after_commit: Any) -> None:
    # given a store credit of 20.00 from a return
    credit = credit_of(take_back(pos_munich, after_commit, delivered([("A", 2)]), [("A", 2)],
                                 method="store_credit"))

    # when the customer spends 15.00 of it on a new order in the webshop
    network.stock(network.kassel, "C", 5)
    placed = shop.post("/api/v1/orders", spend_body(credit.code, "15.00", [("C", 1)],
                                                    price="15.00"))

    # then the order is placed, paid and captured by the credit
    body = ok(placed, 201)
    [paid] = body["payments"]
    assert (paid["method"], paid["status"], paid["amount"]) == (
        "store_credit", "captured", "15.00")
    # and 5.00 is left, the history showing the issue and the redemption
    credit.refresh_from_db()
    assert credit.balance == Decimal("5.00")
    assert [(e.kind, e.amount, e.balance_after) for e in credit.entries.all()] == [
        ("issue", Decimal("20.00"), Decimal("20.00")),
        ("redeem", Decimal("-15.00"), Decimal("5.00"))]
    assert credit.entries.last().order.number == body["number"]


def test_store_credit_short_of_the_amount_answers_422_and_places_nothing(
        network: Any, delivered: Any, pos_munich: Any, shop: Any, after_commit: Any) -> None:
    # given a store credit of 10.00
    credit = credit_of(take_back(pos_munich, after_commit, delivered([("A", 1)]), [("A", 1)],
                                 method="store_credit"))
    orders_before = Order.objects.count()

    # when an order of 20.00 wants to be paid with it
    network.stock(network.kassel, "C", 5)
    response = shop.post("/api/v1/orders", spend_body(credit.code, "20.00", [("C", 2)]))

    # then it is refused with the balance, and no order exists and nothing was taken
    assert response.status_code == 422, response.content
    assert error_codes(response) == ["store_credit_insufficient"]
    assert Order.objects.count() == orders_before
    credit.refresh_from_db()
    assert credit.balance == Decimal("10.00")
    assert credit.entries.count() == 1


def test_an_unknown_store_credit_code_answers_422_and_places_nothing(
        network: Any, shop: Any) -> None:
    network.stock(network.kassel, "C", 5)

    response = shop.post("/api/v1/orders", spend_body("SC-2222-3333-4444", "10.00",
                                                      [("C", 1)]))

    assert response.status_code == 422, response.content
    assert error_codes(response) == ["store_credit_unusable"]
    assert not Order.objects.exists()


def test_an_order_worth_nothing_paid_with_store_credit_spends_nothing(
        network: Any, delivered: Any, pos_munich: Any, shop: Any, after_commit: Any) -> None:
    # given a store credit of 10.00, and a free item
    credit = credit_of(take_back(pos_munich, after_commit, delivered([("A", 1)]), [("A", 1)],
                                 method="store_credit"))
    network.stock(network.kassel, "GIFT", 5)

    # when an order of nothing names the credit as its payment
    placed = shop.post("/api/v1/orders", spend_body(credit.code, "0.00", [("GIFT", 1)],
                                                    price="0.00"))

    # then it is placed, and the credit and its history are as they were
    assert placed.status_code == 201, placed.content
    credit.refresh_from_db()
    assert credit.balance == Decimal("10.00")
    assert credit.entries.count() == 1


# --- the goods -------------------------------------------------------------------------------
def test_damaged_units_are_written_off_with_movements_and_never_count_as_stock(
        network: Any, delivered: Any, pos_munich: Any, shop: Any, after_commit: Any) -> None:
    # given a delivered order and the Munich store holding 3 units of A
    order = delivered([("A", 2)])
    network.stock(network.munich, "A", 3)

    # when both units come back damaged and are written off
    ret = take_back(pos_munich, after_commit, order, [("A", 2)], condition="damaged",
                    disposition="write_off")

    # then the journal shows them coming in (+2, return) and going out (-2, damage)
    movements = StockMovement.objects.filter(location=network.munich, product_id="A") \
        .order_by("pk")
    assert [(m.kind, m.quantity) for m in movements] == [
        (MovementKind.RETURN, 2), (MovementKind.DAMAGE, -2)]
    assert all(ret["number"] in m.reference for m in movements)
    # and on hand and available are what they were
    assert level("A", network.munich).on_hand == 3
    [entry] = shop.get("/api/v1/availability", {"skus": "A", "locations": "ST-MUC"}
                       ).json()["skus"]
    assert {loc["location"]: loc["available"] for loc in entry["locations"]} == {"ST-MUC": 3}
    # and the lines say so; the customer is refunded all the same
    assert [(ln["condition"], ln["disposition"]) for ln in ret["lines"]] == [
        ("damaged", "write_off")]
    assert ret["refund"]["amount"] == "20.00"


def test_restocked_units_are_available_at_once_and_serve_the_next_click_and_collect_order(
        network: Any, delivered: Any, pos_munich: Any, shop: Any, after_commit: Any) -> None:
    # given a delivered order and a Munich store with no A at all
    order = delivered([("A", 1)])
    network.stock(network.munich, "A", 0)

    # when the unit comes back in Munich and goes on the shelf
    take_back(pos_munich, after_commit, order, [("A", 1)])

    # then the availability endpoint shows it available in Munich at once
    [entry] = shop.get("/api/v1/availability", {"skus": "A", "locations": "ST-MUC"}
                       ).json()["skus"]
    [munich] = entry["locations"]
    assert (munich["on_hand"], munich["available"], munich["pickup"]) == (1, 1, True)
    # and the next click-and-collect order for Munich is served from that very unit
    placed = ok(shop.post("/api/v1/orders", order_body(
        [("A", 1)], delivery={"method": "pickup", "location": "ST-MUC"})), 201)
    [fo] = placed["fulfillments"]
    assert (fo["location"], fo["kind"]) == ("ST-MUC", "pickup")
    assert level("A", network.munich).reserved == 1


def test_store_credit_spent_on_an_order_cancelled_before_it_left_is_given_back(
        network: Any, delivered: Any, pos_munich: Any, shop: Any, after_commit: Any) -> None:
    # given a store credit of 10.00 spent in full on a new order
    credit = credit_of(take_back(pos_munich, after_commit, delivered([("A", 1)]), [("A", 1)],
                                 method="store_credit"))
    network.stock(network.kassel, "C", 5)
    placed = ok(shop.post("/api/v1/orders", spend_body(credit.code, "10.00", [("C", 1)])), 201)

    # when that order is cancelled before anything left
    ok(after_commit(shop.post, f"/api/v1/orders/{placed['number']}/cancel",
                    {"reason": "changed my mind"}))

    # then the credit holds its 10.00 again
    credit.refresh_from_db()
    assert credit.balance == Decimal("10.00")


def test_store_credit_spent_on_lines_cancelled_before_they_left_is_given_back(
        network: Any, delivered: Any, pos_munich: Any, shop: Any, after_commit: Any) -> None:
    # given a store credit of 20.00 spent in full on a pickup of C and D
    credit = credit_of(take_back(pos_munich, after_commit, delivered([("A", 2)]), [("A", 2)],
                                 method="store_credit"))
    network.stock(network.munich, "C", 5)
    network.stock(network.munich, "D", 5)
    body = spend_body(credit.code, "20.00", [("C", 1), ("D", 1)])
    body["delivery"] = {"method": "pickup", "location": "ST-MUC"}
    placed = ok(shop.post("/api/v1/orders", body), 201)

    # when D is cancelled before anything left, and the event is handled twice
    ok(after_commit(shop.post, f"/api/v1/orders/{placed['number']}/cancel",
                    {"reason": "changed my mind", "lines": [{"sku": "D", "quantity": 1}]}))
    event = OutboxEvent.objects.get(topic="order.lines_cancelled",
                                    aggregate_id=placed["number"])
    for name in handlers_for(event.topic):
        handle_event.apply(kwargs={"event_id": str(event.id), "handler": name})

    # then D's 10.00 is back on the credit, once
    credit.refresh_from_db()
    assert credit.balance == Decimal("10.00")


def test_a_store_credit_code_typed_in_lower_case_pays_an_order(
        network: Any, delivered: Any, pos_munich: Any, shop: Any, after_commit: Any) -> None:
    # given a store credit of 10.00
    credit = credit_of(take_back(pos_munich, after_commit, delivered([("A", 1)]), [("A", 1)],
                                 method="store_credit"))
    network.stock(network.kassel, "C", 5)

    # when the customer types its code in lower case at checkout
    placed = shop.post("/api/v1/orders",
                       spend_body(credit.code.lower(), "10.00", [("C", 1)]))

    # then it pays the order
    assert placed.status_code == 201, placed.content
    credit.refresh_from_db()
    assert credit.balance == Decimal("0.00")
