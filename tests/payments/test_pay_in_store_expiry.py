"""Pay in store and a pickup nobody collects: the money the till will never take is written
off the payment as voided (`voided_amount`, a `void` reversal, ``payment.voided``), without the
PSP, once per expired pickup and never beyond what is still open."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal
from typing import Any

import pytest
from django.db import transaction
from django.utils import timezone

from fulfillment.models import FulfillmentOrder
from oms.core import events
from oms.core.models import OutboxEvent
from oms.orders.models import Order, OrderEvent
from oms.orders.services import order_lock
from payments.handlers import give_back_expired_pickup
from payments.models import Payment, PaymentReversal
from payments.services import payment_collect_in_store, reversal_key
from tests.fulfillment.conftest import expire_due_pickups_then_redeliver
from tests.network import order_body
from tests.payments.conftest import EXPIRY_HANDLER, Placed, money, pickup_expired

STAFF = "store:KS-CITY:anna"


@pytest.fixture
def in_store(place: Any) -> Placed:
    """An order of 2 x A at 10.00 to be paid at the till when collected."""
    return place(method="pay_in_store", status="pending")


def collect(placed: Placed, amount: str, reference: str) -> None:
    """What fulfilment's handover does: lock the order, then record the till payment."""
    with transaction.atomic():
        order = order_lock(order=placed.order)
        payment_collect_in_store(order=order, amount=Decimal(amount), actor=STAFF,
                                 reference=reference)


def amounts(payment: Payment) -> tuple[str, Decimal, Decimal, Decimal]:
    payment.refresh_from_db()
    return (payment.status, payment.captured_amount, payment.refunded_amount,
            payment.voided_amount)


def voided_events(payment: Payment) -> list[OutboxEvent]:
    return list(OutboxEvent.objects.filter(topic="payment.voided", aggregate_type="payment",
                                           aggregate_id=str(payment.pk)))


def handle(event: OutboxEvent) -> bool:
    return events.event_handle(event_id=event.id, handler_name=EXPIRY_HANDLER)


def test_a_pay_in_store_pickup_nobody_collects_is_written_off_as_voided(in_store, psp):
    # Given a pickup of 20.00 to be paid at the till
    # When nobody collects it and the expiry is handled
    event = pickup_expired(in_store.number, "20.00")
    assert handle(event) is True

    # Then the 20.00 is written off as voided, without asking the PSP
    assert psp.calls == []
    assert amounts(in_store.payment) == ("voided", money("0.00"), money("0.00"),
                                         money("20.00"))
    reversal = PaymentReversal.objects.get(payment=in_store.payment)
    assert (reversal.kind, reversal.amount, reversal.psp_reference, reversal.idempotency_key) \
        == ("void", money("20.00"), "", reversal_key("void", str(event.id), in_store.payment.pk))

    # And it is published as a release and shows in the order's trail
    [voided] = voided_events(in_store.payment)
    assert (voided.payload["method"], voided.payload["from"], voided.payload["status"],
            voided.payload["voided_amount"]) == ("pay_in_store", "pending", "voided", "20.00")
    assert voided.payload["detail"]["location"] == "KS-CITY"
    trail = OrderEvent.objects.get(order__number=in_store.number, type="payment.voided")
    assert (trail.actor, trail.data["event"], trail.data["to"]) == (
        "payments", str(event.id), "voided")
    assert not OrderEvent.objects.filter(order__number=in_store.number,
                                         type="payment.not_given_back").exists()


def test_the_expiry_handled_twice_writes_off_once(in_store, psp):
    # Given an expired pay-in-store pickup
    event = pickup_expired(in_store.number, "20.00")

    # When the handler runs twice for the same event (the processed-event guard bypassed)
    give_back_expired_pickup(event)
    give_back_expired_pickup(event)

    # Then the amount is written off once: one reversal, one event, one entry in the trail
    assert amounts(in_store.payment)[3] == money("20.00")
    assert PaymentReversal.objects.filter(payment=in_store.payment).count() == 1
    assert len(voided_events(in_store.payment)) == 1
    assert OrderEvent.objects.filter(order__number=in_store.number,
                                     type="payment.voided").count() == 1


def test_a_split_pickup_keeps_what_the_till_took_and_writes_off_the_rest(in_store, psp):
    # Given a pickup of 20.00 of which the customer collected and paid 10.00 at a first visit
    collect(in_store, "10.00", reference="handover-1")
    assert amounts(in_store.payment)[:2] == ("partially_captured", money("10.00"))

    # When the other 10.00 is not collected in time
    handle(pickup_expired(in_store.number, "10.00"))

    # Then the till's 10.00 stays captured, the rest is written off, and with nothing left
    # open the payment reads captured (as a card payment released in part does)
    assert amounts(in_store.payment) == ("captured", money("10.00"), money("0.00"),
                                         money("10.00"))
    assert [r.kind for r in PaymentReversal.objects.filter(payment=in_store.payment)] == ["void"]
    assert psp.calls == []


def test_a_part_written_off_first_leaves_the_rest_to_pay_at_the_till(in_store, psp):
    # Given a pickup of 20.00 whose first part (10.00) expired
    handle(pickup_expired(in_store.number, "10.00"))

    # Then the payment still waits for the till, with 10.00 written off
    assert amounts(in_store.payment) == ("pending", money("0.00"), money("0.00"),
                                         money("10.00"))

    # When the customer collects the other part and pays 10.00
    collect(in_store, "10.00", reference="handover-2")

    # Then that completes the payment
    assert amounts(in_store.payment) == ("captured", money("10.00"), money("0.00"),
                                         money("10.00"))


def test_no_more_is_written_off_than_is_still_open(in_store, psp):
    # Given a pickup of 20.00 of which 15.00 was paid at the till
    collect(in_store, "15.00", reference="handover-1")

    # When an expiry claims 10.00 more
    event = pickup_expired(in_store.number, "10.00")
    handle(event)

    # Then only the 5.00 still open is written off, and finance is told about the other 5.00
    assert amounts(in_store.payment) == ("captured", money("15.00"), money("0.00"),
                                         money("5.00"))
    note = OrderEvent.objects.get(order__number=in_store.number, type="payment.not_given_back")
    assert (note.data["amount"], note.data["event"]) == ("5.00", str(event.id))


def test_a_payment_paid_in_full_at_the_till_is_left_alone(in_store, psp):
    # Given a pay-in-store payment collected in full
    collect(in_store, "20.00", reference="handover-1")

    # When an expiry for the same order arrives
    handle(pickup_expired(in_store.number, "20.00"))

    # Then nothing is written off nor refunded: that money paid for goods handed over
    assert amounts(in_store.payment) == ("captured", money("20.00"), money("0.00"),
                                         money("0.00"))
    assert not PaymentReversal.objects.exists()


def test_an_invoice_pickup_that_expires_is_left_for_finance(place, psp):
    # Given a pickup paid by invoice (which may already be with the customer)
    placed = place(method="invoice", status="pending")

    # When it expires
    handle(pickup_expired(placed.number, "20.00"))

    # Then the invoice payment is untouched
    assert amounts(placed.payment) == ("pending", money("0.00"), money("0.00"), money("0.00"))
    assert not PaymentReversal.objects.exists()
    assert voided_events(placed.payment) == []


def test_a_pay_in_store_no_show_swept_by_fulfilment_is_voided_once(
        network, shop, api, psp, django_capture_on_commit_callbacks):
    # Given a pay-in-store pickup of 3 x A at 10.00, ready in Munich and past its deadline
    network.stock(network.munich, "A", 5)
    placed = shop.post("/api/v1/orders", order_body(
        [("A", 3)], delivery={"method": "pickup", "location": "ST-MUC"},
        payment={"method": "pay_in_store", "status": "pending", "amount": "30.00"}))
    assert placed.status_code == 201, placed.content
    number = placed.json()["number"]
    fo = FulfillmentOrder.objects.get(order__number=number)
    picked = api("pos", location_code="ST-MUC").post(
        f"/api/v1/fulfillments/{fo.pk}/pick", {"lines": [{"sku": "A", "picked": 3}]})
    assert picked.status_code == 200, picked.content
    FulfillmentOrder.objects.filter(pk=fo.pk).update(
        pickup_deadline=timezone.now() - timedelta(minutes=1))

    # When the sweep expires it (its handlers run after the commit), and every handler of the
    # event is delivered again, as a broker redelivery would
    expire_due_pickups_then_redeliver(django_capture_on_commit_callbacks)

    # Then the 30.00 nobody will pay at the till is written off once, and the order's trail
    # says so next to the cancellation
    payment = Payment.objects.get(order__number=number)
    assert amounts(payment) == ("voided", money("0.00"), money("0.00"), money("30.00"))
    assert psp.calls == []
    assert Order.objects.get(number=number).status == "cancelled"
    assert OrderEvent.objects.filter(order__number=number, type="payment.voided").count() == 1
