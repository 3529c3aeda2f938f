"""The take-back screen in a real browser (headless Chromium through chromedriver, as
tests/cockpit/test_browser.py): store staff scan the QR code of a pickup confirmation, take one
item back and see the return receipt.

With COCKPIT_SCREENSHOTS=/some/dir the walk saves a screenshot of every screen there
(`returns-search.png`, ...). Without Chromium the test skips on a developer's machine and fails
in CI (CI=true), where .ci/run installs it."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from fulfillment.pickup import pickup_code, pickup_handover, pickup_pick
from returns.models import Return
from tests.cockpit.test_browser import WAIT_SECONDS, chromium, log_in  # noqa: F401
from tests.factories.cockpit import STORE_STAFF_PERMISSIONS, StoreStaffFactory
from tests.network import level


@pytest.mark.browser
@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
def test_store_staff_take_an_item_back_and_see_the_receipt_in_the_browser(
        chromium, live_server, network, place_pickup):  # noqa: F811
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support import expected_conditions as shows
    from selenium.webdriver.support.select import Select
    from selenium.webdriver.support.ui import WebDriverWait

    wait = WebDriverWait(chromium, WAIT_SECONDS)
    shots = os.environ.get("COCKPIT_SCREENSHOTS")
    if shots:
        Path(shots).mkdir(parents=True, exist_ok=True)

    def shot(name: str) -> None:
        if shots:
            chromium.save_screenshot(f"{shots}/returns-{name}.png")

    # Given a click-and-collect order of two A the customer collected in Munich
    pickup = place_pickup(network.munich, {"A": 2})
    pickup_pick(fulfillment=pickup, picked={"A": 2}, actor="test")
    pickup.refresh_from_db()
    code = pickup_code(pickup)
    pickup_handover(fulfillment=pickup, code=code, actor="test")
    number = pickup.order.number
    on_the_shelf = level("A", network.munich).on_hand
    # and Munich's staff, who take goods back
    StoreStaffFactory(username="mia", stores=[network.munich], permissions=[
        *STORE_STAFF_PERMISSIONS, ("returns", "view_return"), ("returns", "add_return")])

    # When they log in, open "Take back" and scan the QR code of the pickup confirmation
    log_in(chromium, f"{live_server.url}/cockpit/to-pick/", "mia")
    wait.until(shows.presence_of_element_located((By.LINK_TEXT, "Take back"))).click()
    search = wait.until(shows.presence_of_element_located((By.ID, "id_q")))
    search.send_keys(f"OMS-PICKUP:{number}:{code}")
    search.submit()

    # then the order is found with both units returnable; they open its form
    row = wait.until(shows.presence_of_element_located(
        (By.CSS_SELECTOR, f'#orders-found tr[data-order="{number}"]')))
    assert row.find_element(By.CSS_SELECTOR, 'li[data-sku="A"]').get_attribute(
        "data-returnable") == "2"
    shot("search")
    row.find_element(By.LINK_TEXT, "Take back").click()

    # When they take one A back, too small and resellable, refunded in cash
    line = wait.until(shows.presence_of_element_located(
        (By.CSS_SELECTOR, '#take-back-lines tr[data-sku="A"]')))
    quantity = line.find_element(By.CSS_SELECTOR, "input[type=number]")
    quantity.clear()
    quantity.send_keys("1")
    Select(line.find_element(By.CSS_SELECTOR, "select[name^=reason_]")).select_by_value(
        "too_small")
    chromium.find_element(By.CSS_SELECTOR, "input[name=refund_method][value=cash]").click()
    shot("form")
    chromium.find_element(By.CSS_SELECTOR,
                          "input[type=submit][value='Take back and refund']").click()

    # then the receipt shows the return, closed, with 10.00 EUR paid out in cash
    receipt = wait.until(shows.presence_of_element_located((By.ID, "return-receipt")))
    ret = Return.objects.get(order__number=number)
    assert receipt.get_attribute("data-return") == ret.number
    assert receipt.get_attribute("data-status") == "closed"
    assert "10.00 EUR" in chromium.find_element(By.ID, "refund-amount").text
    assert chromium.find_element(By.ID, "refund-method").text == "Cash at the till"
    assert chromium.find_element(By.ID, "print-receipt").is_displayed()
    shot("receipt")
    # and the unit is back on Munich's shelf
    assert level("A", network.munich).on_hand == on_the_shelf + 1
