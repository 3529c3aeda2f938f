"""Reads of the finance app."""

from __future__ import annotations

from uuid import UUID

from django.db.models import QuerySet

from finance.models import BankTransaction, OpenItem, Settlement


def open_item_list(*, status: str | None = None, customer: UUID | None = None,
                   order: str | None = None) -> QuerySet[OpenItem]:
    items = OpenItem.objects.select_related("order", "customer")
    if status:
        items = items.filter(status=status)
    if customer is not None:
        items = items.filter(customer__public_id=customer)
    if order:
        items = items.filter(order__number=order)
    return items


def bank_transaction_get(*, pk: int) -> BankTransaction:
    return BankTransaction.objects.select_related("customer").get(pk=pk)


def bank_transaction_settlements(*, transaction: BankTransaction) -> list[Settlement]:
    return list(Settlement.objects.select_related("open_item__order")
                .filter(bank_transaction=transaction).order_by("pk"))
