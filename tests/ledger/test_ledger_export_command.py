"""`manage.py ledger_export`: a period's journal written to a file, the same file the API
streams, with a progress bar; a refused period or a bad date is a command error that leaves no
file behind."""

from __future__ import annotations

import io
from collections.abc import Iterator
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from django.core.management import CommandError, call_command

from ledger.exports import ExportFile
from tests.ledger.journal_factories import PaymentFactory, SaleFactory

pytestmark = pytest.mark.django_db

D = Decimal


def export(*args: str, verbosity: int = 1) -> str:
    out = io.StringIO()
    call_command("ledger_export", *args, stdout=out, verbosity=verbosity)
    return out.getvalue()


def test_a_datev_batch_is_written_to_the_file_with_a_progress_bar(
        tmp_path: Path, capsys: pytest.CaptureFixture[str], api: Any) -> None:
    # given a sale and its payment in January, a sale in February
    SaleFactory(booked_on=date(2026, 1, 10), reference="1000010", gross=D("119.00"),
                text="Verkauf an Jürgen")
    PaymentFactory(booked_on=date(2026, 1, 12), reference="1000010", amount=D("119.00"))
    SaleFactory(booked_on=date(2026, 2, 1))
    target = tmp_path / "EXTF_Buchungsstapel.csv"
    # when January is exported as DATEV
    said = export("--from", "2026-01-01", "--to", "2026-01-31", "--format", "datev",
                  "--output", str(target))
    # then the file holds the header, the column line and January's three bookings
    assert "5 journal lines" in said and str(target) in said
    lines = target.read_bytes().decode("cp1252").split("\r\n")
    assert lines[0].startswith('"EXTF";700;21;"Buchungsstapel";13;')
    assert lines[0].split(";")[14:16] == ["20260101", "20260131"]
    assert [ln.split(";")[:8] for ln in lines[2:-1]] == [
        ["100,00", '"H"', "", "", "", "", "8400", "1400"],
        ["19,00", '"H"', "", "", "", "", "1776", "1400"],
        ["119,00", '"S"', "", "", "", "", "1361", "1400"]]
    assert "Jürgen".encode("cp1252") in target.read_bytes()
    # and the same bookings as the API's file (which differs only in the time it was made)
    api_file = b"".join(api("finance").get("/api/v1/ledger/export", {
        "from": "2026-01-01", "to": "2026-01-31", "format": "datev"}).streaming_content)
    assert api_file.split(b"\r\n")[1:] == target.read_bytes().split(b"\r\n")[1:]
    # and the progress bar counted the five lines on stderr
    assert "5/5" in capsys.readouterr().err
    assert not list(tmp_path.glob(".*.part"))


def test_csv_is_the_default_and_verbosity_0_hides_the_bar(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    SaleFactory(booked_on=date(2026, 1, 10))
    target = tmp_path / "ledger.csv"
    export("--from", "2026-01-01", "--to", "2026-01-31", "--output", str(target),
           verbosity=0)
    text = target.read_bytes().decode("utf-8")
    assert text.startswith("date,entry,reference,text,account,account_name,debit,credit\r\n")
    assert text.count("\r\n") == 4
    assert capsys.readouterr().err == ""


@pytest.mark.parametrize(("args", "message"), [
    (["--from", "2026-02-01", "--to", "2026-01-31"], "must not be after"),
    (["--from", "2026-12-01", "--to", "2027-01-31", "--format", "datev"], "one fiscal year"),
    (["--from", "2026-01-32", "--to", "2026-01-31"], "not a date"),
])
def test_a_refused_period_is_a_command_error_and_writes_nothing(
        tmp_path: Path, args: list[str], message: str) -> None:
    target = tmp_path / "out.csv"
    with pytest.raises(CommandError, match=message):
        export(*args, "--output", str(target))
    assert list(tmp_path.iterdir()) == []


def test_an_existing_file_is_replaced_only_once_the_export_is_complete(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # given last month's file, and an export that breaks off halfway
    SaleFactory(booked_on=date(2026, 1, 10))
    target = tmp_path / "ledger.csv"
    target.write_text("the old file")
    import ledger.management.commands.ledger_export as command

    original = command.ledger_export

    def breaks_off(**kwargs: Any) -> ExportFile:
        made = original(**kwargs)

        def pieces() -> Iterator[bytes]:
            yield next(made.chunks)
            raise OSError("disk full")

        return ExportFile(pieces(), made.content_type, made.filename)

    monkeypatch.setattr(command, "ledger_export", breaks_off)
    # when it is run, it fails, and the old file stands, no partial file beside it
    with pytest.raises(OSError, match="disk full"):
        export("--from", "2026-01-01", "--to", "2026-01-31", "--output", str(target))
    assert target.read_text() == "the old file"
    assert [p.name for p in tmp_path.iterdir()] == ["ledger.csv"]
