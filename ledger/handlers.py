"""Domain events → journal entries (`ledger.posting` says which accounts; this module reads the
event and the rows it names, and posts).

Every handler runs in the outbox relay's transaction (`in_relay`: it only writes rows), at most
once per event (`ProcessedEvent`), and each entry's source is ``<event id>:<rule>`` (unique),
so an event handled twice, by the relay and by a retried task, books once. The booking date is
the local date the event was written (the day goods left, money moved); the reference (DATEV
Belegfeld 1) the order's number, or the return's for a credit note and its refund.

- `fulfillment.shipped`, `fulfillment.picked_up` → goods left (the invoice), split by the order
  lines' tax rates; the event's `amount` is the truth, the split follows `oms.orders.amounts`;
- `payment.recorded` with money that already moved at intake (a prepaid card or PayPal payment,
  cash, a gift card; store credit spent; the value of returned goods paying an exchange) and
  `payment.captured` (card and PayPal at the PSP, pay in store at the till) → money captured;
- `payment.refunded` not made for a refund row (a pickup nobody collected, a refund made in
  the PSP's dashboard, store credit given back for a cancelled order) and `refund.issued`
  (every route but ``receivable``: the credit note already lowered what is owed) → refund paid;
- `return.received` → goods returned (the credit note), and the part of its value paying an
  exchange order moved to the exchange clearing account;
- `payment.chargeback` → chargeback;
- `order.cancelled` of an exchange order → its returned goods' value did not pay it.
`order.shipping_waived` books nothing: it happens only while nothing of the order has left,
so no revenue was booked for the shipping yet (money already taken for it comes back as a
`refund.issued`)."""

from __future__ import annotations

import logging
import re
from collections import Counter
from collections.abc import Mapping, Sequence
from decimal import Decimal
from typing import Any

from django.utils import timezone

from ledger import posting
from ledger.models import JournalEntry
from ledger.services import Line, entry_post, entry_reverse
from oms.core.events import on_event
from oms.core.models import ApiClient, OutboxEvent
from oms.orders.models import Order, OrderEvent, OrderLine
from payments.models import Payment, StoreCreditEntry
from returns.exchange import is_exchange_order
from returns.models import Return

logger = logging.getLogger(__name__)
ZERO = Decimal("0.00")
SHIPPED, PICKED_UP = "fulfillment.shipped", "fulfillment.picked_up"
GOODS_LEFT = (SHIPPED, PICKED_UP)
# payment_collect_in_store's reference for a handover: "pickup <fulfilment id> at <store code>".
HANDOVER_AT = re.compile(r"\bat (?P<store>\S+)$")


# --- helpers ----------------------------------------------------------------------------------
def _amount(value: Any) -> Decimal:
    return Decimal(str(value))


def _post(event: OutboxEvent, rule: str, reference: str, text: str,
          lines: Sequence[Line]) -> JournalEntry | None:
    return entry_post(booked_on=timezone.localdate(event.created_at), reference=reference,
                      text=text, source=f"{event.id}:{rule}", lines=lines)


def _order(number: str) -> Order | None:
    order = Order.objects.filter(number=number).first()
    if order is None:
        logger.error("no order %s: nothing booked", number)
    return order


def _till_store(order: Order, payload: dict[str, Any]) -> str | None:
    """The store whose till took or paid the money of a till payment (None for others): as
    the handover names it (`location`; events written before it did name it only in the
    reference text), else the order's store."""
    if payload["method"] not in posting.TILL_METHODS:
        return None
    detail = payload.get("detail") or {}
    found = HANDOVER_AT.search(str(detail.get("reference") or ""))
    return detail.get("location") or (found["store"] if found else _store_of_order(order))


def _order_and_amount(event: OutboxEvent) -> tuple[Order, Decimal] | None:
    """The order and the amount a payment event names; None (logged) when either is
    missing: nothing to book."""
    amount = _payment_amount(event.payload)
    if amount is None:
        logger.error("%s %s names no amount: nothing booked", event.topic, event.id)
        return None
    order = _order(event.payload["order"])
    return None if order is None else (order, amount)


def _taxed(lines: Sequence[OrderLine]) -> list[posting.TaxedLine]:
    return [posting.TaxedLine(ln.product_id, ln.quantity, ln.unit_price, ln.tax_rate)
            for ln in lines]


def _payment_amount(payload: dict[str, Any]) -> Decimal | None:
    """What one payment event moved: our own changes say it in `detail.amount`, a PSP's
    webhook in `detail.psp_event.amount`."""
    detail = payload.get("detail") or {}
    if detail.get("amount") is not None:
        return _amount(detail["amount"])
    psp_event = detail.get("psp_event") or {}
    if psp_event.get("amount") is not None:
        return _amount(psp_event["amount"])
    if detail.get("cause") and detail.get("store_credit"):
        # Store credit given back for a cancelled order: its entry holds the amount.
        entry = StoreCreditEntry.objects.filter(
            reference=f"{detail['cause']}:payment:{payload['id']}").first()
        return entry.amount if entry is not None else None
    return None


def _store_of_order(order: Order) -> str | None:
    """Where an order paid at a till was paid: its pickup store, else the store of the till
    that placed it."""
    if order.pickup_location:
        return order.pickup_location
    return ApiClient.objects.filter(name=order.placed_by).values_list(
        "location_code", flat=True).first() or None


# --- goods left -------------------------------------------------------------------------------
def _units(topic: str, data: Mapping[str, Any]) -> dict[str, int]:
    lines = (data.get("shipment") or {}).get("lines") if topic == SHIPPED else data.get("lines")
    units: Counter[str] = Counter()
    for line in lines or []:
        units[line["sku"]] += int(line["quantity"])
    return dict(units)


def _goods_left_key(topic: str, data: Mapping[str, Any]) -> tuple[str, Any]:
    """What names one goods-left event: its parcel, or its pickup (handed over once)."""
    return (topic, (data.get("shipment") or {}).get("id") if topic == SHIPPED else data.get("id"))


def _counted_before(order: Order, event: OutboxEvent, lines: Sequence[OrderLine],
                    units: Mapping[str, int]) -> dict[str, int]:
    """The units of each line that had left before this event's: from the order's audit trail,
    which holds every shipment and handover in the order they happened (under the order's row
    lock). The handler may run long after the event, when later parcels have left too, so the
    lines' `fulfilled` counts are no guide; they are used only if the trail lacks the event."""
    key = _goods_left_key(event.topic, event.payload)
    counted: Counter[str] = Counter()
    trail = (OrderEvent.objects.filter(order=order, type__in=GOODS_LEFT).order_by("pk")
             .values_list("type", "data"))
    for topic, data in trail:
        if _goods_left_key(topic, data) == key:
            return dict(counted)
        counted.update(_units(topic, data))
    return {ln.product_id: max(ln.fulfilled - units.get(ln.product_id, 0), 0) for ln in lines}


@on_event(*GOODS_LEFT, in_relay=True)
def book_goods_left(event: OutboxEvent) -> None:
    """Goods left: the invoice, on the day they left."""
    payload = event.payload
    order = _order(payload["order"])
    if order is None:
        return
    lines = list(order.lines.all())
    units = _units(event.topic, payload)
    goods, shipping = posting.goods_left_split(
        amount=_amount(payload["amount"]), lines=_taxed(lines), discount=order.discount_total,
        counted=_counted_before(order, event, lines, units), units=units)
    text = "Versand" if event.topic == SHIPPED else "Abholung"
    _post(event, "goods_left", order.number, f"{text} {order.number}",
          posting.goods_left(goods, shipping))


# --- money in ---------------------------------------------------------------------------------
def _recorded_with_money(payload: dict[str, Any]) -> bool:
    """Did money (or a credit) move when the payment was recorded? A captured payment of a
    method whose money we book (not invoice or direct debit: finance books their bank
    payments); store credit is spent at intake whatever status the channel says."""
    method = payload.get("method")
    if posting.money_role(method or "") is None:
        return False
    return payload.get("status") == "captured" or method == "store_credit"


@on_event("payment.recorded", in_relay=True, when=_recorded_with_money)
def book_money_at_intake(event: OutboxEvent) -> None:
    """Money that moved with the order: a prepaid card or PayPal payment, cash, a gift card,
    store credit spent, returned goods' value paying an exchange order."""
    payload = event.payload
    order = _order(payload["order"])
    if order is None:
        return
    method = payload["method"]
    role = posting.money_role(method, _till_store(order, payload))
    if role is None:
        return
    _post(event, "money_captured", order.number,
          f"Zahlung {posting.method_text(method)} {order.number}",
          posting.money_captured(_amount(payload["amount"]), role))


def _captured_with_money(payload: dict[str, Any]) -> bool:
    return posting.money_role(payload.get("method") or "") is not None


@on_event("payment.captured", in_relay=True, when=_captured_with_money)
def book_money_captured(event: OutboxEvent) -> None:
    """A capture: card or PayPal at the PSP, pay in store at the till of the handover."""
    payload = event.payload
    found = _order_and_amount(event)
    if found is None:
        return
    order, amount = found
    method = payload["method"]
    role = posting.money_role(method, _till_store(order, payload))
    if role is None:
        return
    _post(event, "money_captured", order.number,
          f"Zahlung {posting.method_text(method)} {order.number}",
          posting.money_captured(amount, role))


# --- money back -------------------------------------------------------------------------------
def _refunded_without_refund_row(payload: dict[str, Any]) -> bool:
    """A refund row's money is booked from its `refund.issued` (which says the route)."""
    detail = payload.get("detail") or {}
    return "refund" not in detail and _captured_with_money(payload)


@on_event("payment.refunded", in_relay=True, when=_refunded_without_refund_row)
def book_payment_refunded(event: OutboxEvent) -> None:
    """Money back that no return asked for: a prepaid pickup nobody collected, a refund made
    in the PSP's dashboard, store credit given back for a cancelled order."""
    payload = event.payload
    found = _order_and_amount(event)
    if found is None:
        return
    order, amount = found
    method = payload["method"]
    role = posting.money_role(method, _till_store(order, payload))
    if role is None:
        return
    _post(event, "refund_paid", order.number,
          f"Erstattung {posting.method_text(method)} {order.number}",
          posting.refund_paid(amount, role))


def _refund_moves_money(payload: dict[str, Any]) -> bool:
    return payload.get("route") in ("psp", "till", "store_credit")


@on_event("refund.issued", in_relay=True, when=_refund_moves_money)
def book_refund_issued(event: OutboxEvent) -> None:
    """A refund paid: back to the card or PayPal account, out of the till, as a store credit.
    A credit against an open invoice (route ``receivable``) books nothing here: the credit note
    of the return (`return.received`) already lowered what the customer owes."""
    payload = event.payload
    route = payload["route"]
    if route == "psp":
        method = Payment.objects.filter(pk=payload.get("payment")).values_list(
            "method", flat=True).first()
        role, label = posting.psp_clearing(method or "card"), posting.method_text(method or "")
        if method not in posting.PSP_METHODS:
            logger.error("refund %s at the PSP for a %s payment: booked on %s",
                         payload.get("id"), method, role)
    elif route == "till":
        role, label = posting.till(payload.get("location")), "Kasse"
    else:
        role, label = "store_credit", "Store Credit"
    reference = payload.get("return") or payload["order"]
    _post(event, "refund_paid", reference, f"Erstattung {label} {reference}",
          posting.refund_paid(_amount(payload["amount"]), role))


@on_event("return.received", in_relay=True)
def book_goods_returned(event: OutboxEvent) -> None:
    """Goods came back: the credit note for what was received (and the shipping, when the
    return brings the last unit back and the channel refunds it). The part of the value that
    pays an exchange order moves to the exchange clearing account."""
    payload = event.payload
    order = _order(payload["order"])
    ret = Return.objects.filter(pk=payload["id"]).first()
    if order is None or ret is None:
        return
    rates = {ln.product_id: ln.tax_rate for ln in order.lines.all()}
    goods = posting.gross_by_rate(
        (rates[ln["sku"]], _amount(ln["refund_amount"]))
        for ln in payload["lines"] if ln.get("received") and ln["sku"] in rates)
    shipping = ret.shipping_refund
    _post(event, "goods_returned", ret.number, f"Retoure {ret.number}",
          posting.goods_returned(goods, shipping))
    value = sum(goods.values(), ZERO) + shipping
    to_exchange = value - _amount(payload["refund"]["amount"])
    if payload.get("exchange_order") and to_exchange > 0:
        _post(event, "exchange_credit", ret.number,
              f"Umtausch {ret.number} {payload['exchange_order']}",
              posting.return_value_to_exchange(to_exchange))


def _psp_money(payload: dict[str, Any]) -> bool:
    return payload.get("method") in posting.PSP_METHODS


@on_event("payment.chargeback", in_relay=True, when=_psp_money)
def book_chargeback(event: OutboxEvent) -> None:
    """The PSP took money back for the customer: owed again."""
    payload = event.payload
    amount = _payment_amount(payload)
    if amount is None:
        logger.error("payment.chargeback %s names no amount: nothing booked", event.id)
        return
    _post(event, "chargeback", payload["order"],
          f"Rückbelastung {posting.method_text(payload['method'])} {payload['order']}",
          posting.chargeback(amount, payload["method"]))


@on_event("order.cancelled", in_relay=True, when=is_exchange_order)
def book_exchange_cancelled(event: OutboxEvent) -> None:
    """An exchange order was cancelled: the returned goods' value that paid it did not. Its
    `return_credit` payment is undone; if the return was received already, the value's move
    from the original order is reversed too (the return then refunds it, `refund.issued`)."""
    payload = event.payload
    number = payload["number"]
    credit = sum(Payment.objects.filter(order__number=number, method="return_credit")
                 .values_list("amount", flat=True), ZERO)
    _post(event, "exchange_cancelled", number, f"Storno Umtausch {number}",
          posting.exchange_credit_unused(credit))
    return_number = str(payload.get("external_id") or "").removeprefix("exchange:")
    moved = (JournalEntry.objects.filter(reference=return_number,
                                         source__endswith=":exchange_credit",
                                         reversed_by__isnull=True).first())
    if moved is not None:
        entry_reverse(entry=moved, booked_on=timezone.localdate(event.created_at),
                      source=f"{event.id}:exchange_credit_reversed",
                      text=f"Storno Umtausch {return_number}")
