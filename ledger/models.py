"""The general ledger: accounts of a chart (SKR03 or SKR04), journal entries and their lines.

Double entry is enforced by PostgreSQL itself, not only by the services that write it
(migration 0001): a deferred constraint trigger checks at commit that every entry touched has
at least two lines and that its debits equal its credits, and a trigger refuses every UPDATE or
DELETE of a posted entry or line. A correction is a reversing entry (`reverses`), never an edit.
"""

from __future__ import annotations

from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _


class AccountKind(models.TextChoices):
    ASSET = "asset", _("Asset")
    LIABILITY = "liability", _("Liability")
    REVENUE = "revenue", _("Revenue")
    EXPENSE = "expense", _("Expense")


class Account(models.Model):
    """One account of the chart in use. `role` is what the posting rules ask for
    (`ledger.chart`: "receivables", "revenue:19", "psp_clearing:card", "cash:ST-BER", ...);
    `number` is what the accountant and DATEV see, from the chart and `LEDGER_ACCOUNTS`."""

    number = models.CharField(_("account number"), max_length=9, unique=True)
    name = models.CharField(_("name"), max_length=100)
    role = models.CharField(_("role"), max_length=60, unique=True)
    kind = models.CharField(_("kind"), max_length=10, choices=AccountKind.choices)
    created_at = models.DateTimeField(_("created"))

    class Meta:
        verbose_name = _("account")
        verbose_name_plural = _("accounts")
        ordering = ["number"]

    def __str__(self) -> str:
        return f"{self.number} {self.name}"


class JournalEntry(models.Model):
    """One booking: a date, the document it belongs to and why it was made. `source` is
    unique: the domain event and posting rule that made it (``<event id>:<rule>``), so an event
    handled twice books once."""

    booked_on = models.DateField(_("booking date"), db_index=True)
    reference = models.CharField(_("document"), max_length=36)  # DATEV Belegfeld 1
    text = models.CharField(_("text"), max_length=60)  # DATEV Buchungstext
    source = models.CharField(_("source"), max_length=120, unique=True)
    reverses = models.ForeignKey("self", on_delete=models.PROTECT, null=True, blank=True,
                                 related_name="reversed_by", verbose_name=_("reverses"))
    created_at = models.DateTimeField(_("posted"))

    class Meta:
        verbose_name = _("journal entry")
        verbose_name_plural = _("journal entries")
        indexes = [models.Index(fields=["reference"], name="journal_entry_reference")]

    def __str__(self) -> str:
        return f"{self.booked_on} {self.reference} {self.text}"


class JournalLine(models.Model):
    entry = models.ForeignKey(JournalEntry, on_delete=models.PROTECT, related_name="lines")
    account = models.ForeignKey(Account, on_delete=models.PROTECT, related_name="lines",
                                verbose_name=_("account"))
    debit = models.DecimalField(_("debit"), max_digits=14, decimal_places=2, default=0)
    credit = models.DecimalField(_("credit"), max_digits=14, decimal_places=2, default=0)

    class Meta:
        verbose_name = _("journal line")
        verbose_name_plural = _("journal lines")
        constraints = [
            models.CheckConstraint(
                condition=(Q(debit__gt=0, credit=0) | Q(debit=0, credit__gt=0)),
                name="journal_line_one_side_positive"),
        ]
        # The trial balance at a date: per account, summed over lines of entries up to it.
        indexes = [models.Index(fields=["account", "entry"], name="journal_line_account")]

    def __str__(self) -> str:
        return f"{self.account.number} D {self.debit} C {self.credit}"
