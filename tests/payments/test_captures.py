"""Capture on shipment: when goods leave, an authorized card or PayPal payment is captured for
their value through the PSP adapter, once, whatever is delivered or executed twice."""

from __future__ import annotations

from datetime import timedelta
from unittest import mock

import pytest
from django.utils import timezone

from oms.core import events
from oms.core.attempts import services as attempts
from oms.core.attempts.kinds import Outcome
from oms.core.attempts.selectors import attempt_of
from oms.core.attempts.services import attempts_requeue_due
from oms.core.models import Attempt, AttemptTry, OutboxEvent
from oms.orders.models import OrderEvent
from payments import tasks
from payments.adapters.psp import PspResult
from payments.handlers import capture_shipped_amount
from payments.models import PaymentCapture
from payments.services import (
    PSP_CAPTURE,
    capture_key,
    payment_capture_execute,
    payment_capture_retry,
)
from tests.payments.conftest import CAPTURE_HANDLER, EVENTS, money, psp_event, shipped


def attempt(capture: PaymentCapture) -> Attempt:
    found = attempt_of(kind=PSP_CAPTURE, target_id=capture.pk)
    assert found is not None
    return found


def payment_captures_requeue_due(**kwargs) -> int:
    return attempts_requeue_due(kinds=[PSP_CAPTURE.name], **kwargs)


def planned(placed, amount: str = "10.00") -> PaymentCapture:
    """A shipment left and its capture is planned; its task has not run yet."""
    event = shipped(placed.number, amount)
    events.event_handle(event_id=event.id, handler_name=CAPTURE_HANDLER)
    return PaymentCapture.objects.get(payment=placed.payment, source="shipment")


def test_an_authorized_card_payment_is_captured_for_the_shipped_amount(
        place, psp, django_capture_on_commit_callbacks):
    # Given a confirmed order of 2 x A at 10.00 paid by an authorized card
    placed = place(lines=[("A", 2)])

    # When one unit (10.00) ships and the outbox relay publishes the event
    event = shipped(placed.number, "10.00")
    with django_capture_on_commit_callbacks(execute=True):
        events.outbox_relay()

    # Then the PSP was asked once for 10.00 with the event's idempotency key, and the payment
    # is partially captured with a succeeded capture row
    key = capture_key(str(event.id), placed.payment.pk)
    assert [(c.psp_reference, c.amount, c.currency, c.idempotency_key) for c in psp.calls] == [
        (placed.payment.psp_reference, money("10.00"), "EUR", key)]
    payment = placed.reload()
    assert (payment.status, payment.captured_amount) == ("partially_captured", money("10.00"))
    capture = payment.captures.get()
    assert (capture.status, capture.amount, attempt(capture).tries) == (
        "succeeded", money("10.00"), 1)
    assert capture.psp_capture_reference.startswith("cap_")
    assert capture.context["event"] == str(event.id)
    assert OutboxEvent.objects.filter(topic="payment.captured",
                                      aggregate_id=str(payment.pk)).count() == 1
    types = list(OrderEvent.objects.filter(order__number=placed.number)
                 .values_list("type", flat=True))
    assert types[-2:] == ["payment.capture_requested", "payment.captured"]


def test_the_capture_happens_once_when_the_event_task_is_delivered_twice(
        place, psp, run_capture_handler):
    # Given a shipment of 10.00 of an order paid by an authorized card
    placed = place()
    event = shipped(placed.number, "10.00")

    # When the Celery task `handle_event` for the capture handler is delivered twice
    run_capture_handler(event)
    run_capture_handler(event)

    # Then one capture row exists and the PSP was called once
    assert len(psp.calls) == 1
    assert PaymentCapture.objects.filter(payment=placed.payment).count() == 1
    assert placed.reload().captured_amount == money("10.00")


def test_the_capture_happens_once_when_event_handle_runs_twice(
        place, psp, django_capture_on_commit_callbacks):
    # Given a shipment of 10.00
    placed = place()
    event = shipped(placed.number, "10.00")

    # When `event_handle` runs twice for the same event and handler
    with django_capture_on_commit_callbacks(execute=True):
        ran = [events.event_handle(event_id=event.id, handler_name=CAPTURE_HANDLER)
               for _ in range(2)]

    # Then it ran the first time only, and captured once
    assert ran == [True, False]
    assert len(psp.calls) == 1
    assert placed.reload().captured_amount == money("10.00")


def test_planning_the_same_shipment_twice_plans_one_capture(
        place, psp, django_capture_on_commit_callbacks):
    # Given a shipment event (as if the handler's first run was lost after the PSP call)
    placed = place()
    event = shipped(placed.number, "10.00")

    # When the handler itself runs twice, bypassing the processed-event guard
    with django_capture_on_commit_callbacks(execute=True):
        capture_shipped_amount(event)
        capture_shipped_amount(event)

    # Then the unique (payment, idempotency key) row means one capture, one PSP call
    assert PaymentCapture.objects.filter(payment=placed.payment).count() == 1
    assert len(psp.calls) == 1
    assert placed.reload().captured_amount == money("10.00")


def test_the_capture_task_delivered_twice_calls_the_psp_once(
        place, psp, run_capture_handler):
    # Given a capture that was executed
    placed = place()
    run_capture_handler(shipped(placed.number, "10.00"))
    capture = PaymentCapture.objects.get(payment=placed.payment)

    # When its task is delivered again
    outcome = tasks.execute_capture.delay(attempt_id=attempt(capture).pk, tries=0).get()

    # Then it is skipped: the PSP saw one call, the payment one capture
    assert outcome == "skipped"
    assert len(psp.calls) == 1
    assert placed.reload().captured_amount == money("10.00")


def test_two_shipments_capture_in_parts_and_the_second_completes_the_payment(
        place, psp, run_capture_handler):
    # Given an order of 2 x A and 1 x B at 10.00 (30.00) paid by an authorized card
    placed = place(lines=[("A", 2), ("B", 1)])

    # When A ships (20.00), then B (10.00)
    run_capture_handler(shipped(placed.number, "20.00", lines=[("A", 2)]))
    after_first = placed.reload().status, placed.payment.captured_amount
    run_capture_handler(shipped(placed.number, "10.00", lines=[("B", 1)]))

    # Then the payment was partially captured, then captured, in two PSP calls
    assert after_first == ("partially_captured", money("20.00"))
    payment = placed.reload()
    assert (payment.status, payment.captured_amount) == ("captured", money("30.00"))
    assert [c.amount for c in psp.calls] == [money("20.00"), money("10.00")]
    assert psp.captured_total(payment.psp_reference) == money("30.00")


def test_a_shipment_worth_more_than_is_still_open_captures_only_what_is_open(
        place, psp, run_capture_handler):
    # Given a 20.00 payment, 15.00 of it captured for a first shipment
    placed = place()
    run_capture_handler(shipped(placed.number, "15.00"))

    # When a shipment worth 10.00 leaves
    run_capture_handler(shipped(placed.number, "10.00"))

    # Then only the 5.00 still authorized is captured
    assert [c.amount for c in psp.calls] == [money("15.00"), money("5.00")]
    assert placed.reload().status == "captured"


def test_a_paypal_payment_is_captured_like_a_card(place, psp, run_capture_handler):
    placed = place(method="paypal")
    run_capture_handler(shipped(placed.number, "20.00"))
    assert placed.reload().status == "captured"
    assert len(psp.calls) == 1


@pytest.mark.parametrize(("method", "status"), [
    ("invoice", "pending"),
    ("pay_in_store", "pending"),
    ("direct_debit", "authorized"),
    ("card", "captured"),
])
def test_payments_we_do_not_capture_are_left_alone(place, psp, run_capture_handler, method,
                                                    status):
    # Given an order paid by invoice, in store, by direct debit, or already captured
    placed = place(method=method, status=status)
    before = placed.payment.status, placed.payment.captured_amount

    # When a shipment leaves
    run_capture_handler(shipped(placed.number, "20.00"))

    # Then the PSP is not asked and the payment is unchanged
    assert psp.calls == []
    assert (placed.reload().status, placed.payment.captured_amount) == before
    assert not placed.payment.captures.filter(source="shipment").exists()


def test_a_card_payment_that_is_not_authorized_is_not_captured_and_the_trail_says_why(
        place, psp, run_capture_handler):
    # Given an order whose card payment is still pending
    placed = place(status="pending")

    # When a shipment leaves anyway
    run_capture_handler(shipped(placed.number, "10.00"))

    # Then nothing is captured, and the order's trail explains it
    assert psp.calls == []
    note = OrderEvent.objects.get(order__number=placed.number, type="payment.not_captured")
    assert note.data["reason"] == "payment is pending"


def test_a_psp_failure_is_recorded_and_retried(place, psp):
    # Given a planned capture and a PSP that answers the next call with a 503
    placed = place()
    capture = planned(placed)
    psp.fail_next.append(PspResult.failed("HTTP 503: try later", http_status=503))

    # When the capture task runs
    assert tasks.execute_capture.delay(attempt_id=attempt(capture).pk, tries=0).get() == \
        "pending"

    # Then the failed attempt is recorded and the capture waits for its retry
    capture.refresh_from_db()
    waiting = attempt(capture)
    assert (capture.status, waiting.status, waiting.tries, waiting.last_error) == (
        "pending", "pending", 1, "HTTP 503: try later")
    assert waiting.next_attempt_at > timezone.now()
    assert placed.reload().captured_amount == money("0.00")

    # When the sweep queues it once its backoff has passed
    outcome = tasks.execute_capture.delay(attempt_id=waiting.pk, tries=1).get()

    # Then it captured, once, with the same idempotency key
    assert outcome == "succeeded"
    attempts = list(attempt(capture).log.values_list("number", "ok", "status_code", "error"))
    assert attempts == [(1, False, 503, "HTTP 503: try later"), (2, True, 201, "")]
    assert [c.idempotency_key for c in psp.calls] == [capture.idempotency_key] * 2
    assert len(psp.captures) == 1
    assert placed.reload().captured_amount == money("10.00")


def test_a_capture_celery_gave_up_on_is_retried_by_the_sweep_when_due(
        place, psp, django_capture_on_commit_callbacks):
    # Given a capture whose first attempt failed (and Celery's retries were lost or used up)
    placed = place()
    capture = planned(placed)
    psp.fail_next.append(PspResult.failed("HTTP 502", http_status=502))
    assert payment_capture_execute(capture_id=capture.pk) == "pending"

    # When the beat sweep runs: before the backoff has passed, then after
    early = payment_captures_requeue_due()
    with django_capture_on_commit_callbacks(execute=True):
        late = payment_captures_requeue_due(
            now=attempt(capture).next_attempt_at + timedelta(seconds=1))

    # Then it is queued only once due, and captured on its second attempt
    assert (early, late) == (0, 1)
    capture.refresh_from_db()
    assert (capture.status, attempt(capture).tries) == ("succeeded", 2)
    assert placed.reload().captured_amount == money("10.00")


def test_after_the_last_allowed_attempt_the_capture_fails_for_good(place, psp, settings):
    # Given at most 2 attempts and a PSP that is down
    settings.PSP_CAPTURE_MAX_ATTEMPTS = 2
    placed = place()
    capture = planned(placed)
    psp.fail_next.extend(PspResult.failed("HTTP 500", http_status=500) for _ in range(3))

    # When the capture is tried twice
    outcomes = [payment_capture_execute(capture_id=capture.pk) for _ in range(2)]

    # Then the second failure gives up and tells finance
    assert outcomes == ["pending", "dead"]
    capture.refresh_from_db()
    assert (capture.status, attempt(capture).tries, attempt(capture).next_attempt_at) == (
        "failed", 2, None)
    assert OutboxEvent.objects.filter(topic="payment.capture_failed").count() == 1
    assert payment_capture_execute(capture_id=capture.pk) == "skipped"
    assert len(psp.calls) == 2


def test_a_cockpit_retry_after_server_errors_keeps_the_psp_key(
        place, psp, settings, django_capture_on_commit_callbacks):
    # Given a capture that failed for good on 5xx answers (the money may have moved meanwhile)
    settings.PSP_CAPTURE_MAX_ATTEMPTS = 1
    placed = place()
    capture = planned(placed)
    psp.fail_next.append(PspResult.failed("HTTP 502", http_status=502))
    assert payment_capture_execute(capture_id=capture.pk) == "dead"
    # When staff retry it from the cockpit
    with django_capture_on_commit_callbacks(execute=True):
        assert payment_capture_retry(capture=capture) is True
    # Then the PSP is asked under the same key, so it can answer what it did the first time
    assert [c.idempotency_key for c in psp.calls] == [capture.idempotency_key] * 2
    capture.refresh_from_db()
    assert capture.status == "succeeded"


def test_a_refusal_fails_the_capture_publishes_it_and_can_be_retried_from_the_cockpit(
        place, psp, run_capture_handler, django_capture_on_commit_callbacks):
    # Given a PSP refusing the next capture (the authorization expired)
    placed = place()
    psp.fail_next.append(PspResult.failed("HTTP 422: authorization expired", http_status=422,
                                          retryable=False))

    # When a shipment leaves
    run_capture_handler(shipped(placed.number, "10.00"))

    # Then the capture failed without retrying, finance hears of it, the order's trail shows it
    capture = PaymentCapture.objects.get(payment=placed.payment)
    assert (capture.status, attempt(capture).tries) == ("failed", 1)
    assert attempt(capture).last_error == "HTTP 422: authorization expired"
    failed = OutboxEvent.objects.get(topic="payment.capture_failed")
    assert failed.payload["detail"]["capture"] == capture.pk
    assert OrderEvent.objects.filter(order__number=placed.number,
                                     type="payment.capture_failed").exists()
    assert placed.reload().status == "authorized"

    # When staff retry it from the cockpit (the PSP stored its refusal under the first key)
    with django_capture_on_commit_callbacks(execute=True):
        assert payment_capture_retry(capture=capture) is True

    # Then it is asked again under a fresh key, and captured
    capture.refresh_from_db()
    assert capture.status == "succeeded"
    assert [c.idempotency_key for c in psp.calls] == [
        capture.idempotency_key, f"{capture.idempotency_key}:retry-1"]
    assert placed.reload().captured_amount == money("10.00")


class WorkerKilled(BaseException):
    """A worker process dying: not an error anything in the code would catch."""


def test_a_worker_dying_after_the_psp_took_the_money_does_not_capture_twice(
        place, psp, django_capture_on_commit_callbacks):
    # Given a planned capture, and a worker that dies after the PSP answered but before the
    # outcome was recorded
    placed = place()
    capture = planned(placed)
    with mock.patch.object(attempts, "attempt_record", side_effect=WorkerKilled), \
            pytest.raises(WorkerKilled):
        payment_capture_execute(capture_id=capture.pk)
    capture.refresh_from_db()
    assert (capture.status, attempt(capture).status, attempt(capture).tries) == (
        "pending", "in_flight", 1)
    assert len(psp.captures) == 1  # the PSP took the money

    # When the lease runs out and the beat sweep queues the capture again
    with django_capture_on_commit_callbacks(execute=True):
        queued = payment_captures_requeue_due(
            now=timezone.now() + PSP_CAPTURE.lease() + timedelta(seconds=1))

    # Then the PSP was asked again with the same key, took nothing twice, and we count it once
    assert queued == 1
    assert [c.idempotency_key for c in psp.calls] == [capture.idempotency_key] * 2
    assert len(psp.captures) == 1
    capture.refresh_from_db()
    assert (capture.status, attempt(capture).tries) == ("succeeded", 2)
    assert [t.error for t in attempt(capture).log.all()] == [
        "no outcome before the lease ended", ""]
    assert placed.reload().captured_amount == money("10.00")


def test_a_claimed_capture_is_not_run_by_a_second_worker(place, psp):
    # Given a planned capture that a worker has claimed and is still running
    placed = place()
    capture = planned(placed)
    assert not isinstance(attempts.attempt_claim(attempt_id=attempt(capture).pk), str)

    # When a second execution of the same capture arrives meanwhile
    outcome = payment_capture_execute(capture_id=capture.pk)

    # Then it does not call the PSP
    assert outcome == "skipped"
    assert psp.calls == []


def test_the_sweep_runs_a_capture_whose_task_was_lost(place, psp,
                                                      django_capture_on_commit_callbacks):
    # Given a planned capture whose task never ran (the on-commit kick was lost)
    placed = place()
    capture = planned(placed)
    assert psp.calls == []

    # When the sweep runs: not before the capture is due, then after
    early = payment_captures_requeue_due()
    with django_capture_on_commit_callbacks(execute=True):
        late = payment_captures_requeue_due(
            now=attempt(capture).next_attempt_at + timedelta(seconds=1))

    # Then it is queued once it is due and captured
    assert (early, late) == (0, 1)
    assert placed.reload().captured_amount == money("10.00")


def test_the_psps_event_for_our_capture_confirms_it_without_counting_twice(
        place, psp, psp_client, run_capture_handler):
    # Given a capture of 10.00 we made when a shipment left
    placed = place()
    run_capture_handler(shipped(placed.number, "10.00"))

    # When the PSP's webhook for that capture arrives
    response = psp_client.post(EVENTS, psp_event(placed, type="captured", amount="10.00"))

    # Then it confirms our capture: 10.00 captured, not 20.00
    assert response.status_code == 200, response.content
    assert response.json()["outcome"] == "capture_confirmed"
    payment = placed.reload()
    assert (payment.status, payment.captured_amount) == ("partially_captured", money("10.00"))
    assert payment.captures.get().confirmed_at is not None


def test_the_psps_event_arriving_before_our_call_returns_counts_the_capture_once(
        place, psp, psp_client, django_capture_on_commit_callbacks):
    # Given a planned capture whose PSP call is in flight (claimed, not yet recorded)
    placed = place()
    capture = planned(placed)
    claimed = attempts.attempt_claim(attempt_id=attempt(capture).pk)

    # When the PSP's webhook overtakes the answer to our call, and then the answer arrives
    response = psp_client.post(EVENTS, psp_event(placed, type="captured", amount="10.00"))
    result = psp.capture(psp_reference=placed.payment.psp_reference, amount=capture.amount,
                         currency="EUR", idempotency_key=capture.idempotency_key)
    outcome = attempts.attempt_record(claimed=claimed, duration_ms=5, outcome=Outcome.succeeded(
        result.http_status, reference=result.reference))

    # Then the money counts once, and the late answer is logged as an attempt only
    assert response.json()["outcome"] == "capture_confirmed"
    assert outcome == "skipped"
    payment = placed.reload()
    assert payment.captured_amount == money("10.00")
    assert AttemptTry.objects.filter(attempt=attempt(capture)).count() == 1


def test_a_shipment_in_another_currency_is_not_captured(place, psp, run_capture_handler):
    placed = place()
    run_capture_handler(shipped(placed.number, "10.00", currency="CHF"))
    assert psp.calls == []
    note = OrderEvent.objects.get(order__number=placed.number, type="payment.not_captured")
    assert "CHF" in note.data["reason"]


def test_a_shipment_of_an_unknown_order_is_logged_and_dropped(db, psp, run_capture_handler):
    run_capture_handler(shipped("9999999", "10.00"))
    assert psp.calls == []
    assert not PaymentCapture.objects.exists()


def test_an_adapter_that_raises_is_recorded_as_a_failed_attempt_not_a_stuck_capture(place, psp):
    # Given a planned capture and an adapter with a bug
    placed = place()
    capture = planned(placed)

    class Broken:
        def capture(self, **kwargs: object) -> PspResult:
            raise RuntimeError("boom")

    # When the capture runs
    outcome = payment_capture_execute(capture_id=capture.pk, provider=Broken())

    # Then the error is an attempt like any failure, and the capture will be tried again
    assert outcome == "pending"
    capture.refresh_from_db()
    assert (capture.status, attempt(capture).status, attempt(capture).last_error) == (
        "pending", "pending", "RuntimeError: boom")


def test_a_psp_capture_that_would_exceed_what_our_pending_capture_leaves_is_422(
        place, psp, psp_client):
    # Given a 20.00 payment with a 15.00 capture of ours planned, not yet executed
    placed = place()
    planned(placed, "15.00")

    # When the PSP reports a capture of 10.00 made elsewhere
    response = psp_client.post(EVENTS, psp_event(placed, type="captured", amount="10.00"))

    # Then it is refused: only 5.00 is open
    assert response.status_code == 422
    assert response.json()["errors"][0]["code"] == "amount_exceeds_open"
    assert placed.reload().captured_amount == money("0.00")
