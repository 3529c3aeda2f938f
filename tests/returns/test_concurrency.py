"""The dangerous parts of returns, with real threads and connections against PostgreSQL: two
tills receiving one return, returns of the same lines racing, a retried request, a refund task
delivered twice, store credit spent twice at once, and a crash between commit and publish."""

from __future__ import annotations

import json
from datetime import timedelta
from decimal import Decimal
from typing import Any

import pytest
from django.db.models import Sum
from django.test import Client
from django.utils import timezone

from inventory.models import MovementKind, StockMovement
from oms.celery import app as celery_app
from oms.core.attempts.services import attempts_requeue_due
from oms.core.events import outbox_relay
from oms.core.models import OutboxEvent
from oms.orders.models import Order, OrderLine
from payments import tasks as payment_tasks
from payments.adapters import psp
from payments.models import Payment, PaymentReversal, Refund, StoreCredit
from returns.models import Return
from tests.conftest import error_codes
from tests.network import level, order_body
from tests.returns.conftest import receive_body, return_body
from tests.returns.support import credit_of, ok, register, take_back

pytestmark = pytest.mark.django_db(transaction=True)
REPLAYED = "Idempotent-Replayed"


def http(session: Any) -> Client:
    """A fresh test client per thread, carrying the session's token."""
    return Client(HTTP_AUTHORIZATION=f"Bearer {session.api_client.token}")


def post_json(client: Client, path: str, body: Any, **headers: str) -> Any:
    return client.post(path, data=json.dumps(body), content_type="application/json",
                       **{f"HTTP_{k.upper().replace('-', '_')}": v for k, v in headers.items()})


def refunded_total(order: dict[str, Any]) -> Decimal:
    return Refund.objects.filter(order__number=order["number"]).aggregate(
        total=Sum("amount"))["total"] or Decimal("0.00")


def test_two_tills_receiving_the_same_return_at_once_receive_and_refund_it_once(
        network: Any, delivered: Any, pos_munich: Any, api: Any,
        run_concurrently: Any) -> None:
    # given a return registered at one Munich till, and a second Munich till
    order = delivered([("A", 2)])
    ret = register(pos_munich, order, [("A", 2)], method="cash")
    other = api("pos", location_code="ST-MUC", channel="pos")

    # when both tills receive it at the same moment
    results = run_concurrently(2, lambda i: post_json(
        http((pos_munich, other)[i]), f"/api/v1/returns/{ret['id']}/receive",
        receive_body([("A", 2)])))

    # then one receipt stands, the other till hears 409
    assert sorted(r.status_code for r in results) == [200, 409], [r.content for r in results]
    [refused] = [r for r in results if r.status_code == 409]
    assert error_codes(refused) == ["invalid_transition"]
    # and the goods went on the shelf once, the order counts them once, one refund was paid
    assert StockMovement.objects.filter(location=network.munich, product_id="A",
                                        kind=MovementKind.RETURN).count() == 1
    assert level("A", network.munich).on_hand == 2
    assert OrderLine.objects.get(order__number=order["number"]).returned == 2
    [refund] = Refund.objects.filter(reference=ret["number"])
    assert (refund.route, refund.amount) == ("till", Decimal("20.00"))
    assert OutboxEvent.objects.filter(topic="return.received").count() == 1


def test_concurrent_returns_of_the_same_lines_never_return_or_refund_more_than_was_sold(
        network: Any, delivered: Any, api: Any, run_concurrently: Any) -> None:
    # given 3 units of A delivered, paid by card
    order = delivered([("A", 3)])
    tills = [api("pos", location_code=code, channel="pos")
             for code in ("ST-MUC", "ST-BER", "ST-MUC", "ST-BER", "ST-MUC", "ST-BER")]

    def visit(i: int) -> tuple[int, int | None]:
        client = http(tills[i])
        registered = post_json(client, "/api/v1/returns", return_body(order, [("A", 1)]))
        if registered.status_code != 201:
            assert error_codes(registered) == ["not_returnable"], registered.content
            return registered.status_code, None
        received = post_json(client, f"/api/v1/returns/{registered.json()['id']}/receive",
                             receive_body([("A", 1)]))
        return registered.status_code, received.status_code

    # when six customers bring one unit each back at six tills at the same moment
    results = run_concurrently(6, visit)

    # then three returns are taken and received, three refused: never more than was sold
    assert sorted(results, key=str) == sorted([(201, 200)] * 3 + [(422, None)] * 3, key=str)
    assert OrderLine.objects.get(order__number=order["number"]).returned == 3
    assert Return.objects.filter(order__number=order["number"]).count() == 3
    # and the refunds add up to the order's 30.00, the card's refunds too
    assert refunded_total(order) == Decimal("30.00")
    assert Payment.objects.get(order__number=order["number"]).refunded_amount == \
        Decimal("30.00")
    assert Order.objects.get(number=order["number"]).status == "returned"


def test_concurrent_announcements_of_more_than_was_sold_take_only_what_is_left(
        network: Any, delivered: Any, api: Any, run_concurrently: Any) -> None:
    # given 3 units delivered, and four tills each announcing 2 of them at once
    order = delivered([("A", 3)])
    tills = [api("pos", location_code="ST-MUC", channel="pos") for _i in range(4)]

    results = run_concurrently(4, lambda i: post_json(
        http(tills[i]), "/api/v1/returns", return_body(order, [("A", 2)])).status_code)

    # then one is taken; the others find only 1 left and are refused
    assert sorted(results) == [201, 422, 422, 422]
    announced = Return.objects.filter(order__number=order["number"]).get()
    assert announced.lines.get().quantity == 2


def test_the_same_idempotency_key_on_register_and_receive_makes_one_return_and_one_refund(
        network: Any, delivered: Any, pos_munich: Any) -> None:
    # given a delivered order
    order = delivered([("A", 2)])
    body = return_body(order, [("A", 1)], method="cash")

    # when the till sends the registration twice with one key (a retry after a timeout)
    first = pos_munich.post("/api/v1/returns", body, headers={"Idempotency-Key": "ret-1"})
    again = pos_munich.post("/api/v1/returns", body, headers={"Idempotency-Key": "ret-1"})

    # then the second answer is the first one, replayed, and there is one return
    assert (first.status_code, again.status_code) == (201, 201)
    assert again.headers[REPLAYED] == "true" and REPLAYED not in first.headers
    assert again.json() == first.json()
    assert Return.objects.count() == 1

    # when the receipt is sent twice with one key
    path = f"/api/v1/returns/{first.json()['id']}/receive"
    one = pos_munich.post(path, receive_body([("A", 1)]), headers={"Idempotency-Key": "rcv-1"})
    two = pos_munich.post(path, receive_body([("A", 1)]), headers={"Idempotency-Key": "rcv-1"})

    # then it is received once and refunded once
    assert (one.status_code, two.status_code) == (200, 200)
    assert two.headers[REPLAYED] == "true"
    assert Refund.objects.count() == 1
    assert refunded_total(order) == Decimal("10.00")
    assert StockMovement.objects.filter(kind=MovementKind.RETURN).count() == 1


def test_the_same_idempotency_key_sent_concurrently_makes_one_return(
        network: Any, delivered: Any, pos_munich: Any, run_concurrently: Any) -> None:
    order = delivered([("A", 2)])
    body = return_body(order, [("A", 1)], method="cash")

    results = run_concurrently(4, lambda i: post_json(
        http(pos_munich), "/api/v1/returns", body, **{"Idempotency-Key": "ret-c"}))

    # one ran; the others were replayed or told to retry (the first still running)
    assert all(r.status_code in (201, 409) for r in results), [r.content for r in results]
    assert {r.json()["id"] for r in results if r.status_code == 201} == {
        Return.objects.get().pk}
    assert all(error_codes(r) == ["idempotency_key_in_use"] for r in results
               if r.status_code == 409)


def test_a_psp_refund_task_delivered_twice_at_once_refunds_once(
        network: Any, delivered: Any, pos_munich: Any, request: Any,
        run_concurrently: Any) -> None:
    # given a card order delivered and captured, then a broker no worker reads
    order = delivered([("A", 2)])
    broker = request.getfixturevalue("broker")
    ret = register(pos_munich, order, [("A", 1)])
    ok(pos_munich.post(f"/api/v1/returns/{ret['id']}/receive", receive_body([("A", 1)])))
    [task] = broker.tasks("payments.tasks.execute_refund")
    [refund] = Refund.objects.filter(reference=ret["number"])
    assert refund.status == "pending"

    # when the refund's task is delivered twice and both copies run at the same moment
    outcomes = run_concurrently(2, lambda i: payment_tasks.execute_refund(**task.kwargs))
    # and once more afterwards
    late = payment_tasks.execute_refund(**task.kwargs)

    # then the PSP moved the money once, the payment counts it once, it is issued once
    assert sorted(outcomes) == ["skipped", "succeeded"] and late == "skipped"
    assert len(psp.fake.refunds) == 1
    assert len([c for c in psp.fake.calls if c.operation == "refund"]) == 1
    payment = Payment.objects.get(order__number=order["number"])
    assert payment.refunded_amount == Decimal("10.00")
    assert PaymentReversal.objects.filter(payment=payment).count() == 1
    refund.refresh_from_db()
    assert refund.status == "issued"
    assert OutboxEvent.objects.filter(topic="refund.issued").count() == 1


def test_two_orders_spending_one_store_credit_at_once_never_take_more_than_its_balance(
        network: Any, delivered: Any, pos_munich: Any, shop: Any, after_commit: Any,
        run_concurrently: Any) -> None:
    # given a store credit of 20.00
    credit = credit_of(take_back(pos_munich, after_commit, delivered([("A", 2)]), [("A", 2)],
                                 method="store_credit"))
    network.stock(network.kassel, "C", 10)
    orders_before = Order.objects.count()

    # when four orders of 15.00 each try to spend it at the same moment
    def spend(i: int) -> Any:
        return post_json(http(shop), "/api/v1/orders", order_body(
            [("C", 1)], price="15.00", payment={
                "method": "store_credit", "status": "captured", "amount": "15.00",
                "store_credit_code": credit.code}))

    results = run_concurrently(4, spend)

    # then one is placed, the others are refused for the balance left
    assert sorted(r.status_code for r in results) == [201, 422, 422, 422]
    assert all(error_codes(r) == ["store_credit_insufficient"] for r in results
               if r.status_code == 422)
    assert Order.objects.count() == orders_before + 1
    credit = StoreCredit.objects.get(pk=credit.pk)
    assert credit.balance == Decimal("5.00")
    assert [e.kind for e in credit.entries.all()] == ["issue", "redeem"]


def test_a_crash_between_commit_and_publish_loses_nothing(
        network: Any, delivered: Any, pos_munich: Any, shop: Any, request: Any) -> None:
    # given a delivered card order, then a worker that is down: what a commit queues waits
    # in the broker unread, and is then lost (the crash)
    order = delivered([("A", 1)])
    broker = request.getfixturevalue("broker")

    # when the till takes the unit back with a card refund, and the queued work is lost
    ret = register(pos_munich, order, [("A", 1)])
    ok(pos_munich.post(f"/api/v1/returns/{ret['id']}/receive", receive_body([("A", 1)])))
    broker.take_all()

    # then every event of it is in the outbox, unpublished, and the refund waits as an attempt
    waiting = OutboxEvent.objects.filter(published_at__isnull=True)
    assert {"return.requested", "return.received"} <= set(waiting.values_list(
        "topic", flat=True))
    [refund] = Refund.objects.filter(reference=ret["number"])
    assert refund.status == "pending"

    # when the worker is back: the beat's relay run and its sweep of due attempts
    celery_app.conf.task_always_eager = True
    assert outbox_relay() >= 2
    attempts_requeue_due(now=timezone.now() + timedelta(minutes=5))
    outbox_relay()

    # then the refund was made once, its event published, and the return closed
    refund.refresh_from_db()
    assert refund.status == "issued"
    assert len(psp.fake.refunds) == 1
    assert not OutboxEvent.objects.filter(published_at__isnull=True).exists()
    assert OutboxEvent.objects.filter(topic="refund.issued").count() == 1
    assert ok(shop.get(f"/api/v1/returns/{ret['id']}"))["status"] == "closed"


def test_receiving_and_cancelling_one_return_at_once_end_in_one_of_the_two(
        network: Any, delivered: Any, pos_munich: Any, api: Any,
        run_concurrently: Any) -> None:
    # given a return announced in Munich with cash back
    order = delivered([("A", 1)])
    ret = register(pos_munich, order, [("A", 1)], method="cash")
    other = api("pos", location_code="ST-MUC", channel="pos")

    # when one till receives it while another cancels it
    def act(i: int) -> int:
        if i == 0:
            return post_json(http(pos_munich), f"/api/v1/returns/{ret['id']}/receive",
                             receive_body([("A", 1)])).status_code
        return post_json(http(other), f"/api/v1/returns/{ret['id']}/cancel",
                         {"reason": "customer left"}).status_code

    results = run_concurrently(2, act)

    # then exactly one of them happened, and the money and goods match it
    assert sorted(results) == [200, 409]
    final = Return.objects.get()
    back = StockMovement.objects.filter(kind=MovementKind.RETURN).count()
    if final.status == "cancelled":
        assert (Refund.objects.count(), back) == (0, 0)
    else:
        assert final.status == "closed"
        assert (Refund.objects.count(), back) == (1, 1)


def test_two_exchanges_in_store_racing_for_the_last_unit_on_the_shelf_get_it_once(
        network: Any, delivered: Any, api: Any, run_concurrently: Any) -> None:
    # given two delivered orders and one C on Munich's shelf
    orders = [delivered([("A", 1)]) for _i in range(2)]
    network.stock(network.munich, "C", 1)
    tills = [api("pos", location_code="ST-MUC", channel="pos") for _i in range(2)]

    # when both customers ask for C in exchange at the same moment
    results = run_concurrently(2, lambda i: post_json(
        http(tills[i]), "/api/v1/returns", return_body(
            orders[i], [("A", 1)], exchange=[{"sku": "C", "quantity": 1,
                                              "unit_price": "10.00"}])))

    # then one gets it; the other hears 409 and nothing of theirs is written
    assert sorted(r.status_code for r in results) == [201, 409], [r.content for r in results]
    assert Return.objects.count() == 1
    c = level("C", network.munich)
    assert (c.on_hand, c.reserved) == (1, 1)
    assert Order.objects.filter(external_id__startswith="exchange:").count() == 1
