"""``manage.py ledger_export --from 2026-01-01 --to 2026-01-31 --format datev --output
EXTF_Buchungsstapel.csv``: a period's journal written to a file, the same file
``GET /api/v1/ledger/export`` streams, with a progress bar on stderr.

The bar is tqdm's (a small, maintained package without dependencies of its own): it knows the
number of journal lines up front (one count query) and shows lines/s and the time left; it is
left out with ``--verbosity 0``. The file is written beside its destination and moved into
place only once complete, so a failed or interrupted export never leaves half a file under
the name asked for."""

from __future__ import annotations

import contextlib
import os
import sys
from collections.abc import Iterable, Iterator
from datetime import date
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from tqdm import tqdm

from ledger.exports import ExportFormat, export_check, ledger_export
from ledger.selectors import ExportRow, Period, export_line_count, export_rows
from oms.core.errors import DomainError

PROGRESS_EVERY = 10_000  # lines between two updates of the bar: its cost stays negligible


def _day(value: str) -> date:
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise CommandError(f"not a date (YYYY-MM-DD): {value!r}") from None


def _counted(rows: Iterable[ExportRow], bar: tqdm) -> Iterator[ExportRow]:
    n = 0
    for n, row in enumerate(rows, 1):
        yield row
        if not n % PROGRESS_EVERY:
            bar.update(PROGRESS_EVERY)
    bar.update(n % PROGRESS_EVERY)


class Command(BaseCommand):
    help = ("Write the journal lines booked from --from to --to (both included) to --output, "
            "as CSV or as a DATEV Buchungsstapel (EXTF, Windows-1252), with a progress bar.")

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--from", dest="start", required=True, type=str,
                            help="first booking date, YYYY-MM-DD")
        parser.add_argument("--to", dest="end", required=True, type=str,
                            help="last booking date, YYYY-MM-DD")
        parser.add_argument("--format", dest="fmt", choices=ExportFormat.values,
                            default=ExportFormat.CSV, help="csv (default) or datev")
        parser.add_argument("--output", required=True, type=Path,
                            help="the file to write (replaced if it exists)")

    def handle(self, *args: Any, **options: Any) -> None:
        start, end, fmt = _day(options["start"]), _day(options["end"]), options["fmt"]
        output: Path = options["output"]
        try:
            export_check(fmt=fmt, start=start, end=end)
        except DomainError as exc:
            raise CommandError(exc.detail) from None
        if not output.parent.is_dir():
            raise CommandError(f"no such directory: {output.parent}")
        period = Period(start, end)
        total = export_line_count(period=period)
        partial = output.with_name(f".{output.name}.part")
        # 247k/1.00M for a large export, 5/5 for a small one
        with tqdm(total=total, unit=" lines", unit_scale=total >= 10_000, file=sys.stderr,
                  mininterval=0.5, disable=options["verbosity"] == 0,
                  desc=f"{fmt} {start}..{end}") as bar:
            rows = _counted(export_rows(period=period), bar)
            export = ledger_export(fmt=fmt, start=start, end=end, rows=rows)
            try:
                with partial.open("wb") as out:
                    for chunk in export.chunks:
                        out.write(chunk)
                os.replace(partial, output)
            except BaseException:
                with contextlib.suppress(OSError):
                    partial.unlink()
                raise
        self.stdout.write(f"{total} journal lines from {start} to {end} written to {output} "
                          f"({fmt})")
