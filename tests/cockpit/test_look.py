"""The cockpit looks like a product: its own name in the header, HTML error pages in its look
(the API keeps its JSON errors), the staff's language and the store's clock on every page, every
column header in German, and a pickup waiting for a transfer saying so."""

from __future__ import annotations

import html
import re
from datetime import UTC, datetime

import pytest

from fulfillment.models import FulfillmentOrder
from inventory.services import stock_movement_record
from tests.cockpit.conftest import logged_in
from tests.factories.cockpit import StoreStaffFactory, a_pickup

pytestmark = pytest.mark.django_db

GERMAN = {"HTTP_ACCEPT_LANGUAGE": "de"}
TIMES = "\N{MULTIPLICATION SIGN}"  # between units and SKU in a pickup line


def text_of(response) -> str:
    return html.unescape(response.content.decode())


def column_headers(response) -> list[str]:
    """The text of every column header of the page's tables (and of the admin's inlines)."""
    heads = re.findall(r"<thead>(.*?)</thead>", response.content.decode(), re.S)
    cells = [cell for head in heads for cell in re.findall(r"<th[^>]*>(.*?)</th>", head, re.S)]
    texts = (html.unescape(re.sub(r"<[^>]+>", " ", cell)) for cell in cells)
    return [" ".join(text.split()) for text in texts if text.strip()]


def test_the_admin_carries_the_cockpits_name_in_the_staffs_language(network, munich_staff):
    # When store staff open the admin's index in English and in German
    english = text_of(munich_staff.get("/admin/"))
    german = text_of(munich_staff.get("/admin/", **GERMAN))
    # then the header, the tab title and the index name the cockpit, never Django
    assert "OMS Cockpit" in english and "Django" not in english
    assert "<title>Store cockpit | OMS Cockpit</title>" in english
    assert "OMS-Cockpit" in german and "Filial-Cockpit" in german and "Django" not in german


def test_an_unknown_api_path_still_answers_the_json_error_format(network, munich_staff):
    # When a client (or a logged-in person) asks for an API path that does not exist
    response = munich_staff.get("/api/v1/no-such-thing")
    # then the answer is API.md's error body
    assert response.status_code == 404
    assert response["Content-Type"] == "application/json"
    assert response.json() == {"type": "client_error", "errors": [
        {"code": "not_found", "detail": "Not found.", "attr": None}]}


def test_another_stores_pickup_is_an_html_404_page_with_the_cockpit_header(
        network, munich_staff):
    # Given a pickup in Berlin
    berlin = a_pickup(network.berlin)
    # When Munich's staff open it in the cockpit and in the admin, in German
    pages = [munich_staff.get(url, **GERMAN) for url in (
        f"/cockpit/pickups/{berlin.pk}/pick/",
        f"/admin/fulfillment/fulfillmentorder/{berlin.pk}/change/",
        "/cockpit/no-such-page/")]
    # then each is a 404 page in the cockpit's look, saying nothing about the pickup
    for page in pages:
        assert page.status_code == 404
        assert page["Content-Type"].startswith("text/html")
        body = text_of(page)
        assert 'id="header"' in body and "OMS-Cockpit" in body
        assert "Seite nicht gefunden" in body
        assert berlin.order.number not in body


def test_staff_without_the_permission_get_an_html_403_page(network):
    # Given staff of Munich without the fulfilment permissions
    clerk = logged_in(StoreStaffFactory(stores=[network.munich], permissions=[]))
    # When they open the to-pick list, and the admin's payments
    pages = [clerk.get("/cockpit/to-pick/"), clerk.get("/admin/payments/payment/", **GERMAN)]
    # then both refuse them with an HTML page in the cockpit's look and their language
    assert [page.status_code for page in pages] == [403, 403]
    english, german = (text_of(page) for page in pages)
    assert "Permission denied" in english and "OMS Cockpit" in english
    assert "Zugriff verweigert" in german and "OMS-Cockpit" in german


def test_staff_who_may_only_view_are_refused_a_pick_with_an_html_page(network):
    # Given staff who may view pickups only, and a pickup in their store
    viewer = logged_in(StoreStaffFactory(
        stores=[network.munich], permissions=[("fulfillment", "view_fulfillmentorder")]))
    pickup = a_pickup(network.munich)
    # When they post a pick anyway
    response = viewer.post(f"/cockpit/pickups/{pickup.pk}/pick/", {})
    # then the refusal is the cockpit's 403 page
    assert response.status_code == 403
    assert "Permission denied" in text_of(response)


def test_dates_are_shown_in_the_staffs_language_and_the_stores_time(network, munich_staff):
    # Given a pickup ordered at 13:03 UTC on 7 December 2026 (14:03 in Munich)
    pickup = a_pickup(network.munich, ordered_at=datetime(2026, 12, 7, 13, 3, tzinfo=UTC))
    url = f"/cockpit/pickups/{pickup.pk}/pick/"
    # When its pick screen is opened in German and in English
    german, english = text_of(munich_staff.get(url, **GERMAN)), text_of(munich_staff.get(url))
    # then the order time reads as each language writes it, on Munich's clock
    assert "07.12.2026 14:03" in german
    assert "Dec. 7, 2026, 2:03 p.m." in english


def test_the_language_switcher_keeps_the_staffs_choice(network, munich_staff):
    # When staff choose German in the header (their browser asks for English)
    switched = munich_staff.post("/i18n/setlang/", {"language": "de",
                                                     "next": "/cockpit/to-pick/"})
    # then they are back on the page they came from, and the cockpit speaks German from now on
    assert switched.status_code == 302 and switched["Location"] == "/cockpit/to-pick/"
    page = text_of(munich_staff.get("/cockpit/to-pick/", HTTP_ACCEPT_LANGUAGE="en"))
    assert '<html lang="de"' in page and "Zu kommissionieren" in page
    # and the header offers English back
    assert 'name="language" value="en"' in page


# Column headers that are the same word in German.
SAME_IN_GERMAN = {"ID", "SKU", "Status", "Median"}


def test_every_column_header_of_the_staffs_pages_is_german(network, munich_staff, place_pickup):
    # Given a pickup of each kind the lists show, and a delivery to the store's stock
    waiting = place_pickup(network.munich, {"A": 1})
    stock_movement_record(location=network.munich, sku="A", quantity=5, kind="receipt",
                          reference="delivery 1", actor="test")
    ready = a_pickup(network.munich, status="ready_for_pickup",
                     ready_at=datetime(2026, 12, 7, 13, 3, tzinfo=UTC))
    pages = ["/cockpit/to-pick/", f"/cockpit/pickups/{waiting.pk}/pick/", "/cockpit/handover/",
             f"/cockpit/pickups/{ready.pk}/handover/", "/cockpit/dashboard/",
             "/admin/fulfillment/fulfillmentorder/", "/admin/orders/order/",
             "/admin/inventory/stocklevel/", "/admin/inventory/stockmovement/",
             f"/admin/orders/order/{waiting.order_id}/change/"]
    untranslated = {}
    for url in pages:
        # When staff open it in English and in German
        english = column_headers(munich_staff.get(url))
        german = column_headers(munich_staff.get(url, **GERMAN))
        # then every header differs in German, but for the words German shares
        assert english, url
        same = [h for h, g in zip(english, german, strict=True)
                if h == g and h not in SAME_IN_GERMAN]
        if same:
            untranslated[url] = same
    assert untranslated == {}


def test_a_pickup_waiting_for_a_transfer_says_so_instead_of_listing_zero_units(
        network, munich_staff, place_pickup):
    # Given a pickup of A and B in Munich, and B in the Kassel warehouse
    network.stock(network.kassel, "B", 10)
    pickup = place_pickup(network.munich, {"A": 1, "B": 1})
    lines = {line.sku: line for line in pickup.lines.select_related("order_line")}
    # When Munich's staff find no B on the shelf
    munich_staff.post(f"/cockpit/pickups/{pickup.pk}/pick/",
                      {f"line_{lines['A'].pk}": 1, f"line_{lines['B'].pk}": 0})
    transfer = FulfillmentOrder.objects.get(order=pickup.order, kind="transfer")
    assert transfer.location == network.kassel
    # then the to-pick list shows the A, and the B as waiting for Kassel, never as no units
    listed = text_of(munich_staff.get("/cockpit/to-pick/"))
    assert f"1 {TIMES} A" in listed
    assert f"waiting for transfer from {network.kassel.name} (1 unit)" in listed
    assert f"0 {TIMES}" not in listed
    # and the pick screen says the same, in German too
    german = text_of(munich_staff.get(f"/cockpit/pickups/{pickup.pk}/pick/", **GERMAN))
    assert f"Wartet auf eine Umlagerung von {network.kassel.name} (1 Stück)" in german
    assert f"kommt per Umlagerung von {network.kassel.name}" in german
