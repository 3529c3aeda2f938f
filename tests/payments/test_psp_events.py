"""POST /api/v1/payments/events: what each PSP event does to the payment and its order, once."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from oms.core.models import OutboxEvent
from oms.orders.models import OrderEvent
from payments.models import Payment, PaymentCapture, PspEvent
from tests.conftest import error_codes
from tests.payments.conftest import EVENTS, money, psp_event


def topics_of(payment: Payment) -> list[str]:
    return list(OutboxEvent.objects.filter(aggregate_type="payment", aggregate_id=str(payment.pk))
                .order_by("created_at").values_list("topic", flat=True))


def trail(number: str) -> list[str]:
    return list(OrderEvent.objects.filter(order__number=number).values_list("type", flat=True))


# --- Each event type -------------------------------------------------------------------------


def test_an_authorization_of_a_pending_payment_releases_the_order_from_hold(place, psp_client):
    # Given an order whose card payment was still pending at checkout, so it is on hold
    placed = place(status="pending")
    assert placed.order.status == "on_hold"

    # When the PSP reports the authorization of the whole amount
    response = psp_client.post(EVENTS, psp_event(placed, type="authorized", amount="20.00"))

    # Then the payment is authorized, the order confirmed, and both are in the answer
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["outcome"] == "applied"
    assert body["payment"]["status"] == "authorized"
    assert body["order"] == {"number": placed.number, "status": "confirmed"}
    assert placed.reload().status == "authorized"
    assert placed.order.status == "confirmed"
    assert "payment.authorized" in topics_of(placed.payment)
    assert trail(placed.number)[-2:] == ["payment.authorized", "order.confirmed"]


def test_a_failure_fails_the_payment_and_puts_a_confirmed_order_on_hold(place, psp_client):
    # Given a confirmed order paid by an authorized card
    placed = place()
    assert placed.order.status == "confirmed"

    # When the PSP reports that the payment failed
    response = psp_client.post(EVENTS, psp_event(placed, type="failed"))

    # Then the payment failed and the order is on hold, with the reason in its trail
    assert response.status_code == 200, response.content
    assert response.json()["payment"]["status"] == "failed"
    assert response.json()["order"]["status"] == "on_hold"
    assert placed.reload().status == "failed"
    order = placed.order
    assert order.status == "on_hold"
    hold = order.events.get(type="order.on_hold")
    assert "failed" in hold.data["reason"]
    assert hold.actor == psp_client.api_client.name
    assert "payment.failed" in topics_of(placed.payment)
    assert OutboxEvent.objects.filter(topic="order.on_hold", aggregate_id=placed.number).exists()


def test_a_later_authorization_of_a_failed_payment_releases_the_hold(place, psp_client):
    # Given a payment that failed, holding its order
    placed = place()
    psp_client.post(EVENTS, psp_event(placed, type="failed"))
    assert placed.order.status == "on_hold"

    # When the customer pays again and the PSP reports the new authorization
    response = psp_client.post(EVENTS, psp_event(placed, type="authorized"))

    # Then the payment is authorized and the order confirmed again
    assert response.status_code == 200, response.content
    assert placed.reload().status == "authorized"
    assert placed.order.status == "confirmed"
    assert trail(placed.number)[-4:] == ["payment.failed", "order.on_hold",
                                         "payment.authorized", "order.confirmed"]


def test_captures_made_at_the_psp_count_up_to_the_whole_amount(place, psp_client):
    # Given an authorized card payment of 20.00
    placed = place()

    # When the PSP reports a capture of 5.00, then one of the remaining 15.00
    first = psp_client.post(EVENTS, psp_event(placed, type="captured", amount="5.00"))
    partly = placed.reload().status, placed.payment.captured_amount
    second = psp_client.post(EVENTS, psp_event(placed, type="captured", amount="15.00"))

    # Then the payment is partially captured, then captured, each capture a row of its own
    assert (first.status_code, second.status_code) == (200, 200)
    assert partly == ("partially_captured", money("5.00"))
    payment = placed.reload()
    assert (payment.status, payment.captured_amount) == ("captured", money("20.00"))
    assert [(c.amount, c.source, c.status) for c in payment.captures.all()] == [
        (money("5.00"), "psp", "succeeded"), (money("15.00"), "psp", "succeeded")]
    assert topics_of(payment).count("payment.captured") == 2


def test_a_capture_of_a_pending_payment_releases_the_hold(place, psp_client):
    # Given an order on hold because its PayPal payment is pending
    placed = place(method="paypal", status="pending")

    # When the PSP reports the whole amount captured
    response = psp_client.post(EVENTS, psp_event(placed, type="captured", amount="20.00"))

    # Then the payment is captured and the order confirmed
    assert response.status_code == 200, response.content
    assert placed.reload().status == "captured"
    assert placed.order.status == "confirmed"


def test_the_psps_capture_event_for_a_payment_captured_at_checkout_does_not_count_twice(
        place, psp_client):
    # Given a PayPal payment the webshop reported as captured at checkout
    placed = place(method="paypal", status="captured")
    assert placed.payment.captured_amount == money("20.00")

    # When the PSP's own event for that capture arrives
    response = psp_client.post(EVENTS, psp_event(placed, type="captured", amount="20.00"))

    # Then it confirms the capture from checkout: still 20.00 captured, one capture row
    assert response.status_code == 200, response.content
    assert response.json()["outcome"] == "capture_confirmed"
    payment = placed.reload()
    assert (payment.status, payment.captured_amount) == ("captured", money("20.00"))
    capture = payment.captures.get()
    assert capture.source == "intake"
    assert capture.confirmed_at is not None


def test_refunds_return_captured_money_until_all_of_it_is_back(place, psp_client):
    # Given a card payment of 20.00, captured in full
    placed = place(status="captured")

    # When the PSP reports a refund of 5.00, then one of the other 15.00
    first = psp_client.post(EVENTS, psp_event(placed, type="refunded", amount="5.00"))
    partly = placed.reload().status, placed.payment.refunded_amount
    second = psp_client.post(EVENTS, psp_event(placed, type="refunded", amount="15.00"))

    # Then the payment is partially refunded, then refunded; the order is untouched
    assert (first.status_code, second.status_code) == (200, 200)
    assert partly == ("partially_refunded", money("5.00"))
    payment = placed.reload()
    assert (payment.status, payment.refunded_amount) == ("refunded", money("20.00"))
    assert placed.order.status == "confirmed"
    assert topics_of(payment).count("payment.refunded") == 2


def test_a_chargeback_marks_a_captured_payment_charged_back(place, psp_client):
    # Given a captured card payment
    placed = place(status="captured")

    # When the customer's bank takes the money back
    response = psp_client.post(EVENTS, psp_event(placed, type="chargeback", amount="20.00"))

    # Then the payment is a chargeback, published for finance
    assert response.status_code == 200, response.content
    assert placed.reload().status == "chargeback"
    assert "payment.chargeback" in topics_of(placed.payment)
    assert "payment.chargeback" in trail(placed.number)


def test_an_authorization_the_payment_already_has_changes_nothing(place, psp_client):
    # Given a payment the webshop reported as authorized at checkout
    placed = place()
    before = trail(placed.number)

    # When the PSP's webhook for that authorization arrives
    response = psp_client.post(EVENTS, psp_event(placed, type="authorized"))

    # Then it is acknowledged as nothing new
    assert response.status_code == 200, response.content
    assert response.json()["outcome"] == "unchanged"
    assert placed.reload().status == "authorized"
    assert trail(placed.number) == before
    assert "payment.authorized" not in topics_of(placed.payment)


def test_a_failure_older_than_the_authorization_is_acknowledged_and_ignored(place, psp_client):
    # Given a payment failed at 10:00 and authorized at 10:05 (the customer tried again)
    placed = place(status="pending")
    psp_client.post(EVENTS, psp_event(placed, type="authorized",
                                      at="2031-05-04T10:05:00+02:00"))

    # When the failure of the first attempt arrives late
    response = psp_client.post(EVENTS, psp_event(placed, type="failed",
                                                 at="2031-05-04T10:00:00+02:00"))

    # Then it is acknowledged but changes nothing: the order is not put on hold
    assert response.status_code == 200, response.content
    assert response.json()["outcome"] == "ignored_out_of_order"
    assert placed.reload().status == "authorized"
    assert placed.order.status == "confirmed"


def test_a_failure_of_an_attempt_before_checkout_does_not_hold_the_order(place, psp_client):
    # Given an order placed just now with an authorized card
    placed = place()

    # When a failure from an hour before checkout arrives (a first attempt)
    at = (placed.payment.created_at - timedelta(hours=1)).isoformat()
    response = psp_client.post(EVENTS, psp_event(placed, type="failed", at=at))

    # Then it is ignored
    assert response.json()["outcome"] == "ignored_out_of_order"
    assert placed.order.status == "confirmed"


# --- Delivered twice -------------------------------------------------------------------------


def test_the_same_event_delivered_twice_is_applied_once_and_answered_alike(place, psp_client):
    # Given a partially captured payment
    placed = place()
    event = psp_event(placed, type="captured", amount="5.00")

    # When the PSP delivers the same capture event twice (PSPs retry without any key)
    first = psp_client.post(EVENTS, event)
    second = psp_client.post(EVENTS, event)

    # Then 5.00 is captured once and the second answer repeats the first
    assert (first.status_code, second.status_code) == (200, 200)
    assert second.json() == first.json()
    assert second["Idempotent-Replayed"] == "true"
    assert not first.has_header("Idempotent-Replayed")
    assert placed.reload().captured_amount == money("5.00")
    assert PspEvent.objects.filter(payment=placed.payment).count() == 1
    assert PaymentCapture.objects.filter(payment=placed.payment).count() == 1
    assert topics_of(placed.payment).count("payment.captured") == 1


def test_a_redelivery_with_the_time_in_another_offset_is_the_same_event(place, psp_client):
    # Given a capture event at 10:00 in Berlin
    placed = place()
    psp_client.post(EVENTS, psp_event(placed, type="captured", amount="5.00",
                                      at="2031-05-04T10:00:00+02:00"))

    # When it is delivered again with the same instant in UTC and the amount as "5.0"
    again = psp_client.post(EVENTS, psp_event(placed, type="captured", amount="5.0",
                                              at="2031-05-04T08:00:00Z"))

    # Then it is recognised as the same event
    assert again["Idempotent-Replayed"] == "true"
    assert placed.reload().captured_amount == money("5.00")


def test_a_redelivery_with_an_idempotency_key_is_replayed_by_the_key(place, psp_client):
    # Given a failure event sent with an Idempotency-Key
    placed = place()
    event = psp_event(placed, type="failed")
    first = psp_client.post(EVENTS, event, headers={"Idempotency-Key": "evt-1"})

    # When it is sent again with the key, and the key is reused for another body
    again = psp_client.post(EVENTS, event, headers={"Idempotency-Key": "evt-1"})
    reused = psp_client.post(EVENTS, psp_event(placed, type="authorized"),
                             headers={"Idempotency-Key": "evt-1"})

    # Then the redelivery gets the stored answer, the reuse 422, and it all happened once
    assert first.status_code == 200, first.content
    assert (again.status_code, again["Idempotent-Replayed"]) == (200, "true")
    assert again.json() == first.json()
    assert reused.status_code == 422
    assert error_codes(reused) == ["idempotency_key_reused"]
    assert placed.reload().status == "failed"
    assert trail(placed.number).count("order.on_hold") == 1


# --- Refusals ----------------------------------------------------------------------------------


def test_an_unknown_psp_reference_is_404(place, psp_client):
    place()
    response = psp_client.post(EVENTS, {"psp_reference": "nobody", "type": "authorized",
                                        "amount": "20.00", "currency": "EUR",
                                        "at": "2031-05-04T10:00:00Z"})
    assert response.status_code == 404
    assert error_codes(response) == ["unknown_psp_reference"]
    assert not PspEvent.objects.exists()


@pytest.mark.parametrize("kind", ["webshop", "pos", "wms", "erp", "finance", "staff"])
def test_only_the_psp_may_report_payment_events(place, api, kind):
    # Given an authorized payment
    placed = place()
    # When a client of another kind reports it failed
    response = api(kind).post(EVENTS, psp_event(placed, type="failed"))
    # Then it is refused and the payment is untouched
    assert response.status_code == 403
    assert error_codes(response) == ["permission_denied"]
    assert placed.reload().status == "authorized"


def test_without_a_token_it_is_401(client, db):
    response = client.post(EVENTS, {}, content_type="application/json")
    assert response.status_code == 401


@pytest.mark.parametrize(("change", "attr"), [
    ({"amount": "-1.00"}, "amount"),
    ({"amount": "abc"}, "amount"),
    ({"amount": "1.005"}, "amount"),
    ({"amount": 12345678901234}, "amount"),
    ({"type": "captured", "amount": "0.00"}, "amount"),
    ({"type": "settled"}, "type"),
    ({"currency": "eur"}, "currency"),
    ({"at": "yesterday"}, "at"),
    ({"at": "2031-05-04T10:00:00"}, "at"),
    ({"psp_reference": ""}, "psp_reference"),
    ({"psp_reference": None}, "psp_reference"),
])
def test_a_malformed_event_is_400_naming_the_field_and_changes_nothing(
        place, psp_client, change, attr):
    # Given an authorized payment
    placed = place()
    body = psp_event(placed, type="failed")
    body.update(change)
    # When the PSP sends a malformed event
    response = psp_client.post(EVENTS, body)
    # Then it is a 400 naming the field, and nothing changed
    assert response.status_code == 400, response.content
    assert response.json()["type"] == "validation_error"
    assert attr in [e["attr"] for e in response.json()["errors"]]
    assert placed.reload().status == "authorized"
    assert not PspEvent.objects.exists()


@pytest.mark.parametrize("missing", ["psp_reference", "type", "amount", "currency", "at"])
def test_every_field_is_required(place, psp_client, missing):
    placed = place()
    body = psp_event(placed)
    del body[missing]
    response = psp_client.post(EVENTS, body)
    assert response.status_code == 400
    assert [e["attr"] for e in response.json()["errors"]] == [missing]


def test_malformed_json_is_400(db, psp_client):
    response = psp_client.post(EVENTS, raw="{not json")
    assert response.status_code == 400
    assert error_codes(response) == ["parse_error"]


def test_another_currency_than_the_payments_is_422_and_changes_nothing(place, psp_client):
    placed = place()
    response = psp_client.post(EVENTS, psp_event(placed, type="failed", currency="USD"))
    assert response.status_code == 422
    assert error_codes(response) == ["currency_mismatch"]
    assert placed.reload().status == "authorized"
    assert placed.order.status == "confirmed"


@pytest.mark.parametrize(("status", "event"), [
    ("authorized", {"type": "refunded", "amount": "5.00"}),
    ("authorized", {"type": "chargeback", "amount": "5.00"}),
    ("captured", {"type": "authorized", "amount": "20.00"}),
    ("captured", {"type": "failed", "amount": "20.00"}),
    ("pending", {"type": "refunded", "amount": "5.00"}),
])
def test_an_event_the_payments_status_does_not_allow_is_409(place, psp_client, status, event):
    # Given a payment in `status`
    placed = place(status=status)
    before = placed.order.status
    # When the PSP reports something that cannot follow it
    response = psp_client.post(EVENTS, psp_event(placed, **event))
    # Then it is 409 invalid_transition and nothing changed
    assert response.status_code == 409, response.content
    assert error_codes(response) == ["invalid_transition"]
    assert placed.reload().status == status
    assert placed.order.status == before
    assert not PspEvent.objects.exists()


@pytest.mark.parametrize(("status", "event", "code"), [
    ("pending", {"type": "authorized", "amount": "19.00"}, "amount_mismatch"),
    ("authorized", {"type": "captured", "amount": "20.01"}, "amount_exceeds_open"),
    ("captured", {"type": "refunded", "amount": "20.01"}, "amount_exceeds_captured"),
    ("captured", {"type": "chargeback", "amount": "25.00"}, "amount_exceeds_captured"),
])
def test_an_amount_the_payment_cannot_hold_is_422(place, psp_client, status, event, code):
    placed = place(status=status)
    response = psp_client.post(EVENTS, psp_event(placed, **event))
    assert response.status_code == 422, response.content
    assert error_codes(response) == [code]
    payment = placed.reload()
    assert (payment.status, payment.refunded_amount) == (status, money("0.00"))
    assert not PspEvent.objects.exists()


def test_the_order_trail_shows_the_payment_change_with_the_psp_event(place, psp_client, shop):
    # Given a failed payment
    placed = place()
    psp_client.post(EVENTS, psp_event(placed, type="failed", at="2031-05-04T10:00:00+02:00"))
    # When the webshop reads the order's audit trail
    events = shop.get(f"/api/v1/orders/{placed.number}/events").json()
    # Then the failure is there, with who reported it and the PSP's event
    entry = next(e for e in events["results"] if e["type"] == "payment.failed")
    assert entry["actor"] == psp_client.api_client.name
    assert entry["data"]["from"] == "authorized"
    assert entry["data"]["to"] == "failed"
    assert datetime.fromisoformat(entry["data"]["psp_event"]["at"]) == datetime(
        2031, 5, 4, 8, 0, tzinfo=UTC)
