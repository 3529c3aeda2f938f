"""A period's journal as a file, streamed: plain CSV (`ledger.exports.csv`) or a DATEV
Buchungsstapel (`ledger.exports.datev`). One code path for the API, the `ledger_export`
command and the benchmark: `export_check` refuses a period the format cannot hold,
`ledger_export` gives the file's pieces, read from a server-side cursor as they are sent."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import date, datetime

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from ledger.exports import csv as csv_format
from ledger.exports import datev
from ledger.selectors import ExportRow, Period, export_rows
from oms.core.errors import InvalidInput


class ExportFormat(models.TextChoices):
    CSV = "csv", gettext_lazy("CSV")
    DATEV = "datev", gettext_lazy("DATEV Buchungsstapel")


@dataclass(frozen=True)
class ExportFile:
    chunks: Iterator[bytes]
    content_type: str
    filename: str


def export_check(*, fmt: str, start: date, end: date) -> None:
    """Refuse a period the file cannot describe, before anything is read: `start` after
    `end`; for DATEV, a period reaching into a second fiscal year (the bookings' dates carry
    no year: DATEV takes it from the header, so a batch lies within one fiscal year)."""
    if start > end:
        raise InvalidInput([("invalid_period", _("'from' must not be after 'to'."), "from")])
    if fmt == ExportFormat.DATEV:
        try:
            next_start = datev.next_fiscal_year_start(
                start, str(settings.DATEV_FISCAL_YEAR_START))
        except ValueError:  # a fiscal year beginning before year 1 or ending after 9999
            raise InvalidInput([("invalid_period", _(
                "A DATEV batch needs a period within the years 2 to 9998."), "from")]) from None
        if end >= next_start:
            raise InvalidInput([("period_spans_fiscal_years", _(
                "A DATEV batch covers one fiscal year at most: end the period before "
                "%(date)s, and export the rest in another file.")
                % {"date": next_start.isoformat()}, "to")])


def _compact(day: date) -> str:
    return day.isoformat().replace("-", "")  # YYYYMMDD, the year always four digits


def ledger_export(*, fmt: str, start: date, end: date, rows: Iterable[ExportRow] | None = None,
                  now: datetime | None = None) -> ExportFile:
    """The journal lines booked from `start` to `end` (both included) as a file in `fmt`.
    Nothing is read until the first piece is asked for; `rows` replaces the database's rows
    (the command wraps them in its progress bar)."""
    export_check(fmt=fmt, start=start, end=end)
    if rows is None:
        rows = export_rows(period=Period(start, end))
    if fmt == ExportFormat.CSV:
        return ExportFile(csv_format.csv_chunks(rows), csv_format.CONTENT_TYPE,
                          f"ledger_{_compact(start)}_{_compact(end)}.csv")
    created = timezone.localtime(now or timezone.now())  # "Erzeugt am": the local time
    header = datev.header_from_settings(start=start, end=end, created_at=created)
    # DATEV's import expects the file name to start with EXTF_.
    return ExportFile(datev.datev_chunks(header, rows), datev.CONTENT_TYPE,
                      f"EXTF_Buchungsstapel_{_compact(start)}_{_compact(end)}.csv")
