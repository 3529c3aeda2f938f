"""Two bank transactions paying the same item at the same moment never overpay it: each locks
the item (open items in primary-key order) and reads what is still open under the lock. The
dunning sweep never waits for an item a payment holds (SKIP LOCKED): the next run takes it."""

from __future__ import annotations

import threading
from datetime import date
from decimal import Decimal
from typing import Any

import pytest
from django.db import connections, transaction

from finance.models import CustomerCredit, OpenItem, Settlement
from finance.services import BankTransactionData, bank_transaction_receive, dunning_sweep
from tests.finance.conftest import balances
from tests.finance.factories import OpenItemFactory, an_item_due

pytestmark = pytest.mark.django_db(transaction=True)
D = Decimal


def test_two_payments_at_once_never_overpay_an_item(run_concurrently: Any) -> None:
    # Given an order with two items of 60.00 and 40.00
    first = OpenItemFactory(amount=D("60.00"))
    OpenItemFactory(amount=D("40.00"), order=first.order)
    number = first.order.number

    # When six transfers of 30.00 for the order arrive at once
    def transfer(n: int) -> Any:
        return bank_transaction_receive(data=BankTransactionData(
            reference=f"SEPA-{n}", amount=D("30.00"), currency="EUR",
            booked_on=date(2026, 3, 2), purpose=f"RE {number}"), actor="erp")

    run_concurrently(6, transfer)
    # Then both items are paid exactly, and the 80.00 beyond is the customer's credit
    items = list(OpenItem.objects.order_by("pk"))
    assert [(i.paid, i.status) for i in items] == [(D("60.00"), "paid"), (D("40.00"), "paid")]
    assert sum(s.amount for s in Settlement.objects.all()) == D("100.00")
    assert sum(c.amount for c in CustomerCredit.objects.all()) == D("80.00")
    assert balances("bank:") == {"bank": D("180.00"), "receivables": D("-180.00")}


def test_the_same_transaction_sent_twice_at_once_is_stored_once(run_concurrently: Any) -> None:
    item = OpenItemFactory(amount=D("60.00"))
    data = BankTransactionData(reference="SEPA-X", amount=D("25.00"), currency="EUR",
                               booked_on=date(2026, 3, 2), purpose=item.order.number)
    receipts = run_concurrently(4, lambda n: bank_transaction_receive(data=data, actor="erp"))
    assert sorted(r.created for r in receipts) == [False, False, False, True]
    item.refresh_from_db()
    assert item.paid == D("25.00")


def test_the_dunning_sweep_skips_an_item_a_payment_holds() -> None:
    # Given an item whose reminder is due, locked by a payment in progress elsewhere
    item = an_item_due(8)
    locked, release = threading.Event(), threading.Event()

    def payment_in_progress() -> None:
        try:
            with transaction.atomic():
                OpenItem.objects.select_for_update().get(pk=item.pk)
                locked.set()
                release.wait(timeout=10)
        finally:
            connections.close_all()

    holder = threading.Thread(target=payment_in_progress)
    holder.start()
    assert locked.wait(timeout=10)
    try:
        # When the sweep runs meanwhile, it does not wait for the item
        report = dunning_sweep()
    finally:
        release.set()
        holder.join(timeout=10)
    # Then it left it for the next run, which sends the reminder
    assert (report.looked_at, report.notices) == (0, 0)
    assert dunning_sweep().notices == 1
