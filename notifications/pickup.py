"""Click-and-collect notices: ready for pickup, the reminder the day before the deadline, and
not collected (the pickup expired).

The pickup code is a key to the goods, so it is never written down (fulfillment.pickup_codes):
not in the notification row, not in an outbox event, not in a log line. The templates are
rendered when the event is handled, as for every notice, but with `CODE_PLACEHOLDER` where the
code goes; the row keeps that text and a reference to the fulfilment order. When the row is
sent, `with_pickup_pass` derives the code from the fulfilment, puts it in place of the
placeholder and adds the QR image, all in memory (the cockpit shows the placeholder).
"""

from __future__ import annotations

import dataclasses
from collections import Counter
from collections.abc import Mapping
from datetime import datetime
from decimal import Decimal
from typing import Any

from django.utils.dateparse import parse_datetime

from fulfillment import pickup_codes
from fulfillment.models import FulfillmentOrder
from notifications.adapters import NotificationNotSent, OutgoingMessage, PickupPass
from notifications.content import (
    address_lines,
    base_context,
    items,
    money,
    units_of,
)
from notifications.models import NotificationKind
from oms.orders.models import Order
from payments.models import Payment, PaymentMethod, PaymentStatus

# Shown in place of the code in every stored text; square brackets survive HTML escaping.
CODE_PLACEHOLDER = "[[pickup-code]]"
# The notices that carry the code (the expired one has nothing left to collect).
CODE_KINDS = frozenset({NotificationKind.PICKUP_READY, NotificationKind.PICKUP_REMINDER})
# Money taken or reserved online comes back when a pickup expires (the payments package voids
# or refunds it); at the till or by invoice nothing was paid yet.
REFUNDED_METHODS = (PaymentMethod.CARD, PaymentMethod.PAYPAL)
NOTHING_TAKEN = (PaymentStatus.PENDING, PaymentStatus.FAILED)


def qr_content_id(fulfillment_id: int) -> str:
    return f"pickup-qr-{fulfillment_id}@oms"


def _deadline(fulfillment: FulfillmentOrder, payload: Mapping[str, Any]) -> datetime | None:
    raw = payload.get("pickup_deadline")
    deadline = parse_datetime(raw) if isinstance(raw, str) else None
    return deadline or fulfillment.pickup_deadline  # shown in content.TIME_ZONE


def _store(fulfillment: FulfillmentOrder) -> dict[str, Any]:
    location = fulfillment.location
    return {"name": location.name, "address_lines": address_lines(location.address)}


def _waiting_units(fulfillment: FulfillmentOrder) -> Counter[str]:
    units: Counter[str] = Counter()
    for line in fulfillment.lines.select_related("order_line"):
        units[line.sku] += line.open_quantity
    return +units


def waiting_context(fulfillment: FulfillmentOrder, payload: Mapping[str, Any]) -> dict[str, Any]:
    """Ready for pickup and the reminder: what waits where until when, and the code (as the
    placeholder) with its QR image."""
    return {
        **base_context(fulfillment.order),
        "items": items(_waiting_units(fulfillment)),
        "store": _store(fulfillment),
        "deadline": _deadline(fulfillment, payload),
        "pickup_code": CODE_PLACEHOLDER,
        "qr_cid": qr_content_id(fulfillment.pk),
    }


def paid_online(order: Order) -> bool:
    return (Payment.objects.filter(order=order, method__in=REFUNDED_METHODS)
            .exclude(status__in=NOTHING_TAKEN).exists())


def expired_context(fulfillment: FulfillmentOrder, payload: Mapping[str, Any]) -> dict[str, Any]:
    """Not collected: which items went back on sale, and whether money comes back."""
    order = fulfillment.order
    units = units_of(payload.get("lines")) or _waiting_units(fulfillment)
    amount = payload.get("amount")
    return {
        **base_context(order),
        "items": items(units),
        "store": _store(fulfillment),
        "refund": paid_online(order),
        "amount": money(Decimal(str(amount)), str(payload.get("currency") or order.currency))
        if amount else "",
    }


def pickup_pass(fulfillment: FulfillmentOrder | None, order_number: str) -> PickupPass:
    """Derive the code and draw its QR image, now, for one send."""
    if fulfillment is None or not fulfillment.pickup_code_salt:
        # A pickup without its salt is a bug upstream; fail loudly (the row shows it as
        # failed in the cockpit) rather than tell the customer to come without a code.
        raise NotificationNotSent("the fulfilment has no pickup code")
    code = pickup_codes.derive_code(fulfillment.pk, fulfillment.pickup_code_salt)
    location = fulfillment.location
    return PickupPass(
        fulfillment_id=fulfillment.pk,
        code=code,
        qr_png=pickup_codes.qr_png(code, order_number),
        qr_content_id=qr_content_id(fulfillment.pk),
        store={"code": location.code, "name": location.name, "address": location.address},
        deadline=fulfillment.pickup_deadline,
    )


def with_pickup_pass(message: OutgoingMessage,
                     fulfillment: FulfillmentOrder | None) -> OutgoingMessage:
    """The stored message with the code in place of the placeholder and the pass attached."""
    secret = pickup_pass(fulfillment, message.order_number)
    return dataclasses.replace(
        message,
        subject=message.subject.replace(CODE_PLACEHOLDER, secret.code),
        text=message.text.replace(CODE_PLACEHOLDER, secret.code),
        html=message.html.replace(CODE_PLACEHOLDER, secret.code),
        pickup=secret,
    )
