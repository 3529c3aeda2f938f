"""One walk through the cockpit in a real browser (headless Chromium from Debian, driven by
Selenium through Debian's chromedriver): log in as store staff, pick an order from the to-pick
list, and hand it over against the customer's code.

Without Chromium the test skips on a developer's machine, and fails in CI (CI=true), where
.ci/run installs it."""

from __future__ import annotations

import os
from collections.abc import Iterator
from typing import Any, NoReturn

import pytest

from fulfillment.pickup import pickup_code
from tests.cockpit.factories import PASSWORD, StoreStaffFactory

CHROMIUM = "/usr/bin/chromium"
CHROMEDRIVER = "/usr/bin/chromedriver"
WAIT_SECONDS = 15


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
                     "--disable-gpu", "--lang=en-US", "--window-size=1280,1000"):
        options.add_argument(argument)
    try:
        driver = webdriver.Chrome(service=Service(CHROMEDRIVER), options=options)
    except WebDriverException as exc:
        _unavailable(f"Chromium does not start: {exc.msg}")
    driver.set_page_load_timeout(WAIT_SECONDS)
    yield driver
    driver.quit()


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
    chromium.get(f"{live_server.url}/cockpit/to-pick/")
    wait.until(shows.presence_of_element_located((By.ID, "id_username"))).send_keys("mia")
    chromium.find_element(By.ID, "id_password").send_keys(PASSWORD)
    chromium.find_element(By.CSS_SELECTOR, "#login-form [type=submit]").click()

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
