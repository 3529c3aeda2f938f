"""The ledger's tests drive orders through the API as the returns tests do (delivered from the
Kassel warehouse, collected in Munich, taken back at a till), and read what was booked: the
balance of every posting role, the entries of a document."""

from __future__ import annotations

from collections import defaultdict
from decimal import Decimal
from typing import Any

from django.db.models import Sum

from ledger.models import JournalEntry, JournalLine
from oms.core.events import outbox_relay
from oms.core.models import HandlerFailure
from tests.returns.conftest import (  # noqa: F401 - fixtures, shared with the returns tests
    _fakes,
    after_commit,
    collected,
    delivered,
    pos_berlin,
    pos_munich,
    wms_kassel,
)

D = Decimal


def balances() -> dict[str, Decimal]:
    """Debit minus credit of every posting role that moved (a credit balance is negative)."""
    out: dict[str, Decimal] = defaultdict(lambda: D("0.00"))
    rows = (JournalLine.objects.values("account__role")
            .annotate(debit=Sum("debit"), credit=Sum("credit")))
    for row in rows:
        out[row["account__role"]] += row["debit"] - row["credit"]
    return {role: amount for role, amount in out.items() if amount}


def delta(after: dict[str, Decimal], before: dict[str, Decimal]) -> dict[str, Decimal]:
    roles = set(after) | set(before)
    moved = {r: after.get(r, D("0")) - before.get(r, D("0")) for r in roles}
    return {r: amount for r, amount in moved.items() if amount}


def lines_of(entry: JournalEntry) -> set[tuple[str, Decimal, Decimal]]:
    """An entry's lines as (role, debit, credit)."""
    return {(ln.account.role, ln.debit, ln.credit)
            for ln in entry.lines.select_related("account")}


def entries(reference: str, rule: str | None = None) -> list[JournalEntry]:
    found = JournalEntry.objects.filter(reference=reference).order_by("pk")
    if rule is not None:
        found = found.filter(source__endswith=f":{rule}")
    return list(found)


def relay_all() -> None:
    """Publish whatever is still in the outbox (events written outside `after_commit`, and the
    ones their handlers write), as the beat sweep would; no handler may have failed."""
    while outbox_relay():
        pass
    assert not HandlerFailure.objects.exists()


def order_lines(*lines: tuple[str, int, str, str]) -> list[dict[str, Any]]:
    """Order body lines from (sku, quantity, unit price, tax rate)."""
    return [{"sku": s, "quantity": n, "unit_price": p, "tax_rate": r} for s, n, p, r in lines]
