"""Finance in the back office: money is read-only, changes are actions calling the services
(match a bank transaction by hand, dispute, resolve, write off), each asking for what it needs
(the open item, a reason) on a page of its own first."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest

from finance.models import BankTransaction, CustomerCredit, OpenItem
from tests.finance.conftest import BANK, balances
from tests.finance.factories import BankTransactionBodyFactory, OpenItemFactory, an_item_due

pytestmark = pytest.mark.django_db
D = Decimal
ITEMS = "/admin/finance/openitem/"
TRANSACTIONS = "/admin/finance/banktransaction/"


def test_the_pages_show_items_transactions_and_configuration(admin_client: Any,
                                                             finance: Any) -> None:
    item = OpenItemFactory()
    finance.post(BANK, BankTransactionBodyFactory(purpose=item.order.number, amount="19.00"))
    for page in (ITEMS, f"{ITEMS}{item.pk}/change/", TRANSACTIONS,
                 f"{TRANSACTIONS}{BankTransaction.objects.get().pk}/change/",
                 "/admin/finance/customercredit/", "/admin/finance/dunningnotice/",
                 "/admin/finance/paymentterms/", "/admin/finance/dunninglevel/",
                 f"{ITEMS}?status__exact=partially_paid"):
        response = admin_client.get(page)
        assert response.status_code == 200, page
    assert item.order.number in admin_client.get(ITEMS).content.decode()


def test_finance_matches_an_unmatched_transaction_by_hand(admin_client: Any,
                                                          finance: Any) -> None:
    # Given an unmatched transaction of 30.00 and an item of 25.00
    finance.post(BANK, BankTransactionBodyFactory(purpose="Kim Schmidt", amount="30.00"))
    txn = BankTransaction.objects.get()
    item = OpenItemFactory(amount=D("25.00"))
    # When staff choose the match action, the page asks for the open item
    chosen = {"action": "match", "_selected_action": [txn.pk]}
    asked = admin_client.post(TRANSACTIONS, chosen)
    assert asked.status_code == 200
    assert 'name="open_item"' in asked.content.decode()
    # and with it given, the transaction is matched
    done = admin_client.post(TRANSACTIONS, {**chosen, "apply": "1", "open_item": item.pk})
    assert done.status_code == 302
    txn.refresh_from_db()
    item.refresh_from_db()
    assert (txn.status, item.status) == ("matched", "paid")
    assert CustomerCredit.objects.get().amount == D("5.00")
    assert balances("bank:") == {"bank": D("30.00"), "receivables": D("-30.00")}


def test_dispute_resolve_and_write_off_from_the_list(admin_client: Any) -> None:
    item = an_item_due(10)
    selected = {"_selected_action": [item.pk]}
    # a dispute needs a reason
    asked = admin_client.post(ITEMS, {**selected, "action": "dispute", "apply": "1"})
    assert asked.status_code == 200 and OpenItem.objects.get().status == "open"
    admin_client.post(ITEMS, {**selected, "action": "dispute", "apply": "1",
                              "reason": "Ware beschädigt"})
    assert OpenItem.objects.get().status == "disputed"
    admin_client.post(ITEMS, {**selected, "action": "undispute"})
    assert OpenItem.objects.get().status == "overdue"
    admin_client.post(ITEMS, {**selected, "action": "write_off", "apply": "1",
                              "reason": "Kunde unbekannt verzogen"})
    assert OpenItem.objects.get().status == "written_off"
    assert balances("write-off:")["receivables"] == D("-119.00")
    # and a refused step says so and changes nothing
    response = admin_client.post(ITEMS, {**selected, "action": "undispute"}, follow=True)
    assert "not possible now" in response.content.decode()
    assert OpenItem.objects.get().status == "written_off"


def test_money_fields_cannot_be_edited(admin_client: Any) -> None:
    item = OpenItemFactory()
    response = admin_client.post(f"{ITEMS}{item.pk}/change/", {"amount": "1.00"})
    item.refresh_from_db()
    assert item.amount == D("119.00")
    assert response.status_code in (200, 302, 403)
    assert admin_client.get("/admin/finance/openitem/add/").status_code == 403
