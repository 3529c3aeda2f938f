"""Return notices: registered, the return label, received, and each refund.

The data of each notice is read when its event is handled, like every notice (`content.py`):
what the event says as it was then (the announced lines and the estimated refund of a
registration), and from the return what only it knows (the address of the site a parcel goes
to, why staff refused a line).

A store credit's code is money to whoever reads it, so like a pickup code (`pickup.py`) it is
never written down: the refund notice is rendered with `CREDIT_CODE_PLACEHOLDER` where the code
goes and its row points at the refund; `with_store_credit_code` puts the code of the refund's
store credit in place of the placeholder when the email is sent, in memory. The app push says
only that the code is in the email: a push is written to the outbox, which the cockpit shows
and webhook subscribers receive.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from decimal import Decimal
from typing import Any

from django.utils import translation

from inventory.models import Location
from notifications.adapters import NotificationNotSent, OutgoingMessage
from notifications.content import (
    address_lines,
    base_context,
    carrier_name,
    items,
    money,
    tracking_url,
    units_of,
)
from notifications.models import NotificationChannel, NotificationKind
from payments.models import Refund
from payments.states import PaymentMethod, RefundRoute
from returns.models import Return
from returns.states import NOT_RECEIVED, LineStatus, ReturnMode

# Shown in place of the code in every stored text; square brackets survive HTML escaping.
CREDIT_CODE_PLACEHOLDER = "[[store-credit-code]]"
CODE_KINDS = frozenset({NotificationKind.REFUND_ISSUED})


def _money(amount: Any, currency: str) -> str:
    return money(Decimal(str(amount or "0")), currency)


def _place(ret: Return) -> dict[str, Any]:
    """Where the goods go back: the store of a return at the counter, or the site a parcel
    is sent to."""
    location = ret.location
    return {"name": location.name, "address_lines": address_lines(location.address or {})}


def _return_context(ret: Return, payload: Mapping[str, Any]) -> dict[str, Any]:
    refund = payload.get("refund") or {}
    currency = str(refund.get("currency") or ret.currency)
    amount = Decimal(str(refund.get("amount") or "0"))
    exchange = payload.get("exchange_order") or (
        ret.exchange_order.number if ret.exchange_order_id else None)
    return {
        **base_context(ret.order),
        "return_number": ret.number,
        "in_store": (payload.get("mode") or ret.mode) == ReturnMode.IN_STORE,
        "place": _place(ret),
        "refund_method": str(refund.get("method") or ret.refund_method),
        "refund_amount": money(amount, currency),
        "refund_nothing": amount <= 0,
        "exchange_order": exchange or "",
    }


def requested_context(ret: Return, payload: Mapping[str, Any]) -> dict[str, Any]:
    """Registered: what was announced, where it goes back, how the money comes back (an
    estimate until the goods are in hand), and for a parcel the label or that it follows."""
    label_url = str(payload.get("label_url") or "")
    return {
        **_return_context(ret, payload),
        "items": items(units_of(payload.get("lines"))),
        "label_url": label_url,
        "label_follows": ret.mode == ReturnMode.MAIL and not label_url,
    }


def label_context(ret: Return, payload: Mapping[str, Any]) -> dict[str, Any]:
    """The label to print, the carrier and its tracking number (the label is the link)."""
    label_url = str(payload.get("label_url") or ret.label_url)
    number = str(payload.get("tracking_number") or ret.tracking_number or "")
    return {
        **base_context(ret.order, url=label_url),
        "return_number": ret.number,
        "place": _place(ret),
        "items": items(units_of(payload.get("lines"))),
        "label_url": label_url,
        "carrier": carrier_name(ret.carrier) if ret.carrier else "",
        "tracking_number": number,
        "tracking_url": tracking_url(ret.carrier, number, translation.get_language() or "de"),
    }


def received_context(ret: Return, payload: Mapping[str, Any]) -> dict[str, Any]:
    """Received: what came back, what did not and why, and the refund that follows (or why
    there is none). The lines are read from the return: the event does not carry why a line
    was refused, and nothing changes on a line after its receipt."""
    received: list[dict[str, Any]] = []
    refused: list[dict[str, Any]] = []
    missing: list[dict[str, Any]] = []
    lines = list(ret.lines.select_related("order_line__product").order_by("pk"))
    for line in lines:
        name = line.order_line.product.name or line.sku
        if line.received:
            received.append({"name": name, "sku": line.sku, "quantity": line.received})
        left = line.quantity - line.received
        if left <= 0:
            continue
        reason = line.refused_reason.strip()
        if line.status == LineStatus.REFUSED and reason and reason != NOT_RECEIVED:
            refused.append({"name": name, "sku": line.sku, "quantity": left, "reason": reason})
        else:
            missing.append({"name": name, "sku": line.sku, "quantity": left})
    context = _return_context(ret, payload)
    return {
        **context,
        "received": received,
        "refused": refused,
        "missing": missing,
        "shipping_refund": _money(ret.shipping_refund, ret.currency)
        if ret.shipping_refund > 0 else "",
        # Nothing back because the replacement took the value, not because nothing came.
        "exchange_took_value": context["refund_nothing"] and bool(received)
        and bool(context["exchange_order"]),
    }


def refund_context(refund: Refund, ret: Return, payload: Mapping[str, Any]) -> dict[str, Any]:
    """One refund of a return, as the money moves: back to the card or PayPal account, cash
    at a store's till, a store credit (its code as the placeholder), or credited against the
    invoice."""
    currency = str(payload.get("currency") or refund.currency)
    route = str(payload.get("route") or refund.route)
    context: dict[str, Any] = {
        **base_context(ret.order),
        "return_number": ret.number,
        "amount": _money(payload.get("amount") or refund.amount, currency),
        "route": route,
        "paypal": refund.payment is not None and refund.payment.method == PaymentMethod.PAYPAL,
        "store": {},
        "credit_code": "",
        "credit_balance": "",
    }
    if route == RefundRoute.TILL:
        code = str(payload.get("location") or refund.location_code or ret.location.code)
        store = Location.objects.filter(code=code).first()
        context["store"] = {"name": store.name if store else code,
                            "address_lines": address_lines(store.address) if store else []}
    elif route == RefundRoute.STORE_CREDIT and refund.store_credit is not None:
        credit = refund.store_credit
        context["credit_code"] = CREDIT_CODE_PLACEHOLDER
        context["credit_balance"] = money(credit.balance, credit.currency)
    return context


def with_store_credit_code(message: OutgoingMessage, refund: Refund | None) -> OutgoingMessage:
    """The stored email with the store credit's code in place of the placeholder; a message
    without the placeholder (a refund by card) as it is. Never an app push: it is written to
    the outbox (`adapters.AppPushNotifier`), where no code may land."""
    texts = (message.subject, message.text, message.html)
    if message.channel != NotificationChannel.EMAIL or \
            not any(CREDIT_CODE_PLACEHOLDER in text for text in texts):
        return message
    credit = refund.store_credit if refund is not None else None
    if credit is None:
        # Fail loudly (the row shows as failed in the cockpit) rather than send the customer
        # a placeholder where their money should be.
        raise NotificationNotSent("the refund has no store credit")
    return dataclasses.replace(
        message,
        subject=message.subject.replace(CREDIT_CODE_PLACEHOLDER, credit.code),
        text=message.text.replace(CREDIT_CODE_PLACEHOLDER, credit.code),
        html=message.html.replace(CREDIT_CODE_PLACEHOLDER, credit.code),
    )
