"""Reading the ledger: journal entries of a period, the trial balance at a date, and the rows
of an export, streamed.

A period is inclusive at both ends and filters by the booking date (`booked_on`), which is what
an accountant's period means; the posting time (`created_at`) plays no part."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from django.db import transaction
from django.db.models import DecimalField, Prefetch, Q, QuerySet, Sum, Value
from django.db.models.functions import Coalesce

from ledger.models import Account, JournalEntry, JournalLine

ZERO = Decimal("0.00")
# Rows fetched per round trip from the server-side cursor of an export: large enough that the
# round trips cost little next to the formatting (bench/ledger_export), small enough that one
# chunk stays a few MB however long the period.
EXPORT_CHUNK_ROWS = 5_000

# One journal line of an export, in this order (ledger.exports reads the fields by position):
# booking date, entry id, reference (DATEV Belegfeld 1), text, account number, account name,
# debit, credit.
ExportRow = tuple[date, int, str, str, str, str, Decimal, Decimal]
EXPORT_FIELDS = ("entry__booked_on", "entry_id", "entry__reference", "entry__text",
                 "account__number", "account__name", "debit", "credit")


@dataclass(frozen=True)
class Period:
    """Booking dates from `start` to `end`, both included; either end may be open."""

    start: date | None = None
    end: date | None = None


def _in(period: Period, prefix: str = "") -> Q:
    q = Q()
    if period.start is not None:
        q &= Q(**{f"{prefix}booked_on__gte": period.start})
    if period.end is not None:
        q &= Q(**{f"{prefix}booked_on__lte": period.end})
    return q


def entry_list(*, period: Period) -> QuerySet[JournalEntry]:
    """Journal entries booked in `period`, each with its lines and their accounts (two more
    queries per page, however many entries it holds)."""
    lines = JournalLine.objects.select_related("account").order_by("pk")
    return (JournalEntry.objects.filter(_in(period))
            .prefetch_related(Prefetch("lines", queryset=lines)))


@dataclass(frozen=True)
class AccountBalance:
    number: str
    name: str
    role: str
    kind: str
    debit: Decimal
    credit: Decimal

    @property
    def balance(self) -> Decimal:
        """Debit minus credit: positive for a debit balance (assets, expenses), negative for a
        credit balance (liabilities, revenue)."""
        return self.debit - self.credit


def trial_balance(*, at: date) -> list[AccountBalance]:
    """Every account with the sums of its debits and credits booked up to and including `at`,
    accounts without bookings at zero: one aggregate query."""
    money = DecimalField(max_digits=16, decimal_places=2)
    upto = Q(lines__entry__booked_on__lte=at)
    rows = (Account.objects.order_by("number")
            .annotate(debit_sum=Coalesce(Sum("lines__debit", filter=upto), Value(ZERO),
                                         output_field=money),
                      credit_sum=Coalesce(Sum("lines__credit", filter=upto), Value(ZERO),
                                          output_field=money))
            .values_list("number", "name", "role", "kind", "debit_sum", "credit_sum"))
    return [AccountBalance(number, name, role, kind, debit, credit)
            for number, name, role, kind, debit, credit in rows]


def export_lines(*, period: Period) -> QuerySet:
    """The journal lines of `period` as `ExportRow` tuples, in journal order: by booking date,
    then entry, then line as posted (the DATEV export relies on an entry's lines coming
    together)."""
    return (JournalLine.objects.filter(_in(period, "entry__"))
            .order_by("entry__booked_on", "entry_id", "pk")
            .values_list(*EXPORT_FIELDS))


def export_line_count(*, period: Period) -> int:
    """How many lines `export_rows` will yield (for a progress bar)."""
    return JournalLine.objects.filter(_in(period, "entry__")).count()


def export_rows(*, period: Period, chunk_size: int = EXPORT_CHUNK_ROWS) -> Iterator[ExportRow]:
    """The rows of `export_lines`, fetched `chunk_size` at a time from a server-side cursor,
    so memory stays the same however many lines the period holds.

    The cursor lives in a transaction of its own, opened when the first row is asked for and
    closed after the last (or when the consumer stops: a client that hangs up closes the
    generator, which rolls the read-only transaction back). Without it Django would declare
    the cursor WITH HOLD, and PostgreSQL materialises such a cursor's whole result when the
    declaring transaction commits, before the first row is sent."""
    with transaction.atomic():
        yield from export_lines(period=period).iterator(chunk_size=chunk_size)
