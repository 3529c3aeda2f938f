"""The monthly statement: the month's settlement lines and totals as CSV for German Excel (UTF-8
with BOM, `;`, decimal comma), in the portal (confined to the supplier) and for finance
(`manage.py supplier_statement`)."""

from __future__ import annotations

import csv
import io
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from django.core.management import CommandError, call_command

from suppliers.models import SettlementLine
from suppliers.settlement import Shipped, settlement_record
from suppliers.statements import statement_csv
from tests.suppliers.conftest import portal_client
from tests.suppliers.factories import SupplierFactory, SupplierSiteFactory, SupplierUserFactory
from tests.suppliers.factories_settlement import PurchasePriceFactory

pytestmark = pytest.mark.django_db
D = Decimal


@pytest.fixture
def december(dropship_order: Any, supplier: Any) -> list[SettlementLine]:
    """Two parcels of Nordwerk in December 2026 (boots priced, socks without a price) and one
    in November."""
    PurchasePriceFactory(supplier=supplier, product_id="BOOT-42", net_price=D("20.00"))

    def settle(event_id: str, day: date, units: dict[str, int]) -> SettlementLine:
        line = settlement_record(shipped=Shipped(event_id, dropship_order.pk,
                                                 dropship_order.order.number, day, units))
        assert line is not None
        return line

    settle("nov", date(2026, 11, 30), {"BOOT-42": 1})
    return [settle("dec-1", date(2026, 12, 3), {"BOOT-42": 1}),
            settle("dec-2", date(2026, 12, 31), {"BOOT-42": 1, "SOCK-1": 3})]


def rows(content: bytes) -> list[list[str]]:
    assert content.startswith(b"\xef\xbb\xbf")  # the BOM: Excel reads UTF-8
    return list(csv.reader(io.StringIO(content.decode("utf-8-sig")), delimiter=";"))


def test_the_statement_lists_the_months_parcels_and_totals(december: Any, supplier: Any,
                                                           dropship_order: Any) -> None:
    # When the December statement is written (Nordwerk's language is German)
    table = rows(statement_csv(supplier, date(2026, 12, 1)))

    # Then a title row, the headings, one row per SKU of each December parcel, and the totals
    number = dropship_order.order.number
    first, second = december
    assert table[0][1:] == ["Nordwerk GmbH", "NORD", "2026-12"]
    assert len(table[1]) == 9
    assert table[2:5] == [
        ["2026-12-03", number, str(first.pk), "BOOT-42", "1", "20,00", "20,00", "19", ""],
        ["2026-12-31", number, str(second.pk), "BOOT-42", "1", "20,00", "20,00", "19", ""],
        ["2026-12-31", number, str(second.pk), "SOCK-1", "3", "", "0,00", "", table[4][8]]]
    assert table[4][8]  # "price missing", in the supplier's language
    assert table[5] == []
    totals = {row[0]: row[6] for row in table[6:] if row and row[6]}
    assert list(totals.values()) == ["40,00", "7,60", "40,00", "7,60", "47,60"]
    assert table[-1][4] == "1"  # one row without a price, not included


def test_finance_writes_the_statement_with_the_command(december: Any, supplier: Any,
                                                       tmp_path: Path) -> None:
    # When finance runs the command for December
    target = tmp_path / "nord-2026-12.csv"
    call_command("supplier_statement", "--supplier", "NORD", "--month", "2026-12",
                 "--output", str(target), stdout=io.StringIO())

    # Then the file is the statement the portal offers
    assert target.read_bytes() == statement_csv(supplier, date(2026, 12, 1))


@pytest.mark.parametrize("args", [["--supplier", "NOPE", "--month", "2026-12"],
                                  ["--supplier", "NORD", "--month", "December"]])
def test_the_command_refuses_an_unknown_supplier_or_month(supplier: Any, args: list[str]
                                                          ) -> None:
    with pytest.raises(CommandError):
        call_command("supplier_statement", *args, stdout=io.StringIO())


def test_the_portal_lists_the_months_and_downloads_the_statement(
        december: Any, supplier: Any, supplier_client: Any) -> None:
    # When Nora opens "Statements"
    page = supplier_client.get("/supplier/statements/")

    # Then she sees December and November with their totals, newest first
    assert page.status_code == 200
    html = page.content.decode()
    assert html.index('data-month="2026-12"') < html.index('data-month="2026-11"')
    assert "47.60" in html or "47,60" in html
    # and the December CSV downloads as a file
    download = supplier_client.get("/supplier/statements/2026-12.csv")
    assert download.status_code == 200
    assert download["Content-Type"] == "text/csv; charset=utf-8"
    assert 'filename="statement-NORD-2026-12.csv"' in download["Content-Disposition"]
    assert download.content == statement_csv(supplier, date(2026, 12, 1))


def test_another_supplier_sees_no_statement_of_nordwerk(december: Any) -> None:
    # Given a second supplier with a portal user
    other = SupplierFactory(code="SUED", name="Südhandel AG")
    SupplierSiteFactory(supplier=other, location__code="SUP-SUED")
    client = portal_client(SupplierUserFactory(supplier=other))

    # When its user opens the statements and asks for Nordwerk's month
    page = client.get("/supplier/statements/")
    download = client.get("/supplier/statements/2026-12.csv")

    # Then nothing of Nordwerk's is there
    assert 'data-month="2026-12"' not in page.content.decode()
    assert download.status_code == 404


@pytest.mark.parametrize("month", ["2026-13", "2026-10", "latest"])
def test_a_month_without_lines_or_no_month_is_a_404(december: Any, supplier_client: Any,
                                                    month: str) -> None:
    assert supplier_client.get(f"/supplier/statements/{month}.csv").status_code == 404


def test_the_portal_asks_anonymous_people_to_log_in(client: Any) -> None:
    response = client.get("/supplier/statements/")
    assert response.status_code == 302
    assert "/supplier/login/" in response["Location"]


def test_finance_staff_see_every_suppliers_months_and_download_the_same_statement(
        december: Any, supplier: Any) -> None:
    from django.test import Client

    from tests.factories import StoreStaffFactory
    from tests.factories.finance_cockpit import FinanceStaffFactory

    # Given a finance clerk
    clerk = Client()
    clerk.force_login(FinanceStaffFactory(username="fiona"))

    # When they open the supplier statements in the finance cockpit
    page = clerk.get("/cockpit/finance/supplier-statements/")

    # then Nordwerk's months are listed, and December's CSV is the supplier's own statement
    assert page.status_code == 200
    body = page.content.decode()
    assert 'data-month="2026-12"' in body and 'data-month="2026-11"' in body
    download = clerk.get(f"/cockpit/finance/supplier-statements/{supplier.code}/2026-12.csv")
    assert download.status_code == 200
    assert download.content == statement_csv(supplier, date(2026, 12, 1))
    # a month without parcels, or an unknown supplier, does not exist
    assert clerk.get(f"/cockpit/finance/supplier-statements/{supplier.code}/2026-10.csv"
                     ).status_code == 404
    assert clerk.get("/cockpit/finance/supplier-statements/NOPE/2026-12.csv").status_code == 404
    # and the finance tab bar links the page
    tabs = clerk.get("/cockpit/finance/").content.decode()
    assert "/cockpit/finance/supplier-statements/" in tabs

    # When store staff or a supplier's user try, then they are refused
    store = Client()
    store.force_login(StoreStaffFactory())
    assert store.get("/cockpit/finance/supplier-statements/").status_code == 403
    anonymous = Client().get("/cockpit/finance/supplier-statements/")
    assert anonymous.status_code == 302
