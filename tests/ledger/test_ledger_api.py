"""`GET /api/v1/ledger/entries`, `/balances` and `/export` (API.md, Payments and finance): for
finance and ERP clients only, every other kind 403; bad input 400 in the one error format
and nothing changed; the export streamed, never built in memory."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from ledger.models import Account, JournalEntry, JournalLine
from tests.conftest import error_codes
from tests.ledger.journal_factories import PaymentFactory, SaleFactory

pytestmark = pytest.mark.django_db

D = Decimal
ENTRIES = "/api/v1/ledger/entries"
BALANCES = "/api/v1/ledger/balances"
EXPORT = "/api/v1/ledger/export"
JANUARY = {"from": "2026-01-01", "to": "2026-01-31"}
ADMITTED = ["finance", "erp"]
REFUSED = [("webshop", {"channel": "web"}), ("pos", {"channel": "web"}),
           ("app", {"channel": "app"}), ("marketplace", {"channel": "mp"}),
           ("wms", {}), ("supplier", {}), ("staff", {}), ("psp", {}), ("pim", {}),
           ("crm", {}), ("bi", {})]


@pytest.fixture
def finance(api: Any) -> Any:
    return api("finance")


def attrs_and_codes(response: Any) -> list[tuple[str | None, str]]:
    assert response["Content-Type"] == "application/json"
    body = response.json()
    assert body["type"] == "validation_error"
    return [(e["attr"], e["code"]) for e in body["errors"]]


def ledger_rows() -> tuple[int, int, int]:
    return JournalEntry.objects.count(), JournalLine.objects.count(), Account.objects.count()


# --- access ---------------------------------------------------------------------------------
@pytest.mark.parametrize("kind", ADMITTED)
def test_finance_and_erp_read_the_ledger(api: Any, kind: str) -> None:
    SaleFactory()
    client = api(kind)
    assert client.get(ENTRIES).status_code == 200
    assert client.get(BALANCES).status_code == 200
    exported = client.get(EXPORT, {**JANUARY, "format": "csv"})
    assert exported.status_code == 200 and exported.streaming


@pytest.mark.parametrize(("kind", "fields"), REFUSED, ids=[k for k, _ in REFUSED])
def test_every_other_kind_is_refused(api: Any, kind: str, fields: dict[str, Any]) -> None:
    SaleFactory()
    client = api(kind, **fields)
    answers = [client.get(ENTRIES), client.get(BALANCES),
               client.get(EXPORT, {**JANUARY, "format": "datev"})]
    assert [a.status_code for a in answers] == [403, 403, 403]
    assert all(error_codes(a) == ["permission_denied"] for a in answers)
    assert not any(a.streaming for a in answers)
    assert all("results" not in a.json() and "accounts" not in a.json() for a in answers)


def test_without_a_token_the_answer_is_401() -> None:
    for path in (ENTRIES, BALANCES, EXPORT):
        assert Client().get(path).status_code == 401


# --- entries --------------------------------------------------------------------------------
def test_entries_of_a_period_with_their_lines(finance: Any) -> None:
    # given a sale and its payment in January and a sale in February
    sale = SaleFactory(booked_on=date(2026, 1, 10), reference="1000010", gross=D("119.00"))
    payment = PaymentFactory(booked_on=date(2026, 1, 31), reference="1000010",
                             amount=D("119.00"))
    SaleFactory(booked_on=date(2026, 2, 1), reference="1000020")
    # when January's entries are asked for
    response = finance.get(ENTRIES, JANUARY)
    # then both January entries come, in the order posted, each with its lines
    assert response.status_code == 200
    body = response.json()
    assert body["next"] is None and body["previous"] is None
    assert [e["id"] for e in body["results"]] == [sale.pk, payment.pk]
    first = body["results"][0]
    assert {k: first[k] for k in ("booked_on", "reference", "text", "reverses")} == {
        "booked_on": "2026-01-10", "reference": "1000010", "text": "Verkauf 1000010",
        "reverses": None}
    assert first["source"] == sale.source
    assert first["lines"] == [
        {"account": "1400", "account_name": "Forderungen aus Lieferungen und Leistungen",
         "debit": "119.00", "credit": "0.00"},
        {"account": "8400", "account_name": "Erlöse 19 % USt", "debit": "0.00",
         "credit": "100.00"},
        {"account": "1776", "account_name": "Umsatzsteuer 19 %", "debit": "0.00",
         "credit": "19.00"},
    ]


def test_entries_filter_by_either_end_and_page_with_a_cursor(finance: Any) -> None:
    days = [date(2026, 1, d) for d in (3, 4, 5, 6)]
    posted = [SaleFactory(booked_on=day) for day in days]
    assert [e["id"] for e in finance.get(ENTRIES, {"from": "2026-01-05"}).json()["results"]] \
        == [posted[2].pk, posted[3].pk]
    assert [e["id"] for e in finance.get(ENTRIES, {"to": "2026-01-04"}).json()["results"]] \
        == [posted[0].pk, posted[1].pk]
    page = finance.get(ENTRIES, {"limit": 3}).json()
    assert [e["id"] for e in page["results"]] == [p.pk for p in posted[:3]]
    rest = finance.http.get(page["next"]).json()
    assert [e["id"] for e in rest["results"]] == [posted[3].pk]


def test_a_page_of_entries_takes_the_same_queries_however_many_it_holds(
        finance: Any) -> None:
    SaleFactory()
    finance.get(ENTRIES)  # anything cached per client is cached now
    with CaptureQueriesContext(connection) as one:
        assert len(finance.get(ENTRIES).json()["results"]) == 1
    for _ in range(20):
        SaleFactory()
    with CaptureQueriesContext(connection) as many:
        assert len(finance.get(ENTRIES).json()["results"]) == 21
    assert len(many.captured_queries) == len(one.captured_queries)


# --- balances -------------------------------------------------------------------------------
def test_the_trial_balance_at_a_date(finance: Any) -> None:
    # given a sale and its payment in January, another sale in February
    SaleFactory(booked_on=date(2026, 1, 10), gross=D("119.00"))
    PaymentFactory(booked_on=date(2026, 1, 20), amount=D("119.00"))
    SaleFactory(booked_on=date(2026, 2, 2), gross=D("238.00"))
    # when the balance at the end of January is asked for
    response = finance.get(BALANCES, {"at": "2026-01-31"})
    # then every account has its January sums, and the February sale counts nowhere
    assert response.status_code == 200
    body = response.json()
    assert body["at"] == "2026-01-31"
    accounts = {a["number"]: a for a in body["accounts"]}
    assert set(accounts) == {"1361", "1400", "1776", "8400"}
    assert {k: accounts["1400"][k] for k in ("role", "kind", "debit", "credit", "balance")} \
        == {"role": "receivables", "kind": "asset", "debit": "119.00", "credit": "119.00",
            "balance": "0.00"}
    assert (accounts["8400"]["credit"], accounts["8400"]["balance"]) == ("100.00", "-100.00")
    assert (accounts["1776"]["credit"], accounts["1776"]["balance"]) == ("19.00", "-19.00")
    assert (accounts["1361"]["debit"], accounts["1361"]["balance"]) == ("119.00", "119.00")
    assert body["debit"] == body["credit"] == "238.00"
    # and before any booking every account stands at zero
    early = finance.get(BALANCES, {"at": "2025-12-31"}).json()
    assert {a["balance"] for a in early["accounts"]} == {"0.00"}
    assert early["debit"] == early["credit"] == "0.00"


def test_the_trial_balance_without_a_date_is_todays(finance: Any) -> None:
    SaleFactory(booked_on=date(2000, 1, 1), gross=D("11.90"))
    body = finance.get(BALANCES).json()
    assert body["debit"] == body["credit"] == "11.90"


# --- export ---------------------------------------------------------------------------------
def test_the_csv_export_is_streamed(finance: Any) -> None:
    SaleFactory(booked_on=date(2026, 1, 10), reference="1000010")
    SaleFactory(booked_on=date(2026, 2, 1), reference="1000020")
    response = finance.get(EXPORT, {**JANUARY, "format": "csv"})
    assert response.status_code == 200
    assert response.streaming  # a StreamingHttpResponse: pieces, never the whole file
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert response["Content-Disposition"] == \
        'attachment; filename="ledger_20260101_20260131.csv"'
    text = b"".join(response.streaming_content).decode("utf-8")
    lines = text.split("\r\n")
    assert lines[0] == "date,entry,reference,text,account,account_name,debit,credit"
    assert len(lines) == 1 + 3 + 1 and lines[-1] == ""
    assert all(",1000010," in line for line in lines[1:-1])


def test_the_datev_export_is_streamed_in_windows_1252(finance: Any, settings: Any) -> None:
    settings.DATEV_ADVISOR_NUMBER, settings.DATEV_CLIENT_NUMBER = "29098", "55003"
    SaleFactory(booked_on=date(2026, 1, 10), reference="1000010", text="Verkauf an Müller")
    response = finance.get(EXPORT, {**JANUARY, "format": "datev"})
    assert response.status_code == 200 and response.streaming
    assert response["Content-Type"] == "text/csv; charset=windows-1252"
    assert response["Content-Disposition"] == \
        'attachment; filename="EXTF_Buchungsstapel_20260101_20260131.csv"'
    data = b"".join(response.streaming_content)
    assert "Müller".encode("cp1252") in data and "Müller".encode() not in data
    lines = data.decode("cp1252").split("\r\n")
    header = lines[0].split(";")
    assert header[:5] == ['"EXTF"', "700", "21", '"Buchungsstapel"', "13"]
    assert header[10:16] == ["29098", "55003", "20260101", "4", "20260101", "20260131"]
    assert lines[1].startswith("Umsatz (ohne Soll/Haben-Kz);Soll/Haben-Kennzeichen;")
    assert [ln.split(";")[:11] for ln in lines[2:-1]] == [
        ["100,00", '"H"', "", "", "", "", "8400", "1400", '""', "1001", '"1000010"'],
        ["19,00", '"H"', "", "", "", "", "1776", "1400", '""', "1001", '"1000010"']]


def test_a_client_asking_for_csv_gets_the_file(finance: Any) -> None:
    response = finance.http.get(EXPORT, {**JANUARY, "format": "csv"},
                                HTTP_ACCEPT="text/csv")
    assert response.status_code == 200 and response.streaming


# --- bad input ------------------------------------------------------------------------------
@pytest.mark.parametrize(("path", "params", "refused"), [
    (ENTRIES, {"from": "2026-02-01", "to": "2026-01-31"}, [("from", "invalid_period")]),
    (ENTRIES, {"from": "2026-13-01"}, [("from", "invalid")]),
    (ENTRIES, {"to": "yesterday"}, [("to", "invalid")]),
    (ENTRIES, {"form": "2026-01-01"}, [("form", "unknown_parameter")]),
    (ENTRIES, {"limit": "0"}, [("limit", "min_value")]),
    (BALANCES, {"at": "2026-02-30"}, [("at", "invalid")]),
    (BALANCES, {"at": ""}, [("at", "blank")]),
    (BALANCES, {"from": "2026-01-01"}, [("from", "unknown_parameter")]),
    (EXPORT, {**JANUARY, "format": "xlsx"}, [("format", "invalid_choice")]),
    (EXPORT, {**JANUARY}, [("format", "required")]),
    (EXPORT, {"from": "2026-01-01", "format": "csv"}, [("to", "required")]),
    (EXPORT, {"from": "2026-02-01", "to": "2026-01-31", "format": "csv"},
     [("from", "invalid_period")]),
    (EXPORT, {"from": "2026-12-01", "to": "2027-01-31", "format": "datev"},
     [("to", "period_spans_fiscal_years")]),
    (EXPORT, {"from": "9999-01-01", "to": "9999-12-31", "format": "datev"},
     [("from", "invalid_period")]),
    (EXPORT, {**JANUARY, "format": "csv", "limit": "10"}, [("limit", "unknown_parameter")]),
    (EXPORT, {**JANUARY, "format": "csv", "separator": ";"},
     [("separator", "unknown_parameter")]),
], ids=lambda v: str(v) if isinstance(v, str) else None)
def test_bad_input_is_400_in_the_one_error_format_and_changes_nothing(
        finance: Any, path: str, params: dict[str, str],
        refused: list[tuple[str, str]]) -> None:
    SaleFactory(booked_on=date(2026, 1, 10))
    before = ledger_rows()
    response = finance.get(path, params)
    assert response.status_code == 400
    assert not response.streaming
    assert attrs_and_codes(response) == refused
    assert ledger_rows() == before


def test_a_repeated_parameter_is_refused(finance: Any) -> None:
    response = finance.http.get(f"{EXPORT}?from=2026-01-01&to=2026-01-31&format=csv"
                                "&format=datev")
    assert response.status_code == 400
    assert attrs_and_codes(response) == [("format", "repeated_parameter")]
