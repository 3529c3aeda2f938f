"""Accounts receivable: open items (one per invoice of an invoice or direct-debit order), what
settled them, incoming bank transactions, customer credits, payment terms and dunning.

The ledger (`ledger`) holds one collective receivables account; these tables are its subsidiary
ledger (the OP-Liste): who owes what for which invoice, and why it changed. Every amount is
guarded by the database: an item never has more settled than it asks for, a credit is never
spent below zero."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django.db import models
from django.db.models import F, Q
from django.utils.translation import gettext_lazy as _
from django_fsm import ConcurrentTransitionMixin, FSMField, transition

from finance.states import (
    DISPUTABLE,
    NOT_DUE,
    SETTLEABLE,
    BankTransactionStatus,
    CustomerCreditSource,
    OpenItemKind,
    OpenItemStatus,
    SettlementKind,
)
from ledger.models import JournalEntry
from oms.orders.models import Customer, Order

S = OpenItemStatus
MAX_TERMS_DAYS = 365


def _money(verbose_name: Any, **kwargs: Any) -> models.DecimalField:
    return models.DecimalField(verbose_name, max_digits=12, decimal_places=2, **kwargs)


class PaymentTerms(models.Model):
    """Days from the invoice date to the due date, per sales channel; a channel without a row
    gets `settings.PAYMENT_TERMS_DAYS`."""

    channel = models.CharField(_("channel"), max_length=50, unique=True)
    days = models.PositiveSmallIntegerField(_("days to pay"))

    class Meta:
        verbose_name = _("payment terms")
        verbose_name_plural = _("payment terms")
        ordering = ["channel"]
        constraints = [models.CheckConstraint(condition=Q(days__lte=MAX_TERMS_DAYS),
                                              name="payment_terms_days_at_most_a_year")]

    def __str__(self) -> str:
        return f"{self.channel}: {self.days}"


class OpenItem(ConcurrentTransitionMixin, models.Model):
    """What a customer owes for one invoice: `amount` (gross, as invoiced) plus dunning `fees`,
    less what was `paid`, `credited` (returned goods) and `written_off`."""

    order = models.ForeignKey(Order, on_delete=models.PROTECT, related_name="open_items",
                              verbose_name=_("order"))
    customer = models.ForeignKey(Customer, on_delete=models.PROTECT, related_name="open_items",
                                 verbose_name=_("customer"))
    # The `fulfillment.shipped`/`fulfillment.picked_up` event that made it: one item per event.
    event_id = models.UUIDField(_("event"), unique=True)
    kind = models.CharField(_("kind"), max_length=20, choices=OpenItemKind.choices)
    currency = models.CharField(_("currency"), max_length=3)
    amount = _money(_("amount"))
    paid = _money(_("paid"), default=Decimal("0.00"))
    credited = _money(_("credited"), default=Decimal("0.00"))
    fees = _money(_("dunning fees"), default=Decimal("0.00"))
    written_off = _money(_("written off"), default=Decimal("0.00"))
    invoiced_on = models.DateField(_("invoice date"))
    due_date = models.DateField(_("due date"))
    status = FSMField(_("status"), default=S.OPEN, choices=OpenItemStatus.choices,
                      protected=True)
    dunning_level = models.PositiveSmallIntegerField(_("dunning level"), default=0)
    # When the dunning sweep must look at the item next (it falls due, the next level, or a
    # paused item to check again); NULL when nothing is due any more.
    next_dunning_at = models.DateTimeField(_("next dunning step"), null=True, blank=True)
    for_collection = models.BooleanField(_("on the collection list"), default=False)
    note = models.CharField(_("note"), max_length=500, blank=True, default="")
    created_at = models.DateTimeField(_("created"))
    updated_at = models.DateTimeField(_("updated"))

    class Meta:
        verbose_name = _("open item")
        verbose_name_plural = _("open items")
        constraints = [
            models.CheckConstraint(condition=Q(amount__gt=0), name="open_item_amount_positive"),
            models.CheckConstraint(
                condition=Q(paid__gte=0) & Q(credited__gte=0) & Q(fees__gte=0)
                & Q(written_off__gte=0), name="open_item_parts_not_negative"),
            # Never more settled than asked for: two payments at once cannot overpay an item.
            models.CheckConstraint(
                condition=Q(paid__lte=F("amount") + F("fees") - F("credited")
                            - F("written_off")),
                name="open_item_not_oversettled"),
            models.CheckConstraint(condition=Q(status__in=[s.value for s in OpenItemStatus]),
                                   name="open_item_status_valid"),
        ]
        indexes = [
            # The dunning sweep's queue, in the order it takes it: only items with a step to
            # come are in it. Many items share a time (the start of a day), so the id is part
            # of the key: a batch is read in index order, not sorted out of a day's items.
            models.Index(fields=["next_dunning_at", "id"], name="open_item_dunning_due",
                         condition=Q(next_dunning_at__isnull=False)),
            models.Index(fields=["status", "-id"], name="open_item_by_status"),
            models.Index(fields=["customer", "-id"], name="open_item_by_customer"),
        ]

    def __str__(self) -> str:
        return f"{self.order_id} {self.amount} {self.currency} ({self.status})"

    @property
    def open_amount(self) -> Decimal:
        return self.amount + self.fees - self.paid - self.credited - self.written_off

    # Transitions: bodies are empty on purpose; amounts and everything around a transition are
    # handled by `finance.services`.
    @transition(field=status, source=[S.OPEN, S.PARTIALLY_PAID], target=S.PARTIALLY_PAID)
    def pay_partially(self) -> None: ...

    @transition(field=status, source=SETTLEABLE, target=S.PAID)
    def settle(self) -> None: ...

    @transition(field=status, source=NOT_DUE, target=S.OVERDUE)
    def fall_due(self) -> None: ...

    @transition(field=status, source=DISPUTABLE, target=S.DISPUTED)
    def dispute(self) -> None: ...

    # Undisputed, the item is what its amounts and due date say (the service picks which): one
    # transition per target, so the state diagram names them.
    @transition(field=status, source=S.DISPUTED, target=S.OPEN)
    def undispute_open(self) -> None: ...

    @transition(field=status, source=S.DISPUTED, target=S.PARTIALLY_PAID)
    def undispute_partially_paid(self) -> None: ...

    @transition(field=status, source=S.DISPUTED, target=S.OVERDUE)
    def undispute_overdue(self) -> None: ...

    @transition(field=status, source=S.DISPUTED, target=S.PAID)
    def undispute_paid(self) -> None: ...

    @transition(field=status, source=SETTLEABLE, target=S.WRITTEN_OFF)
    def write_off(self) -> None: ...


class OpenItemEvent(models.Model):
    """The item's history: every change, who made it and with what data."""

    open_item = models.ForeignKey(OpenItem, on_delete=models.PROTECT, related_name="events")
    type = models.CharField(_("type"), max_length=60)
    at = models.DateTimeField(_("at"))
    actor = models.CharField(_("actor"), max_length=100)
    data = models.JSONField(_("data"), default=dict)

    class Meta:
        verbose_name = _("open item event")
        verbose_name_plural = _("open item events")
        ordering = ["id"]
        indexes = [models.Index(fields=["open_item", "at"], name="open_item_event_by_item")]

    def __str__(self) -> str:
        return f"{self.type} @ {self.at:%Y-%m-%d %H:%M}"


class BankTransaction(ConcurrentTransitionMixin, models.Model):
    """Incoming money as the bank booked it, once per bank `reference`."""

    reference = models.CharField(_("bank reference"), max_length=100, unique=True)
    amount = _money(_("amount"))
    currency = models.CharField(_("currency"), max_length=3)
    booked_on = models.DateField(_("booking date"))
    purpose = models.CharField(_("purpose"), max_length=1000, blank=True, default="")
    status = FSMField(_("status"), default=BankTransactionStatus.UNMATCHED,
                      choices=BankTransactionStatus.choices, protected=True)
    # The order numbers found in the purpose (whether they had anything open or not).
    order_numbers = models.JSONField(_("order numbers in the purpose"), default=list,
                                     blank=True)
    customer = models.ForeignKey(Customer, on_delete=models.PROTECT, null=True, blank=True,
                                 related_name="bank_transactions", verbose_name=_("customer"))
    # Dr bank / Cr receivables, posted when the transaction is matched.
    entry = models.ForeignKey(JournalEntry, on_delete=models.PROTECT, null=True, blank=True,
                              related_name="+", verbose_name=_("journal entry"))
    received_at = models.DateTimeField(_("received"))
    received_by = models.CharField(_("received from"), max_length=100)
    matched_at = models.DateTimeField(_("matched"), null=True, blank=True)
    matched_by = models.CharField(_("matched by"), max_length=100, blank=True, default="")

    class Meta:
        verbose_name = _("bank transaction")
        verbose_name_plural = _("bank transactions")
        constraints = [
            models.CheckConstraint(condition=Q(amount__gt=0),
                                   name="bank_transaction_amount_positive"),
        ]
        indexes = [models.Index(fields=["booked_on"], name="bank_transaction_unmatched",
                                condition=Q(status=BankTransactionStatus.UNMATCHED))]

    def __str__(self) -> str:
        return f"{self.reference} {self.amount} {self.currency} ({self.status})"

    @transition(field=status, source=BankTransactionStatus.UNMATCHED,
                target=BankTransactionStatus.MATCHED)
    def match(self) -> None: ...


class CustomerCredit(models.Model):
    """Money we owe a customer: a bank payment beyond what was owed, or a credit note for
    goods already paid for. It pays the customer's next invoices (oldest credit first) or is
    paid out by finance. Its `remaining` part never goes below zero."""

    customer = models.ForeignKey(Customer, on_delete=models.PROTECT,
                                 related_name="finance_credits", verbose_name=_("customer"))
    currency = models.CharField(_("currency"), max_length=3)
    amount = _money(_("amount"))
    remaining = _money(_("remaining"))
    source = models.CharField(_("source"), max_length=20, choices=CustomerCreditSource.choices)
    # What made it: "bank:<transaction id>" or "refund:<refund id>"; once per cause.
    reference = models.CharField(_("reference"), max_length=120, unique=True)
    bank_transaction = models.ForeignKey(BankTransaction, on_delete=models.PROTECT, null=True,
                                         blank=True, related_name="credits",
                                         verbose_name=_("bank transaction"))
    order = models.ForeignKey(Order, on_delete=models.PROTECT, null=True, blank=True,
                              related_name="+", verbose_name=_("order"))
    created_at = models.DateTimeField(_("created"))
    updated_at = models.DateTimeField(_("updated"))

    class Meta:
        verbose_name = _("customer credit")
        verbose_name_plural = _("customer credits")
        constraints = [
            models.CheckConstraint(condition=Q(amount__gt=0), name="customer_credit_positive"),
            models.CheckConstraint(condition=Q(remaining__gte=0) & Q(remaining__lte=F("amount")),
                                   name="customer_credit_remaining_within_amount"),
        ]
        indexes = [models.Index(fields=["customer", "id"], name="customer_credit_unspent",
                                condition=Q(remaining__gt=0))]

    def __str__(self) -> str:
        return f"{self.customer_id} {self.remaining}/{self.amount} {self.currency}"


class Settlement(models.Model):
    """One amount that reduced an open item: a bank payment, a credit note for returned goods
    (a refund to the invoice), or a customer credit spent on it. Once per item and cause."""

    open_item = models.ForeignKey(OpenItem, on_delete=models.PROTECT,
                                  related_name="settlements", verbose_name=_("open item"))
    kind = models.CharField(_("kind"), max_length=20, choices=SettlementKind.choices)
    amount = _money(_("amount"))
    source = models.CharField(_("source"), max_length=120)
    bank_transaction = models.ForeignKey(BankTransaction, on_delete=models.PROTECT, null=True,
                                         blank=True, related_name="settlements",
                                         verbose_name=_("bank transaction"))
    customer_credit = models.ForeignKey(CustomerCredit, on_delete=models.PROTECT, null=True,
                                        blank=True, related_name="settlements",
                                        verbose_name=_("customer credit"))
    at = models.DateTimeField(_("at"))
    actor = models.CharField(_("actor"), max_length=100)

    class Meta:
        verbose_name = _("settlement")
        verbose_name_plural = _("settlements")
        ordering = ["pk"]
        constraints = [
            models.UniqueConstraint(fields=["open_item", "source"],
                                    name="settlement_once_per_item_and_cause"),
            models.CheckConstraint(condition=Q(amount__gt=0), name="settlement_positive"),
        ]

    def __str__(self) -> str:
        return f"{self.kind} {self.amount}"


class DunningLevel(models.Model):
    """One step of dunning: `days_after_due` days after the due date the customer gets this
    notice, and `fee` is added to the item. The highest level puts the item on the collection
    list. Seeded on first use (`finance.services.dunning.dunning_levels`)."""

    level = models.PositiveSmallIntegerField(_("level"), unique=True)
    days_after_due = models.PositiveSmallIntegerField(_("days after the due date"))
    fee = _money(_("fee"), default=Decimal("0.00"))
    name = models.CharField(_("name"), max_length=100)

    class Meta:
        verbose_name = _("dunning level")
        verbose_name_plural = _("dunning levels")
        ordering = ["level"]
        constraints = [
            models.CheckConstraint(condition=Q(level__gte=1), name="dunning_level_from_one"),
            models.CheckConstraint(condition=Q(fee__gte=0), name="dunning_fee_not_negative"),
        ]

    def __str__(self) -> str:
        return f"{self.level}. {self.name}"


class DunningNotice(models.Model):
    """A dunning level reached by an item: the notice sent (the `dunning.notice` event) and the
    fee charged. Unique per item and level, so no level is ever sent twice."""

    open_item = models.ForeignKey(OpenItem, on_delete=models.PROTECT, related_name="notices",
                                  verbose_name=_("open item"))
    level = models.PositiveSmallIntegerField(_("level"))
    name = models.CharField(_("name"), max_length=100)
    fee = _money(_("fee"))
    open_amount = _money(_("open amount"))
    currency = models.CharField(_("currency"), max_length=3)
    for_collection = models.BooleanField(_("put on the collection list"), default=False)
    event_id = models.UUIDField(_("event"))
    # The booking of the fee (Dr receivables / Cr dunning fees); NULL without a fee.
    entry = models.ForeignKey(JournalEntry, on_delete=models.PROTECT, null=True, blank=True,
                              related_name="+", verbose_name=_("journal entry"))
    sent_at = models.DateTimeField(_("sent"))

    class Meta:
        verbose_name = _("dunning notice")
        verbose_name_plural = _("dunning notices")
        ordering = ["pk"]
        constraints = [
            models.UniqueConstraint(fields=["open_item", "level"],
                                    name="dunning_notice_once_per_level"),
        ]

    def __str__(self) -> str:
        return f"{self.level}. {self.name} ({self.open_amount} {self.currency})"
