"""Pickups and the money: a handover (`fulfillment.picked_up`) captures card and PayPal payments
like a shipment; a pickup nobody came for (`fulfillment.pickup_expired`) releases the
authorization or refunds what was prepaid, through the PSP, once, however often it runs."""

from __future__ import annotations

from typing import Any
from unittest import mock

import pytest

from oms.core import events
from oms.core.models import HandlerFailure, OutboxEvent, ProcessedEvent
from oms.core.tasks import handle_event
from oms.orders.models import OrderEvent
from payments.adapters.psp import PspResult
from payments.handlers import give_back_expired_pickup
from payments.models import Payment, PaymentCapture, PaymentReversal
from payments.services import (
    GiveBackFailed,
    capture_key,
    payment_give_back,
    reversal_key,
)
from payments.services import reversals as reversal_service
from tests.payments.conftest import (
    EVENTS,
    EXPIRY_HANDLER,
    HANDOVER_HANDLER,
    Placed,
    money,
    picked_up,
    pickup_expired,
    psp_event,
    shipped,
)


def topics_of(payment: Payment) -> list[str]:
    return list(OutboxEvent.objects.filter(aggregate_type="payment", aggregate_id=str(payment.pk))
                .order_by("created_at").values_list("topic", flat=True))


def amounts(payment: Payment) -> tuple[str, Any, Any, Any]:
    payment.refresh_from_db()
    return (payment.status, payment.captured_amount, payment.refunded_amount,
            payment.voided_amount)


def handle(event: OutboxEvent) -> bool:
    """`event_handle` for the expiry handler, as the Celery task runs it."""
    return events.event_handle(event_id=event.id, handler_name=EXPIRY_HANDLER)


class Crashed(Exception):
    """The worker lost its database connection after the PSP answered."""


# --- Handed over -----------------------------------------------------------------------------


def test_a_pickup_handed_over_captures_the_authorized_card_payment_for_its_value(
        place, psp, deliver):
    # Given a pickup order of 2 x A at 10.00 paid by an authorized card
    placed = place()

    # When the customer collects it and fulfilment publishes the handover
    event = picked_up(placed.number, "20.00")
    deliver(event, HANDOVER_HANDLER)

    # Then the PSP captured 20.00 once under the event's key, and the payment is captured
    key = capture_key(str(event.id), placed.payment.pk)
    assert [(c.operation, c.amount, c.idempotency_key) for c in psp.calls] == [
        ("capture", money("20.00"), key)]
    assert amounts(placed.payment)[:2] == ("captured", money("20.00"))
    capture = placed.payment.captures.get()
    assert capture.source == "handover"
    assert capture.context == {"event": str(event.id), "fulfillment": 8, "location": "KS-CITY",
                               "kind": "pickup"}
    assert "payment.captured" in topics_of(placed.payment)


def test_a_pickup_handed_over_twice_is_captured_once(place, psp, deliver):
    placed = place()
    event = picked_up(placed.number, "20.00")
    deliver(event, HANDOVER_HANDLER)
    deliver(event, HANDOVER_HANDLER)
    assert len(psp.calls) == 1
    assert placed.reload().captured_amount == money("20.00")


def test_a_pickup_paid_in_store_is_never_captured_through_the_psp(place, psp, deliver):
    # Given a pickup order to be paid at the till
    placed = place(method="pay_in_store", status="pending")

    # When the handover is published
    deliver(picked_up(placed.number, "20.00"), HANDOVER_HANDLER)

    # Then the PSP is not asked and no capture is planned: the till takes that money
    assert psp.calls == []
    assert not PaymentCapture.objects.filter(payment=placed.payment).exists()
    assert amounts(placed.payment)[:2] == ("pending", money("0.00"))


def test_the_psps_event_for_a_handover_capture_confirms_it(place, psp, psp_client, deliver):
    placed = place()
    deliver(picked_up(placed.number, "20.00"), HANDOVER_HANDLER)
    response = psp_client.post(EVENTS, psp_event(placed, type="captured", amount="20.00"))
    assert response.json()["outcome"] == "capture_confirmed"
    assert placed.reload().captured_amount == money("20.00")


# --- Not collected: prepaid, so refunded -------------------------------------------------------


@pytest.fixture
def prepaid(place: Any) -> Placed:
    """A pickup order of 20.00 whose card payment was captured at checkout."""
    return place(status="captured")


def test_a_prepaid_pickup_that_expires_is_refunded_once_when_the_handler_runs_twice(
        prepaid, psp):
    # Given a prepaid pickup of 20.00 nobody came for
    event = pickup_expired(prepaid.number, "20.00")

    # When the expiry handler runs twice for the same event (the processed-event guard
    # bypassed, as if its first run had been lost)
    give_back_expired_pickup(event)
    give_back_expired_pickup(event)

    # Then the PSP refunded 20.00 once, under the event's key, and was not asked again
    key = reversal_key("refund", str(event.id), prepaid.payment.pk)
    assert [(c.operation, c.amount, c.idempotency_key) for c in psp.calls] == [
        ("refund", money("20.00"), key)]
    assert list(psp.refunds) == [key]

    # And the payment is refunded, with one refund row and one event
    assert amounts(prepaid.payment) == ("refunded", money("20.00"), money("20.00"),
                                        money("0.00"))
    refund = PaymentReversal.objects.get(payment=prepaid.payment)
    assert (refund.kind, refund.amount, refund.idempotency_key) == ("refund", money("20.00"), key)
    assert refund.psp_reference.startswith("ref_")
    assert topics_of(prepaid.payment).count("payment.refunded") == 1
    refunded = OutboxEvent.objects.get(topic="payment.refunded")
    assert refunded.payload["detail"]["location"] == "KS-CITY"
    trail = OrderEvent.objects.get(order__number=prepaid.number, type="payment.refunded")
    assert (trail.actor, trail.data["event"]) == ("payments", str(event.id))


def test_event_handle_runs_the_expiry_handler_once(prepaid, psp):
    event = pickup_expired(prepaid.number, "20.00")
    assert [handle(event), handle(event)] == [True, False]
    assert len(psp.calls) == 1
    assert amounts(prepaid.payment)[2] == money("20.00")


def test_a_retry_after_the_psp_refunded_but_before_the_commit_refunds_once(prepaid, psp):
    # Given an expired prepaid pickup, and a worker that crashes after the PSP refunded but
    # before the refund was recorded
    event = pickup_expired(prepaid.number, "20.00")
    with mock.patch.object(reversal_service, "_record", side_effect=Crashed), \
            pytest.raises(Crashed):
        handle(event)
    assert len(psp.refunds) == 1  # the PSP gave the money back
    assert amounts(prepaid.payment)[2] == money("0.00")  # we rolled back, handler not done
    assert not ProcessedEvent.objects.filter(event=event).exists()

    # When the handler is retried
    assert handle(event) is True

    # Then the PSP was asked again with the same key, refunded nothing twice, and we count the
    # refund once
    key = reversal_key("refund", str(event.id), prepaid.payment.pk)
    assert [c.idempotency_key for c in psp.calls] == [key, key]
    assert len(psp.refunds) == 1
    assert amounts(prepaid.payment)[2] == money("20.00")
    assert PaymentReversal.objects.filter(payment=prepaid.payment).count() == 1


def test_a_partly_collected_prepaid_pickup_refunds_only_what_expired(place, psp):
    # Given a prepaid pickup of 3 x A at 10.00 (30.00), and one unit that was not collected
    placed = place(status="captured", lines=[("A", 3)])

    # When that unit's 10.00 expires
    handle(pickup_expired(placed.number, "10.00"))

    # Then 10.00 is refunded and the payment is partially refunded
    assert amounts(placed.payment) == ("partially_refunded", money("30.00"), money("10.00"),
                                       money("0.00"))


def test_the_psps_event_for_our_refund_confirms_it_without_counting_twice(
        prepaid, psp, psp_client):
    # Given a refund we made for an expired prepaid pickup
    handle(pickup_expired(prepaid.number, "20.00"))

    # When the PSP's webhook for that refund arrives
    response = psp_client.post(EVENTS, psp_event(prepaid, type="refunded", amount="20.00"))

    # Then it confirms our refund: 20.00 refunded, not refused nor counted twice
    assert response.status_code == 200, response.content
    assert response.json()["outcome"] == "refund_confirmed"
    assert amounts(prepaid.payment)[2] == money("20.00")
    assert PaymentReversal.objects.get(payment=prepaid.payment).confirmed_at is not None


# --- Not collected: only authorized, so released -----------------------------------------------


def test_an_authorized_card_pickup_that_expires_is_voided_once(place, psp):
    # Given a pickup order of 20.00 paid by a card that was only authorized
    placed = place()
    event = pickup_expired(placed.number, "20.00")

    # When it expires and the handler runs, twice
    give_back_expired_pickup(event)
    give_back_expired_pickup(event)

    # Then the PSP released the authorization once, and nothing was refunded
    key = reversal_key("void", str(event.id), placed.payment.pk)
    assert [(c.operation, c.amount, c.idempotency_key) for c in psp.calls] == [
        ("void", money("20.00"), key)]
    assert list(psp.voids) == [key] and psp.refunds == {}

    # And the payment is voided, published once, and no longer captured by a later shipment
    assert amounts(placed.payment) == ("voided", money("0.00"), money("0.00"), money("20.00"))
    assert topics_of(placed.payment).count("payment.voided") == 1
    voided = OutboxEvent.objects.get(topic="payment.voided")
    assert (voided.payload["status"], voided.payload["voided_amount"]) == ("voided", "20.00")
    assert voided.payload["from"] == "authorized"


def test_a_voided_payment_is_not_captured_afterwards(place, psp, run_capture_handler):
    placed = place()
    handle(pickup_expired(placed.number, "20.00"))
    run_capture_handler(shipped(placed.number, "20.00"))
    assert [c.operation for c in psp.calls] == ["void"]
    note = OrderEvent.objects.get(order__number=placed.number, type="payment.not_captured")
    assert note.data["reason"] == "payment is voided"


def test_an_order_partly_shipped_releases_the_uncollected_rest_and_keeps_the_capture(
        place, psp, run_capture_handler):
    # Given an order of 3 x A at 10.00 paid by card: one unit shipped and captured (10.00), two
    # waiting at a store
    placed = place(lines=[("A", 3)])
    run_capture_handler(shipped(placed.number, "10.00"))

    # When the two units at the store expire (20.00)
    handle(pickup_expired(placed.number, "20.00"))

    # Then the 20.00 still authorized is released, the shipped unit's 10.00 is not refunded,
    # and the payment is complete as captured
    assert [(c.operation, c.amount) for c in psp.calls] == [
        ("capture", money("10.00")), ("void", money("20.00"))]
    assert amounts(placed.payment) == ("captured", money("10.00"), money("0.00"),
                                       money("20.00"))


def test_part_of_a_pickup_expiring_releases_only_that_part(place, psp, deliver):
    # Given a pickup of 3 x A at 10.00 paid by an authorized card
    placed = place(lines=[("A", 3)])

    # When one unit (10.00) is not collected, then the other two (20.00) are handed over
    handle(pickup_expired(placed.number, "10.00"))
    after_expiry = amounts(placed.payment)
    deliver(picked_up(placed.number, "20.00"), HANDOVER_HANDLER)

    # Then 10.00 was released and 20.00 captured, which completes the payment
    assert after_expiry == ("authorized", money("0.00"), money("0.00"), money("10.00"))
    assert [(c.operation, c.amount) for c in psp.calls] == [
        ("void", money("10.00")), ("capture", money("20.00"))]
    assert amounts(placed.payment) == ("captured", money("20.00"), money("0.00"),
                                       money("10.00"))


# --- A PSP that fails --------------------------------------------------------------------------


@pytest.mark.parametrize(("status", "operation"), [("authorized", "void"),
                                                   ("captured", "refund")])
def test_a_psp_failure_leaves_the_payment_unchanged_and_raises_for_a_retry(
        place, psp, status, operation):
    # Given an expired pickup and a PSP that is down
    placed = place(status=status)
    before = amounts(placed.payment)
    event = pickup_expired(placed.number, "20.00")
    psp.fail_next.append(PspResult.failed("HTTP 503: try later", http_status=503))

    # When the handler runs
    with pytest.raises(GiveBackFailed, match="HTTP 503: try later"):
        handle(event)

    # Then nothing was applied, and the event is not marked as handled
    assert amounts(placed.payment) == before
    assert not PaymentReversal.objects.exists()
    assert f"payment.{operation}ed" not in topics_of(placed.payment)
    assert not ProcessedEvent.objects.filter(event=event).exists()

    # When the PSP is back and the handler is retried
    assert handle(event) is True

    # Then the money is given back once, under the same key
    assert [c.operation for c in psp.calls] == [operation, operation]
    assert len({c.idempotency_key for c in psp.calls}) == 1
    assert PaymentReversal.objects.get(payment=placed.payment).kind == operation


def test_a_psp_that_stays_down_dead_letters_the_handler(place, psp):
    # Given an expired pickup and a PSP that refuses the release
    placed = place()
    event = pickup_expired(placed.number, "20.00")
    psp.fail_next.append(PspResult.failed("HTTP 422: unknown authorization", http_status=422,
                                          retryable=False))

    # When Celery runs the handler for the last time
    result = handle_event.apply(kwargs={"event_id": str(event.id), "handler": EXPIRY_HANDLER},
                                retries=handle_event.max_retries, throw=False)

    # Then it is kept as a failed handler for the cockpit, and the payment is unchanged
    assert result.failed()
    failure = HandlerFailure.objects.get(event=event, handler=EXPIRY_HANDLER)
    assert "GiveBackFailed" in failure.error and "unknown authorization" in failure.error
    assert amounts(placed.payment)[0] == "authorized"


def test_a_failure_on_the_second_payment_rolls_back_the_first(place, psp):
    # Given an order paid by two card payments of 10.00 each (a split tender), both captured
    placed = place(status="captured", lines=[("A", 1)])
    second = Payment.objects.create(
        order=placed.payment.order, method="card", status="captured", amount=money("10.00"),
        captured_amount=money("10.00"), currency="EUR", psp_reference="psp_split_2",
        created_at=placed.payment.created_at, updated_at=placed.payment.created_at)
    event = pickup_expired(placed.number, "20.00")
    # and a PSP that refunds the first and fails on the second (a queued success is answered
    # like any other result)
    psp.fail_next.extend([PspResult(ok=True, reference="ref_ok", http_status=201),
                          PspResult.failed("HTTP 500", http_status=500)])

    # When the handler runs
    with pytest.raises(GiveBackFailed):
        handle(event)

    # Then neither payment changed: the run is all or nothing
    assert amounts(placed.payment)[2] == amounts(second)[2] == money("0.00")
    assert not PaymentReversal.objects.exists()

    # And the retry refunds both, each once
    assert handle(event) is True
    assert amounts(placed.payment)[2] == amounts(second)[2] == money("10.00")
    assert PaymentReversal.objects.count() == 2


# --- Nothing to give back ----------------------------------------------------------------------


@pytest.mark.parametrize("method", ["invoice", "cash"])
def test_a_pickup_paid_offline_that_expires_gives_nothing_back(place, psp, method):
    # Given a pickup paid by invoice, or in cash (pay in store: test_pay_in_store_expiry.py)
    placed = place(method=method, status="pending")

    # When it expires
    assert handle(pickup_expired(placed.number, "20.00")) is True

    # Then the PSP is not asked and the payment is unchanged
    assert psp.calls == []
    assert amounts(placed.payment) == ("pending", money("0.00"), money("0.00"), money("0.00"))
    assert not PaymentReversal.objects.exists()


def test_a_card_payment_with_nothing_to_give_back_is_noted_in_the_trail_once(place, psp):
    # Given an expired pickup whose card payment was never authorized (nothing to release or
    # refund)
    placed = place(status="pending")
    event = pickup_expired(placed.number, "20.00")

    # When the handler runs, twice
    give_back_expired_pickup(event)
    give_back_expired_pickup(event)

    # Then the PSP is not asked, and finance finds one note saying what was not given back
    assert psp.calls == []
    [note] = OrderEvent.objects.filter(order__number=placed.number,
                                       type="payment.not_given_back")
    assert (note.data["amount"], note.data["event"]) == ("20.00", str(event.id))


def test_an_expired_pickup_of_an_unknown_order_is_logged_and_dropped(db, psp):
    made = payment_give_back(event_id="evt-1", order_number="9999999", amount=money("10.00"),
                             currency="EUR")
    assert made == []
    assert psp.calls == []
