"""``manage.py create_supplier_user <email> --supplier CODE [--password P] [--name "Nora Berg"]
[--base-url https://oms.example.de]``

Without --password the new account has none yet: the command prints a link where the person
chooses one (send it to them; it is valid for PASSWORD_RESET_TIMEOUT)."""

from __future__ import annotations

from typing import Any
from urllib.parse import urljoin

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser

from oms.core.errors import InvalidInput
from suppliers.accounts import password_reset_path, supplier_user_create


class Command(BaseCommand):
    help = "Create a supplier portal user (the e-mail address is the username)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("email")
        parser.add_argument("--supplier", required=True, help="the supplier's code")
        parser.add_argument("--password", default="")
        parser.add_argument("--name", default="", help="first and last name")
        parser.add_argument("--base-url",
                            default=settings.SUPPLIER_PORTAL_URL or "http://127.0.0.1:8000/",
                            help="where the portal is reached, for the printed link "
                                 "(default: SUPPLIER_PORTAL_URL)")

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            link = supplier_user_create(email=options["email"], supplier_code=options["supplier"],
                                        password=options["password"] or None,
                                        name=options["name"])
        except InvalidInput as exc:
            raise CommandError("; ".join(e["detail"] for e in exc.errors())) from exc
        self.stdout.write(f"Created supplier user {link.user.username} "
                          f"({link.supplier.code} {link.supplier.name}).")
        if not options["password"]:
            self.stdout.write("No password yet; they choose one here:")
            self.stdout.write(urljoin(options["base_url"], password_reset_path(link.user)))
