"""``manage.py supplier_statement --supplier CODE --month 2026-12 [--output file.csv]``: the
monthly statement of what a supplier is owed (suppliers.statements), for finance. Without
``--output`` the CSV goes to standard output."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from suppliers.models import Supplier
from suppliers.statements import month_parse, statement_csv


class Command(BaseCommand):
    help = "Write a supplier's monthly settlement statement as CSV."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--supplier", required=True, help="The supplier's code.")
        parser.add_argument("--month", required=True, help="The month, YYYY-MM.")
        parser.add_argument("--output", help="The file to write (default: standard output).")

    def handle(self, *args: Any, supplier: str, month: str, output: str | None,
               **options: Any) -> None:
        found = Supplier.objects.filter(code=supplier).first()
        if found is None:
            raise CommandError(f"no supplier with code {supplier!r}")
        first = month_parse(month)
        if first is None:
            raise CommandError(f"not a month (YYYY-MM): {month!r}")
        content = statement_csv(found, first)
        if output:
            Path(output).write_bytes(content)
            self.stdout.write(self.style.SUCCESS(f"statement written to {output}"))
        else:
            self.stdout.write(content.decode("utf-8"), ending="")
