"""The supplier portal in a real browser (headless Chromium, as tests/cockpit/test_browser.py):
Nordwerk's Nora logs in, acknowledges a new dropship order, ships it with a tracking number and
finds it under "Shipped", receives the customer's return of it, uploads a stock count with one
bad line and applies the valid ones; then switches to German and sees the same pages in German.

With COCKPIT_SCREENSHOTS=/some/dir the walk saves a screenshot of every page there
(`portal-en-new.png`, `portal-de-ship.png`, ...). Without Chromium the test skips on a
developer's machine and fails in CI (CI=true)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from fulfillment.models import Shipment
from inventory.models import StockLevel
from returns.models import Return
from tests.cockpit.test_browser import SCREEN_WIDTH, WAIT_SECONDS, chromium  # noqa: F401
from tests.returns.conftest import return_body
from tests.suppliers.factories import SUPPLIER_PASSWORD
from tests.suppliers.factories_settlement import deliver


@pytest.mark.browser
@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
def test_a_supplier_logs_in_acknowledges_ships_uploads_stock_and_receives_a_return(
        chromium, live_server, supplier_user, supplier_site, place_dropship, shop, tmp_path,  # noqa: F811
        django_capture_on_commit_callbacks):
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support import expected_conditions as shows
    from selenium.webdriver.support.ui import WebDriverWait

    wait = WebDriverWait(chromium, WAIT_SECONDS)
    shots = os.environ.get("COCKPIT_SCREENSHOTS")
    if shots:
        Path(shots).mkdir(parents=True, exist_ok=True)

    def shot(name: str) -> None:
        # No page may scroll sideways on the smallest screen.
        width = chromium.execute_script("return document.documentElement.scrollWidth")
        assert width <= SCREEN_WIDTH, (name, width)
        if shots:
            chromium.save_screenshot(f"{shots}/portal-{name}.png")

    def message_says(text: str) -> None:
        wait.until(shows.text_to_be_present_in_element((By.CSS_SELECTOR, "ul.messages"), text))

    # Given two new dropship orders at Nordwerk's site
    first = place_dropship([("BOOT-42", 2), ("SOCK-1", 3)])
    second = place_dropship([("CAP-1", 1)])

    # When Nora opens the portal, she is asked to log in, and does
    chromium.get(f"{live_server.url}/supplier/")
    wait.until(shows.presence_of_element_located((By.ID, "id_username"))).send_keys("nora")
    chromium.find_element(By.ID, "id_password").send_keys(SUPPLIER_PASSWORD)
    shot("en-login")
    chromium.find_element(By.CSS_SELECTOR, "#login-form [type=submit]").click()

    # then she sees both new orders under her company's name
    order = wait.until(shows.presence_of_element_located(
        (By.CSS_SELECTOR, f'section.order[data-fulfillment="{first.pk}"]')))
    assert chromium.find_element(By.CSS_SELECTOR, "[data-testid=supplier-name]").text == \
        "Nordwerk GmbH"
    assert chromium.find_elements(By.CSS_SELECTOR,
                                  f'section.order[data-fulfillment="{second.pk}"]')
    shot("en-new")

    # When she accepts the first one
    order.find_element(By.CSS_SELECTOR, "button[name=accept]").click()
    message_says("accepted")

    # and opens "To ship", then the ship form of that order
    chromium.find_element(By.LINK_TEXT, "To ship").click()
    row = wait.until(shows.presence_of_element_located(
        (By.CSS_SELECTOR, f'#orders-to-ship tr[data-fulfillment="{first.pk}"]')))
    shot("en-to-ship")
    row.find_element(By.LINK_TEXT, "Ship").click()

    # and ships it with DHL and a tracking number
    wait.until(shows.presence_of_element_located((By.ID, "id_carrier"))).send_keys("dhl")
    chromium.find_element(By.ID, "id_tracking_number").send_keys("JJD000390007")
    shot("en-ship")
    chromium.find_element(By.ID, "ship-submit").click()

    # then the order has shipped with that parcel, and "Shipped" lists it with its status
    message_says("shipped")
    shipment = Shipment.objects.get(fulfillment=first)
    assert (shipment.carrier, shipment.tracking_number) == ("dhl", "JJD000390007")
    chromium.find_element(By.LINK_TEXT, "Shipped").click()
    parcel = wait.until(shows.presence_of_element_located(
        (By.CSS_SELECTOR, '#parcels-shipped tr[data-tracking="JJD000390007"]')))
    assert parcel.get_attribute("data-status") == "shipped"
    shot("en-shipped")

    # When the parcel arrives and the customer sends the boots back by mail
    supplier_site.accepts_returns = True
    supplier_site.save(update_fields=["accepts_returns"])
    deliver(django_capture_on_commit_callbacks, first)
    with django_capture_on_commit_callbacks(execute=True):
        registered = shop.post("/api/v1/returns", return_body(
            {"number": first.order.number}, [("BOOT-42", 2)]))
    assert registered.status_code == 201, registered.content
    ret = Return.objects.get(pk=registered.json()["id"])

    # then it waits under "Returns"; she receives both boots back onto the shelf
    chromium.find_element(By.LINK_TEXT, "Returns").click()
    wait.until(shows.presence_of_element_located(
        (By.CSS_SELECTOR, f'[data-return="{ret.number}"] a'))).click()
    line = ret.lines.get()
    wait.until(shows.presence_of_element_located((By.ID, "receive-form")))
    received = chromium.find_element(By.NAME, f"received_{line.pk}")
    received.clear()
    received.send_keys("2")
    shot("en-return")
    chromium.find_element(By.CSS_SELECTOR, "#receive-form [type=submit]").click()
    message_says("received")
    ret.refresh_from_db()
    assert ret.status in ("received", "refunded", "closed")
    assert ret.lines.get().received == 2

    # When she uploads a stock count with one bad line
    count = tmp_path / "bestand.csv"
    count.write_text("site;sku;on_hand\nSUP-NORD;CAP-1;7\nSUP-NORD;SOCK-1;-5\n")
    chromium.find_element(By.LINK_TEXT, "Stock").click()
    wait.until(shows.presence_of_element_located(
        (By.CSS_SELECTOR, "[data-testid=stock-upload-link]"))).click()
    wait.until(shows.presence_of_element_located((By.ID, "stock-upload-form")))
    chromium.find_element(By.ID, "id_file").send_keys(str(count))
    chromium.find_element(By.CSS_SELECTOR, "#stock-upload-form [type=submit]").click()

    # then the report shows the bad line and nothing is applied until she applies the rest
    summary = wait.until(shows.presence_of_element_located(
        (By.CSS_SELECTOR, "[data-testid=upload-summary]")))
    assert summary.get_attribute("data-status") == "invalid"
    cap = StockLevel.objects.get(location=supplier_site, product_id="CAP-1")
    assert cap.on_hand != 7
    shot("en-stock-report")
    chromium.find_element(By.CSS_SELECTOR, "[data-testid=apply-valid]").click()
    wait.until(shows.text_to_be_present_in_element(
        (By.CSS_SELECTOR, "[data-testid=upload-status]"), "The valid lines were applied"))
    cap.refresh_from_db()
    assert cap.on_hand == 7

    # When she switches to German
    chromium.find_element(By.CSS_SELECTOR, "#language-switcher button[value=de]").click()
    wait.until(shows.presence_of_element_located((By.CSS_SELECTOR, 'html[lang="de"]')))
    shot("de-shipped")

    # then the pages speak German; she accepts the second order there and opens its slip
    chromium.get(f"{live_server.url}/supplier/orders/new/")
    order = wait.until(shows.presence_of_element_located(
        (By.CSS_SELECTOR, f'section.order[data-fulfillment="{second.pk}"]')))
    shot("de-new")
    order.find_element(By.CSS_SELECTOR, "button[name=accept]").click()
    wait.until(shows.presence_of_element_located((By.CSS_SELECTOR, "ul.messages")))
    chromium.get(f"{live_server.url}/supplier/orders/to-ship/")
    wait.until(shows.presence_of_element_located(
        (By.CSS_SELECTOR, f'#orders-to-ship tr[data-fulfillment="{second.pk}"]')))
    shot("de-to-ship")
    chromium.get(f"{live_server.url}/supplier/orders/{second.pk}/ship/")
    wait.until(shows.presence_of_element_located((By.ID, "ship-form")))
    shot("de-ship")
    chromium.get(f"{live_server.url}/supplier/orders/{second.pk}/packing-slip/")
    wait.until(shows.presence_of_element_located((By.ID, "packing-slip")))
    shot("de-packing-slip")
