"""The portal's stock page and CSV upload: a supplier sees the stock at its own sites only, a
valid file is applied through the snapshot service (as `POST /api/v1/stock/snapshots`), a file
with a bad line applies nothing until the supplier chooses to apply the valid lines, and another
supplier sees none of it."""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Any

import pytest
from django.test import Client
from django.utils import timezone

from inventory.models import Location, MovementKind, StockLevel, StockMovement
from suppliers.models import SupplierUser
from tests.factories import ProductFactory, WarehouseFactory
from tests.suppliers.conftest import portal_client, stock
from tests.suppliers.factories import SupplierFactory, SupplierSiteFactory, SupplierUserFactory
from tests.suppliers.stock_support import counts, csv_file, upload

pytestmark = pytest.mark.django_db


@pytest.fixture
def other_site() -> Location:
    """Südhof's site: another supplier's."""
    return SupplierSiteFactory(supplier=SupplierFactory(code="SUED", name="Südhof AG"),
                               location__code="SUP-SUED").location


@pytest.fixture
def other_user(other_site: Location) -> SupplierUser:
    return SupplierUserFactory(supplier=other_site.supplier_site.supplier,
                               user__username="sven")


def _upload_id(response: Any) -> str:
    return re.search(r"/supplier/stock/upload/([0-9a-f-]{36})/", response.redirect_chain[-1][0])[1]


def test_the_stock_page_lists_only_the_suppliers_own_sites(
        supplier_client: Client, supplier_site: Location, other_site: Location) -> None:
    # given stock at Nordwerk's site (2 of 12 boots reserved), at Südhof's and in a warehouse
    level = stock(supplier_site, "BOOT-42", 12)
    StockLevel.objects.filter(pk=level.pk).update(reserved=2, safety_stock=1)
    stock(other_site, "HAT-7", 5)
    stock(WarehouseFactory(code="WH-MAIN"), "SCARF-3", 9)

    # when Nora opens the stock page
    page = supplier_client.get("/supplier/stock/")

    # then she sees her site's level with on hand, reserved and available, and nothing else
    assert page.status_code == 200
    html = page.content.decode()
    row = re.search(r"<tr>\s*<td class=\"code\">BOOT-42</td>.*?</tr>", html, re.S)[0]
    assert [int(n) for n in re.findall(r'class="number">(\d+)<', row)] == [12, 2, 9]
    assert "SUP-NORD" in row
    assert "HAT-7" not in html and "SUP-SUED" not in html
    assert "SCARF-3" not in html and "WH-MAIN" not in html
    assert 'aria-current="page">Stock<' in html


def test_the_stock_page_searches_by_sku_and_pages(
        supplier_client: Client, supplier_site: Location) -> None:
    # given 60 SKUs at Nordwerk's site and a pair of boots
    for n in range(60):
        stock(supplier_site, f"SOCK-{n:02d}", n)
    stock(supplier_site, "BOOT-42", 3)

    # when Nora searches for "boot", then only the boots are listed
    found = supplier_client.get("/supplier/stock/", {"q": "boot"}).content.decode()
    assert "BOOT-42" in found and "SOCK-" not in found
    assert "1 stock level" in found

    # when she lists everything, 50 are on the first page and the rest on the second
    first = supplier_client.get("/supplier/stock/").content.decode()
    second = supplier_client.get("/supplier/stock/", {"page": 2}).content.decode()
    assert first.count('<td class="code">SOCK-') + first.count('<td class="code">BOOT-') == 50
    assert "Page 2 of 2" in second and "SOCK-59" in second


def test_a_valid_file_is_applied_as_the_snapshot_api_applies_it(
        supplier_client: Client, supplier_site: Location) -> None:
    # given 10 boots at Nordwerk's site, 4 of them reserved, and a sock SKU with no stock yet
    level = stock(supplier_site, "BOOT-42", 10)
    StockLevel.objects.filter(pk=level.pk).update(reserved=4)
    ProductFactory(sku="SOCK-1")
    counted_at = timezone.now() - timedelta(hours=1)

    # when Nora uploads a count of 7 boots and 30 socks
    answer = upload(supplier_client, "site,sku,on_hand\nSUP-NORD,BOOT-42,7\nSUP-NORD,SOCK-1,30\n",
                    as_of=counted_at)

    # then the report says applied, and the counts are in, the reservation kept
    assert answer.status_code == 200
    assert b'data-status="applied"' in answer.content
    assert counts() == {("SUP-NORD", "BOOT-42"): (7, 4), ("SUP-NORD", "SOCK-1"): (30, 0)}
    boots = StockLevel.objects.get(product_id="BOOT-42")
    assert boots.snapshot_as_of == counted_at.replace(second=0, microsecond=0)
    # and each change is a count movement naming the upload and who sent it
    movement = StockMovement.objects.get(product_id="BOOT-42")
    assert (movement.kind, movement.quantity, movement.on_hand_after) == \
        (MovementKind.COUNT, -3, 7)
    assert movement.reference == f"portal upload {_upload_id(answer)}"
    assert movement.actor == "supplier portal: nora"


def test_a_semicolon_file_from_excel_with_a_byte_order_mark_is_read(
        supplier_client: Client, supplier_site: Location) -> None:
    # given a SKU at Nordwerk's site
    stock(supplier_site, "BOOT-42", 10)

    # when Nora uploads what Excel saves with German settings: BOM, ";" and CRLF
    excel = "\ufeffSite;SKU;On_Hand\r\nSUP-NORD;BOOT-42;8\r\n\r\n".encode()
    answer = upload(supplier_client, excel)

    # then it is applied
    assert b'data-status="applied"' in answer.content
    assert counts() == {("SUP-NORD", "BOOT-42"): (8, 0)}


def test_a_count_older_than_the_last_one_is_ignored_as_by_the_api(
        supplier_client: Client, supplier_site: Location) -> None:
    # given the boots were counted an hour ago
    stock(supplier_site, "BOOT-42", 10)
    upload(supplier_client, "site,sku,on_hand\nSUP-NORD,BOOT-42,6\n",
           as_of=timezone.now() - timedelta(hours=1))

    # when a count from yesterday is uploaded
    answer = upload(supplier_client, "site,sku,on_hand\nSUP-NORD,BOOT-42,99\n",
                    as_of=timezone.now() - timedelta(days=1))

    # then it is reported as ignored and the newer count stands
    assert counts() == {("SUP-NORD", "BOOT-42"): (6, 0)}
    assert re.search(r"Ignored \(a newer count exists\)</dt><dd>1<", answer.content.decode())


def test_a_file_with_one_bad_line_applies_nothing_until_the_valid_lines_are_chosen(
        supplier_client: Client, supplier_site: Location) -> None:
    # given boots and socks at Nordwerk's site
    stock(supplier_site, "BOOT-42", 10)
    stock(supplier_site, "SOCK-1", 20)

    # when Nora uploads a file whose third line has a negative count
    answer = upload(supplier_client,
                    "site,sku,on_hand\nSUP-NORD,BOOT-42,7\nSUP-NORD,SOCK-1,-5\n")

    # then nothing is applied and the report names line 3 and what is wrong with it
    html = answer.content.decode()
    assert 'data-status="invalid"' in html
    assert counts() == {("SUP-NORD", "BOOT-42"): (10, 0), ("SUP-NORD", "SOCK-1"): (20, 0)}
    row = re.search(r'<td class="number">3</td>.*?</tr>', html, re.S)[0]
    assert "on_hand" in row and "-5" in row and "may not be negative" in row
    assert "Apply the 1 valid line" in html

    # when she chooses to apply the valid lines
    upload_id = _upload_id(answer)
    applied = supplier_client.post(f"/supplier/stock/upload/{upload_id}/apply", follow=True)

    # then the boots are counted, the socks are not
    assert b'data-status="applied"' in applied.content
    assert b"The valid lines were applied" in applied.content
    assert counts() == {("SUP-NORD", "BOOT-42"): (7, 0), ("SUP-NORD", "SOCK-1"): (20, 0)}

    # and a second click applies nothing more
    assert StockMovement.objects.count() == 1
    supplier_client.post(f"/supplier/stock/upload/{upload_id}/apply")
    assert StockMovement.objects.count() == 1


def test_the_page_follows_the_progress_of_an_upload(
        supplier_client: Client, supplier_site: Location) -> None:
    # given the upload form with the id it will send
    form = supplier_client.get("/supplier/stock/upload/").content.decode()
    upload_id = re.search(r'name="upload_id" value="([0-9a-f-]{36})"', form)[1]
    progress = f"/supplier/stock/upload/{upload_id}/progress"
    assert supplier_client.get(progress).status_code == 404  # nothing sent yet
    stock(supplier_site, "BOOT-42", 10)

    # when the file is sent with that id
    when = timezone.localtime() - timedelta(minutes=1)
    supplier_client.post("/supplier/stock/upload/", {
        "upload_id": upload_id, "as_of": when.strftime("%Y-%m-%dT%H:%M"),
        "file": csv_file("site,sku,on_hand\nSUP-NORD,BOOT-42,3\n")})

    # then its progress says done and where the report is
    assert supplier_client.get(progress).json() == {
        "status": "applied", "phase": "done", "done": 1, "total": 1,
        "report": f"/supplier/stock/upload/{upload_id}/"}


def test_another_supplier_sees_none_of_it(
        supplier_client: Client, supplier_site: Location, other_user: SupplierUser) -> None:
    # given Nora's upload with a bad line
    stock(supplier_site, "BOOT-42", 10)
    answer = upload(supplier_client, "site,sku,on_hand\nSUP-NORD,BOOT-42,7\nSUP-NORD,BOOT-42,8\n")
    upload_id = _upload_id(answer)
    sven = portal_client(other_user)

    # when Südhof's Sven opens its report, its progress, tries to apply it, or lists his stock
    # then he finds nothing, and nothing changes
    assert sven.get(f"/supplier/stock/upload/{upload_id}/").status_code == 404
    assert sven.get(f"/supplier/stock/upload/{upload_id}/progress").status_code == 404
    assert sven.post(f"/supplier/stock/upload/{upload_id}/apply").status_code == 404
    assert "BOOT-42" not in sven.get("/supplier/stock/").content.decode()
    assert counts() == {("SUP-NORD", "BOOT-42"): (10, 0)}

    # and Sven cannot count Nordwerk's site either
    refused = upload(sven, "site,sku,on_hand\nSUP-NORD,BOOT-42,1\n")
    assert "“SUP-NORD” is not one of your sites." in refused.content.decode()
    assert counts() == {("SUP-NORD", "BOOT-42"): (10, 0)}


def test_the_stock_pages_want_a_supplier_login(supplier_site: Location) -> None:
    # given someone not logged in, when they open the stock page, then they are sent to log in
    answer = Client().get("/supplier/stock/upload/")
    assert answer.status_code == 302 and answer["Location"].startswith("/supplier/login/")


def test_the_pages_speak_german(supplier_user: SupplierUser, supplier_site: Location) -> None:
    # given Nora reads the portal in German, when she opens the upload page, it is German
    # (as far as the catalogue has the texts: the lang attribute at least)
    page = portal_client(supplier_user, "de").get("/supplier/stock/upload/")
    assert page.status_code == 200 and b'<html lang="de">' in page.content
