"""What a dunning notice says (``dunning.notice``, written by the finance app's sweep): the
invoice, what was paid or credited, the fees, the open amount and by when to pay. The figures
are the event's, as they stood when the level was reached; wording by level: the first level is
a friendly reminder, the last says the claim goes to a collection agency, the ones between are
numbered notices ("1. Mahnung" is level 2)."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

from notifications.content import base_context, money
from oms.orders.models import Order


def _money(payload: dict[str, Any], key: str, currency: str) -> str:
    """The amount formatted, or "" when it is zero (the template leaves its line out)."""
    amount = Decimal(str(payload.get(key) or "0"))
    return money(amount, currency) if amount else ""


def _date(value: Any) -> date | None:
    return date.fromisoformat(str(value)) if value else None


def notice_context(order: Order, payload: dict[str, Any]) -> dict[str, Any]:
    currency = str(payload["currency"])
    level = int(payload["level"])
    settled = sum((Decimal(str(payload.get(k) or "0")) for k in ("paid", "credited")),
                  Decimal("0"))
    return {
        **base_context(order),
        "level": level,
        "final": bool(payload.get("final")),
        "notice_number": level - 1,
        "amount": money(Decimal(str(payload["amount"])), currency),
        "settled": money(settled, currency) if settled else "",
        "fee": _money(payload, "fee", currency),
        "fees": _money(payload, "fees", currency),
        "open_amount": money(Decimal(str(payload["open"])), currency),
        "invoiced_on": _date(payload.get("invoiced_on")),
        "due_date": _date(payload.get("due_date")),
        "pay_by": _date(payload.get("pay_by")),
    }
