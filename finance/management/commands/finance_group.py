"""``manage.py finance_group [username ...]``: create the "Finance" group (or bring its
permissions up to date) and add the named staff users to it; they then see the finance
cockpit at /cockpit/finance/ (finance.cockpit.access). Safe to run again."""

from __future__ import annotations

from typing import Any

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError, CommandParser

from finance.cockpit.access import PermissionsMissing, finance_group_ensure


class Command(BaseCommand):
    help = "Create or update the Finance group and add staff users to it."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("usernames", nargs="*",
                            help="Staff users to add to the group (they must exist).")

    def handle(self, *args: Any, usernames: list[str], **options: Any) -> None:
        users = get_user_model().objects.filter(username__in=usernames)
        found = {user.get_username(): user for user in users}
        unknown = sorted(set(usernames) - set(found))
        if unknown:
            raise CommandError(f"no such user: {', '.join(unknown)}")
        try:
            group = finance_group_ensure()
        except PermissionsMissing as exc:
            raise CommandError(str(exc)) from None
        for name, user in sorted(found.items()):
            user.groups.add(group)
            # The cockpit is for staff: a user without `is_staff` is sent to the login form.
            note = "" if user.is_staff else " (not staff: cannot log in to the cockpit)"
            self.stdout.write(f"{name} added to {group.name}{note}")
        self.stdout.write(self.style.SUCCESS(
            f"group {group.name}: {group.permissions.count()} permissions"))
