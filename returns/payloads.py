"""What webhook subscribers, the audit trail and notifications get about a return."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from oms.orders.models import Order
from returns.models import Return, ReturnLine


def return_payload(ret: Return, order: Order | None = None,
                   lines: Iterable[ReturnLine] | None = None) -> dict[str, Any]:
    """`lines`: the return's lines (with their order lines), if the caller holds them."""
    order = order or ret.order
    lines = ret.lines.select_related("order_line") if lines is None else lines
    return {
        "id": ret.pk,
        "number": ret.number,
        "order": order.number,
        "channel": order.channel,
        "customer": {"email": order.customer.email},
        "language": order.language,
        "status": ret.status,
        "mode": ret.mode,
        "location": ret.location.code,
        "location_name": ret.location.name,
        "refund": {"method": ret.refund_method, "amount": str(ret.refund_amount),
                   "currency": ret.currency},
        "exchange_order": ret.exchange_order.number if ret.exchange_order_id else None,
        "label_url": ret.label_url or None,
        "carrier": ret.carrier or None,
        "tracking_number": ret.tracking_number or None,
        "lines": [{"sku": ln.sku, "quantity": ln.quantity, "received": ln.received,
                   "status": ln.status, "reason": ln.reason_id, "condition": ln.condition,
                   "disposition": ln.disposition or None,
                   "refund_amount": str(ln.refund_amount)}
                  for ln in lines],
    }
