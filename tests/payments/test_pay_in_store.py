"""Pay in store: fulfilment's handover records the money the till took with
`payment_collect_in_store`, inside its own transaction, without the PSP and at most once per
handover."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest
from django.db import transaction

from oms.core.errors import Conflict, InvalidInput, InvalidTransition, Unprocessable
from oms.core.models import OutboxEvent
from oms.orders.models import OrderEvent
from oms.orders.services import order_lock
from payments.models import Payment
from payments.services import payment_collect_in_store
from tests.payments.conftest import Placed, money

STAFF = "store:KS-CITY:anna"


def collect(placed: Placed, amount: str | Decimal, reference: str = "handover-1") -> Any:
    """What fulfilment's handover service does: lock the order, then record the payment."""
    with transaction.atomic():
        order = order_lock(order=placed.order)
        return payment_collect_in_store(order=order, amount=Decimal(amount), actor=STAFF,
                                        reference=reference)


def captured_events(payment: Payment) -> list[OutboxEvent]:
    return list(OutboxEvent.objects.filter(topic="payment.captured",
                                           aggregate_id=str(payment.pk)))


@pytest.fixture
def in_store(place: Any) -> Placed:
    """An order of 2 x A at 10.00 to be paid at the till when collected."""
    return place(method="pay_in_store", status="pending")


def test_paying_at_the_handover_captures_the_payment_without_the_psp(in_store, psp):
    # Given an order of 20.00 to be paid in store
    # When the customer pays 20.00 at the till as the goods are handed over
    payment = collect(in_store, "20.00")

    # Then the payment is captured for 20.00, recorded as paid at the till, and the PSP was
    # never asked
    assert payment is not None and payment.pk == in_store.payment.pk
    stored = in_store.reload()
    assert (stored.status, stored.captured_amount) == ("captured", money("20.00"))
    assert [(c.source, c.status, c.amount) for c in stored.captures.all()] == [
        ("store", "succeeded", money("20.00"))]
    assert psp.calls == []

    # And it is published and in the order's trail, by the member of staff
    [event] = captured_events(stored)
    assert (event.payload["status"], event.payload["captured_amount"]) == ("captured", "20.00")
    assert event.payload["detail"]["reference"] == "handover-1"
    note = OrderEvent.objects.get(order__number=in_store.number, type="payment.captured")
    assert (note.actor, note.data["to"]) == (STAFF, "captured")


def test_a_split_pickup_is_paid_at_each_handover(in_store, psp):
    # Given an order of 20.00 to be paid in store
    # When the customer collects and pays half, then comes back for the rest
    first = collect(in_store, "10.00", reference="handover-1").status
    second = collect(in_store, "10.00", reference="handover-2").status

    # Then the payment was partially captured, then captured
    assert (first, second) == ("partially_captured", "captured")
    assert in_store.reload().captured_amount == money("20.00")
    assert len(captured_events(in_store.payment)) == 2


def test_the_same_handover_recorded_twice_captures_once(in_store, psp):
    # Given a handover that was paid at the till
    collect(in_store, "20.00")

    # When the handover service records it again (a retried request)
    again = collect(in_store, "20.00")

    # Then the payment comes back as it is: captured once, published once
    assert (again.status, again.captured_amount) == ("captured", money("20.00"))
    assert in_store.payment.captures.count() == 1
    assert len(captured_events(in_store.payment)) == 1


def test_a_payment_captured_in_full_cannot_be_collected_again(in_store, psp):
    # Given an in-store payment that was paid in full
    collect(in_store, "20.00")

    # When a second handover tries to record more money
    with pytest.raises(InvalidTransition) as refused:
        collect(in_store, "5.00", reference="handover-2")

    # Then it is refused with the payment's status, and nothing was added
    assert "nothing is left to collect" in refused.value.detail
    assert in_store.reload().captured_amount == money("20.00")
    assert len(captured_events(in_store.payment)) == 1


def test_reusing_a_handover_reference_for_another_amount_is_a_conflict(in_store, psp):
    collect(in_store, "10.00")
    with pytest.raises(Conflict) as refused:
        collect(in_store, "5.00")
    assert refused.value.code == "reference_reused"
    assert in_store.reload().captured_amount == money("10.00")


@pytest.mark.parametrize(("amount", "error", "code"), [
    ("0.00", InvalidInput, "min_value"),
    ("-5.00", InvalidInput, "min_value"),
    ("1.005", InvalidInput, "max_decimal_places"),
    ("20.01", Unprocessable, "amount_exceeds_open"),
])
def test_a_bad_amount_is_refused_and_changes_nothing(in_store, psp, amount, error, code):
    # Given an order of 20.00 to be paid in store
    # When the handover records an amount that is not positive, has sub-cent digits or is more
    # than the payment
    with pytest.raises(error) as refused:
        collect(in_store, amount)

    # Then it is refused with a clear code on the amount, and the payment is as it was
    assert (refused.value.code, refused.value.attr) == (code, "amount")
    payment = in_store.reload()
    assert (payment.status, payment.captured_amount) == ("pending", money("0.00"))
    assert not payment.captures.exists()
    assert captured_events(payment) == []


def test_more_than_is_left_after_a_first_handover_is_refused(in_store, psp):
    collect(in_store, "15.00")
    with pytest.raises(Unprocessable) as refused:
        collect(in_store, "10.00", reference="handover-2")
    assert "5.00" in refused.value.detail
    assert in_store.reload().captured_amount == money("15.00")


@pytest.mark.parametrize("amount", ["20.00", "0.00"])
def test_an_order_paid_online_has_nothing_to_collect_in_store(place, psp, amount):
    # Given an order paid by an authorized card
    placed = place()

    # When the handover asks to record a payment at the till (whatever the amount: nothing
    # is checked for an order that does not pay in store)
    result = collect(placed, amount)

    # Then there is none, and the card payment is left alone
    assert result is None
    payment = placed.reload()
    assert (payment.status, payment.captured_amount) == ("authorized", money("0.00"))
    assert psp.calls == []


def test_an_error_inside_the_handover_rolls_the_payment_back_with_it(in_store, psp):
    # Given a handover whose own work fails after the payment was recorded
    with pytest.raises(RuntimeError), transaction.atomic():
        order = order_lock(order=in_store.order)
        payment_collect_in_store(order=order, amount=money("20.00"), actor=STAFF,
                                 reference="handover-1")
        raise RuntimeError("the label printer is on fire")

    # Then the payment was not captured either: it commits with the handover or not at all
    payment = in_store.reload()
    assert (payment.status, payment.captured_amount) == ("pending", money("0.00"))
    assert captured_events(payment) == []
