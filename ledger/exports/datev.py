"""The ledger as a DATEV "Buchungsstapel" (DATEV-Format, EXTF), the file a tax advisor imports
into DATEV Rechnungswesen.

Followed: DATEV's developer documentation of the DATEV-Format (developer.datev.de, "DATEV-
Format" → "Header" and "Buchungsstapel"): header version 700, format category 21, format
version 13, whose example header line this module reproduces field for field; the 125 column
names of format version 13 in that order; fields separated by semicolons, text fields in
double quotes with quotes doubled and no control characters, CR/LF after every line,
Windows-1252 (characters it cannot hold become "?", never an error), amounts with a decimal
comma and always positive, the side in the Soll/Haben-Kennzeichen (S = debit, H = credit) of
the field Konto, Belegdatum as DDMM (the year comes from the header's period, which is why a
file covers one fiscal year at most), Belegfeld 1 at most 36 characters of letters, digits and
$ % & * + - /, Buchungstext at most 60.

From journal entries to bookings: DATEV books one amount from an account (Konto) to one other
(Gegenkonto); a journal entry may have several lines on a side. Each line of the side with more
lines becomes one booking, on its own account and side, against the line of the other side
(a sale: revenue and VAT each booked against the receivable, "H" on the revenue and VAT
accounts). If both sides have several lines, they are split greedily in the order posted: the
first debit line is booked against the first credit line for the smaller of the two amounts,
whichever line is used up gives way to the next line of its side, until both are used up (Dr A
60, Dr B 40 / Cr C 70, Cr D 30 → A/C 60, B/C 10, B/D 30); the side with more lines (the debit
side when both have as many) is the one whose accounts stand in Konto. BU-Schlüssel stays
empty: our VAT is booked on lines of its own (ledger.chart's vat accounts), not by DATEV's
automatic tax keys."""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from itertools import groupby, islice
from operator import itemgetter

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

from ledger.chart import chart
from ledger.selectors import ExportRow

CONTENT_TYPE = "text/csv; charset=windows-1252"
ENCODING = "cp1252"
CRLF = "\r\n"
HEADER_VERSION = 700
FORMAT_CATEGORY = 21  # Buchungsstapel
FORMAT_NAME = "Buchungsstapel"
FORMAT_VERSION = 13
ORIGIN = "OM"  # Herkunft: two characters naming the exporting program (DATEV replaces it)
EXPORTED_BY = "OMS"
BOOKING_TYPE = 1  # Buchungstyp: Finanzbuchführung
REFERENCE_MAX = 36  # Belegfeld 1
TEXT_MAX = 60  # Buchungstext
LABEL_MAX = 30  # Bezeichnung of the batch
BOOKINGS_PER_CHUNK = 5_000

# Buchungsstapel, format version 13: the column-name line, all 125 columns in order.
COLUMNS: tuple[str, ...] = (
    "Umsatz (ohne Soll/Haben-Kz)", "Soll/Haben-Kennzeichen", "WKZ Umsatz", "Kurs",
    "Basis-Umsatz", "WKZ Basis-Umsatz", "Konto", "Gegenkonto (ohne BU-Schlüssel)",
    "BU-Schlüssel", "Belegdatum", "Belegfeld 1", "Belegfeld 2", "Skonto", "Buchungstext",
    "Postensperre", "Diverse Adressnummer", "Geschäftspartnerbank", "Sachverhalt",
    "Zinssperre", "Beleglink",
    *(f"Beleginfo - {part} {n}" for n in range(1, 9) for part in ("Art", "Inhalt")),
    "KOST1 - Kostenstelle", "KOST2 - Kostenstelle", "Kost-Menge",
    "EU-Land u. UStID (Bestimmung)", "EU-Steuersatz (Bestimmung)", "Abw. Versteuerungsart",
    "Sachverhalt L+L", "Funktionsergänzung L+L", "BU 49 Hauptfunktionstyp",
    "BU 49 Hauptfunktionsnummer", "BU 49 Funktionsergänzung",
    *(f"Zusatzinformation{' ' if part == 'Art' else ''}- {part} {n}"
      for n in range(1, 21) for part in ("Art", "Inhalt")),
    "Stück", "Gewicht", "Zahlweise", "Forderungsart", "Veranlagungsjahr",
    "Zugeordnete Fälligkeit", "Skontotyp", "Auftragsnummer", "Buchungstyp",
    "USt-Schlüssel (Anzahlungen)", "EU-Land (Anzahlungen)", "Sachverhalt L+L (Anzahlungen)",
    "EU-Steuersatz (Anzahlungen)", "Erlöskonto (Anzahlungen)", "Herkunft-Kz",
    "Buchungs GUID", "KOST-Datum", "SEPA-Mandatsreferenz", "Skontosperre",
    "Gesellschaftername", "Beteiligtennummer", "Identifikationsnummer", "Zeichnernummer",
    "Postensperre bis", "Bezeichnung SoBil-Sachverhalt", "Kennzeichen SoBil-Buchung",
    "Festschreibung", "Leistungsdatum", "Datum Zuord. Steuerperiode", "Fälligkeit",
    "Generalumkehr (GU)", "Steuersatz", "Land", "Abrechnungsreferenz", "BVV-Position",
    "EU-Land u. UStID (Ursprung)", "EU-Steuersatz (Ursprung)", "Abw. Skontokonto",
)
FILLED = 14  # we fill columns 1 to 14 (Umsatz to Buchungstext); the rest stay empty
_EMPTY_REST = ";" * (len(COLUMNS) - FILLED)

# Text fields: no control characters (DATEV refuses line breaks and tabs inside a field),
# quotes doubled. One translation table, applied in C.
_TEXT_TABLE = {**{c: " " for c in range(0x20)}, 0x7F: " ", ord('"'): '""'}
_REFERENCE_REFUSED = re.compile(r"[^\w$%&*+\-/]")


@dataclass(frozen=True)
class Header:
    """What the header line says about the batch."""

    advisor: int  # Beraternummer
    client: int  # Mandantennummer
    fiscal_year_start: date  # WJ-Beginn
    account_length: int  # Sachkontenlänge
    start: date  # Datum vom
    end: date  # Datum bis
    created_at: datetime  # Erzeugt am
    chart: str  # SKR: "03" or "04"
    label: str = ""  # Bezeichnung
    currency: str = "EUR"  # WKZ


def _text(value: str, limit: int | None = None) -> str:
    if limit is not None:
        value = value[:limit]
    return f'"{value.translate(_TEXT_TABLE)}"'


def header_fields(header: Header) -> list[str]:
    """The 31 fields of the header line, in DATEV's order (see the module docstring)."""
    at = header.created_at  # YYYYMMDDHHMMSS and milliseconds
    created = (f"{_yyyymmdd(at)}{at.hour:02d}{at.minute:02d}{at.second:02d}"
               f"{at.microsecond // 1000:03d}")
    return [
        _text("EXTF"),                                  # 1 Kennzeichen: external program
        str(HEADER_VERSION),                            # 2 Versionsnummer
        str(FORMAT_CATEGORY),                           # 3 Formatkategorie
        _text(FORMAT_NAME),                             # 4 Formatname
        str(FORMAT_VERSION),                            # 5 Formatversion
        created,                                        # 6 Erzeugt am
        "",                                             # 7 Importiert (set by DATEV)
        _text(ORIGIN),                                  # 8 Herkunft
        _text(EXPORTED_BY),                             # 9 Exportiert von
        _text(""),                                      # 10 Importiert von (set by DATEV)
        str(header.advisor),                            # 11 Beraternummer
        str(header.client),                             # 12 Mandantennummer
        _yyyymmdd(header.fiscal_year_start),            # 13 WJ-Beginn
        str(header.account_length),                     # 14 Sachkontenlänge
        _yyyymmdd(header.start),                        # 15 Datum vom
        _yyyymmdd(header.end),                          # 16 Datum bis
        _text(header.label, LABEL_MAX),                 # 17 Bezeichnung
        _text(""),                                      # 18 Diktatkürzel
        str(BOOKING_TYPE),                              # 19 Buchungstyp
        "0",                                            # 20 Rechnungslegungszweck: any
        "0",                                            # 21 Festschreibung: not locked, the
                                                        #    advisor reviews before locking
        _text(header.currency),                         # 22 WKZ
        "",                                             # 23 reserviert
        _text(""),                                      # 24 Derivatskennzeichen
        "",                                             # 25 reserviert
        "",                                             # 26 reserviert
        _text(header.chart),                            # 27 SKR
        "",                                             # 28 Branchen-Lösungs-ID
        "",                                             # 29 reserviert
        _text(""),                                      # 30 reserviert
        _text(""),                                      # 31 Anwendungsinformation
    ]


def _yyyymmdd(day: date) -> str:
    return f"{day.year:04d}{day.month:02d}{day.day:02d}"


def header_line(header: Header) -> str:
    return ";".join(header_fields(header)) + CRLF


def column_line() -> str:
    return ";".join(COLUMNS) + CRLF


def fiscal_year_start(day: date, start_mmdd: str) -> date:
    """The first day of the fiscal year holding `day`, for a fiscal year starting on
    `start_mmdd` (MMDD, e.g. "0101" or "0701"); ValueError before the calendar's range."""
    month, dom = _month_day(start_mmdd)
    year = day.year if (day.month, day.day) >= (month, dom) else day.year - 1
    return date(year, month, dom)


def _month_day(start_mmdd: str) -> tuple[int, int]:
    try:
        if len(start_mmdd) != 4 or not start_mmdd.isdigit():
            raise ValueError(start_mmdd)
        month, dom = int(start_mmdd[:2]), int(start_mmdd[2:])
        date(2001, month, dom)  # a day every year has (no 29 February)
    except ValueError:
        raise ImproperlyConfigured(
            f"DATEV_FISCAL_YEAR_START must be MMDD of a day every year has, "
            f"not {start_mmdd!r}") from None
    return month, dom


def next_fiscal_year_start(day: date, start_mmdd: str) -> date:
    """The first day of the fiscal year after the one holding `day`; ValueError past the
    calendar's range (year 9999)."""
    start = fiscal_year_start(day, start_mmdd)
    return start.replace(year=start.year + 1)


def header_from_settings(*, start: date, end: date, created_at: datetime) -> Header:
    """The header of a batch of the period `start`..`end` with the advisor's numbers from the
    settings (DATEV_ADVISOR_NUMBER, DATEV_CLIENT_NUMBER, DATEV_FISCAL_YEAR_START,
    DATEV_ACCOUNT_LENGTH) and the chart in use (LEDGER_CHART)."""
    advisor, client = str(settings.DATEV_ADVISOR_NUMBER), str(settings.DATEV_CLIENT_NUMBER)
    length = int(settings.DATEV_ACCOUNT_LENGTH)
    # The ranges DATEV's header accepts.
    if not (advisor.isdigit() and 1001 <= int(advisor) <= 9_999_999):
        raise ImproperlyConfigured("DATEV_ADVISOR_NUMBER must be a number from 1001 to 9999999")
    if not (client.isdigit() and 1 <= int(client) <= 99_999):
        raise ImproperlyConfigured("DATEV_CLIENT_NUMBER must be a number from 1 to 99999")
    if not 4 <= length <= 8:
        raise ImproperlyConfigured("DATEV_ACCOUNT_LENGTH must be from 4 to 8")
    return Header(
        advisor=int(advisor), client=int(client),
        fiscal_year_start=fiscal_year_start(start, str(settings.DATEV_FISCAL_YEAR_START)),
        account_length=length, start=start, end=end, created_at=created_at,
        chart=chart().removeprefix("SKR"),
        label=f"OMS {_yyyymmdd(start)}-{_yyyymmdd(end)}")


# --- bookings ------------------------------------------------------------------------------

def amount_field(amount: Decimal) -> str:
    """Umsatz: two decimals, a decimal comma, no sign, no thousands separator."""
    text = str(amount)  # the database's numeric(14, 2) prints with two decimals already
    if text[-3:-2] != "." or "E" in text:
        text = f"{amount:.2f}"
    return text.replace(".", ",")


def date_field(day: date) -> str:
    """Belegdatum: DDMM."""
    return f"{day.day:02d}{day.month:02d}"


def reference_field(reference: str) -> str:
    """Belegfeld 1: at most 36 characters DATEV accepts; any other character becomes "-"."""
    reference = reference[:REFERENCE_MAX]
    if not reference.isalnum() and _REFERENCE_REFUSED.search(reference):
        reference = _REFERENCE_REFUSED.sub("-", reference)
    return f'"{reference}"'


def text_field(text: str) -> str:
    """Buchungstext: at most 60 characters, quoted."""
    text = text[:TEXT_MAX]
    if text.isprintable() and '"' not in text:  # the common case, checked in C
        return f'"{text}"'
    return _text(text)


# One side of a booking: (account number, amount).
Leg = tuple[str, Decimal]
# One booking: (Konto, Soll/Haben-Kennzeichen, Gegenkonto, Umsatz).
Split = tuple[str, str, str, Decimal]


def split_entry(debits: Sequence[Leg], credits: Sequence[Leg]) -> list[Split]:
    """The bookings of one journal entry, the legs in the order posted (see the module
    docstring). Raises ValueError for an entry that does not balance (the database never
    holds one)."""
    if len(credits) == 1 and debits:
        # One line against the lines of the other side: every entry our posting rules make.
        contra, total = credits[0]
        if total != (debits[0][1] if len(debits) == 1 else sum(a for _, a in debits)):
            raise ValueError("the journal entry does not balance")
        return [(account, "S", contra, amount) for account, amount in debits]
    if len(debits) == 1 and credits:
        contra, total = debits[0]
        if total != sum(a for _, a in credits):
            raise ValueError("the journal entry does not balance")
        return [(account, "H", contra, amount) for account, amount in credits]
    if not debits or not credits or sum(a for _, a in debits) != sum(a for _, a in credits):
        raise ValueError("the journal entry does not balance")
    debit_side = len(debits) >= len(credits)
    out: list[Split] = []
    d = c = 0
    d_left, c_left = debits[0][1], credits[0][1]
    while d < len(debits) and c < len(credits):
        amount = min(d_left, c_left)
        if debit_side:
            out.append((debits[d][0], "S", credits[c][0], amount))
        else:
            out.append((credits[c][0], "H", debits[d][0], amount))
        d_left -= amount
        c_left -= amount
        if not d_left:
            d += 1
            d_left = debits[d][1] if d < len(debits) else d_left
        if not c_left:
            c += 1
            c_left = credits[c][1] if c < len(credits) else c_left
    return out


def _head(amount: Decimal, side: str, account: str, contra: str) -> str:
    # Umsatz; Soll/Haben; WKZ Umsatz, Kurs, Basis-Umsatz, WKZ Basis-Umsatz (empty: the
    # header's currency); Konto; Gegenkonto
    return f'{amount_field(amount)};"{side}";;;;;{account};{contra}'


def _tail(ddmm: str, reference: str, text: str) -> str:
    # BU-Schlüssel (empty); Belegdatum; Belegfeld 1; Belegfeld 2, Skonto (empty);
    # Buchungstext; columns 15 to 125 empty; CRLF
    return (f';"";{ddmm};{reference_field(reference)};;;{text_field(text)}'
            f"{_EMPTY_REST}{CRLF}")


def booking_line(*, amount: Decimal, side: str, account: str, contra: str, day: date,
                 reference: str, text: str) -> str:
    """One booking: the 125 fields, columns 1-14 filled, then CRLF."""
    return _head(amount, side, account, contra) + _tail(date_field(day), reference, text)


_ENTRY = itemgetter(1)


def booking_lines(rows: Iterable[ExportRow]) -> Iterator[str]:
    """The booking lines of export rows (`ledger.selectors.ExportRow`, an entry's lines
    together). What an entry's bookings share (date, document, text) is formatted once per
    entry, a date once per day: a million lines take seconds (bench/ledger_export)."""
    last_day, ddmm = None, ""
    for _, group in groupby(rows, key=_ENTRY):
        debits, credits = [], []
        for line in group:
            if line[6]:
                debits.append((line[4], line[6]))
            else:
                credits.append((line[4], line[7]))
        day, _, reference, text = line[:4]
        if day != last_day:
            last_day, ddmm = day, date_field(day)
        tail = _tail(ddmm, reference, text)
        for account, side, contra, amount in split_entry(debits, credits):
            # _head, inlined: a function call per booking is a tenth of the export's time
            yield f'{amount_field(amount)};"{side}";;;;;{account};{contra}{tail}'


def datev_chunks(header: Header, rows: Iterable[ExportRow], *,
                 bookings_per_chunk: int = BOOKINGS_PER_CHUNK) -> Iterator[bytes]:
    """The whole file in Windows-1252 pieces: the header line, the column line, then the
    bookings `bookings_per_chunk` at a time (memory holds one piece, never the file)."""
    yield (header_line(header) + column_line()).encode(ENCODING, errors="replace")
    lines = booking_lines(rows)
    while True:
        piece = "".join(islice(lines, bookings_per_chunk))
        if not piece:
            return
        yield piece.encode(ENCODING, errors="replace")
