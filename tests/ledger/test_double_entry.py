"""The ledger is double-entry and append-only because PostgreSQL says so: an entry that does not
balance fails at commit, and no posted row can be changed or deleted, whatever writes it."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
from django.db import DatabaseError, connection, transaction

from ledger.chart import account_for
from ledger.models import Account, JournalEntry, JournalLine
from ledger.services import Line, Unbalanced, entry_post, entry_reverse

pytestmark = pytest.mark.django_db(transaction=True)
D = Decimal


def sale(source: str = "evt-1:sale", amount: str = "119.00") -> JournalEntry | None:
    gross = D(amount)
    net = (gross / D("1.19")).quantize(D("0.01"))
    return entry_post(booked_on=date(2026, 12, 7), reference="1000001", text="Verkauf 1000001",
                      source=source, lines=[Line.dr("receivables", gross),
                                            Line.cr("revenue:19", net),
                                            Line.cr("vat:19", gross - net)])


def test_a_balanced_entry_is_posted_once_however_often_its_event_comes() -> None:
    first = sale()
    again = sale()
    assert first is not None and again == first
    assert JournalEntry.objects.count() == 1
    assert sorted((ln.account.number, ln.debit, ln.credit)
                  for ln in JournalLine.objects.select_related("account")) == [
        ("1400", D("119.00"), D("0.00")), ("1776", D("0.00"), D("19.00")),
        ("8400", D("0.00"), D("100.00"))]


def test_the_service_refuses_an_entry_that_does_not_balance() -> None:
    with pytest.raises(Unbalanced):
        entry_post(booked_on=date(2026, 12, 7), reference="x", text="x", source="bad",
                   lines=[Line.dr("receivables", D("10.00")), Line.cr("revenue:19", D("9.00"))])
    assert not JournalEntry.objects.exists()


def test_the_database_refuses_an_unbalanced_entry_at_commit() -> None:
    # given an entry written past the service, its lines off by a cent
    receivables, revenue = account_for("receivables"), account_for("revenue:19")
    with pytest.raises(DatabaseError, match="does not balance"), transaction.atomic():
        entry = JournalEntry.objects.create(booked_on=date(2026, 12, 7), reference="x",
                                            text="x", source="raw", created_at="2026-12-07T10:00Z")
        JournalLine.objects.create(entry=entry, account=receivables, debit=D("10.00"))
        JournalLine.objects.create(entry=entry, account=revenue, credit=D("9.99"))
    # then nothing of it stands
    assert not JournalEntry.objects.exists() and not JournalLine.objects.exists()


def test_the_database_refuses_an_entry_without_lines() -> None:
    with pytest.raises(DatabaseError, match="does not balance"), transaction.atomic():
        JournalEntry.objects.create(booked_on=date(2026, 12, 7), reference="x", text="x",
                                    source="empty", created_at="2026-12-07T10:00Z")
    assert not JournalEntry.objects.exists()


def test_a_line_has_exactly_one_positive_side() -> None:
    sale()
    entry = JournalEntry.objects.get()
    for debit, credit in ((D("0"), D("0")), (D("5"), D("5")), (D("-5"), D("0"))):
        with pytest.raises(DatabaseError), transaction.atomic():
            JournalLine.objects.create(entry=entry, account=account_for("bank"), debit=debit,
                                       credit=credit)


@pytest.mark.parametrize("statement", [
    "UPDATE ledger_journalline SET debit = debit + 1",
    "DELETE FROM ledger_journalline",
    "UPDATE ledger_journalentry SET text = 'changed'",
    "DELETE FROM ledger_journalentry",
])
def test_posted_rows_are_never_changed_or_deleted_even_by_raw_sql(statement: str) -> None:
    sale()
    before = list(JournalLine.objects.order_by("pk").values_list("debit", "credit"))
    with pytest.raises(DatabaseError, match="never changed or deleted"), \
            transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(statement)
    assert list(JournalLine.objects.order_by("pk").values_list("debit", "credit")) == before
    assert JournalEntry.objects.get().text == "Verkauf 1000001"


def test_a_correction_is_a_reversing_entry() -> None:
    entry = sale()
    assert entry is not None
    reversal = entry_reverse(entry=entry, booked_on=date(2026, 12, 8), source="evt-2:storno")
    assert reversal is not None and reversal.reverses == entry
    balances = {a.number: sum((ln.debit - ln.credit for ln in a.lines.all()), D("0"))
                for a in Account.objects.prefetch_related("lines")}
    assert set(balances.values()) == {D("0.00")}


def test_skr04_numbers_and_overrides_come_from_settings(settings) -> None:
    settings.LEDGER_CHART = "SKR04"
    settings.LEDGER_ACCOUNTS = '{"bank": "1810"}'
    assert account_for("receivables").number == "1200"
    assert account_for("bank").number == "1810"
    assert account_for("cash:ST-BER").number == "1601"
    assert account_for("cash:ST-MUC").number == "1602"
