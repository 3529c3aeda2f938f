"""Rows a finance cockpit test starts from: finance staff (staff users in the "Finance" group,
made as `manage.py finance_group` makes it) and bank transactions waiting for a match. Written
directly; the code under test goes through the cockpit's views and the finance services."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import factory
from django.contrib.auth.models import Permission
from django.utils import timezone

from finance.cockpit.access import finance_group_ensure
from finance.models import BankTransaction
from finance.states import BankTransactionStatus
from tests.factories.cockpit import StoreStaffFactory


class FinanceStaffFactory(StoreStaffFactory):
    """`FinanceStaffFactory()`: a staff user (no store, no store permissions) in the Finance
    group; `permissions=[...]` adds single permissions besides."""

    username = factory.Sequence(lambda n: f"finance{n}")

    @factory.post_generation
    def permissions(self, create: bool, extracted: Any, **kwargs: Any) -> None:
        self.groups.add(finance_group_ensure())
        for app_label, codename in extracted or []:
            self.user_permissions.add(Permission.objects.get(
                content_type__app_label=app_label, codename=codename))
        self.save()  # the password


class UnmatchedTransactionFactory(factory.django.DjangoModelFactory):
    """Incoming money whose purpose named no order with anything owed: kept unmatched."""

    class Meta:
        model = BankTransaction

    reference = factory.Sequence(lambda n: f"BANK-2026-{n:06d}")
    amount = Decimal("119.00")
    currency = "EUR"
    booked_on = factory.LazyFunction(timezone.localdate)
    purpose = "Rechnung vom Maerz, Danke"
    status = BankTransactionStatus.UNMATCHED
    received_at = factory.LazyFunction(timezone.now)
    received_by = "erp"
