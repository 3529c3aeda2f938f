"""Journal entries for the export and API tests, posted through `ledger.services.entry_post`
(so the database's balance check runs as for any posting), independent of the posting rules:
`SaleFactory(gross=...)` books a sale at 19 % (receivable against revenue and VAT),
`PaymentFactory` a card capture (PSP clearing against the receivable)."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

import factory

from ledger.models import JournalEntry
from ledger.services import Line, entry_post

D = Decimal


def net_of(gross: Decimal, rate: str = "19") -> Decimal:
    return (gross / (1 + D(rate) / 100)).quantize(D("0.01"))


class JournalEntryFactory(factory.Factory):
    class Meta:
        model = JournalEntry

    booked_on = date(2026, 1, 15)
    reference = factory.Sequence(lambda n: f"{1000001 + n}")
    text = factory.LazyAttribute(lambda o: f"Buchung {o.reference}")
    source = factory.Sequence(lambda n: f"test-event-{n}:rule")
    lines: Any = factory.LazyFunction(lambda: [Line.dr("bank", D("10.00")),
                                               Line.cr("receivables", D("10.00"))])

    @classmethod
    def _create(cls, model_class: type, *args: Any, **kwargs: Any) -> JournalEntry | None:
        return entry_post(**kwargs)


class SaleFactory(JournalEntryFactory):
    class Params:
        gross = D("119.00")

    text = factory.LazyAttribute(lambda o: f"Verkauf {o.reference}")
    lines = factory.LazyAttribute(lambda o: [
        Line.dr("receivables", o.gross), Line.cr("revenue:19", net_of(o.gross)),
        Line.cr("vat:19", o.gross - net_of(o.gross))])


class PaymentFactory(JournalEntryFactory):
    class Params:
        amount = D("119.00")

    text = factory.LazyAttribute(lambda o: f"Zahlung Karte {o.reference}")
    lines = factory.LazyAttribute(lambda o: [
        Line.dr("psp_clearing:card", o.amount), Line.cr("receivables", o.amount)])
