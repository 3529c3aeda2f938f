"""Incoming bank transactions: stored once per bank reference, matched to open items by the
order numbers in their purpose, booked Dr bank / Cr receivables.

Matching applies the money to the named orders' items still owed, oldest first (several
parcels of one order are several invoices), partial payments allowed; what is paid beyond what
is owed becomes a customer credit (a row, `CustomerCredit`: the money stays booked to
receivables, where it stands as a credit balance, and pays the customer's next invoice). A
transaction whose purpose names no order with anything owed stays `unmatched` and unbooked
until finance matches it by hand (`bank_transaction_match`, the cockpit's action).

Two transactions paying the same item at once never overpay it: each locks the items it pays
in primary-key order and reads what is open under the lock (and the database refuses an item
settled beyond its amount)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.db import IntegrityError
from django.db import transaction as db_transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from finance.matching import candidates_in, order_numbers_in
from finance.models import BankTransaction, CustomerCredit, OpenItem
from finance.services.open_items import customer_credit_create, lock_items, settle
from finance.states import (
    SETTLEABLE,
    BankTransactionStatus,
    CustomerCreditSource,
    OpenItemStatus,
    SettlementKind,
)
from ledger.services import Line, entry_post
from oms.core.errors import Conflict, InvalidTransition, Unprocessable
from oms.core.events import event_emit
from oms.orders.models import Order

_SPACES = re.compile(r"\s+")


@dataclass(frozen=True)
class BankTransactionData:
    reference: str
    amount: Decimal
    currency: str
    booked_on: date
    purpose: str


@dataclass(frozen=True)
class BankReceipt:
    transaction: BankTransaction
    created: bool  # False: the same transaction again (its stored state is answered)


def purpose_tidy(purpose: str) -> str:
    """Line breaks and runs of spaces as one space: banks wrap the purpose at 27 or 35
    characters, and the same transfer must read the same however it was wrapped."""
    return _SPACES.sub(" ", purpose).strip()


def bank_transaction_payload(txn: BankTransaction) -> dict[str, Any]:
    return {"id": txn.pk, "reference": txn.reference, "amount": str(txn.amount),
            "currency": txn.currency, "booked_at": txn.booked_on.isoformat(),
            "status": txn.status, "orders": txn.order_numbers,
            "customer": str(txn.customer.public_id) if txn.customer_id else None}


def _same(txn: BankTransaction, data: BankTransactionData) -> bool:
    return (txn.amount, txn.currency, txn.booked_on, txn.purpose) == (
        data.amount, data.currency, data.booked_on, purpose_tidy(data.purpose))


def _again(txn: BankTransaction, data: BankTransactionData) -> BankReceipt:
    if not _same(txn, data):
        raise Conflict(_("A bank transaction with this reference exists with another amount, "
                         "currency, booking date or purpose."), code="reference_conflict",
                       attr="reference", extra={"id": txn.pk})
    return BankReceipt(txn, created=False)


def bank_transaction_receive(*, data: BankTransactionData, actor: str) -> BankReceipt:
    """Store incoming money and match it by its purpose. The same reference with the same
    transaction again answers the stored one (nothing changes); with another amount, currency,
    booking date or purpose it is refused (409 ``reference_conflict``)."""
    if data.currency != settings.FINANCE_BANK_CURRENCY:
        raise Unprocessable(_("The bank account is kept in %(currency)s.")
                            % {"currency": settings.FINANCE_BANK_CURRENCY},
                            code="currency_not_supported", attr="currency")
    existing = BankTransaction.objects.filter(reference=data.reference).first()
    if existing is not None:
        return _again(existing, data)
    purpose = purpose_tidy(data.purpose)
    now = timezone.now()
    with db_transaction.atomic():
        try:
            with db_transaction.atomic():
                txn = BankTransaction.objects.create(
                    reference=data.reference, amount=data.amount, currency=data.currency,
                    booked_on=data.booked_on, purpose=purpose, received_at=now,
                    received_by=actor)
        except IntegrityError:  # the same reference from a concurrent request
            return _again(BankTransaction.objects.get(reference=data.reference), data)
        named = _orders_named(purpose)
        txn.order_numbers = [order.number for order in named]
        items = lock_items(OpenItem.objects.filter(
            order__in=named, currency=txn.currency, status__in=SETTLEABLE))
        if items:
            _apply(txn, items, customer_id=items[0].customer_id, order=items[0].order,
                   actor=actor, now=now)
        else:
            txn.save(update_fields=["order_numbers"])
        event_emit(topic="bank_transaction.received", aggregate_type="bank_transaction",
                   aggregate_id=txn.pk, payload=bank_transaction_payload(txn))
    return BankReceipt(txn, created=True)


def _orders_named(purpose: str) -> list[Order]:
    candidates = {c.number for c in candidates_in(purpose)}
    if not candidates:
        return []
    orders = {o.number: o for o in Order.objects.filter(number__in=candidates)}
    return [orders[number] for number in order_numbers_in(purpose, set(orders))]


def _apply(txn: BankTransaction, items: list[OpenItem], *, customer_id: int, order: Order,
           actor: str, now: datetime) -> None:
    """The money of `txn` onto the locked `items`, oldest first; the rest to a customer
    credit; booked and the transaction `matched`."""
    source = f"bank:{txn.pk}"
    remaining = txn.amount
    for item in items:
        take = min(remaining, item.open_amount) if item.status in SETTLEABLE else Decimal(0)
        if take > 0:
            settle(item, take, SettlementKind.PAYMENT, source, actor, now, bank_transaction=txn)
            remaining -= take
    if remaining > 0:
        customer_credit_create(customer_id=customer_id, currency=txn.currency, amount=remaining,
                               source=CustomerCreditSource.OVERPAYMENT, reference=source,
                               now=now, bank_transaction=txn, order=order)
    txn.entry = entry_post(
        booked_on=txn.booked_on, reference=order.number, text=f"Zahlungseingang {order.number}",
        source=source, lines=[Line.dr("bank", txn.amount), Line.cr("receivables", txn.amount)])
    txn.match()
    txn.customer_id, txn.matched_at, txn.matched_by = customer_id, now, actor
    txn.save()


def bank_transaction_match(*, transaction: BankTransaction, open_item: OpenItem,
                           actor: str) -> BankTransaction:
    """Finance matches an unmatched transaction to an item by hand (the cockpit's action): the
    money pays what the item still owes, the rest becomes the item's customer's credit (all of
    it when the item is paid already: the customer paid twice). 409 once the transaction is
    matched; 422 for an item in another currency or written off."""
    with db_transaction.atomic():
        # The fixed order: the transaction, then the item (as receiving one does).
        txn = BankTransaction.objects.select_for_update().get(pk=transaction.pk)
        if txn.status != BankTransactionStatus.UNMATCHED:
            raise InvalidTransition(_("This bank transaction is matched already."),
                                    attr="status")
        [item] = lock_items([open_item])
        if item.currency != txn.currency:
            raise Unprocessable(_("The open item is in %(item)s, the transaction in "
                                  "%(transaction)s.")
                                % {"item": item.currency, "transaction": txn.currency},
                                code="currency_mismatch", attr="open_item")
        if item.status == OpenItemStatus.WRITTEN_OFF:
            raise Unprocessable(_("This open item was written off."),
                                code="open_item_written_off", attr="open_item")
        now = timezone.now()
        _apply(txn, [item], customer_id=item.customer_id, order=item.order, actor=actor,
               now=now)
        event_emit(topic="bank_transaction.matched", aggregate_type="bank_transaction",
                   aggregate_id=txn.pk, payload={**bank_transaction_payload(txn),
                                                 "open_item": item.pk})
    return txn


def bank_transaction_credit(txn: BankTransaction) -> CustomerCredit | None:
    return CustomerCredit.objects.filter(reference=f"bank:{txn.pk}").first()
