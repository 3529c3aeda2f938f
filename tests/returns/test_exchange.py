"""Exchanges: the customer takes something instead of (part of) the money. In store the
replacement comes off that store's shelf in the same visit, as a new order linked to the return,
the price difference charged or refunded; by mail the replacement is ordered at registration and
ships when the return arrives (or at once, per channel)."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest

from fulfillment.models import FulfillmentOrder
from inventory.models import MovementKind, Reservation, StockMovement
from oms.catalog.models import Price, Product
from oms.orders.models import Order
from payments.models import Payment, Refund
from returns.models import Return, ReturnPolicy
from tests.conftest import error_codes
from tests.network import level
from tests.returns.conftest import receive_body, return_body
from tests.returns.support import ok, receive, register

pytestmark = pytest.mark.django_db


def exchange(sku: str, price: str, quantity: int = 1) -> list[dict[str, Any]]:
    return [{"sku": sku, "quantity": quantity, "unit_price": price}]


def counts() -> tuple[int, ...]:
    return (Return.objects.count(), Order.objects.count(), Payment.objects.count(),
            Reservation.objects.count(), FulfillmentOrder.objects.count(),
            StockMovement.objects.count())


# --- in store ---------------------------------------------------------------------------------
def test_an_exchange_in_store_reserves_the_replacement_off_that_shelf_at_registration(
        network: Any, delivered: Any, pos_munich: Any) -> None:
    # given a delivered order of A, and Munich holding two C
    order = delivered([("A", 1)])
    network.stock(network.munich, "C", 2)

    # when the customer brings A to Munich and takes a C of the same price instead
    ret = register(pos_munich, order, [("A", 1)], exchange=exchange("C", "10.00"))

    # then a new order for C exists, linked to the return, its unit reserved on Munich's shelf
    assert ret["exchange_order"] and ret["exchange_order"] != order["number"]
    replacement = Order.objects.get(number=ret["exchange_order"])
    assert replacement.status != "cancelled"
    assert level("C", network.munich).reserved == 1
    [fo] = FulfillmentOrder.objects.filter(order=replacement)
    assert (fo.kind, fo.location.code) == ("pickup", "ST-MUC")
    # and the goods' value pays it: nothing is left to refund
    assert (ret["exchange_credit"], ret["refund"]["amount"]) == ("10.00", "0.00")


def test_the_replacement_is_handed_over_at_receipt_and_the_return_closes(
        network: Any, delivered: Any, pos_munich: Any, after_commit: Any) -> None:
    # given an exchange of A for C registered in Munich
    order = delivered([("A", 1)])
    network.stock(network.munich, "C", 2)
    ret = register(pos_munich, order, [("A", 1)], exchange=exchange("C", "10.00"))

    # when the till receives A in the same visit
    received = receive(pos_munich, after_commit, ret, [("A", 1)])

    # then C left Munich's shelf (a pick movement, nothing reserved any more), A is on it
    c = level("C", network.munich)
    assert (c.on_hand, c.reserved) == (1, 0)
    assert StockMovement.objects.filter(location=network.munich, product_id="C",
                                        quantity=-1).exists()
    assert level("A", network.munich).on_hand == 1
    # and the exchange order is completed, its pickup handed over, linked to the return
    assert received["exchange_order"] == ret["exchange_order"]
    fo = FulfillmentOrder.objects.get(order__number=ret["exchange_order"])
    assert fo.status == "picked_up"
    assert Order.objects.get(number=ret["exchange_order"]).status == "completed"
    # and nothing is refunded: the return is closed
    now = ok(pos_munich.get(f"/api/v1/returns/{ret['id']}"))
    assert (now["status"], now["refund"]["status"]) == ("closed", "none")
    assert not Refund.objects.filter(reference=ret["number"]).exists()


def test_a_replacement_without_a_price_costs_the_order_channels_price_now(
        network: Any, delivered: Any, pos_munich: Any) -> None:
    # given C listed at 12.00 in the webshop channel the order came from
    order = delivered([("A", 1)])
    network.stock(network.munich, "C", 2)
    Price.objects.create(product=Product.objects.get(sku="C"), channel="web", currency="EUR",
                         amount=Decimal("12.00"))

    # when the till exchanges A for C without naming a price
    response = pos_munich.post("/api/v1/returns", return_body(
        order, [("A", 1)], exchange=[{"sku": "C", "quantity": 1}]))

    # then C costs 12.00: the difference of 2.00 must be paid
    assert response.status_code == 422, response.content
    assert response.json()["errors"][0]["difference"] == "2.00"


def test_a_dearer_replacement_needs_the_difference_paid_and_without_it_nothing_is_written(
        network: Any, delivered: Any, pos_munich: Any) -> None:
    # given a delivered A at 10.00, and Munich holding a C at 15.00
    order = delivered([("A", 1)])
    network.stock(network.munich, "C", 2)
    before = counts()

    # when the till registers the exchange without a payment for the difference
    response = pos_munich.post("/api/v1/returns", return_body(
        order, [("A", 1)], exchange=exchange("C", "15.00")))

    # then it answers 422 naming the difference, and nothing is written
    assert response.status_code == 422, response.content
    assert error_codes(response) == ["exchange_payment_required"]
    assert response.json()["errors"][0]["difference"] == "5.00"
    assert counts() == before
    assert level("C", network.munich).reserved == 0


def test_a_dearer_replacement_is_charged_the_difference_at_the_till(
        network: Any, delivered: Any, pos_munich: Any, after_commit: Any) -> None:
    order = delivered([("A", 1)])
    network.stock(network.munich, "C", 2)

    # when the customer pays 5.00 cash on top
    ret = register(pos_munich, order, [("A", 1)], exchange=exchange("C", "15.00"),
                   exchange_payment={"method": "cash", "status": "captured",
                                     "amount": "5.00"})
    received = receive(pos_munich, after_commit, ret, [("A", 1)])

    # then the replacement is paid by the goods' value and the cash
    paid = Payment.objects.filter(order__number=ret["exchange_order"]).order_by("pk")
    assert [(p.method, p.amount) for p in paid] == [
        ("return_credit", Decimal("10.00")), ("cash", Decimal("5.00"))]
    # and nothing is refunded
    assert (received["exchange_credit"], received["refund"]["amount"]) == ("10.00", "0.00")
    assert ok(pos_munich.get(f"/api/v1/returns/{ret['id']}"))["status"] == "closed"


def test_a_cheaper_replacement_refunds_the_difference(
        network: Any, delivered: Any, pos_munich: Any, after_commit: Any) -> None:
    # given a delivered A at 10.00, and a C at 6.00 in Munich
    order = delivered([("A", 1)])
    network.stock(network.munich, "C", 2)

    # when A is exchanged for C
    ret = register(pos_munich, order, [("A", 1)], exchange=exchange("C", "6.00"),
                   method="cash")
    received = receive(pos_munich, after_commit, ret, [("A", 1)])

    # then the refund is the value less the replacement: 4.00, in cash
    assert (received["exchange_credit"], received["refund"]["amount"]) == ("6.00", "4.00")
    [refund] = Refund.objects.filter(reference=ret["number"])
    assert (refund.route, refund.amount) == ("till", Decimal("4.00"))


def test_a_replacement_that_store_does_not_have_answers_409_and_nothing_is_written(
        network: Any, delivered: Any, pos_munich: Any) -> None:
    # given C in Kassel and Berlin, but not on Munich's shelf
    order = delivered([("A", 1)])
    network.stock(network.munich, "C", 0)
    network.stock(network.berlin, "C", 5)
    network.stock(network.kassel, "C", 5)
    before = counts()
    levels = [(lv.on_hand, lv.reserved) for lv in (
        level("C", network.munich), level("C", network.berlin), level("C", network.kassel))]

    # when the Munich till registers an exchange for C
    response = pos_munich.post("/api/v1/returns", return_body(
        order, [("A", 1)], exchange=exchange("C", "10.00")))

    # then it answers 409 and nothing is written anywhere
    assert response.status_code == 409, response.content
    assert error_codes(response) == ["insufficient_stock"]
    assert counts() == before
    assert [(lv.on_hand, lv.reserved) for lv in (
        level("C", network.munich), level("C", network.berlin),
        level("C", network.kassel))] == levels


# --- by mail --------------------------------------------------------------------------------
@pytest.fixture
def by_mail(network: Any) -> None:
    network.kassel.accepts_returns = True
    network.kassel.save(update_fields=["accepts_returns"])


def test_an_exchange_by_mail_is_ordered_at_registration_and_held_until_the_return_arrives(
        network: Any, delivered: Any, shop: Any, wms_kassel: Any, after_commit: Any,
        by_mail: None) -> None:
    # given a delivered order of A (size M), and the size L in Kassel
    order = delivered([("A", 1)])
    network.stock(network.kassel, "A-L", 5)

    # when the webshop registers a return by mail with A-L in exchange
    ret = ok(after_commit(shop.post, "/api/v1/returns", return_body(
        order, [("A", 1)], exchange=exchange("A-L", "10.00"))), 201)

    # then the replacement order exists, reserved in Kassel, but held: nothing goes out
    replacement = Order.objects.get(number=ret["exchange_order"])
    assert replacement.status == "on_hold"
    fo = FulfillmentOrder.objects.get(order=replacement)
    assert (fo.location.code, fo.dispatch_mode) == ("WH-KS", "held")
    assert level("A-L", network.kassel).reserved == 1
    shipped = wms_kassel.post(f"/api/v1/fulfillments/{fo.pk}/ship",
                              {"carrier": "dhl", "tracking_number": "EX-1"})
    assert shipped.status_code == 409, shipped.content
    assert error_codes(shipped) == ["order_on_hold"]

    # when Kassel receives the returned A
    receive(wms_kassel, after_commit, ret, [("A", 1)])

    # then the replacement is released and can ship
    replacement.refresh_from_db()
    fo.refresh_from_db()
    assert replacement.status == "confirmed"
    assert fo.dispatch_mode != "held"
    ok(after_commit(wms_kassel.post, f"/api/v1/fulfillments/{fo.pk}/ship",
                    {"carrier": "dhl", "tracking_number": "EX-1"}))
    # and once it shipped, the return is closed (nothing to refund, the exchange went out)
    assert ok(shop.get(f"/api/v1/returns/{ret['id']}"))["status"] == "closed"


def test_with_exchange_ships_at_once_the_replacement_goes_out_before_the_return_arrives(
        network: Any, delivered: Any, shop: Any, wms_kassel: Any, after_commit: Any,
        by_mail: None) -> None:
    # given the web channel sends replacements at once
    ReturnPolicy.objects.create(channel="web", exchange_ships_at_once=True)
    order = delivered([("A", 1)])
    network.stock(network.kassel, "A-L", 5)

    # when a return by mail with an exchange is registered
    ret = ok(after_commit(shop.post, "/api/v1/returns", return_body(
        order, [("A", 1)], exchange=exchange("A-L", "10.00"))), 201)

    # then the replacement is confirmed and ships before anything came back
    replacement = Order.objects.get(number=ret["exchange_order"])
    assert replacement.status == "confirmed"
    fo = FulfillmentOrder.objects.get(order=replacement)
    assert fo.dispatch_mode != "held"
    ok(after_commit(wms_kassel.post, f"/api/v1/fulfillments/{fo.pk}/ship",
                    {"carrier": "dhl", "tracking_number": "EX-2"}))
    assert ok(shop.get(f"/api/v1/returns/{ret['id']}"))["status"] == "requested"
    assert StockMovement.objects.filter(product_id="A-L", kind=MovementKind.SHIP).exists()


def test_cancelling_an_exchange_by_mail_cancels_the_held_replacement(
        network: Any, delivered: Any, shop: Any, after_commit: Any, by_mail: None) -> None:
    order = delivered([("A", 1)])
    network.stock(network.kassel, "A-L", 5)
    ret = register(shop, order, [("A", 1)], exchange=exchange("A-L", "10.00"))

    cancelled = ok(after_commit(shop.post, f"/api/v1/returns/{ret['id']}/cancel",
                                {"reason": "kept it after all"}))

    assert cancelled["status"] == "cancelled"
    assert Order.objects.get(number=ret["exchange_order"]).status == "cancelled"
    assert level("A-L", network.kassel).reserved == 0


def test_receipt_body_for_an_exchange_names_what_came_back(
        network: Any, delivered: Any, pos_munich: Any, after_commit: Any) -> None:
    # an exchange in store whose goods are not all received cannot hand the replacement over
    order = delivered([("A", 2)])
    network.stock(network.munich, "C", 2)
    ret = register(pos_munich, order, [("A", 2)], exchange=exchange("C", "20.00"))

    response = after_commit(pos_munich.post, f"/api/v1/returns/{ret['id']}/receive",
                            receive_body([("A", 1)]))

    assert response.status_code == 422, response.content
    assert error_codes(response) == ["exchange_not_covered"]
    assert Return.objects.get().status == "requested"
    assert level("C", network.munich).on_hand == 2


# --- the replacement cancelled ------------------------------------------------------------------
def test_a_replacement_cancelled_before_the_parcel_arrives_leaves_the_whole_value_refunded(
        network: Any, delivered: Any, shop: Any, wms_kassel: Any, after_commit: Any,
        by_mail: None) -> None:
    # given an exchange by mail of A for A-L, the replacement held
    order = delivered([("A", 1)])
    network.stock(network.kassel, "A-L", 5)
    ret = register(shop, order, [("A", 1)], exchange=exchange("A-L", "10.00"))
    assert ret["refund"]["amount"] == "0.00"

    # when the customer cancels the replacement, then the parcel arrives
    ok(after_commit(shop.post, f"/api/v1/orders/{ret['exchange_order']}/cancel",
                    {"reason": "wants the money instead"}))
    received = receive(wms_kassel, after_commit, ret, [("A", 1)])

    # then the goods' value paid nothing: all of it goes back to the card
    assert (received["exchange_credit"], received["refund"]["amount"]) == ("0.00", "10.00")
    assert Payment.objects.get(order__number=order["number"]).refunded_amount == 10
    assert ok(shop.get(f"/api/v1/returns/{ret['id']}"))["status"] == "closed"
    trail = shop.get(f"/api/v1/orders/{order['number']}/events").json()["results"]
    assert "return.exchange_cancelled" in [e["type"] for e in trail]


def test_a_replacement_cancelled_after_the_parcel_arrived_is_refunded_then(
        network: Any, delivered: Any, shop: Any, wms_kassel: Any, after_commit: Any,
        by_mail: None) -> None:
    # given an exchange by mail whose parcel arrived: the replacement is released, nothing
    # is refunded (the goods' value pays it)
    order = delivered([("A", 1)])
    network.stock(network.kassel, "A-L", 5)
    ret = register(shop, order, [("A", 1)], exchange=exchange("A-L", "10.00"))
    received = receive(wms_kassel, after_commit, ret, [("A", 1)])
    assert (received["status"], received["refund"]["amount"]) == ("received", "0.00")

    # when the customer cancels the replacement before it ships
    ok(after_commit(shop.post, f"/api/v1/orders/{ret['exchange_order']}/cancel",
                    {"reason": "wants the money instead"}))

    # then the value comes back to the card after all, and the return is closed
    now = ok(shop.get(f"/api/v1/returns/{ret['id']}"))
    assert (now["exchange_credit"], now["refund"]["amount"]) == ("0.00", "10.00")
    assert (now["status"], now["refund"]["status"]) == ("closed", "issued")
    assert Payment.objects.get(order__number=order["number"]).refunded_amount == 10
    assert len(Refund.objects.filter(reference=ret["number"])) == 1


def test_a_replacement_cancelled_before_the_till_receives_does_not_block_the_receipt(
        network: Any, delivered: Any, api: Any, pos_munich: Any, after_commit: Any) -> None:
    # given an exchange registered in Munich, the replacement then cancelled by staff
    order = delivered([("A", 1)])
    network.stock(network.munich, "C", 2)
    ret = register(pos_munich, order, [("A", 1)], exchange=exchange("C", "10.00"),
                   method="cash")
    ok(after_commit(api("staff").post, f"/api/v1/orders/{ret['exchange_order']}/cancel",
                    {"reason": "customer changed their mind at the counter"}))
    assert level("C", network.munich).reserved == 0

    # when the till receives A
    received = receive(pos_munich, after_commit, ret, [("A", 1)])

    # then nothing is handed over, and the whole value is paid out in cash
    assert level("C", network.munich).on_hand == 2
    assert (received["exchange_credit"], received["refund"]["amount"]) == ("0.00", "10.00")
    assert received["status"] == "closed"
