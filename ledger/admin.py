"""The ledger in the back office: read only. Entries are corrected by reversing entries, never
edited (the database refuses it anyway)."""

from __future__ import annotations

from django.contrib import admin

from ledger.models import Account, JournalEntry, JournalLine
from oms.core.admin_base import ReadOnlyAdmin
from oms.orders.admin import ReadOnlyInline


@admin.register(Account)
class AccountAdmin(ReadOnlyAdmin):
    list_display = ["number", "name", "role", "kind"]
    search_fields = ["number", "name", "role"]


class JournalLineInline(ReadOnlyInline):
    model = JournalLine
    fields = ["account", "debit", "credit"]


@admin.register(JournalEntry)
class JournalEntryAdmin(ReadOnlyAdmin):
    list_display = ["booked_on", "reference", "text", "source"]
    search_fields = ["reference", "source"]
    date_hierarchy = "booked_on"
    inlines = [JournalLineInline]
