"""Purchase prices from a file (`manage.py import_purchase_prices`): every row checked and
reported by its line; a file with a bad row writes nothing unless the valid rows are applied."""

from __future__ import annotations

import io
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from django.core.management import CommandError, call_command

from suppliers.models import PurchasePrice
from suppliers.prices import purchase_prices_import
from tests.factories import ProductFactory
from tests.suppliers.factories_settlement import PurchasePriceFactory

pytestmark = pytest.mark.django_db
D = Decimal
HEADER = "sku;net_price;currency;tax_rate;valid_from\n"


@pytest.fixture(autouse=True)
def products(db: Any) -> None:
    ProductFactory(sku="BOOT-42")
    ProductFactory(sku="SOCK-1")


def prices() -> list[tuple[str, Decimal, Decimal, date]]:
    return list(PurchasePrice.objects.order_by("product_id", "valid_from")
                .values_list("product_id", "net_price", "tax_rate", "valid_from"))


def test_a_valid_file_is_imported(supplier: Any) -> None:
    # Given a file as German Excel saves it: BOM, decimal comma
    content = ("\ufeff" + HEADER + "BOOT-42;20,00;EUR;19;2026-01-01\n"
               "BOOT-42;22.50;eur;19;2026-04-01\nSOCK-1;2,5;EUR;7;2026-01-01\n").encode()

    # When it is imported for Nordwerk
    report = purchase_prices_import(supplier=supplier, content=content)

    # Then every price is there
    assert (report.ok, report.rows, report.created, report.applied) == (True, 3, 3, True)
    assert prices() == [("BOOT-42", D("20.00"), D("19.00"), date(2026, 1, 1)),
                        ("BOOT-42", D("22.50"), D("19.00"), date(2026, 4, 1)),
                        ("SOCK-1", D("2.50"), D("7.00"), date(2026, 1, 1))]


def test_a_price_of_the_same_day_is_corrected(supplier: Any) -> None:
    PurchasePriceFactory(supplier=supplier, product_id="BOOT-42", valid_from=date(2026, 1, 1),
                         net_price=D("19.00"))
    report = purchase_prices_import(supplier=supplier,
                                    content=HEADER + "BOOT-42;20.00;EUR;19;2026-01-01\n")
    assert (report.created, report.updated) == (0, 1)
    assert prices() == [("BOOT-42", D("20.00"), D("19.00"), date(2026, 1, 1))]


def test_bad_rows_are_reported_by_line_and_nothing_is_written(supplier: Any) -> None:
    # Given a file with one good row and one bad row of each kind
    content = (HEADER + "BOOT-42;20.00;EUR;19;2026-01-01\n"   # 2 fine
               "NOPE-1;5.00;EUR;19;2026-01-01\n"             # 3 unknown SKU
               "SOCK-1;-1.00;EUR;7;2026-01-01\n"             # 4 negative
               "SOCK-1;abc;EUR;7;2026-01-01\n"               # 5 no number
               "SOCK-1;1.00;USD;7;2026-01-01\n"              # 6 currency
               "SOCK-1;1.00;EUR;16;2026-01-01\n"             # 7 tax rate
               "SOCK-1;1.00;EUR;7;01.01.2026\n"              # 8 date
               "BOOT-42;21.00;EUR;19;2026-01-01\n"           # 9 repeats line 2
               "SOCK-1;1.005;EUR;7;2026-01-01\n")            # 10 sub-cent

    # When it is imported
    report = purchase_prices_import(supplier=supplier, content=content)

    # Then each bad row is named with its line and why; nothing is written
    assert [(e.row, e.code) for e in report.errors] == [
        (3, "unknown_sku"), (4, "negative_price"), (5, "invalid_price"),
        (6, "invalid_currency"), (7, "invalid_tax_rate"), (8, "invalid_date"),
        (9, "duplicate_row"), (10, "invalid_price")]
    assert (report.rows, report.valid, report.applied) == (9, 1, False)
    assert prices() == []

    # When the valid rows are applied anyway
    report = purchase_prices_import(supplier=supplier, content=content, apply_valid=True)

    # Then only the good row is written
    assert (report.applied, report.created) == (True, 1)
    assert prices() == [("BOOT-42", D("20.00"), D("19.00"), date(2026, 1, 1))]


@pytest.mark.parametrize("content", [
    "sku,net_price,currency,tax_rate,valid_from\nBOOT-42,1,EUR,19,2026-01-01\n",  # commas
    "sku;price;currency;tax_rate;valid_from\nBOOT-42;1;EUR;19;2026-01-01\n",      # renamed
    "sku;net_price;currency;tax_rate\nBOOT-42;1;EUR;19\n",                          # missing
    "",                                                                             # empty
])
def test_wrong_columns_refuse_the_whole_file(supplier: Any, content: str) -> None:
    report = purchase_prices_import(supplier=supplier, content=content, apply_valid=True)
    assert [e.code for e in report.errors] == ["wrong_columns"]
    assert (report.applied, prices()) == (False, [])


def test_a_row_with_more_cells_than_the_header_is_bad(supplier: Any) -> None:
    report = purchase_prices_import(
        supplier=supplier, content=HEADER + "BOOT-42;1.00;EUR;19;2026-01-01;extra\n")
    assert [(e.row, e.code) for e in report.errors] == [(2, "wrong_columns")]


def test_a_file_that_is_not_utf8_is_refused(supplier: Any) -> None:
    report = purchase_prices_import(supplier=supplier,
                                    content=(HEADER + "BOOT-42;1;EUR;19;2026-01-01\n"
                                             ).encode("utf-16"))
    assert [e.code for e in report.errors] in (["unreadable"], ["wrong_columns"])
    assert prices() == []


def test_the_command_imports_and_prints_the_report(supplier: Any, tmp_path: Path) -> None:
    good = tmp_path / "good.csv"
    good.write_text(HEADER + "BOOT-42;20.00;EUR;19;2026-01-01\n", encoding="utf-8")
    out = io.StringIO()
    call_command("import_purchase_prices", "--supplier", "NORD", str(good), stdout=out)
    assert "1 rows, 1 valid, 0 errors; 1 prices created" in out.getvalue()
    assert len(prices()) == 1


def test_the_command_fails_on_a_bad_file_and_names_the_rows(supplier: Any,
                                                            tmp_path: Path) -> None:
    bad = tmp_path / "bad.csv"
    bad.write_text(HEADER + "NOPE-1;20.00;EUR;19;2026-01-01\nSOCK-1;-2;EUR;7;2026-01-01\n",
                   encoding="utf-8")
    out = io.StringIO()
    with pytest.raises(CommandError, match="nothing imported"):
        call_command("import_purchase_prices", "--supplier", "NORD", str(bad), stdout=out)
    assert "line 2 NOPE-1: unknown_sku" in out.getvalue()
    assert "line 3 SOCK-1: negative_price" in out.getvalue()
    with pytest.raises(CommandError, match="no supplier"):
        call_command("import_purchase_prices", "--supplier", "NOPE", str(bad), stdout=out)
