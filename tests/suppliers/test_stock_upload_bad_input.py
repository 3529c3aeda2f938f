"""Bad stock files: each gets a clear message on the upload's report (or the form) and changes
nothing: wrong or missing columns, negative and non-integer counts, unknown SKUs, another
supplier's site, duplicate lines, a file over the size limit, not UTF-8, a count from the
future."""

from __future__ import annotations

import io
import re
from datetime import timedelta
from typing import Any

import pytest
from django.test import Client
from django.utils import timezone

from inventory.models import Location, StockMovement
from suppliers.portal.stock_upload import (
    MAX_ROWS,
    MAX_UPLOAD_BYTES,
    UploadStatus,
    stock_upload_run,
)
from tests.factories import ProductFactory
from tests.suppliers.conftest import stock
from tests.suppliers.factories import SupplierFactory, SupplierSiteFactory
from tests.suppliers.stock_support import counts, upload

pytestmark = pytest.mark.django_db


@pytest.fixture
def boots(supplier_site: Location) -> None:
    """10 boots at Nordwerk's site: what must stay unchanged."""
    stock(supplier_site, "BOOT-42", 10)


def _problems(answer: Any) -> list[tuple[int, str, str]]:
    """(line, column, message) of each row in the report's error table."""
    html = answer.content.decode()
    return [(int(line), column, re.sub(r"\s+", " ", message).strip())
            for line, column, message in re.findall(
                r'<tr><td class="number">(\d+)</td><td class="code">([^<]*)</td>'
                r'<td class="code">[^<]*</td><td>([^<]*)</td></tr>', html)]


def _file_errors(answer: Any) -> list[str]:
    block = re.search(r'data-testid="file-errors">(.*?)</ul>', answer.content.decode(), re.S)
    return re.findall(r"<li>(.*?)</li>", block[1], re.S) if block else []


def _nothing_changed() -> None:
    assert counts() == {("SUP-NORD", "BOOT-42"): (10, 0)}
    assert not StockMovement.objects.exists()


@pytest.mark.parametrize("header, message", [
    ("location,sku,quantity", "Missing columns: site, on_hand. The first line must name the "
                              "columns site, sku and on_hand."),
    ("site,sku,on_hand,price", "Unknown columns: price. Only site, sku and on_hand are read."),
    ("site,sku", "Missing columns: on_hand."),
])
def test_wrong_or_missing_columns(supplier_client: Client, boots: None, header: str,
                                  message: str) -> None:
    # when Nora uploads a file whose header is wrong
    answer = upload(supplier_client, f"{header}\nSUP-NORD,BOOT-42,7,1\n")

    # then the report says which columns, and nothing is applied (or offered)
    assert b'data-status="invalid"' in answer.content
    assert any(error.startswith(message) for error in _file_errors(answer)), \
        _file_errors(answer)
    assert b"data-testid=\"apply-valid\"" not in answer.content
    _nothing_changed()


def test_bad_counts_unknown_skus_and_sites_are_reported_per_line(
        supplier_client: Client, supplier_site: Location, boots: None) -> None:
    # given a SKU at Südhof's site, another supplier's
    SupplierSiteFactory(supplier=SupplierFactory(code="SUED"), location__code="SUP-SUED")
    for sku in ("SOCK-1", "SOCK-2", "SOCK-3", "SOCK-4"):
        ProductFactory(sku=sku)

    # when Nora uploads a file with every kind of bad line
    answer = upload(supplier_client, "\n".join([
        "site,sku,on_hand",
        "SUP-NORD,BOOT-42,-3",       # 2 negative
        "SUP-NORD,BOOT-42,2.5",      # 3 not whole, and the same site and SKU as line 2
        "SUP-NORD,NO-SUCH-SKU,4",    # 4 unknown SKU
        "SUP-SUED,SOCK-1,4",         # 5 another supplier's site
        "SUP-GONE,SOCK-1,4",         # 6 no such site
        "SUP-NORD,SOCK-2,ten",       # 7 not a number
        "SUP-NORD,SOCK-1",           # 8 a value short
        "SUP-NORD,bad sku!,1",       # 9 not a SKU at all
        "SUP-NORD,SOCK-3,",          # 10 empty count
        "SUP-NORD,SOCK-4,3000000000",  # 11 too large
    ]) + "\n")

    # then each line is named with its problem, and nothing is applied
    assert _problems(answer) == [
        (2, "on_hand", "The count may not be negative."),
        (3, "sku", "Site and SKU also appear in line 2."),
        (3, "on_hand", "“2.5” is not a whole number."),
        (4, "sku", "Unknown SKU “NO-SUCH-SKU”."),
        (5, "site", "“SUP-SUED” is not one of your sites."),
        (6, "site", "“SUP-GONE” is not one of your sites."),
        (7, "on_hand", "“ten” is not a whole number."),
        (8, "", "Expected 3 values, found 2."),
        (9, "sku", "“bad sku!” is not a valid SKU."),
        (10, "on_hand", "Give the count on hand."),
        (11, "on_hand", "The count may be at most 2000000000."),
    ]
    assert b'data-testid="error-rows">10<' in answer.content
    assert b'data-testid="apply-valid"' not in answer.content  # no valid line to apply
    _nothing_changed()


def test_duplicate_lines_are_both_refused(supplier_client: Client, boots: None) -> None:
    # when the same site and SKU appear twice with different counts
    answer = upload(supplier_client,
                    "site,sku,on_hand\nSUP-NORD,BOOT-42,7\nSUP-NORD,BOOT-42,8\n")

    # then neither is taken: which one is right is the supplier's call
    assert _problems(answer) == [(2, "sku", "Site and SKU also appear in line 3."),
                                 (3, "sku", "Site and SKU also appear in line 2.")]
    assert b'data-testid="valid-rows">0<' in answer.content
    _nothing_changed()


def test_a_file_over_the_size_limit_is_refused_before_it_is_read(
        supplier_client: Client, boots: None) -> None:
    # when Nora uploads a file over 5 MB
    big = b"site,sku,on_hand\n" + b"SUP-NORD,BOOT-42,7\n" * (MAX_UPLOAD_BYTES // 19 + 1)
    answer = upload(supplier_client, big)

    # then the form says so, and nothing is applied
    assert answer.status_code == 400
    assert b"The file has 5.1 MB; at most 5 MB are accepted." in answer.content
    _nothing_changed()


def test_the_service_refuses_a_file_over_the_size_limit_too(supplier: Any, boots: None) -> None:
    # when a caller other than the form hands the service a file over the limit
    state = stock_upload_run(supplier_id=supplier.pk, user="nora", upload_id="u-1",
                             file=io.BytesIO(b""), size=MAX_UPLOAD_BYTES + 1,
                             file_name="big.csv", as_of=timezone.now())

    # then it is refused unread
    assert state.status == UploadStatus.INVALID
    assert state.file_errors[0][0] == "too_large"
    _nothing_changed()


def test_more_rows_than_a_snapshot_takes(supplier_client: Client, boots: None) -> None:
    answer = upload(supplier_client, "site,sku,on_hand\n" + "SUP-NORD,X,1\n" * (MAX_ROWS + 1))
    assert _file_errors(answer) == [f"The file has more than {MAX_ROWS} rows; split it."]
    _nothing_changed()


@pytest.mark.parametrize("content, message", [
    ("site,sku,on_hand\nSUP-NORD,BÖÖT,1\n".encode("latin-1"), "The file is not UTF-8 text."),
    (b"", "The file is empty."),
    (b"site,sku,on_hand\n\n", "The file has no rows below its header."),
])
def test_unreadable_or_empty_files(supplier_client: Client, boots: None, content: bytes,
                                   message: str) -> None:
    answer = upload(supplier_client, content)
    if answer.status_code == 400:  # Django's form refuses an empty file itself
        assert b"The submitted file is empty." in answer.content
    else:
        assert any(e.startswith(message) for e in _file_errors(answer)), _file_errors(answer)
    _nothing_changed()


def test_a_count_from_the_future_is_refused(supplier_client: Client, boots: None) -> None:
    answer = upload(supplier_client, "site,sku,on_hand\nSUP-NORD,BOOT-42,7\n",
                    as_of=timezone.now() + timedelta(hours=2))
    assert answer.status_code == 400
    assert b"The time lies in the future." in answer.content
    _nothing_changed()
