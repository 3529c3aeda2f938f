""""Customers in the store now" in a real browser (headless Chromium through chromedriver, as
tests/cockpit/test_browser.py): a customer accepted the offer to take her parcel's goods at the
store; staff open the list, see her, pick the goods and hand them over against her code. And the
list, with an accepted offer in each state and open offers, fits a 1280 px screen in German and
English.

With COCKPIT_SCREENSHOTS=/some/dir both save screenshots there (`visits-list.png`, ...,
`de-visits-in-store.png`, `en-visits-dashboard.png`, ...). Without Chromium the tests skip on a
developer's machine and fail in CI (CI=true), where .ci/run installs it."""

from __future__ import annotations

import os
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from django.utils import timezone

from fulfillment.adapters.wms import fake_gateway
from fulfillment.models import FulfillmentOrder
from fulfillment.pickup import pickup_code, pickup_pick
from oms.catalog.models import Product
from tests.cockpit.test_browser import (  # noqa: F401
    OVERFLOW,
    SCREEN_HEIGHT,
    SCREEN_WIDTH,
    WAIT_SECONDS,
    chromium,
    log_in,
)
from tests.cockpit.test_visits_in_store import TIMES, offer_at  # noqa: F401
from tests.factories.cockpit import StoreStaffFactory
from visits.accept import offer_accept

MINUTE = timedelta(minutes=1)


def _shots() -> str | None:
    shots = os.environ.get("COCKPIT_SCREENSHOTS")
    if shots:
        Path(shots).mkdir(parents=True, exist_ok=True)
    return shots


def _whole_page_shot(driver, path: str) -> None:
    """The whole page, not only the screen's 800 px: the window grows to the page's height
    for the shot."""
    height = driver.execute_script("return document.documentElement.scrollHeight")
    driver.set_window_size(SCREEN_WIDTH, max(height + 120, SCREEN_HEIGHT))
    driver.save_screenshot(path)
    driver.set_window_size(SCREEN_WIDTH, SCREEN_HEIGHT)


@pytest.mark.browser
@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
def test_store_staff_prepare_and_hand_over_an_accepted_offer_in_the_browser(
        chromium, live_server, network, offer_at):  # noqa: F811
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support import expected_conditions as shows
    from selenium.webdriver.support.ui import WebDriverWait

    wait = WebDriverWait(chromium, WAIT_SECONDS)
    shots = _shots()

    def shot(name: str) -> None:
        if shots:
            chromium.save_screenshot(f"{shots}/visits-{name}.png")

    def message_says(text: str) -> None:
        wait.until(shows.text_to_be_present_in_element((By.CSS_SELECTOR, ".messagelist"),
                                                       text))

    # Given Ada walked into Munich while her parcel of two A waited in Kassel, and took the
    # offer to take them with her
    offer = offer_accept(offer=offer_at(network.munich, "Ada", {"A": 2}), actor="app")
    number = offer.order.number
    # and Munich's staff
    StoreStaffFactory(username="mia", stores=[network.munich])

    # When they log in and open "Customers in the store"
    log_in(chromium, f"{live_server.url}/cockpit/to-pick/", "mia")
    wait.until(shows.presence_of_element_located(
        (By.LINK_TEXT, "Customers in the store"))).click()

    # then Ada's accepted offer is there, to pick
    row = wait.until(shows.presence_of_element_located(
        (By.CSS_SELECTOR, f'#accepted-offers tr[data-order="{number}"]')))
    assert row.get_attribute("data-state") == "to_pick"
    assert "Ada" in row.text and f"2 {TIMES} A" in row.text
    shot("list")

    # When they open its pick screen and confirm both units
    row.find_element(By.LINK_TEXT, "Pick").click()
    wait.until(shows.presence_of_element_located((By.ID, "pick-lines")))
    chromium.find_element(By.CSS_SELECTOR, "input[type=submit][value='Confirm pick']").click()
    message_says(f"Order {number} is ready for pickup")

    # then back on the list, the offer is ready to hand over
    chromium.find_element(By.LINK_TEXT, "Customers in the store").click()
    row = wait.until(shows.presence_of_element_located(
        (By.CSS_SELECTOR, f'#accepted-offers tr[data-order="{number}"][data-state="ready"]')))
    shot("ready")

    # When Ada shows her code at the counter
    pickup = FulfillmentOrder.objects.get(pk=offer.pickup_id)
    row.find_element(By.LINK_TEXT, "Hand over").click()
    wait.until(shows.presence_of_element_located((By.ID, "id_code"))).send_keys(
        pickup_code(pickup))
    chromium.find_element(By.CSS_SELECTOR, "input[type=submit][value='Hand over']").click()

    # then the goods are handed over, and she is off the list
    message_says(f"Order {number} handed over")
    assert FulfillmentOrder.objects.get(pk=pickup.pk).status == "picked_up"
    chromium.find_element(By.LINK_TEXT, "Customers in the store").click()
    wait.until(shows.text_to_be_present_in_element(
        (By.ID, "content-main"), "No accepted offer is waiting to be picked or handed over."))
    assert not chromium.find_elements(By.CSS_SELECTOR, f'tr[data-order="{number}"]')


@pytest.fixture
def warehouse_slow_to_stop(network, settings) -> Iterator[None]:
    """Kassel takes parcels through its push endpoint (the process-wide fake gateway: the
    browser test's commits really send) and cannot answer a stop yet: the stop is retried
    later and the pickup waits. Only for the orders placed while this holds: `kassel_polls()`
    ends it."""
    gateway = fake_gateway()
    settings.WMS_GATEWAY = "fake"
    network.kassel.wms_url = "http://wms.invalid/hook"
    network.kassel.wms_secret = "whsec_c2VjcmV0LXNlY3JldC1zZWNyZXQtc2VjcmV0LTEyMzQ="
    network.kassel.save()
    gateway.stop_status = 503
    yield
    gateway.stop_status = 200
    gateway.sent.clear()
    gateway.stops.clear()


def kassel_polls(network) -> None:
    network.kassel.wms_url = ""
    network.kassel.save()


@pytest.mark.browser
@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
def test_the_customers_in_the_store_fit_a_1280_pixel_screen_in_german_and_english(
        chromium, live_server, network, offer_at, warehouse_slow_to_stop):  # noqa: F811
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support import expected_conditions as shows
    from selenium.webdriver.support.ui import WebDriverWait

    wait = WebDriverWait(chromium, WAIT_SECONDS)
    shots = _shots()
    now = timezone.now()
    # Given Munich's accepted offers in every state, with names as long as real ones: one
    # whose parcel Kassel still has to stop, one to pick, one ready; and two open offers
    waiting = offer_accept(offer=offer_at(network.munich, "Annemarie Schulze-Oberhausen",
                                          {"A": 2}, at=now - 30 * MINUTE),
                           actor="app", now=now - 28 * MINUTE)
    assert FulfillmentOrder.objects.get(pk=waiting.pickup_id).waits_for_stop
    kassel_polls(network)
    offer_accept(offer=offer_at(network.munich, "Konstantin Wolkenstein-Rodeneck",
                                at=now - 20 * MINUTE), actor="app", now=now - 18 * MINUTE)
    ready = offer_accept(offer=offer_at(network.munich, "Bea", {"A": 3}, at=now - 9 * MINUTE),
                         actor="app", now=now - 7 * MINUTE)
    pickup_pick(fulfillment=FulfillmentOrder.objects.get(pk=ready.pickup_id), picked={"A": 3},
                actor="test")
    offer_at(network.munich, "Friederike von Hohenzollern-Sigmaringen", {"A": 1},
             at=now - 4 * MINUTE)
    offer_at(network.munich, "Ole", {"A": 2}, at=now - MINUTE)
    Product.objects.filter(sku="A").update(name="Winterstiefel Leder gefüttert, Größe 42, braun")
    # and Munich's staff, logged in on a 1280 x 800 screen
    StoreStaffFactory(username="mia", stores=[network.munich])
    log_in(chromium, f"{live_server.url}/admin/", "mia")
    wait.until(shows.presence_of_element_located((By.ID, "language-switcher")))

    too_wide = {}
    for language in ("de", "en"):
        # When they choose the language and open the list, the dashboard and the admin's index
        chromium.find_element(By.CSS_SELECTOR,
                              f"#language-switcher button[value={language}]").click()
        wait.until(shows.presence_of_element_located(
            (By.CSS_SELECTOR, f"html[lang={language}]")))
        for name, path in (("visits-in-store", "/cockpit/visits/"),
                           ("visits-dashboard", "/cockpit/dashboard/"),
                           ("visits-admin-index", "/admin/")):
            chromium.get(f"{live_server.url}{path}")
            wait.until(shows.presence_of_element_located((By.ID, "content")))
            wide = chromium.execute_script(OVERFLOW, SCREEN_WIDTH)
            if wide:
                too_wide[f"{language} {name}"] = wide
            if shots:
                _whole_page_shot(chromium, f"{shots}/{language}-{name}.png")
        # then the list shows the three states
        chromium.get(f"{live_server.url}/cockpit/visits/")
        states = [row.get_attribute("data-state") for row in chromium.find_elements(
            By.CSS_SELECTOR, "#accepted-offers tbody tr")]
        assert states == ["waiting", "to_pick", "ready"]
        assert len(chromium.find_elements(By.CSS_SELECTOR, "#open-offers tbody tr")) == 2

    # and nothing on any of the pages is wider than the screen
    assert too_wide == {}
