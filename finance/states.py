"""Statuses of open items and bank transactions, and the transition groups. Transitions are
methods on the models (models.py), declared with django-fsm-2; only `finance.services` calls
them."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _


class OpenItemStatus(models.TextChoices):
    OPEN = "open", _("Open")
    PARTIALLY_PAID = "partially_paid", _("Partially paid")
    PAID = "paid", _("Paid")
    OVERDUE = "overdue", _("Overdue")
    DISPUTED = "disputed", _("Disputed")
    WRITTEN_OFF = "written_off", _("Written off")


class OpenItemKind(models.TextChoices):
    """The payment method that left the money owed (payments.PaymentMethod)."""

    INVOICE = "invoice", _("Invoice")
    DIRECT_DEBIT = "direct_debit", _("Direct debit")


class SettlementKind(models.TextChoices):
    PAYMENT = "payment", _("Bank payment")
    CREDIT_NOTE = "credit_note", _("Credit note (returned goods)")
    CUSTOMER_CREDIT = "customer_credit", _("Customer credit used")


class BankTransactionStatus(models.TextChoices):
    UNMATCHED = "unmatched", _("Unmatched")
    MATCHED = "matched", _("Matched")


class CustomerCreditSource(models.TextChoices):
    OVERPAYMENT = "overpayment", _("Overpayment")
    CREDIT_NOTE = "credit_note", _("Credit note beyond what was owed")


S = OpenItemStatus
# Money is still owed and may come in (bank payments, credit notes, customer credit).
SETTLEABLE = [S.OPEN, S.PARTIALLY_PAID, S.OVERDUE, S.DISPUTED]
# Not yet due: the sweep makes them overdue once the due date has passed.
NOT_DUE = [S.OPEN, S.PARTIALLY_PAID]
DISPUTABLE = [S.OPEN, S.PARTIALLY_PAID, S.OVERDUE]

# Shown under the diagrams in docs/state-machines.md (manage.py state_diagrams).
RULES = {"OpenItem": """
An open item is what a customer owes for one invoice (goods that left on an invoice or direct
debit order: a parcel shipped or a pickup handed over). It is `open` until money comes in
(`partially_paid`), `paid` once nothing is owed any more (paid, credited for returned goods, or
both), and `overdue` once the dunning sweep finds its due date passed with money still owed; it
stays `overdue` through partial payments and dunning levels (the last level puts it on the
collection list, a flag). Finance may `dispute` an item (dunning pauses) and `undispute` it (it
returns to what its amounts and due date say), or `write_off` what is still owed (booked as a
bad debt with the VAT corrected). Money arriving for a disputed item counts as usual.
""", "BankTransaction": """
Incoming money as the bank booked it. It is `matched` when it was applied to open items (the
order number in its purpose, or by hand in the cockpit), `unmatched` while it waits for finance
to match it by hand. What a transaction pays beyond what is owed becomes a customer credit.
"""}
