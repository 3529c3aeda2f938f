"""``manage.py import_purchase_prices --supplier CODE prices.csv [--apply-valid]``: load a
supplier's purchase prices (``sku;net_price;currency;tax_rate;valid_from``, UTF-8, `;`) and
print the validation report. With any bad row nothing is written unless ``--apply-valid``;
the command then fails (exit status 1) so a script notices."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from suppliers.models import Supplier
from suppliers.prices import purchase_prices_import


class Command(BaseCommand):
    help = "Import a supplier's purchase prices from a CSV file (sku;net_price;currency;" \
           "tax_rate;valid_from)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--supplier", required=True, help="The supplier's code.")
        parser.add_argument("file", help="The CSV file (UTF-8, ';'-separated, with header).")
        parser.add_argument("--apply-valid", action="store_true",
                            help="Write the valid rows even if other rows are bad.")

    def handle(self, *args: Any, supplier: str, file: str, apply_valid: bool,
               **options: Any) -> None:
        found = Supplier.objects.filter(code=supplier).first()
        if found is None:
            raise CommandError(f"no supplier with code {supplier!r}")
        try:
            content = Path(file).read_bytes()
        except OSError as exc:
            raise CommandError(f"cannot read {file}: {exc}") from None
        report = purchase_prices_import(supplier=found, content=content,
                                        apply_valid=apply_valid)
        for error in report.errors:
            sku = f" {error.sku}" if error.sku else ""
            self.stdout.write(f"line {error.row}{sku}: {error.code}: {error.message}")
        self.stdout.write(f"{report.rows} rows, {report.valid} valid, {len(report.errors)} "
                          f"errors; {report.created} prices created, {report.updated} updated")
        if report.errors and not report.applied:
            raise CommandError("nothing imported: fix the rows above, or use --apply-valid")
        if report.errors:
            raise CommandError("valid rows imported; the rows above were skipped")
        self.stdout.write(self.style.SUCCESS(f"prices of {found.code} imported"))
