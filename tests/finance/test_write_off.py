"""Writing off what a customer will not pay: booked as a bad debt with the VAT corrected
(Dr write-offs net + Dr VAT per rate / Cr receivables; dunning fees carry no VAT), the item
`written_off` and out of dunning. Disputes pause an item and are resolved."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest

from finance.models import OpenItem
from finance.services import open_item_dispute, open_item_undispute, open_item_write_off
from ledger.models import JournalEntry
from oms.core.errors import InvalidTransition
from oms.core.models import OutboxEvent
from tests.factories import an_order
from tests.finance.conftest import BANK, balances
from tests.finance.factories import BankTransactionBodyFactory, OpenItemFactory, an_item_due

pytestmark = pytest.mark.django_db
D = Decimal


def an_item_of_two_rates() -> OpenItem:
    """An item of 226.00: a jacket at 119.00 (19 % VAT) and a book at 107.00 (7 %)."""
    order = an_order([("JACKET", "Jacke", 1, "119.00"), ("BOOK", "Buch", 1, "107.00")])
    order.lines.filter(product_id="BOOK").update(tax_rate=D("7.00"))
    return OpenItemFactory(order=order, amount=D("226.00"))


def test_a_write_off_corrects_the_vat_per_rate() -> None:
    # Given an item of goods at 19 % and 7 %
    item = an_item_of_two_rates()
    # When finance writes it off
    open_item_write_off(item=item, reason="Kunde insolvent", actor="anna")
    # Then it is booked as a bad debt, net, with the VAT of each rate corrected
    assert balances("write-off:") == {"receivables": D("-226.00"), "write_offs": D("200.00"),
                                      "vat:19": D("19.00"), "vat:7": D("7.00")}
    entry = JournalEntry.objects.get(source=f"write-off:{item.pk}")
    assert (entry.reference, entry.text) == (item.order.number,
                                             f"Forderungsverlust {item.order.number}")
    # and the item is settled as written off, out of dunning
    item.refresh_from_db()
    assert (item.status, item.written_off, item.open_amount, item.next_dunning_at,
            item.note) == ("written_off", D("226.00"), D("0.00"), None, "Kunde insolvent")
    assert OutboxEvent.objects.filter(topic="open_item.written_off").count() == 1


def test_only_what_is_still_owed_is_written_off_and_fees_carry_no_vat(finance: Any) -> None:
    # Given an item of 119.00 with 2.50 dunning fees, of which 52.50 was paid (fees first)
    item = an_item_due(20)
    OpenItem.objects.filter(pk=item.pk).update(fees=D("2.50"))
    finance.post(BANK, BankTransactionBodyFactory(purpose=item.order.number, amount="52.50"))
    # When the rest is written off
    open_item_write_off(item=item, reason="uneinbringlich", actor="anna")
    # Then 69.00 of goods is written off with its VAT corrected
    assert balances("write-off:") == {"receivables": D("-69.00"), "write_offs": D("57.98"),
                                      "vat:19": D("11.02")}


def test_unpaid_fees_are_written_off_without_vat() -> None:
    item = an_item_due(20)
    OpenItem.objects.filter(pk=item.pk).update(fees=D("7.50"))
    open_item_write_off(item=item, reason="uneinbringlich", actor="anna")
    assert balances("write-off:") == {"receivables": D("-126.50"), "write_offs": D("107.50"),
                                      "vat:19": D("19.00")}


def test_a_paid_item_cannot_be_written_off_or_disputed(finance: Any) -> None:
    item = OpenItemFactory(amount=D("10.00"))
    finance.post(BANK, BankTransactionBodyFactory(purpose=item.order.number, amount="10.00"))
    for change in (lambda: open_item_write_off(item=item, reason="x", actor="anna"),
                   lambda: open_item_dispute(item=item, reason="x", actor="anna")):
        with pytest.raises(InvalidTransition):
            change()
    assert not JournalEntry.objects.filter(source__startswith="write-off:").exists()


def test_a_disputed_item_may_be_written_off() -> None:
    item = an_item_due(5)
    open_item_dispute(item=item, reason="Reklamation", actor="anna")
    open_item_write_off(item=item, reason="Kulanz", actor="anna")
    item.refresh_from_db()
    assert item.status == "written_off"


@pytest.mark.parametrize(("days_overdue", "paid", "after"), [
    (-3, "0.00", "open"), (-3, "10.00", "partially_paid"), (3, "10.00", "overdue")])
def test_an_undisputed_item_is_what_its_amounts_and_due_date_say(
        finance: Any, days_overdue: int, paid: str, after: str) -> None:
    item = an_item_due(days_overdue)
    if paid != "0.00":
        finance.post(BANK, BankTransactionBodyFactory(purpose=item.order.number, amount=paid))
    open_item_dispute(item=item, reason="Reklamation", actor="anna")
    undisputed = open_item_undispute(item=item, actor="anna")
    assert undisputed.status == after
    assert undisputed.next_dunning_at is not None


def test_money_for_a_disputed_item_counts(finance: Any) -> None:
    item = an_item_due(5)
    open_item_dispute(item=item, reason="Reklamation", actor="anna")
    finance.post(BANK, BankTransactionBodyFactory(purpose=item.order.number, amount="19.00"))
    item.refresh_from_db()
    assert (item.status, item.open_amount) == ("disputed", D("100.00"))
    finance.post(BANK, BankTransactionBodyFactory(purpose=item.order.number, amount="100.00"))
    item.refresh_from_db()
    assert item.status == "paid"
