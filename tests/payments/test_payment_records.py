"""The payment record itself: what intake writes, the invariants the database keeps, the
transition table, the cockpit pages, and PSP events racing each other."""

from __future__ import annotations

import json

import pytest
from django.contrib.auth.models import User
from django.db import IntegrityError, transaction
from django.db.models import F
from django.test import Client
from django_fsm import TransitionNotAllowed

from payments.models import Payment, PaymentCapture, PspEvent
from payments.services import payment_give_back
from tests.payments.conftest import EVENTS, money, psp_event


def test_a_payment_captured_at_checkout_is_recorded_with_its_capture(place):
    # When the webshop places an order paid by PayPal, captured at checkout
    placed = place(method="paypal", status="captured")
    # Then the whole amount is captured, as one capture row from intake
    payment = placed.payment
    assert (payment.captured_amount, payment.refunded_amount) == (money("20.00"), money("0.00"))
    assert payment.status_at == payment.created_at
    assert [(c.source, c.status, c.amount) for c in payment.captures.all()] == [
        ("intake", "succeeded", money("20.00"))]


def test_a_pending_payment_has_no_status_time_so_no_event_is_out_of_order(place):
    placed = place(status="pending")
    assert placed.payment.status_at is None
    assert placed.payment.captured_amount == money("0.00")


@pytest.mark.parametrize(("update", "constraint"), [
    ({"captured_amount": F("amount") + 1}, "payment_captured_within_amount"),
    ({"captured_amount": -1}, "payment_captured_within_amount"),
    ({"refunded_amount": 1}, "payment_refunded_within_captured"),
    ({"voided_amount": F("amount") + 1}, "payment_voided_within_uncaptured"),
    ({"voided_amount": -1}, "payment_voided_within_uncaptured"),
])
def test_the_database_keeps_refunded_within_captured_and_captured_plus_voided_within_amount(
        place, update, constraint):
    placed = place()
    with pytest.raises(IntegrityError, match=constraint), transaction.atomic():
        Payment.objects.filter(pk=placed.payment.pk).update(**update)


def test_a_capture_key_is_used_once_per_payment(place):
    placed = place(method="paypal", status="captured")
    capture = placed.payment.captures.get()
    with pytest.raises(IntegrityError), transaction.atomic():
        PaymentCapture.objects.create(
            payment=placed.payment, idempotency_key=capture.idempotency_key, source="psp",
            amount=1, currency="EUR", created_at=capture.created_at,
            updated_at=capture.created_at)


def test_the_status_field_is_changed_only_by_transitions(place):
    placed = place()
    payment = placed.payment
    with pytest.raises(AttributeError):
        payment.status = "captured"
    with pytest.raises(TransitionNotAllowed):
        payment.refund_partially()


# --- The cockpit --------------------------------------------------------------------------------


@pytest.fixture
def staff_browser(db):
    client = Client()
    client.force_login(User.objects.create_superuser("anna", "anna@example.de", "pw"))
    return client


def test_the_payment_page_shows_its_captures_and_psp_events(place, psp_client, staff_browser):
    # Given a payment with a capture from checkout and a PSP event
    placed = place(method="paypal", status="captured")
    psp_client.post(EVENTS, psp_event(placed, type="refunded", amount="5.00"))

    # When staff open the payment
    page = staff_browser.get(f"/admin/payments/payment/{placed.payment.pk}/change/")

    # Then they see both, read-only
    assert page.status_code == 200
    html = page.content.decode()
    for expected in ("Captures", "Captured when the order was placed", "PSP events",
                     "Refunded", "5.00",
                     psp_client.api_client.name):
        assert expected in html, expected
    assert 'name="_save"' not in html


def test_the_capture_list_and_page_open(place, staff_browser):
    placed = place(method="paypal", status="captured")
    capture = placed.payment.captures.get()
    assert staff_browser.get("/admin/payments/paymentcapture/").status_code == 200
    page = staff_browser.get(f"/admin/payments/paymentcapture/{capture.pk}/change/")
    assert page.status_code == 200
    assert "psp calls" in page.content.decode().lower()


# --- Races ----------------------------------------------------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_the_same_event_delivered_eight_times_at_once_is_applied_once(
        place, psp_client, run_concurrently):
    # Given an authorized payment and one capture event
    placed = place()
    body = json.dumps(psp_event(placed, type="captured", amount="5.00"))

    # When the PSP delivers it 8 times at the same moment
    def deliver(_: int) -> tuple[int, str]:
        client = Client(HTTP_AUTHORIZATION=f"Bearer {psp_client.api_client.token}")
        response = client.post(EVENTS, data=body, content_type="application/json")
        return response.status_code, response.content.decode()

    results = run_concurrently(8, deliver)

    # Then every delivery is answered 200 with the same body, and 5.00 was captured once
    assert {status for status, _ in results} == {200}
    assert len({json.loads(content)["id"] for _, content in results}) == 1
    assert placed.reload().captured_amount == money("5.00")
    assert PspEvent.objects.count() == 1


def test_the_payment_page_shows_the_refunds_and_voids_we_made(place, psp, staff_browser):
    # Given a card payment released at the PSP because its pickup expired
    placed = place()
    payment_give_back(event_id="evt-expired-1", order_number=placed.number,
                      amount=money("20.00"), currency="EUR", context={"location": "KS-CITY"})

    # When staff open the payment
    page = staff_browser.get(f"/admin/payments/payment/{placed.payment.pk}/change/")

    # Then the release is listed with its amount and the PSP's reference
    assert page.status_code == 200
    html = page.content.decode()
    for expected in ("Refunds and voids", "Release of an authorization", "void_", "KS-CITY",
                     "Voided"):
        assert expected in html, expected
