"""The cockpit in a real browser (headless Chromium from Debian, driven by Selenium through
Debian's chromedriver): one walk that logs in as store staff, picks an order from the to-pick
list and hands it over against the customer's code; and every cockpit page and the admin lists
staff use, in German and English, fitting a 1280 px screen without scrolling sideways.

With COCKPIT_SCREENSHOTS=/some/dir the page tour saves a screenshot of every page there
(`de-to-pick.png`, ...), to look at the pages as staff see them.

Without Chromium the test skips on a developer's machine, and fails in CI (CI=true), where
.ci/run installs it."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any, NoReturn

import pytest

from fulfillment.pickup import pickup_code, pickup_handover, pickup_pick
from oms.catalog.models import Product
from tests.factories.cockpit import PASSWORD, StoreStaffFactory

CHROMIUM = "/usr/bin/chromium"
CHROMEDRIVER = "/usr/bin/chromedriver"
WAIT_SECONDS = 15
# The smallest laptop screen in the stores.
SCREEN_WIDTH, SCREEN_HEIGHT = 1280, 800


def _unavailable(reason: str) -> NoReturn:
    if os.environ.get("CI"):
        pytest.fail(f"{reason}; CI must run the browser test (.ci/run installs "
                    "chromium and chromium-driver)")
    pytest.skip(reason)


@pytest.fixture
def chromium() -> Iterator[Any]:
    try:
        from selenium import webdriver
        from selenium.common.exceptions import WebDriverException
        from selenium.webdriver.chrome.service import Service
    except ImportError:
        _unavailable("selenium is not installed (pip install -e '.[dev]')")
    for path in (CHROMIUM, CHROMEDRIVER):
        if not os.access(path, os.X_OK):
            _unavailable(f"{path} is missing (apt-get install chromium chromium-driver)")
    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for argument in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage",
                     "--disable-gpu", "--lang=en-US",
                     f"--window-size={SCREEN_WIDTH},{SCREEN_HEIGHT}"):
        options.add_argument(argument)
    try:
        driver = webdriver.Chrome(service=Service(CHROMEDRIVER), options=options)
    except WebDriverException as exc:
        _unavailable(f"Chromium does not start: {exc.msg}")
    driver.set_page_load_timeout(WAIT_SECONDS)
    yield driver
    driver.quit()


def log_in(driver: Any, url: str, username: str) -> None:
    """Open `url` and log in through the admin's form it leads to."""
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support import expected_conditions as shows
    from selenium.webdriver.support.ui import WebDriverWait

    driver.get(url)
    WebDriverWait(driver, WAIT_SECONDS).until(shows.presence_of_element_located(
        (By.ID, "id_username"))).send_keys(username)
    driver.find_element(By.ID, "id_password").send_keys(PASSWORD)
    driver.find_element(By.CSS_SELECTOR, "#login-form [type=submit]").click()


@pytest.mark.browser
@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
def test_store_staff_pick_and_hand_over_a_pickup_in_the_browser(
        chromium, live_server, network, place_pickup):
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support import expected_conditions as shows
    from selenium.webdriver.support.ui import WebDriverWait

    wait = WebDriverWait(chromium, WAIT_SECONDS)

    def message_says(text: str) -> None:
        wait.until(shows.text_to_be_present_in_element((By.CSS_SELECTOR, ".messagelist"),
                                                       text))

    # Given a webshop order to collect in Munich, and Munich's staff
    pickup = place_pickup(network.munich, {"A": 2, "B": 1})
    number = pickup.order.number
    StoreStaffFactory(username="mia", stores=[network.munich])

    # When they open the to-pick list, they are asked to log in through the admin's form
    log_in(chromium, f"{live_server.url}/cockpit/to-pick/", "mia")

    # then the list shows the order; they open its pick screen and confirm every unit
    row = wait.until(shows.presence_of_element_located(
        (By.CSS_SELECTOR, f'#to-pick tr[data-order="{number}"]')))
    row.find_element(By.LINK_TEXT, "Pick").click()
    wait.until(shows.presence_of_element_located((By.ID, "pick-lines")))
    chromium.find_element(By.CSS_SELECTOR, "input[type=submit][value='Confirm pick']").click()
    message_says(f"Order {number} is ready for pickup")

    # When the customer shows their code at the counter
    pickup.refresh_from_db()
    code = pickup_code(pickup)
    chromium.find_element(By.LINK_TEXT, "Hand over").click()
    search = wait.until(shows.presence_of_element_located((By.ID, "id_q")))
    search.send_keys(number)
    search.submit()
    wait.until(shows.presence_of_element_located((By.ID, "id_code"))).send_keys(code)
    chromium.find_element(By.CSS_SELECTOR, "input[type=submit][value='Hand over']").click()

    # then the order is handed over
    message_says(f"Order {number} handed over")
    pickup.refresh_from_db()
    assert pickup.status == "picked_up"


# What sticks out past the right edge of the screen: the page itself, or a table inside a box
# that scrolls sideways (the admin's change list scrolls its table rather than the page).
OVERFLOW = """
const screen = document.documentElement.clientWidth;
const wide = [];
if (document.documentElement.scrollWidth > arguments[0]) {
  wide.push("page " + document.documentElement.scrollWidth + "px");
}
for (const table of document.querySelectorAll("table")) {
  const box = table.parentElement;
  const right = table.getBoundingClientRect().right;
  if (right > screen + 1 || box.scrollWidth > box.clientWidth + 1) {
    wide.push((table.id || box.className || "table") + " " + Math.round(right) + "px");
  }
}
return wide;
"""


@pytest.fixture
def a_day_at_the_munich_store(network, place_pickup):
    """Munich's pickups in every state the cockpit shows, products with names as long as real
    ones; the pages of the tour, by name."""
    network.stock(network.kassel, "B", 10)
    to_pick = [place_pickup(network.munich, {"A": 2, "B": 1},
                            customer={"email": f"kundin.{n}@beispiel-versandhandel.de",
                                      "name": "Annemarie Schulze-Oberhausen"})
               for n in range(2)]
    Product.objects.filter(sku="A").update(name="Winterstiefel Leder gefüttert, Größe 42, braun")
    Product.objects.filter(sku="B").update(name="Imprägnierspray für Glattleder 250 ml")
    # one waits for B from the warehouse: the store found none on its shelf
    waiting = place_pickup(network.munich, {"A": 1, "B": 1})
    pickup_pick(fulfillment=waiting, picked={"A": 1, "B": 0}, actor="test")
    ready = place_pickup(network.munich, {"A": 1})
    pickup_pick(fulfillment=ready, picked={"A": 1}, actor="test")
    collected = place_pickup(network.munich, {"A": 3})
    pickup_pick(fulfillment=collected, picked={"A": 3}, actor="test")
    collected.refresh_from_db()
    pickup_handover(fulfillment=collected, code=pickup_code(collected), actor="test")
    berlin = place_pickup(network.berlin, {"A": 1})
    return {
        "to-pick": "/cockpit/to-pick/",
        "pick": f"/cockpit/pickups/{to_pick[0].pk}/pick/",
        "pick-waiting": f"/cockpit/pickups/{waiting.pk}/pick/",
        "counter": "/cockpit/handover/",
        "handover": f"/cockpit/pickups/{ready.pk}/handover/",
        "dashboard": "/cockpit/dashboard/",
        "admin-index": "/admin/",
        "admin-fulfilments": "/admin/fulfillment/fulfillmentorder/",
        "admin-fulfilment": f"/admin/fulfillment/fulfillmentorder/{waiting.pk}/change/",
        "admin-orders": "/admin/orders/order/",
        "admin-order": f"/admin/orders/order/{waiting.order_id}/change/",
        "admin-stock": "/admin/inventory/stocklevel/",
        "admin-movements": "/admin/inventory/stockmovement/",
        "not-found": f"/cockpit/pickups/{berlin.pk}/pick/",
    }


@pytest.mark.browser
@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
def test_every_cockpit_page_fits_a_1280_pixel_screen_in_german_and_english(
        chromium, live_server, network, a_day_at_the_munich_store):
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support import expected_conditions as shows
    from selenium.webdriver.support.ui import WebDriverWait

    wait = WebDriverWait(chromium, WAIT_SECONDS)
    shots = os.environ.get("COCKPIT_SCREENSHOTS")
    if shots:
        Path(shots).mkdir(parents=True, exist_ok=True)
    # Given Munich's staff, logged in on a 1280 x 800 screen
    StoreStaffFactory(username="mia", stores=[network.munich])
    log_in(chromium, f"{live_server.url}/admin/", "mia")
    wait.until(shows.presence_of_element_located((By.ID, "language-switcher")))

    too_wide = {}
    for language in ("de", "en"):
        # When they choose the language in the header
        chromium.find_element(By.CSS_SELECTOR,
                              f"#language-switcher button[value={language}]").click()
        wait.until(shows.presence_of_element_located(
            (By.CSS_SELECTOR, f"html[lang={language}]")))
        # and open every page
        for name, path in a_day_at_the_munich_store.items():
            chromium.get(f"{live_server.url}{path}")
            wait.until(shows.presence_of_element_located((By.ID, "content")))
            assert chromium.find_element(By.TAG_NAME, "html").get_attribute("lang") == language
            if shots:
                chromium.save_screenshot(f"{shots}/{language}-{name}.png")
            wide = chromium.execute_script(OVERFLOW, SCREEN_WIDTH)
            if wide:
                too_wide[f"{language} {name}"] = wide

    # then nothing on any of them is wider than the screen
    assert too_wide == {}
