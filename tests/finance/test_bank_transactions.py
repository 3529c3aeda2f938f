"""Incoming money (`POST /api/v1/bank-transactions`): matched to open items by the order number
in the purpose, partial payments allowed (oldest item first), overpayment the customer's
credit, unmatched transactions kept for matching by hand; booked Dr bank / Cr receivables."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest

from finance.models import BankTransaction, CustomerCredit, OpenItem, Settlement
from finance.services import bank_transaction_match
from ledger.models import JournalEntry
from oms.core.errors import InvalidTransition, Unprocessable
from oms.core.models import OutboxEvent
from tests.finance.conftest import BANK, balances, error_codes
from tests.finance.factories import BankTransactionBodyFactory, OpenItemFactory, an_item_due

pytestmark = pytest.mark.django_db
D = Decimal


def pay(client: Any, purpose: str, amount: str, **fields: Any) -> Any:
    return client.post(BANK, BankTransactionBodyFactory(purpose=purpose, amount=amount,
                                                        **fields))


def test_a_transfer_naming_the_order_pays_its_item(finance: Any) -> None:
    # Given an item of 119.00
    item = OpenItemFactory(amount=D("119.00"))
    number = item.order.number
    # When the bank reports 119.00 with the order number in the purpose
    response = pay(finance, f"Bestellung {number} Kim Schmidt", "119.00",
                   reference="CAMT-1", booked_at="2026-03-02")
    # Then it is matched and the item paid
    assert response.status_code == 201, response.content
    body = response.json()
    assert (body["reference"], body["amount"], body["currency"], body["booked_at"],
            body["status"], body["orders"], body["credit"]) == (
        "CAMT-1", "119.00", "EUR", "2026-03-02", "matched", [number], None)
    assert body["settlements"] == [{"open_item": item.pk, "order": number, "amount": "119.00"}]
    assert body["customer"] == str(item.customer.public_id)
    item.refresh_from_db()
    assert (item.paid, item.open_amount, item.status, item.next_dunning_at) == (
        D("119.00"), D("0.00"), "paid", None)
    # and booked on the bank's date: Dr bank / Cr receivables
    entry = JournalEntry.objects.get(source__startswith="bank:")
    assert (str(entry.booked_on), entry.reference) == ("2026-03-02", number)
    assert balances("bank:") == {"bank": D("119.00"), "receivables": D("-119.00")}


def test_a_partial_payment_pays_the_oldest_item_of_the_order_first(finance: Any) -> None:
    # Given an order shipped in two parcels: items of 60.00 and 40.00
    first = OpenItemFactory(amount=D("60.00"))
    second = OpenItemFactory(amount=D("40.00"), order=first.order)
    # When 70.00 comes in for the order
    response = pay(finance, f"RE {first.order.number}", "70.00")
    # Then the first is paid and the second partly
    assert response.status_code == 201, response.content
    first.refresh_from_db()
    second.refresh_from_db()
    assert (first.status, first.open_amount) == ("paid", D("0.00"))
    assert (second.status, second.paid, second.open_amount) == (
        "partially_paid", D("10.00"), D("30.00"))
    # and the rest arrives later
    pay(finance, f"RE {first.order.number}", "30.00")
    second.refresh_from_db()
    assert second.status == "paid"
    assert balances("bank:") == {"bank": D("100.00"), "receivables": D("-100.00")}


def test_an_overpayment_becomes_the_customers_credit(finance: Any) -> None:
    # Given an item of 50.00
    item = OpenItemFactory(amount=D("50.00"))
    # When 80.00 comes in for it
    response = pay(finance, item.order.number, "80.00")
    # Then the item is paid and 30.00 is the customer's credit
    assert response.status_code == 201, response.content
    item.refresh_from_db()
    assert item.status == "paid"
    credit = CustomerCredit.objects.get()
    assert (credit.customer, credit.amount, credit.remaining, credit.source) == (
        item.customer, D("30.00"), D("30.00"), "overpayment")
    assert response.json()["credit"] == {"id": credit.pk, "amount": "30.00",
                                         "remaining": "30.00", "currency": "EUR"}
    # and the whole amount is booked: the credit stands in receivables
    assert balances("bank:") == {"bank": D("80.00"), "receivables": D("-80.00")}


@pytest.mark.parametrize("purpose", [
    "Best.-Nr. {spaced}", "ORDER{number}", "RE {number} Kim", "Bestellung: {number}.",
    "{dashed} Rechnung vom 01.03.2026", "Kundennr 4711 Auftrag\n{number}\nDanke",
    "  re{number}  ", "{number}/{number}",
])
def test_the_order_number_is_found_however_it_is_written(finance: Any, purpose: str) -> None:
    item = OpenItemFactory(amount=D("10.00"))
    number = item.order.number
    text = purpose.format(number=number, spaced=f"{number[:4]} {number[4:]}",
                          dashed=f"{number[:4]}-{number[4:]}")
    response = pay(finance, text, "10.00")
    assert response.status_code == 201, response.content
    assert response.json()["orders"] == [number]
    assert response.json()["status"] == "matched"


def test_a_transfer_naming_two_orders_pays_both(finance: Any) -> None:
    first, second = OpenItemFactory(amount=D("10.00")), OpenItemFactory(amount=D("15.00"))
    response = pay(finance, f"{first.order.number}, {second.order.number}", "25.00")
    assert response.json()["orders"] == [first.order.number, second.order.number]
    assert set(OpenItem.objects.values_list("status", flat=True)) == {"paid"}


@pytest.mark.parametrize("purpose", ["Miete März", "Bestellung 12345678", "", "1000"])
def test_a_transfer_naming_no_order_with_money_owed_waits_unmatched(finance: Any,
                                                                    purpose: str) -> None:
    # Given an item owed
    item = OpenItemFactory(amount=D("10.00"))
    # When money comes in whose purpose names no such order
    response = pay(finance, purpose, "10.00")
    # Then it is kept, unmatched and unbooked, and the item still owed
    assert response.status_code == 201, response.content
    assert (response.json()["status"], response.json()["settlements"]) == ("unmatched", [])
    assert BankTransaction.objects.get().status == "unmatched"
    assert not JournalEntry.objects.filter(source__startswith="bank:").exists()
    item.refresh_from_db()
    assert item.open_amount == D("10.00")


def test_an_unmatched_transaction_is_matched_by_hand(finance: Any) -> None:
    # Given an unmatched transaction of 30.00 and an item of 25.00
    pay(finance, "Überweisung Kim", "30.00")
    txn = BankTransaction.objects.get()
    item = OpenItemFactory(amount=D("25.00"))
    # When finance matches them in the cockpit
    bank_transaction_match(transaction=txn, open_item=item, actor="anna@finance")
    # Then the item is paid, 5.00 is the customer's credit, and the money is booked
    txn.refresh_from_db()
    item.refresh_from_db()
    assert (txn.status, txn.matched_by, txn.customer) == ("matched", "anna@finance",
                                                          item.customer)
    assert item.status == "paid"
    assert CustomerCredit.objects.get().amount == D("5.00")
    assert balances("bank:") == {"bank": D("30.00"), "receivables": D("-30.00")}
    assert OutboxEvent.objects.filter(topic="bank_transaction.matched").count() == 1
    # and it cannot be matched a second time
    with pytest.raises(InvalidTransition):
        bank_transaction_match(transaction=txn, open_item=item, actor="anna@finance")


def test_matching_by_hand_to_a_paid_item_makes_all_of_it_a_credit(finance: Any) -> None:
    # Given an item paid already, and the same amount again unmatched (the customer paid twice)
    item = OpenItemFactory(amount=D("20.00"))
    pay(finance, item.order.number, "20.00")
    pay(finance, "Doppelt", "20.00")
    txn = BankTransaction.objects.get(status="unmatched")
    # When finance matches it to the paid item
    bank_transaction_match(transaction=txn, open_item=item, actor="anna@finance")
    # Then all of it is the customer's credit
    assert CustomerCredit.objects.get(bank_transaction=txn).amount == D("20.00")


def test_a_written_off_item_takes_no_money_by_hand(finance: Any) -> None:
    from finance.services import open_item_write_off

    item = open_item_write_off(item=an_item_due(40), reason="insolvent", actor="anna")
    pay(finance, "Zahlung", "10.00")
    with pytest.raises(Unprocessable):
        bank_transaction_match(transaction=BankTransaction.objects.get(), open_item=item,
                               actor="anna")


def test_the_same_transaction_again_answers_the_stored_one(finance: Any, erp: Any) -> None:
    item = OpenItemFactory(amount=D("50.00"))
    body = BankTransactionBodyFactory(purpose=f"RE {item.order.number}", amount="20.00")
    first = finance.post(BANK, body)
    # When the ERP sends it again (its purpose wrapped differently)
    again = erp.post(BANK, {**body, "purpose": f"RE\n{item.order.number} "})
    # Then the answer is the stored transaction, and nothing is paid twice
    assert (first.status_code, again.status_code) == (201, 200)
    assert again["Idempotent-Replayed"] == "true"
    assert again.json() == first.json()
    item.refresh_from_db()
    assert item.paid == D("20.00")
    assert Settlement.objects.count() == 1


@pytest.mark.parametrize("change", [{"amount": "20.01"}, {"booked_at": "2026-01-01"},
                                    {"purpose": "something else"}])
def test_the_same_reference_with_another_transaction_is_refused(finance: Any,
                                                                change: dict) -> None:
    item = OpenItemFactory(amount=D("50.00"))
    body = BankTransactionBodyFactory(purpose=f"RE {item.order.number}", amount="20.00",
                                      booked_at="2026-03-02")
    finance.post(BANK, body)
    response = finance.post(BANK, {**body, **change})
    assert response.status_code == 409
    assert error_codes(response) == ["reference_conflict"]
    assert response.json()["errors"][0]["attr"] == "reference"
    item.refresh_from_db()
    assert item.paid == D("20.00")


def world() -> tuple[Any, ...]:
    return (list(BankTransaction.objects.values_list("pk", "status")),
            list(OpenItem.objects.values_list("pk", "paid", "status")),
            Settlement.objects.count(), CustomerCredit.objects.count(),
            JournalEntry.objects.count(), OutboxEvent.objects.count())


@pytest.mark.parametrize(("change", "status", "attr", "code"), [
    ({"amount": "-10.00"}, 400, "amount", "min_value"),
    ({"amount": "0.00"}, 400, "amount", "min_value"),
    ({"amount": "10.001"}, 400, "amount", "max_decimal_places"),
    ({"amount": "ten"}, 400, "amount", "invalid"),
    ({"currency": "euro"}, 400, "currency", "invalid"),
    ({"currency": "USD"}, 422, "currency", "currency_not_supported"),
    ({"booked_at": "02.03.2026"}, 400, "booked_at", "invalid"),
    ({"booked_at": "2026-02-30"}, 400, "booked_at", "invalid"),
    ({"booked_at": "2026-03-02T10:00:00"}, 400, "booked_at", "invalid"),
    ({"booked_at": "2999-01-01"}, 400, "booked_at", "in_future"),
    ({"reference": ""}, 400, "reference", "blank"),
    ({"reference": "x" * 101}, 400, "reference", "max_length"),
    ({"purpose": "RE\x07 1"}, 400, "purpose", "invalid"),
    ({"purpose": None}, 400, "purpose", "null"),
    ({"iban": "DE02120300000000202051"}, 400, "iban", "unknown_field"),
])
def test_bad_input_is_refused_and_changes_nothing(finance: Any, change: dict, status: int,
                                                  attr: str, code: str) -> None:
    item = OpenItemFactory(amount=D("10.00"))
    before = world()
    response = finance.post(BANK, {**BankTransactionBodyFactory(
        purpose=item.order.number, amount="10.00"), **change})
    assert response.status_code == status, response.content
    assert response.json()["type"] in ("validation_error", "client_error")
    assert [(e["attr"], e["code"]) for e in response.json()["errors"]] == [(attr, code)]
    assert world() == before


@pytest.mark.parametrize("missing", ["reference", "amount", "currency", "booked_at", "purpose"])
def test_a_missing_field_is_named(finance: Any, missing: str) -> None:
    body = BankTransactionBodyFactory()
    del body[missing]
    before = world()
    response = finance.post(BANK, body)
    assert response.status_code == 400
    assert [(e["attr"], e["code"]) for e in response.json()["errors"]] == [(missing, "required")]
    assert world() == before


def test_a_timestamp_with_offset_is_taken_as_its_day_in_germany(finance: Any) -> None:
    response = pay(finance, "x", "1.00", booked_at="2026-03-01T23:30:00Z")
    assert response.status_code == 201, response.content
    assert response.json()["booked_at"] == "2026-03-02"
