"""Every write to the ledger: post an entry (idempotent by its source), reverse one.

Callers name accounts by role (`ledger.chart`); amounts are non-negative and each line has
exactly one side. The database checks again at commit (migration 0001): an entry that does not
balance, or any change to a posted one, fails the transaction whatever wrote it."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from django.db import IntegrityError, transaction
from django.utils import timezone

from ledger.chart import accounts_for
from ledger.models import JournalEntry, JournalLine

ZERO = Decimal("0.00")
REFERENCE_MAX = 36
TEXT_MAX = 60


@dataclass(frozen=True)
class Line:
    role: str
    debit: Decimal = ZERO
    credit: Decimal = ZERO

    @classmethod
    def dr(cls, role: str, amount: Decimal) -> Line:
        return cls(role, debit=amount)

    @classmethod
    def cr(cls, role: str, amount: Decimal) -> Line:
        return cls(role, credit=amount)


class Unbalanced(ValueError):
    """A posting rule computed an entry whose debits and credits differ: a bug, never input."""


def _merged(lines: Sequence[Line]) -> list[Line]:
    """Lines of zero dropped; a line with a negative amount moves to the other side."""
    out = []
    for line in lines:
        debit, credit = line.debit, line.credit
        if debit < 0:
            debit, credit = ZERO, credit - debit
        if credit < 0:
            debit, credit = debit - credit, ZERO
        net = debit - credit
        if net > 0:
            out.append(Line(line.role, debit=net))
        elif net < 0:
            out.append(Line(line.role, credit=-net))
    return out


def entry_post(*, booked_on: date, reference: str, text: str, source: str,
               lines: Sequence[Line], reverses: JournalEntry | None = None
               ) -> JournalEntry | None:
    """Post one balanced entry; the entry already posted from `source` if there is one; None
    when every line is zero (nothing to book)."""
    existing = JournalEntry.objects.filter(source=source).first()
    if existing is not None:
        return existing
    lines = _merged(lines)
    if not lines:
        return None
    debit = sum((ln.debit for ln in lines), ZERO)
    credit = sum((ln.credit for ln in lines), ZERO)
    if debit != credit:
        raise Unbalanced(f"{source}: debit {debit} != credit {credit}")
    accounts = accounts_for({ln.role for ln in lines})
    try:
        with transaction.atomic():
            entry = JournalEntry.objects.create(
                booked_on=booked_on, reference=reference[:REFERENCE_MAX],
                text=text[:TEXT_MAX], source=source, reverses=reverses,
                created_at=timezone.now())
            JournalLine.objects.bulk_create([
                JournalLine(entry=entry, account=accounts[ln.role], debit=ln.debit,
                            credit=ln.credit) for ln in lines])
    except IntegrityError:
        # The same source posted by a concurrent run: its entry stands.
        existing = JournalEntry.objects.filter(source=source).first()
        if existing is None:
            raise
        return existing
    return entry


def entry_reverse(*, entry: JournalEntry, booked_on: date, source: str,
                  text: str = "") -> JournalEntry | None:
    """The correction of a posted entry: the same lines with debit and credit swapped."""
    lines = [Line(ln.account.role, debit=ln.credit, credit=ln.debit)
             for ln in entry.lines.select_related("account")]
    return entry_post(booked_on=booked_on, reference=entry.reference,
                      text=text or f"Storno {entry.text}", source=source, lines=lines,
                      reverses=entry)
