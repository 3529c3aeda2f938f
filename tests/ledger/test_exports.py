"""The export files field by field: plain CSV and the DATEV Buchungsstapel (EXTF header line,
column line, bookings with decimal comma, S/H, DDMM dates, Belegfeld 1 and Buchungstext
limits, CRLF, Windows-1252), how journal entries become DATEV bookings, and the period checks.
The formatting is tested on rows built here; the last tests read entries posted through
`entry_post` from the database, as the API and the command do."""

from __future__ import annotations

import csv
import io
from datetime import UTC, date, datetime
from decimal import Decimal

import pytest
from django.core.exceptions import ImproperlyConfigured

from ledger.exports import ExportFormat, export_check, ledger_export
from ledger.exports.csv import HEADER, csv_chunks
from ledger.exports.datev import (
    COLUMNS,
    Header,
    amount_field,
    booking_line,
    booking_lines,
    column_line,
    datev_chunks,
    fiscal_year_start,
    header_fields,
    header_from_settings,
    header_line,
    split_entry,
)
from ledger.selectors import Period, export_rows
from oms.core.errors import InvalidInput
from tests.ledger.journal_factories import PaymentFactory, SaleFactory

D = Decimal
JAN_7 = date(2026, 1, 7)


def row(entry: int, account: str, debit: str = "0.00", credit: str = "0.00", *,
        day: date = JAN_7, reference: str = "1000001", text: str = "Verkauf 1000001",
        name: str = "Konto") -> tuple:
    return (day, entry, reference, text, account, name, D(debit), D(credit))


SALE = [row(1, "1400", debit="119.00"), row(1, "8400", credit="100.00"),
        row(1, "1776", credit="19.00")]


def header(**overrides: object) -> Header:
    fields = {"advisor": 29098, "client": 55003, "fiscal_year_start": date(2026, 1, 1),
              "account_length": 4, "start": date(2026, 1, 1), "end": date(2026, 1, 31),
              "created_at": datetime(2026, 2, 3, 14, 5, 6, 789000), "chart": "03",
              "label": "OMS 20260101-20260131"}
    return Header(**{**fields, **overrides})


def fields_of(line: str) -> list[str]:
    assert line.endswith("\r\n")
    return line.removesuffix("\r\n").split(";")


def datev_text(chunks: list[bytes]) -> str:
    return b"".join(chunks).decode("cp1252")


# --- CSV ------------------------------------------------------------------------------------
def test_csv_has_a_header_line_and_one_line_per_journal_line_field_by_field() -> None:
    # given the three lines of a sale, its text with an umlaut and a comma
    rows = [row(7, "1400", debit="119.00", text="Verkauf 1000001, Müller",
                name="Forderungen aus Lieferungen und Leistungen"),
            row(7, "8400", credit="100.00", text="Verkauf 1000001, Müller", name="Erlöse 19 %")]
    # when they are written as CSV
    data = b"".join(csv_chunks(rows))
    # then it is UTF-8 with CRLF line ends, a header line, and the fields as named
    text = data.decode("utf-8")
    assert text.count("\r\n") == 3 and "\n" not in text.replace("\r\n", "")
    lines = list(csv.reader(io.StringIO(text, newline="")))
    assert lines[0] == list(HEADER) == ["date", "entry", "reference", "text", "account",
                                        "account_name", "debit", "credit"]
    assert lines[1] == ["2026-01-07", "7", "1000001", "Verkauf 1000001, Müller", "1400",
                        "Forderungen aus Lieferungen und Leistungen", "119.00", "0.00"]
    assert lines[2] == ["2026-01-07", "7", "1000001", "Verkauf 1000001, Müller", "8400",
                        "Erlöse 19 %", "0.00", "100.00"]
    assert "Müller".encode() in data


def test_csv_quotes_what_needs_quoting_as_the_csv_module_reads_it() -> None:
    tricky = ['Gutschein "Sommer", 10 %', "zwei\r\nZeilen", "Kasse ST-BER", ""]
    rows = [row(n, "1000", debit="1.00", reference=text, text=text, name=text)
            for n, text in enumerate(tricky, 1)]
    data = b"".join(csv_chunks(rows)).decode()
    assert data.splitlines()[1].startswith('2026-01-07,1,"Gutschein ""Sommer"", 10 %",')
    parsed = list(csv.reader(io.StringIO(data, newline="")))[1:]
    assert [(p[2], p[3], p[5]) for p in parsed] == [(t, t, t) for t in tricky]
    written = io.StringIO()
    csv.writer(written, lineterminator="\r\n").writerows([HEADER, *rows])
    assert data == written.getvalue()  # the same bytes as Python's csv module writes


def test_csv_comes_in_pieces_that_make_the_same_file() -> None:
    rows = [row(n, "1400", debit="1.00") for n in range(1, 8)]
    pieces = list(csv_chunks(rows, rows_per_chunk=3))
    assert len(pieces) == 1 + 3  # the header line, then 3 + 3 + 1 lines
    assert b"".join(pieces) == b"".join(csv_chunks(rows))


def test_csv_of_no_rows_is_the_header_line() -> None:
    assert b"".join(csv_chunks([])) == b"date,entry,reference,text,account,account_name," \
                                       b"debit,credit\r\n"


# --- DATEV header and column line -----------------------------------------------------------
def test_the_datev_header_line_has_its_31_fields_in_datevs_order() -> None:
    fields = fields_of(header_line(header()))
    assert len(fields) == 31
    assert fields[0] == '"EXTF"'  # 1 external program
    assert fields[1] == "700"  # 2 header version
    assert fields[2] == "21"  # 3 format category: Buchungsstapel
    assert fields[3] == '"Buchungsstapel"'  # 4 format name
    assert fields[4] == "13"  # 5 format version
    assert fields[5] == "20260203140506789"  # 6 created, with milliseconds
    assert fields[6] == ""  # 7 imported: set by DATEV
    assert fields[7] == '"OM"'  # 8 origin
    assert fields[8] == '"OMS"'  # 9 exported by
    assert fields[9] == '""'  # 10 imported by: set by DATEV
    assert fields[10] == "29098"  # 11 advisor number
    assert fields[11] == "55003"  # 12 client number
    assert fields[12] == "20260101"  # 13 fiscal year start
    assert fields[13] == "4"  # 14 account length
    assert fields[14] == "20260101"  # 15 period from
    assert fields[15] == "20260131"  # 16 period to
    assert fields[16] == '"OMS 20260101-20260131"'  # 17 label
    assert fields[17] == '""'  # 18 dictation code
    assert fields[18] == "1"  # 19 booking type: financial accounting
    assert fields[19] == "0"  # 20 accounting purpose
    assert fields[20] == "0"  # 21 not locked (Festschreibung)
    assert fields[21] == '"EUR"'  # 22 currency
    assert fields[22] == "" and fields[24] == "" and fields[25] == ""  # reserved
    assert fields[23] == '""'  # 24 derivative code
    assert fields[26] == '"03"'  # 27 chart SKR03
    assert fields[27:] == ["", "", '""', '""']  # 28 industry id, reserved, 31 app info


def test_the_header_takes_the_advisor_numbers_and_the_chart_from_settings(settings) -> None:
    settings.DATEV_ADVISOR_NUMBER = "4711"
    settings.DATEV_CLIENT_NUMBER = "12345"
    settings.DATEV_FISCAL_YEAR_START = "0701"
    settings.DATEV_ACCOUNT_LENGTH = 5
    settings.LEDGER_CHART = "SKR04"
    made = header_from_settings(start=date(2026, 3, 1), end=date(2026, 3, 31),
                                created_at=datetime(2026, 4, 1, 8, 0))
    fields = header_fields(made)
    assert (fields[10], fields[11], fields[12], fields[13]) == ("4711", "12345", "20250701",
                                                                "5")
    assert (fields[14], fields[15], fields[26]) == ("20260301", "20260331", '"04"')


@pytest.mark.parametrize(("name", "value"), [
    ("DATEV_ADVISOR_NUMBER", "999"), ("DATEV_ADVISOR_NUMBER", "abc"),
    ("DATEV_CLIENT_NUMBER", "100000"), ("DATEV_ACCOUNT_LENGTH", 9),
    ("DATEV_FISCAL_YEAR_START", "1301"), ("DATEV_FISCAL_YEAR_START", "0229"),
])
def test_settings_datev_cannot_take_are_refused(settings, name: str, value: object) -> None:
    setattr(settings, name, value)
    with pytest.raises(ImproperlyConfigured):
        header_from_settings(start=date(2026, 1, 1), end=date(2026, 1, 31),
                             created_at=datetime(2026, 2, 1))


def test_the_fiscal_year_start_is_that_of_the_year_holding_the_period() -> None:
    assert fiscal_year_start(date(2026, 5, 3), "0101") == date(2026, 1, 1)
    assert fiscal_year_start(date(2026, 5, 3), "0701") == date(2025, 7, 1)
    assert fiscal_year_start(date(2026, 7, 1), "0701") == date(2026, 7, 1)


def test_the_column_line_names_the_125_columns_of_format_version_13() -> None:
    names = fields_of(column_line())
    assert len(names) == len(COLUMNS) == 125
    assert names[:14] == [
        "Umsatz (ohne Soll/Haben-Kz)", "Soll/Haben-Kennzeichen", "WKZ Umsatz", "Kurs",
        "Basis-Umsatz", "WKZ Basis-Umsatz", "Konto", "Gegenkonto (ohne BU-Schlüssel)",
        "BU-Schlüssel", "Belegdatum", "Belegfeld 1", "Belegfeld 2", "Skonto", "Buchungstext"]
    assert names[113] == "Festschreibung" and names[-1] == "Abw. Skontokonto"


# --- DATEV bookings -------------------------------------------------------------------------
def test_a_booking_line_field_by_field() -> None:
    line = booking_line(amount=D("1234.5"), side="H", account="8400", contra="1400",
                        day=JAN_7, reference="1000001", text="Verkauf 1000001")
    fields = fields_of(line)
    assert len(fields) == 125
    assert fields[0] == "1234,50"  # Umsatz: decimal comma, two decimals, no sign
    assert fields[1] == '"H"'  # Soll/Haben-Kennzeichen of Konto
    assert fields[2:6] == ["", "", "", ""]  # currency from the header, no exchange rate
    assert fields[6] == "8400"  # Konto
    assert fields[7] == "1400"  # Gegenkonto (ohne BU-Schlüssel)
    assert fields[8] == '""'  # BU-Schlüssel: none, VAT is booked on its own lines
    assert fields[9] == "0701"  # Belegdatum DDMM, leading zeros kept
    assert fields[10] == '"1000001"'  # Belegfeld 1
    assert fields[11:13] == ["", ""]  # Belegfeld 2, Skonto
    assert fields[13] == '"Verkauf 1000001"'  # Buchungstext
    assert set(fields[14:]) == {""}


@pytest.mark.parametrize(("amount", "field"), [
    ("0.01", "0,01"), ("19.00", "19,00"), ("1234567.89", "1234567,89"), ("5", "5,00"),
    ("100.5", "100,50")])
def test_amounts_have_a_decimal_comma_and_two_decimals(amount: str, field: str) -> None:
    assert amount_field(D(amount)) == field


def test_belegfeld_1_is_cut_at_36_characters_and_keeps_to_datevs_characters() -> None:
    long = "R" + "1234567890" * 4
    fields = fields_of(booking_line(amount=D("1.00"), side="S", account="1", contra="2",
                                    day=JAN_7, reference=long, text="x"))
    assert fields[10] == f'"{long[:36]}"' and len(fields[10]) == 36 + 2
    fields = fields_of(booking_line(amount=D("1.00"), side="S", account="1", contra="2",
                                    day=JAN_7, reference="GS 1000001/2;x", text="x"))
    assert fields[10] == '"GS-1000001/2-x"'  # no blank, no semicolon in Belegfeld 1


def test_buchungstext_is_cut_at_60_characters_with_quotes_doubled_and_no_line_breaks() -> None:
    text = "Storno " + "x" * 70
    fields = fields_of(booking_line(amount=D("1.00"), side="S", account="1", contra="2",
                                    day=JAN_7, reference="1", text=text))
    assert fields[13] == f'"{text[:60]}"'
    line = booking_line(amount=D("1.00"), side="S", account="1", contra="2", day=JAN_7,
                        reference="1", text='Gutschein "Sommer"\r\nzweite Zeile')
    assert '"Gutschein ""Sommer""  zweite Zeile"' in line
    assert line.count("\r\n") == 1 and line.endswith("\r\n")


def test_a_sale_becomes_revenue_and_vat_each_booked_against_the_receivable() -> None:
    lines = list(booking_lines(SALE))
    assert [fields_of(ln)[:4] + fields_of(ln)[6:8] for ln in lines] == [
        ["100,00", '"H"', "", "", "8400", "1400"],
        ["19,00", '"H"', "", "", "1776", "1400"]]


def test_a_return_books_its_debit_lines_against_the_receivable() -> None:
    ret = [row(2, "8720", debit="100.00"), row(2, "1776", debit="19.00"),
           row(2, "1400", credit="119.00")]
    assert split_entry([("8720", D("100.00")), ("1776", D("19.00"))],
                       [("1400", D("119.00"))]) == [("8720", "S", "1400", D("100.00")),
                                                     ("1776", "S", "1400", D("19.00"))]
    assert [fields_of(ln)[1] for ln in booking_lines(ret)] == ['"S"', '"S"']


def test_a_two_line_entry_is_one_booking_on_the_debit_account() -> None:
    assert split_entry([("1361", D("119.00"))], [("1400", D("119.00"))]) == [
        ("1361", "S", "1400", D("119.00"))]


def test_several_lines_on_both_sides_are_split_greedily_in_order() -> None:
    # Dr A 60, Dr B 40 / Cr C 70, Cr D 30
    assert split_entry([("A", D("60")), ("B", D("40"))], [("C", D("70")), ("D", D("30"))]) == [
        ("A", "S", "C", D("60")), ("B", "S", "C", D("10")), ("B", "S", "D", D("30"))]
    # more credit lines: the credit accounts stand in Konto, "H"
    assert split_entry([("A", D("50")), ("B", D("50"))],
                       [("C", D("30")), ("D", D("30")), ("E", D("40"))]) == [
        ("C", "H", "A", D("30")), ("D", "H", "A", D("20")), ("D", "H", "B", D("10")),
        ("E", "H", "B", D("40"))]


@pytest.mark.parametrize(("debits", "credits"), [
    ([("A", D("10"))], [("B", D("9"))]),
    ([("A", D("10")), ("B", D("1"))], [("C", D("10"))]),
    ([("A", D("10")), ("B", D("1"))], [("C", D("5")), ("D", D("5"))]),
    ([], [("C", D("5"))]),
])
def test_an_entry_that_does_not_balance_is_refused(debits: list, credits: list) -> None:
    with pytest.raises(ValueError, match="does not balance"):
        split_entry(debits, credits)


def test_the_datev_file_is_windows_1252_with_crlf_and_replaces_what_it_cannot_hold() -> None:
    rows = [row(3, "1400", debit="10.00", text="Müßig € café ✓ Łódź"),
            row(3, "8400", credit="10.00", text="Müßig € café ✓ Łódź")]
    data = b"".join(datev_chunks(header(), rows))
    assert "Müßig € café".encode("cp1252") in data
    assert b"\xfc" in data and b"\x80" in data  # ü and € as Windows-1252 bytes
    assert '"Müßig € café ? ?ód?"' in data.decode("cp1252")  # ✓, Ł and ź it cannot hold
    lines = data.split(b"\r\n")
    assert lines[-1] == b"" and not any(b"\n" in ln or b"\r" in ln for ln in lines)
    assert len(lines) == 2 + 1 + 1  # header, columns, one booking, the end


def test_the_datev_file_in_pieces_is_the_same_file() -> None:
    rows = [r for n in range(1, 6) for r in [row(n, "1400", debit="2.00"),
                                              row(n, "8400", credit="2.00")]]
    pieces = list(datev_chunks(header(), rows, bookings_per_chunk=2))
    assert len(pieces) == 1 + 3
    assert b"".join(pieces) == b"".join(datev_chunks(header(), rows))


# --- through the database -------------------------------------------------------------------
@pytest.mark.django_db
def test_the_export_reads_the_period_in_journal_order(settings) -> None:
    # given entries posted out of date order, one of them outside the period
    later = SaleFactory(booked_on=date(2026, 1, 20), reference="1000020", gross=D("238.00"))
    earlier = PaymentFactory(booked_on=date(2026, 1, 5), reference="1000005",
                             amount=D("50.00"))
    SaleFactory(booked_on=date(2026, 2, 1), reference="1000099")
    # when January is read
    rows = list(export_rows(period=Period(date(2026, 1, 1), date(2026, 1, 31))))
    # then its lines come by date, entry and line as posted, with their accounts
    assert rows == [
        (date(2026, 1, 5), earlier.pk, "1000005", "Zahlung Karte 1000005", "1361",
         "Geldtransit Kartenzahlungen", D("50.00"), D("0.00")),
        (date(2026, 1, 5), earlier.pk, "1000005", "Zahlung Karte 1000005", "1400",
         "Forderungen aus Lieferungen und Leistungen", D("0.00"), D("50.00")),
        (date(2026, 1, 20), later.pk, "1000020", "Verkauf 1000020", "1400",
         "Forderungen aus Lieferungen und Leistungen", D("238.00"), D("0.00")),
        (date(2026, 1, 20), later.pk, "1000020", "Verkauf 1000020", "8400",
         "Erlöse 19 % USt", D("0.00"), D("200.00")),
        (date(2026, 1, 20), later.pk, "1000020", "Verkauf 1000020", "1776",
         "Umsatzsteuer 19 %", D("0.00"), D("38.00")),
    ]


@pytest.mark.django_db
def test_a_datev_export_of_posted_entries(settings) -> None:
    settings.DATEV_ADVISOR_NUMBER, settings.DATEV_CLIENT_NUMBER = "29098", "55003"
    SaleFactory(booked_on=date(2026, 3, 9), reference="1000042", gross=D("59.50"))
    PaymentFactory(booked_on=date(2026, 3, 10), reference="1000042", amount=D("59.50"))
    export = ledger_export(fmt=ExportFormat.DATEV, start=date(2026, 3, 1),
                           end=date(2026, 3, 31), now=datetime(2026, 4, 1, 9, 30, tzinfo=UTC))
    assert export.filename == "EXTF_Buchungsstapel_20260301_20260331.csv"
    assert export.content_type == "text/csv; charset=windows-1252"
    lines = datev_text(list(export.chunks)).split("\r\n")
    assert lines[0].startswith('"EXTF";700;21;"Buchungsstapel";13;')
    assert fields_of(lines[0] + "\r\n")[10:16] == ["29098", "55003", "20260101", "4",
                                                   "20260301", "20260331"]
    assert lines[1] == column_line().removesuffix("\r\n")
    bookings = [ln.split(";")[:14] for ln in lines[2:-1]]
    assert bookings == [
        ["50,00", '"H"', "", "", "", "", "8400", "1400", '""', "0903", '"1000042"', "", "",
         '"Verkauf 1000042"'],
        ["9,50", '"H"', "", "", "", "", "1776", "1400", '""', "0903", '"1000042"', "", "",
         '"Verkauf 1000042"'],
        ["59,50", '"S"', "", "", "", "", "1361", "1400", '""', "1003", '"1000042"', "", "",
         '"Zahlung Karte 1000042"'],
    ]
    assert lines[-1] == ""


# --- the period -----------------------------------------------------------------------------
def test_a_period_that_ends_before_it_starts_is_refused() -> None:
    with pytest.raises(InvalidInput) as refused:
        export_check(fmt="csv", start=date(2026, 2, 1), end=date(2026, 1, 31))
    assert refused.value.errors()[0]["code"] == "invalid_period"


def test_a_datev_batch_stays_in_one_fiscal_year(settings) -> None:
    settings.DATEV_FISCAL_YEAR_START = "0701"
    export_check(fmt="datev", start=date(2025, 7, 1), end=date(2026, 6, 30))
    with pytest.raises(InvalidInput) as refused:
        export_check(fmt="datev", start=date(2026, 6, 1), end=date(2026, 7, 1))
    assert refused.value.errors()[0]["code"] == "period_spans_fiscal_years"
    assert refused.value.errors()[0]["attr"] == "to"
    export_check(fmt="csv", start=date(2026, 6, 1), end=date(2027, 7, 1))  # CSV: any period
    with pytest.raises(InvalidInput):  # no fiscal year after 9999
        export_check(fmt="datev", start=date(9999, 8, 1), end=date(9999, 8, 2))
