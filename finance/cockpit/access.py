"""Who may use the finance cockpit: staff users (`is_staff`) with the model permissions below,
which the Django group "Finance" holds. The group is made and kept up to date by
``manage.py finance_group`` (no data migration: a fresh database and a test database get it
the same way, and running it again after new permissions were added brings the group up to
date). Superusers have every permission.

Permissions, not the group's name, are checked: an administrator may give one person a part
of them (reading without write-offs, say) without a second group."""

from __future__ import annotations

from django.contrib.auth.models import Group, Permission
from django.db import transaction
from django.db.models import Q

FINANCE_GROUP = "Finance"

# What the screens ask for.
VIEW = "finance.view_openitem"  # every finance screen; the "Finance" tab
CHANGE_ITEMS = "finance.change_openitem"  # dispute, undispute, write off
MATCH = "finance.change_banktransaction"  # match a bank transaction by hand
RUN_DUNNING = "finance.add_dunningnotice"  # run the dunning sweep now
LEDGER = "ledger.view_journalentry"  # trial balance and exports

# The group's permissions: the screens' and reading the finance and ledger rows in the admin.
GROUP_PERMISSIONS: list[tuple[str, str]] = [
    ("finance", "view_openitem"), ("finance", "change_openitem"),
    ("finance", "view_openitemevent"), ("finance", "view_settlement"),
    ("finance", "view_banktransaction"), ("finance", "change_banktransaction"),
    ("finance", "view_customercredit"), ("finance", "view_paymentterms"),
    ("finance", "view_dunninglevel"), ("finance", "view_dunningnotice"),
    ("finance", "add_dunningnotice"),
    ("ledger", "view_account"), ("ledger", "view_journalentry"), ("ledger", "view_journalline"),
]


class PermissionsMissing(RuntimeError):
    """The database lacks permissions the group needs: `migrate` has not run yet."""


def finance_group_ensure() -> Group:
    """The "Finance" group with exactly `GROUP_PERMISSIONS` (created, or brought up to date)."""
    wanted = Q()
    for app_label, codename in GROUP_PERMISSIONS:
        wanted |= Q(content_type__app_label=app_label, codename=codename)
    permissions = list(Permission.objects.filter(wanted))
    if len(permissions) != len(GROUP_PERMISSIONS):
        found = {(p.content_type.app_label, p.codename)
                 for p in Permission.objects.select_related("content_type").filter(wanted)}
        missing = ", ".join(f"{a}.{c}" for a, c in GROUP_PERMISSIONS if (a, c) not in found)
        raise PermissionsMissing(f"permissions missing (run migrate first): {missing}")
    with transaction.atomic():
        group, _created = Group.objects.get_or_create(name=FINANCE_GROUP)
        group.permissions.set(permissions)
    return group
