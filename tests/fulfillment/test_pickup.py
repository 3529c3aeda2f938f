"""Click-and-collect through the API: the store's POS picks, the pickup waits with a code and a
deadline, the customer collects it at the counter, or does not come and it expires."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal
from typing import Any

import pytest
from django.utils import timezone

from fulfillment.models import FulfillmentOrder
from fulfillment.pickup import pickup_code, pickup_reminders_due, pickups_expire_due
from inventory.models import MovementKind, StockMovement
from oms.core.models import OutboxEvent
from oms.orders.models import Order
from payments.models import Payment
from tests.conftest import error_codes, wait_for_a_fresh_minute
from tests.fulfillment.conftest import expire_due_pickups_then_redeliver, fulfillment_of
from tests.network import level

pytestmark = pytest.mark.django_db

PICKUP_AT_MUNICH = {"method": "pickup", "location": "ST-MUC"}


@pytest.fixture
def pos(api: Any) -> Any:
    """The till in the Munich store, confined to it."""
    return api("pos", location_code="ST-MUC")


@pytest.fixture
def pickup_order(network: Any, place: Any) -> Any:
    """place_pickup([("A", 2)], **overrides) → the order JSON of a pickup in Munich."""

    def run(lines: list[tuple[str, int]], **overrides: Any) -> dict[str, Any]:
        for sku, _quantity in lines:
            network.stock(network.munich, sku, 5)
        return place(lines, delivery=PICKUP_AT_MUNICH, **overrides)

    return run


def pick_all(pos: Any, fo: FulfillmentOrder, **picked: int) -> Any:
    lines = [{"sku": ln.sku, "picked": picked.get(ln.sku, ln.quantity)}
             for ln in fo.lines.select_related("order_line")]
    return pos.post(f"/api/v1/fulfillments/{fo.pk}/pick", {"lines": lines})


def ready_pickup(pos: Any, pickup_order: Any, **overrides: Any) -> tuple[dict, FulfillmentOrder]:
    order = pickup_order([("A", 2), ("B", 1)], **overrides)
    fo = fulfillment_of(order, "ST-MUC")
    assert pick_all(pos, fo).status_code == 200
    fo.refresh_from_db()
    return order, fo


def test_a_pickup_is_picked_made_ready_and_handed_over_with_its_code(network, pos, shop,
                                                                     pickup_order):
    # given a pickup order for two SKUs in Munich
    order = pickup_order([("A", 2), ("B", 1)])
    fo = fulfillment_of(order, "ST-MUC")
    assert fo.status == "pending"

    # when the store picks everything
    response = pick_all(pos, fo)

    # then it is ready for pickup with a deadline three days ahead, and the shop shows the code
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["status"] == "ready_for_pickup"
    deadline = body["pickup"]["deadline"]
    fo.refresh_from_db()
    assert fo.pickup_deadline - fo.ready_at == timedelta(days=3)
    [seen] = shop.get(f"/api/v1/orders/{order['number']}").json()["fulfillments"]
    code = seen["pickup_code"]
    assert code == pickup_code(fo) and len(code) == 6
    assert seen["pickup_deadline"] == deadline
    assert code not in response.content.decode()  # the till never sees the code
    assert OutboxEvent.objects.filter(topic="fulfillment.ready_for_pickup").count() == 1

    # when the customer shows the code at the till (typed in lower case, with a space)
    response = pos.post(f"/api/v1/fulfillments/{fo.pk}/handover",
                        {"pickup_code": f"{code[:3].lower()} {code[3:]}"})

    # then the goods leave the store's stock with movement rows and the order completes
    assert response.status_code == 200, response.content
    assert response.json()["status"] == "picked_up"
    assert (level("A", network.munich).on_hand, level("A", network.munich).reserved) == (3, 0)
    assert StockMovement.objects.filter(location=network.munich, kind=MovementKind.SHIP,
                                        reference=f"pickup {order['number']}").count() == 2
    assert Order.objects.get(number=order["number"]).status == "completed"
    event = OutboxEvent.objects.get(topic="fulfillment.picked_up")
    assert (event.payload["amount"], event.payload["currency"]) == ("30.00", "EUR")


def test_a_pickup_stays_in_picking_until_every_line_is_confirmed(pos, pickup_order):
    order = pickup_order([("A", 2), ("B", 1)])
    fo = fulfillment_of(order, "ST-MUC")

    response = pos.post(f"/api/v1/fulfillments/{fo.pk}/pick",
                        {"lines": [{"sku": "A", "picked": 2}]})

    assert response.status_code == 200
    assert response.json()["status"] == "picking"
    assert response.json()["pickup"]["deadline"] is None


def test_a_shortage_with_no_stock_anywhere_cancels_the_line(network, pos, pickup_order):
    # given a pickup of A and B, and no B anywhere else
    order = pickup_order([("A", 2), ("B", 1)])
    fo = fulfillment_of(order, "ST-MUC")

    # when the store finds no B on the shelf
    response = pick_all(pos, fo, B=0)

    # then B is cancelled (and written off here), and the pickup is ready with A alone
    assert response.status_code == 200, response.content
    assert response.json()["status"] == "ready_for_pickup"
    lines = {ln["sku"]: ln for ln in response.json()["lines"]}
    assert lines["B"]["cancelled"] == 1
    order_lines = {ln.product_id: ln for ln in Order.objects.get(
        number=order["number"]).lines.all()}
    assert order_lines["B"].cancelled == 1
    assert (level("B", network.munich).on_hand, level("B", network.munich).reserved) == (4, 0)


def test_a_wrong_code_is_refused_and_counted_even_when_the_request_is_retried(
        pos, pickup_order):
    # given a ready pickup
    _order, fo = ready_pickup(pos, pickup_order)

    # when the till sends a wrong code (with an idempotency key, as tills retry)
    response = pos.post(f"/api/v1/fulfillments/{fo.pk}/handover", {"pickup_code": "AAAAAA"},
                        headers={"Idempotency-Key": "till-1"})
    retried = pos.post(f"/api/v1/fulfillments/{fo.pk}/handover", {"pickup_code": "AAAAAA"},
                       headers={"Idempotency-Key": "till-1"})

    # then it is a 422 naming the attempts left; the attempt is kept, the retry not counted
    assert response.status_code == 422
    assert error_codes(response) == ["invalid_pickup_code"]
    assert response.json()["errors"][0]["attempts_left"] == 4
    assert retried.status_code == 422
    fo.refresh_from_db()
    assert (fo.status, fo.pickup_failed_attempts) == ("ready_for_pickup", 1)


def test_five_wrong_codes_lock_the_pickup_for_a_quarter_of_an_hour(pos, pickup_order):
    # given a ready pickup and its right code
    _order, fo = ready_pickup(pos, pickup_order)
    code = pickup_code(fo)
    handover = f"/api/v1/fulfillments/{fo.pk}/handover"

    # when five wrong codes are tried
    answers = [pos.post(handover, {"pickup_code": "WRONG1"}) for _ in range(5)]

    # then each is a 422; the fifth, which starts the lock, says how long it lasts
    assert [a.status_code for a in answers] == [422] * 5
    assert "Retry-After" not in answers[3]
    assert int(answers[4]["Retry-After"]) == 15 * 60
    assert answers[4].json()["errors"][0]["retry_after"] == 15 * 60
    # and even the right code is then refused with 423 and a Retry-After
    locked = pos.post(handover, {"pickup_code": code})
    assert locked.status_code == 423
    assert error_codes(locked) == ["pickup_locked"]
    assert 14 * 60 < int(locked["Retry-After"]) <= 15 * 60
    fo.refresh_from_db()
    assert fo.status == "ready_for_pickup"

    # when the lock has run out
    FulfillmentOrder.objects.filter(pk=fo.pk).update(
        pickup_locked_until=timezone.now() - timedelta(seconds=1))

    # then the right code hands it over
    assert pos.post(handover, {"pickup_code": code}).status_code == 200


def test_a_pay_in_store_order_records_the_till_payment_at_handover(pos, pickup_order):
    # given a pickup the customer pays at the till
    order, fo = ready_pickup(pos, pickup_order, payment={
        "method": "pay_in_store", "status": "pending", "amount": "30.00"})
    assert Order.objects.get(number=order["number"]).status != "on_hold"

    # when it is handed over
    response = pos.post(f"/api/v1/fulfillments/{fo.pk}/handover",
                        {"pickup_code": pickup_code(fo)})

    # then the payment is recorded as collected in store and the order completes
    assert response.status_code == 200, response.content
    payment = Payment.objects.get(order__number=order["number"])
    assert (payment.status, payment.captured_amount) == ("captured", Decimal("30.00"))
    assert Order.objects.get(number=order["number"]).status == "completed"


def test_the_till_finds_a_ready_pickup_by_code_order_number_or_email(pos, pickup_order):
    order, fo = ready_pickup(pos, pickup_order)
    base = "/api/v1/fulfillments?kind=pickup&status=ready_for_pickup"

    by_code = pos.get(f"{base}&pickup_code={pickup_code(fo).lower()}").json()["results"]
    by_number = pos.get(f"{base}&order={order['number']}").json()["results"]
    by_email = pos.get(f"{base}&customer_email=KIM@example.de").json()["results"]
    by_wrong_code = pos.get(f"{base}&pickup_code=XXXXXX").json()["results"]

    assert [f["id"] for f in by_code] == [fo.pk]
    assert [f["id"] for f in by_number] == [fo.pk]
    assert [f["id"] for f in by_email] == [fo.pk]
    assert by_wrong_code == []
    assert by_code[0]["pickup"]["customer_email"] == "kim@example.de"


def test_another_stores_till_neither_sees_nor_touches_the_pickup(network, api, pos,
                                                                 pickup_order):
    # given a ready pickup in Munich and the till of the Berlin store
    _order, fo = ready_pickup(pos, pickup_order)
    berlin = api("pos", location_code="ST-BER")

    # then Berlin's till does not find it, and every command on it answers 404
    assert berlin.get("/api/v1/fulfillments?kind=pickup").json()["results"] == []
    assert berlin.get(f"/api/v1/fulfillments/{fo.pk}").status_code == 404
    assert berlin.post(f"/api/v1/fulfillments/{fo.pk}/handover",
                       {"pickup_code": pickup_code(fo)}).status_code == 404
    assert berlin.post(f"/api/v1/fulfillments/{fo.pk}/pick",
                       {"lines": [{"sku": "A", "picked": 2}]}).status_code == 404
    fo.refresh_from_db()
    assert fo.status == "ready_for_pickup"


@pytest.mark.parametrize(("body", "status", "code"), [
    ({}, 400, "required"),
    ({"pickup_code": ""}, 400, "blank"),
    ({"pickup_code": 12}, 400, "invalid"),
    ({"pickup_code": ["ACDEFG"]}, 400, "invalid"),
    ({"pickup_code": "X" * 21}, 400, "max_length"),
])
def test_a_malformed_handover_is_refused_and_changes_nothing(pos, pickup_order, body, status,
                                                             code):
    _order, fo = ready_pickup(pos, pickup_order)

    response = pos.post(f"/api/v1/fulfillments/{fo.pk}/handover", body)

    assert response.status_code == status
    assert error_codes(response) == [code]
    fo.refresh_from_db()
    assert fo.status == "ready_for_pickup"


def test_a_pickup_not_yet_ready_cannot_be_handed_over(pos, pickup_order):
    order = pickup_order([("A", 1)])
    fo = fulfillment_of(order, "ST-MUC")

    response = pos.post(f"/api/v1/fulfillments/{fo.pk}/handover", {"pickup_code": "ACDEFG"})

    assert response.status_code == 409
    assert error_codes(response) == ["invalid_transition"]


def test_a_parcel_is_not_handed_over_at_a_till(network, place, api):
    network.stock(network.kassel, "A", 5)
    order = place([("A", 1)])
    fo = fulfillment_of(order, "WH-KS")

    response = api("wms").post(f"/api/v1/fulfillments/{fo.pk}/handover",
                               {"pickup_code": "ACDEFG"})

    assert response.status_code == 422
    assert error_codes(response) == ["not_a_pickup"]


def test_a_pickup_nobody_collects_expires_once_and_gives_the_units_back(network, pos,
                                                                         pickup_order):
    # given a ready pickup whose deadline has passed
    order, fo = ready_pickup(pos, pickup_order)
    assert level("A", network.munich).reserved == 2
    FulfillmentOrder.objects.filter(pk=fo.pk).update(
        pickup_deadline=timezone.now() - timedelta(minutes=1))

    # when the sweep runs twice
    first, second = pickups_expire_due(), pickups_expire_due()

    # then the pickup expired once, the units are available again, the order is cancelled
    assert (first, second) == (1, 0)
    fo.refresh_from_db()
    assert fo.status == "expired"
    assert (level("A", network.munich).on_hand, level("A", network.munich).reserved) == (5, 0)
    placed = Order.objects.get(number=order["number"])
    assert placed.status == "cancelled"
    [event] = OutboxEvent.objects.filter(topic="fulfillment.pickup_expired")
    assert event.payload["amount"] == "30.00"
    assert event.payload["lines"] == [{"sku": "A", "quantity": 2}, {"sku": "B", "quantity": 1}]


def test_a_pickup_before_its_deadline_does_not_expire(pos, pickup_order):
    _order, fo = ready_pickup(pos, pickup_order)

    assert pickups_expire_due() == 0
    fo.refresh_from_db()
    assert fo.status == "ready_for_pickup"


def test_the_customer_is_reminded_once_a_day_before_the_deadline(pos, pickup_order):
    # given a ready pickup whose reminder is due
    _order, fo = ready_pickup(pos, pickup_order)
    assert fo.pickup_reminder_due == fo.pickup_deadline - timedelta(days=1)
    FulfillmentOrder.objects.filter(pk=fo.pk).update(
        pickup_reminder_due=timezone.now() - timedelta(seconds=1))

    # when the reminder sweep runs twice
    sent = pickup_reminders_due(), pickup_reminders_due()

    # then one reminder event was published
    assert sent == (1, 0)
    assert OutboxEvent.objects.filter(topic="fulfillment.pickup_reminder").count() == 1


def test_a_store_may_hold_pickups_longer(network, pos, pickup_order):
    network.munich.pickup_hold_days = 7
    network.munich.save()

    _order, fo = ready_pickup(pos, pickup_order)

    assert fo.pickup_deadline - fo.ready_at == timedelta(days=7)


def test_a_shortage_is_restocked_by_a_transfer_and_the_pickup_is_ready_once_received(
        network, pos, wms, shop, pickup_order):
    # given a pickup of A and B in Munich, and B also in the Kassel warehouse
    network.stock(network.kassel, "B", 10)
    order = pickup_order([("A", 2), ("B", 1)])
    fo = fulfillment_of(order, "ST-MUC")

    # when the store finds no B on its shelf
    response = pick_all(pos, fo, B=0)

    # then Kassel ships a B to the store for this order; the pickup waits for it
    assert response.status_code == 200, response.content
    assert response.json()["status"] == "picking"
    transfer = FulfillmentOrder.objects.get(order__number=order["number"], kind="transfer")
    assert (transfer.location.code, transfer.destination.code) == ("WH-KS", "ST-MUC")
    assert level("B", network.kassel).reserved == 1
    assert level("B", network.munich).reserved == 0
    resourced = OutboxEvent.objects.get(topic="fulfillment.resourced")
    assert resourced.payload["transfer"] is True
    assert resourced.payload["expected_ready_at"]
    assert resourced.payload["resourced_to"] == ["WH-KS"]

    # when the warehouse ships the transfer
    shipped = wms.post(f"/api/v1/fulfillments/{transfer.pk}/ship",
                       {"carrier": "dhl", "tracking_number": "TRANSFER-1"})

    # then nothing reaches the customer yet: no shipping event, no line fulfilled
    assert shipped.status_code == 200, shipped.content
    assert not OutboxEvent.objects.filter(topic="fulfillment.shipped").exists()
    assert OutboxEvent.objects.filter(topic="fulfillment.transfer_shipped").count() == 1
    assert Order.objects.get(number=order["number"]).lines.get(product_id="B").fulfilled == 0
    assert (level("B", network.kassel).on_hand, level("B", network.kassel).reserved) == (9, 0)
    assert StockMovement.objects.filter(location=network.kassel, product_id="B",
                                        kind=MovementKind.TRANSFER_OUT).count() == 1

    # when the store receives it (the transfer is listed for the store's till)
    incoming = pos.get("/api/v1/fulfillments?kind=transfer").json()["results"]
    assert [t["id"] for t in incoming] == [transfer.pk]
    received = pos.post(f"/api/v1/fulfillments/{transfer.pk}/receive")

    # then the B is in the store's stock, held for the order, and the pickup is ready
    assert received.status_code == 200, received.content
    assert received.json()["status"] == "delivered"
    assert (level("B", network.munich).on_hand, level("B", network.munich).reserved) == (5, 1)
    fo.refresh_from_db()
    assert fo.status == "ready_for_pickup"
    assert OutboxEvent.objects.filter(topic="fulfillment.ready_for_pickup").count() == 1

    # and it is handed over whole
    handed = pos.post(f"/api/v1/fulfillments/{fo.pk}/handover", {"pickup_code": pickup_code(fo)})
    assert handed.status_code == 200, handed.content
    assert (level("B", network.munich).on_hand, level("B", network.munich).reserved) == (4, 0)
    placed = Order.objects.get(number=order["number"])
    assert placed.status == "completed"
    assert {ln.product_id: ln.fulfilled for ln in placed.lines.all()} == {"A": 2, "B": 1}
    assert OutboxEvent.objects.get(topic="fulfillment.picked_up").payload["amount"] == "30.00"


def test_a_transfer_is_received_only_by_its_store_and_only_once_shipped(
        network, api, pos, pickup_order):
    network.stock(network.kassel, "B", 10)
    order = pickup_order([("A", 2), ("B", 1)])
    pick_all(pos, fulfillment_of(order, "ST-MUC"), B=0)
    transfer = FulfillmentOrder.objects.get(order__number=order["number"], kind="transfer")

    not_shipped = pos.post(f"/api/v1/fulfillments/{transfer.pk}/receive")
    other_store = api("pos", location_code="ST-BER").post(
        f"/api/v1/fulfillments/{transfer.pk}/receive")
    shipping_it = pos.post(f"/api/v1/fulfillments/{transfer.pk}/ship",
                           {"carrier": "dhl", "tracking_number": "NOPE"})

    assert not_shipped.status_code == 409
    assert other_store.status_code == 404
    assert shipping_it.status_code == 404  # the store may receive it, not ship it
    transfer.refresh_from_db()
    assert transfer.status == "pending"


def test_a_transfer_the_warehouse_cannot_send_leaves_the_pickup_ready_with_the_rest(
        network, pos, wms, pickup_order):
    # given a pickup short of B, restocked by a transfer from Kassel, the only other B
    network.stock(network.kassel, "B", 1)
    order = pickup_order([("A", 2), ("B", 1)])
    fo = fulfillment_of(order, "ST-MUC")
    pick_all(pos, fo, B=0)
    transfer = FulfillmentOrder.objects.get(order__number=order["number"], kind="transfer")

    # when Kassel cannot find it either
    response = wms.post(f"/api/v1/fulfillments/{transfer.pk}/reject", {"reason": "not found"})

    # then B is cancelled and the pickup is ready with A
    assert response.status_code == 200, response.content
    fo.refresh_from_db()
    assert fo.status == "ready_for_pickup"
    line_b = Order.objects.get(number=order["number"]).lines.get(product_id="B")
    assert (line_b.allocated, line_b.cancelled) == (0, 1)


def test_a_ready_pickup_the_customer_cancels_gives_its_units_back(network, pos, shop,
                                                                  pickup_order):
    order, fo = ready_pickup(pos, pickup_order)

    response = shop.post(f"/api/v1/orders/{order['number']}/cancel", {"reason": "not needed"})

    assert response.status_code == 200, response.content
    fo.refresh_from_db()
    assert fo.status == "cancelled"
    assert (level("A", network.munich).on_hand, level("A", network.munich).reserved) == (5, 0)
    assert pos.post(f"/api/v1/fulfillments/{fo.pk}/handover",
                    {"pickup_code": "ACDEFG"}).status_code == 409


# --- money at the counter and after a no-show (the payments handlers run in-process) -------


@pytest.fixture
def psp(settings: Any) -> Any:
    from payments.adapters.psp import fake

    settings.PSP_ADAPTER = "payments.adapters.psp.fake"
    fake.reset()
    yield fake
    fake.reset()


def test_paying_at_the_till_asks_the_psp_for_nothing(pos, pickup_order, psp,
                                                     django_capture_on_commit_callbacks):
    _order, fo = ready_pickup(pos, pickup_order, payment={
        "method": "pay_in_store", "status": "pending", "amount": "30.00"})

    with django_capture_on_commit_callbacks(execute=True):
        response = pos.post(f"/api/v1/fulfillments/{fo.pk}/handover",
                            {"pickup_code": pickup_code(fo)})

    assert response.status_code == 200, response.content
    assert psp.calls == []


def test_a_card_pickup_is_captured_once_when_handed_over(pos, pickup_order, psp,
                                                         django_capture_on_commit_callbacks):
    _order, fo = ready_pickup(pos, pickup_order, payment={
        "method": "card", "status": "authorized", "amount": "30.00",
        "psp_reference": "psp_pickup_card"})

    with django_capture_on_commit_callbacks(execute=True):
        response = pos.post(f"/api/v1/fulfillments/{fo.pk}/handover",
                            {"pickup_code": pickup_code(fo)})

    assert response.status_code == 200, response.content
    assert [c.amount for c in psp.captures.values()] == [Decimal("30.00")]


def test_a_prepaid_no_show_is_refunded_once(pos, pickup_order, psp,
                                            django_capture_on_commit_callbacks):
    # given a pickup paid in full online, past its deadline
    order, fo = ready_pickup(pos, pickup_order, payment={
        "method": "paypal", "status": "captured", "amount": "30.00",
        "psp_reference": "psp_pickup_paid"})
    FulfillmentOrder.objects.filter(pk=fo.pk).update(
        pickup_deadline=timezone.now() - timedelta(minutes=1))

    # when the sweep expires it (its handlers run after the commit), and every handler of the
    # event is delivered again, as a broker redelivery would
    expire_due_pickups_then_redeliver(django_capture_on_commit_callbacks)

    # then the customer got the 30.00 back exactly once
    assert [(r.psp_reference, r.amount) for r in psp.refunds.values()] == [
        ("psp_pickup_paid", Decimal("30.00"))]
    payment = Payment.objects.get(order__number=order["number"])
    assert payment.refunded_amount == Decimal("30.00")


def test_the_customer_learns_the_new_date_when_a_transfer_restocks_the_pickup(
        network, pos, pickup_order, settings, django_capture_on_commit_callbacks):
    from django.core import mail

    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    settings.NOTIFICATION_CHANNELS = ["email"]
    network.stock(network.kassel, "B", 10)
    with django_capture_on_commit_callbacks(execute=True):  # the confirmation goes out
        order = pickup_order([("A", 2), ("B", 1)], language="en")
    fo = fulfillment_of(order, "ST-MUC")
    mail.outbox.clear()

    with django_capture_on_commit_callbacks(execute=True):
        pick_all(pos, fo, B=0)

    expected = timezone.localtime(timezone.now() + settings.TRANSFER_LEAD_TIME)
    [message] = [m for m in mail.outbox if order["number"] in m.subject + m.body]
    assert "ready for pickup on" in message.body
    assert expected.strftime("%A") in message.body


def test_only_the_customers_channel_reads_the_pickup_code_and_only_order_by_order(
        api, pos, shop, pickup_order):
    # given a ready pickup ordered in the webshop
    order, fo = ready_pickup(pos, pickup_order)
    code = pickup_code(fo)
    number = order["number"]

    # then the webshop sees the code on the order, but not in its order list
    assert code in shop.get(f"/api/v1/orders/{number}").content.decode()
    assert code not in shop.get("/api/v1/orders").content.decode()
    # and no back-office or till client sees it at all
    for reader in (api("erp"), api("staff"), api("pos", location_code="ST-MUC",
                                                  channel="web")):
        answer = reader.get(f"/api/v1/orders/{number}")
        assert answer.status_code == 200, answer.content
        assert code not in answer.content.decode()
    # and an answer to a POST, which the idempotency store keeps, never holds it
    cancelled = shop.post(f"/api/v1/orders/{number}/cancel",
                          {"reason": "one less", "lines": [{"sku": "A", "quantity": 1}]},
                          headers={"Idempotency-Key": "cancel-one"})
    assert cancelled.status_code == 200, cancelled.content
    assert code not in cancelled.content.decode()


@pytest.mark.parametrize(("action", "body"), [
    ("ship", {"carrier": "dhl", "tracking_number": "PICKUP-1"}),
    ("reject", {"reason": "store closed"}),
])
def test_a_pickup_is_neither_shipped_nor_rejected(pos, pickup_order, action, body):
    order = pickup_order([("A", 1)])
    fo = fulfillment_of(order, "ST-MUC")

    response = pos.post(f"/api/v1/fulfillments/{fo.pk}/{action}", body)

    assert response.status_code == 422
    assert error_codes(response) == ["not_for_pickups"]
    fo.refresh_from_db()
    assert fo.status == "pending"


def short_pick_with_transfer(network: Any, pos: Any, pickup_order: Any,
                             kassel_b: int = 10) -> tuple[dict, FulfillmentOrder,
                                                          FulfillmentOrder]:
    network.stock(network.kassel, "B", kassel_b)
    order = pickup_order([("A", 2), ("B", 1)])
    fo = fulfillment_of(order, "ST-MUC")
    assert pick_all(pos, fo, B=0).status_code == 200
    transfer = FulfillmentOrder.objects.get(order__number=order["number"], kind="transfer")
    return order, fo, transfer


def test_a_carrier_delivery_scan_does_not_receive_a_transfer(network, pos, wms, pickup_order):
    # given a transfer on its way to Munich
    _order, _fo, transfer = short_pick_with_transfer(network, pos, pickup_order)
    wms.post(f"/api/v1/fulfillments/{transfer.pk}/ship",
             {"carrier": "dhl", "tracking_number": "TRANSFER-2"})

    # when the carrier reports it delivered
    scan = wms.post(f"/api/v1/fulfillments/{transfer.pk}/tracking-events",
                    {"status": "delivered", "at": "2026-11-22T12:00:00+01:00"})

    # then it waits for the store to receive it, which then restocks the store
    assert scan.status_code == 200, scan.content
    transfer.refresh_from_db()
    assert transfer.status == "shipped"
    assert pos.post(f"/api/v1/fulfillments/{transfer.pk}/receive").status_code == 200
    assert (level("B", network.munich).on_hand, level("B", network.munich).reserved) == (5, 1)


def test_only_the_receiving_store_receives_a_transfer(network, api, pos, wms, pickup_order):
    _order, _fo, transfer = short_pick_with_transfer(network, pos, pickup_order)
    wms.post(f"/api/v1/fulfillments/{transfer.pk}/ship",
             {"carrier": "dhl", "tracking_number": "TRANSFER-3"})

    sender = api("wms", location_code="WH-KS").post(f"/api/v1/fulfillments/{transfer.pk}/receive")

    assert sender.status_code == 404
    transfer.refresh_from_db()
    assert transfer.status == "shipped"


def test_an_order_is_cancelled_while_its_transfer_is_on_the_truck(network, pos, wms, shop,
                                                                  pickup_order):
    # given a transfer for the pickup, already shipped
    order, fo, transfer = short_pick_with_transfer(network, pos, pickup_order)
    wms.post(f"/api/v1/fulfillments/{transfer.pk}/ship",
             {"carrier": "dhl", "tracking_number": "TRANSFER-4"})

    # when the customer cancels
    response = shop.post(f"/api/v1/orders/{order['number']}/cancel", {"reason": "too late"})

    # then the order is cancelled, the store's units are free again
    assert response.status_code == 200, response.content
    assert response.json()["status"] == "cancelled"
    fo.refresh_from_db()
    assert fo.status == "cancelled"
    assert level("A", network.munich).reserved == 0
    # and the truck's unit restocks the store, held for nobody
    assert pos.post(f"/api/v1/fulfillments/{transfer.pk}/receive").status_code == 200
    assert (level("B", network.munich).on_hand, level("B", network.munich).reserved) == (5, 0)


def test_a_pickup_with_nothing_left_after_its_transfer_failed_is_closed(network, pos, wms,
                                                                        pickup_order):
    # given a pickup of one B the store did not have, restocked from Kassel's only B
    network.stock(network.kassel, "B", 1)
    order = pickup_order([("B", 1)])
    fo = fulfillment_of(order, "ST-MUC")
    pick_all(pos, fo, B=0)
    transfer = FulfillmentOrder.objects.get(order__number=order["number"], kind="transfer")

    # when Kassel cannot find it either
    wms.post(f"/api/v1/fulfillments/{transfer.pk}/reject", {"reason": "not found"})

    # then the pickup leaves the store's to-pick list and the order is cancelled
    fo.refresh_from_db()
    assert fo.status == "cancelled"
    assert Order.objects.get(number=order["number"]).status == "cancelled"


def test_looking_up_a_pickup_by_code_needs_a_store_client_and_is_rate_limited(
        api, pos, pickup_order, settings):
    # (counts are per client or user, whose ids are new in every test: nothing to reset; the
    # cache shares Redis with the broker, so it is never flushed)
    wait_for_a_fresh_minute()
    settings.PICKUP_CODE_SEARCHES_PER_MINUTE = 2
    ready_pickup(pos, pickup_order)
    search = "/api/v1/fulfillments?pickup_code=AAAAAA"

    unscoped = api("erp").get(search)
    answers = [pos.get(search).status_code for _ in range(3)]

    assert unscoped.status_code == 400
    assert error_codes(unscoped) == ["scope_required"]
    assert answers == [200, 200, 429]
    limited = pos.get(search)
    assert error_codes(limited) == ["throttled"]
    assert 0 < int(limited["Retry-After"]) <= 60
