"""Every write to open items: one per invoice when goods of an invoice or direct-debit order leave,
what settles them (bank payments, credit notes for returned goods, customer credit), disputes
and write-offs.

Locks, in the one order every finance write takes them: the order row (creating an item), then
open items by primary key, then customer credits by primary key. Each change of an item is saved
with an entry in its history (`OpenItemEvent`) and an outbox event (``open_item.<change>``) in
the same transaction."""

from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Callable, Sequence
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any
from uuid import UUID

from django.db import IntegrityError, transaction
from django.db.models import Sum
from django.utils import timezone
from django.utils.translation import gettext as _
from django_fsm import can_proceed

from finance.models import CustomerCredit, OpenItem, OpenItemEvent, Settlement
from finance.services.schedule import dunning_levels, next_step_at, payment_terms_days
from finance.states import SETTLEABLE, CustomerCreditSource, OpenItemStatus, SettlementKind
from ledger.models import JournalEntry
from ledger.posting import write_off_lines_by_rate
from ledger.services import Line, entry_post
from oms.core.errors import InvalidTransition
from oms.core.events import event_emit
from oms.orders.amounts import PricedLine, cents, net_line_values
from oms.orders.models import Order
from oms.orders.services import order_lock
from payments.models import Payment
from payments.states import PaymentMethod

logger = logging.getLogger(__name__)
ACTOR = "finance"
ZERO = Decimal("0.00")
ZERO_RATE = Decimal("0")
HUNDRED = Decimal("100")
RECEIVABLE_METHODS = (PaymentMethod.INVOICE, PaymentMethod.DIRECT_DEBIT)
SHIPPING_RATE = Decimal("19")  # shipping is 19 % revenue (ledger.chart: role "shipping")
S = OpenItemStatus


class OpenItemMissing(RuntimeError):
    """A credit note names an order none of whose goods were invoiced yet: the event that
    invoices them is still to be handled, so the handler fails and is retried."""


# --- reading and recording ------------------------------------------------------------------
def open_item_payload(item: OpenItem, *, order: str | None = None,
                      customer: str | None = None) -> dict[str, Any]:
    """What webhook subscribers and the history get about an item: with its order's number and
    its customer's id, read from the item's order and customer unless given."""
    return {"id": item.pk, "order": order or item.order.number,
            "customer": customer or str(item.customer.public_id),
            "kind": item.kind, "currency": item.currency, "amount": str(item.amount),
            "paid": str(item.paid), "credited": str(item.credited), "fees": str(item.fees),
            "written_off": str(item.written_off), "open": str(item.open_amount),
            "invoiced_on": item.invoiced_on.isoformat(), "due_date": item.due_date.isoformat(),
            "status": item.status, "dunning_level": item.dunning_level,
            "for_collection": item.for_collection}


def history_entry(item: OpenItem, type_: str, actor: str, data: dict[str, Any],
                  now: datetime) -> OpenItemEvent:
    """The unsaved history row of a change (the dunning sweep writes a batch of them)."""
    return OpenItemEvent(open_item=item, type=type_, at=now, actor=actor, data=data)


def changed(item: OpenItem, type_: str, actor: str, now: datetime,
            data: dict[str, Any] | None = None) -> None:
    """Record a saved change of `item`: its history and the ``open_item.<type_>`` event."""
    payload = open_item_payload(item)
    history_entry(item, f"open_item.{type_}", actor, {**payload, **(data or {})}, now).save()
    event_emit(topic=f"open_item.{type_}", aggregate_type="open_item", aggregate_id=item.pk,
               payload={**payload, **({"detail": data} if data else {})})


def lock_items(items: Sequence[OpenItem] | Any) -> list[OpenItem]:
    """Re-read items (a queryset or rows) under row locks taken in primary-key order, the fixed
    order every writer uses: two payments for the same items queue instead of deadlocking, and
    each sees what the other settled."""
    ids = [i.pk for i in items] if isinstance(items, list | tuple) else items.values("pk")
    return list(OpenItem.objects.select_for_update(of=("self",))
                .select_related("order", "customer").filter(pk__in=ids).order_by("pk"))


def step(item: OpenItem, transition: Callable[[], Any]) -> None:
    """Take a state-machine step in memory, or refuse it with 409."""
    if not can_proceed(transition):
        raise InvalidTransition(
            _("Open item %(id)s is %(status)s: this is not possible now.")
            % {"id": item.pk, "status": item.get_status_display()}, attr="status")
    transition()


def _save(item: OpenItem, now: datetime) -> None:
    item.updated_at = now
    item.save()


# --- invoicing ------------------------------------------------------------------------------
def open_item_invoice(*, event_id: str | UUID, order_number: str, amount: Decimal,
                      currency: str, left_at: datetime, actor: str = ACTOR) -> OpenItem | None:
    """Goods worth `amount` (gross) left at `left_at` (a parcel shipped or a pickup handed over:
    the invoice date): the item for the part of it the order's invoice and direct-debit payments
    owe, due after the channel's payment terms. The same event again returns the same item;
    None when nothing is owed on account (paid by card, in the store, ...)."""
    existing = OpenItem.objects.filter(event_id=event_id).first()
    if existing is not None or amount <= 0:
        return existing
    order = Order.objects.filter(number=order_number).first()
    if order is None:
        logger.error("goods-left event %s names unknown order %s", event_id, order_number)
        return None
    with transaction.atomic():
        order = order_lock(order=order)  # two parcels of one order invoice one after the other
        payments = list(Payment.objects.filter(order=order, method__in=RECEIVABLE_METHODS,
                                                currency=currency).order_by("pk"))
        if not payments:
            return None
        # Invoiced so far never exceeds what the customer agreed to pay on account; a mixed
        # order (a store credit, then the invoice) has its prepaid part cover the last goods.
        owed = sum((p.amount for p in payments), ZERO)
        invoiced = OpenItem.objects.filter(order=order, currency=currency) \
            .aggregate(total=Sum("amount"))["total"] or ZERO
        take = min(amount, owed - invoiced)
        if take <= 0:
            return None
        now = timezone.now()
        invoiced_on = timezone.localdate(left_at)
        item = OpenItem(order=order, customer=order.customer, event_id=event_id,
                        kind=payments[0].method, currency=currency, amount=take,
                        invoiced_on=invoiced_on,
                        due_date=invoiced_on + timedelta(
                            days=payment_terms_days(channel=order.channel)),
                        created_at=now, updated_at=now)
        try:
            with transaction.atomic():
                item.save()
        except IntegrityError:  # the same event, handled by a concurrent run
            return OpenItem.objects.get(event_id=event_id)
        changed(item, "created", actor, now)
        _spend_customer_credits(item, actor, now)
        item.next_dunning_at = next_step_at(item, dunning_levels())
        item.save(update_fields=["next_dunning_at"])
    return item


def _spend_customer_credits(item: OpenItem, actor: str, now: datetime) -> None:
    """What the customer has to their credit (an earlier overpayment, a credit note beyond what
    they owed) pays the new invoice, oldest credit first. No booking: both sides are the
    receivables account, where the credit already stands."""
    credits = CustomerCredit.objects.select_for_update().filter(
        customer_id=item.customer_id, currency=item.currency, remaining__gt=0).order_by("pk")
    for credit in credits:
        take = min(credit.remaining, item.open_amount)
        if take <= 0:
            break
        credit.remaining -= take
        credit.updated_at = now
        credit.save(update_fields=["remaining", "updated_at"])
        settle(item, take, SettlementKind.CUSTOMER_CREDIT, f"credit:{credit.pk}", actor, now,
               customer_credit=credit)


# --- settling -------------------------------------------------------------------------------
def settle(item: OpenItem, amount: Decimal, kind: str, source: str, actor: str,
           now: datetime, **links: Any) -> Settlement:
    """`amount` (at most what is open) off a locked item: paid, or credited for a credit note.
    Nothing owed any more → `paid` (and no more dunning)."""
    settlement = Settlement.objects.create(open_item=item, kind=kind, amount=amount,
                                           source=source, at=now, actor=actor, **links)
    if kind == SettlementKind.CREDIT_NOTE:
        item.credited += amount
    else:
        item.paid += amount
    if item.open_amount == 0:
        step(item, item.settle)
        item.next_dunning_at = None
        type_ = "paid"
    else:
        if item.status == S.OPEN:
            step(item, item.pay_partially)
        type_ = "credited" if kind == SettlementKind.CREDIT_NOTE else "partially_paid"
    _save(item, now)
    changed(item, type_, actor, now, {"settlement": settlement.pk, "kind": kind,
                                      "amount": str(amount), "source": source})
    return settlement


def customer_credit_create(*, customer_id: int, currency: str, amount: Decimal, source: str,
                           reference: str, now: datetime, **links: Any) -> CustomerCredit:
    return CustomerCredit.objects.create(customer_id=customer_id, currency=currency,
                                         amount=amount, remaining=amount, source=source,
                                         reference=reference, created_at=now, updated_at=now,
                                         **links)


def open_items_credit(*, order_number: str, amount: Decimal, currency: str, source: str,
                      actor: str = ACTOR) -> list[Settlement]:
    """A credit note for returned goods (a refund to the invoice, ``refund.issued`` with route
    ``receivable``): `amount` off the order's items still owed, oldest first; what is left over
    (the customer had paid already) becomes a customer credit. Once per `source`."""
    order = Order.objects.filter(number=order_number).first()
    if order is None:
        logger.error("credit note %s names unknown order %s", source, order_number)
        return []
    with transaction.atomic():
        items = lock_items(OpenItem.objects.filter(order=order, currency=currency))
        if not items:
            raise OpenItemMissing(f"{source}: order {order_number} has no open item yet")
        done = list(Settlement.objects.filter(open_item__in=items, source=source))
        if done or CustomerCredit.objects.filter(reference=source).exists():
            return done
        now = timezone.now()
        made: list[Settlement] = []
        remaining = amount
        for item in items:
            take = min(remaining, item.open_amount) if item.status in SETTLEABLE else ZERO
            if take > 0:
                made.append(settle(item, take, SettlementKind.CREDIT_NOTE, source, actor, now))
                remaining -= take
        if remaining > 0:
            # A credit note for a written-off item lands here too: finance reviews credits.
            customer_credit_create(customer_id=order.customer_id, currency=currency,
                                   amount=remaining, source=CustomerCreditSource.CREDIT_NOTE,
                                   reference=source, now=now, order=order)
    return made


# --- disputes and write-offs ----------------------------------------------------------------
def _locked(item: OpenItem) -> OpenItem:
    return lock_items([item])[0]


def open_item_dispute(*, item: OpenItem, reason: str, actor: str) -> OpenItem:
    """The customer contests the invoice: dunning pauses until it is undisputed."""
    with transaction.atomic():
        item = _locked(item)
        step(item, item.dispute)
        item.next_dunning_at, item.note = None, reason
        now = timezone.now()
        _save(item, now)
        changed(item, "disputed", actor, now, {"reason": reason})
    return item


def _after_dispute(item: OpenItem) -> str:
    if item.open_amount <= 0:
        return S.PAID
    if item.due_date < timezone.localdate():
        return S.OVERDUE
    return S.PARTIALLY_PAID if item.paid > 0 or item.credited > 0 else S.OPEN


def open_item_undispute(*, item: OpenItem, actor: str) -> OpenItem:
    """The dispute is resolved: the item is what its amounts and due date say again, and
    dunning goes on from the level it had reached."""
    with transaction.atomic():
        item = _locked(item)
        step(item, getattr(item, f"undispute_{_after_dispute(item)}"))
        item.next_dunning_at = next_step_at(item, dunning_levels())
        now = timezone.now()
        _save(item, now)
        changed(item, "undisputed", actor, now)
    return item


def _rate_key(rate: Decimal) -> str:
    return f"{rate.normalize():f}"


def _gross_by_rate(order: Order) -> dict[str, Decimal]:
    """The order's value per tax rate (lines after their discount share; shipping at 19 %)."""
    lines = list(order.lines.all())
    net = net_line_values([PricedLine(ln.product_id, ln.quantity, ln.unit_price)
                           for ln in lines], order.discount_total)
    by_rate: dict[str, Decimal] = defaultdict(lambda: ZERO)
    for line in lines:
        by_rate[_rate_key(line.tax_rate)] += net[line.product_id]
    if order.shipping_total > 0:
        by_rate[_rate_key(SHIPPING_RATE)] += order.shipping_total
    return {rate: value for rate, value in by_rate.items() if value > 0}


def write_off_lines(item: OpenItem, amount: Decimal) -> list[Line]:
    """Dr write-offs (net) + Dr VAT per rate / Cr receivables for `amount` of `item` (§ 17 UStG:
    the VAT of an uncollectable receivable is corrected). Payments settle dunning fees first
    (§ 367 BGB), so what is still owed of the fees is written off without VAT; the rest is
    goods, shared over the order's tax rates by value, the rounding cent to the largest."""
    fees_open = min(max(item.fees - item.paid, ZERO), amount)
    goods = amount - fees_open
    weights = _gross_by_rate(item.order) or {_rate_key(SHIPPING_RATE): goods}
    total = sum(weights.values(), ZERO)
    shares = {rate: cents(goods * value / total) for rate, value in weights.items()}
    largest = max(weights, key=lambda rate: (weights[rate], rate))
    shares[largest] += goods - sum(shares.values(), ZERO)
    # The booking itself is the ledger's rule: goods per rate with their VAT, fees at 0 %.
    by_rate = {Decimal(rate): gross for rate, gross in shares.items() if gross}
    if fees_open:
        by_rate[ZERO_RATE] = by_rate.get(ZERO_RATE, ZERO) + fees_open
    return write_off_lines_by_rate(by_rate)


def open_item_write_off(*, item: OpenItem, reason: str, actor: str) -> OpenItem:
    """What is still owed is given up: booked as a bad debt (`write_off_lines`), the item
    `written_off`, no more dunning."""
    with transaction.atomic():
        item = _locked(item)
        amount = item.open_amount
        if item.status in SETTLEABLE and amount <= 0:
            raise InvalidTransition(_("Nothing is owed on this item."), attr="status")
        step(item, item.write_off)
        entry: JournalEntry | None = entry_post(
            booked_on=timezone.localdate(), reference=item.order.number,
            text=f"Forderungsverlust {item.order.number}", source=f"write-off:{item.pk}",
            lines=write_off_lines(item, amount))
        item.written_off += amount
        item.next_dunning_at, item.note = None, reason
        now = timezone.now()
        _save(item, now)
        changed(item, "written_off", actor, now, {
            "reason": reason, "amount": str(amount),
            "entry": entry.pk if entry is not None else None})
    return item
