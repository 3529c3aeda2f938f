"""The stock upload in a real browser (headless Chromium, as tests/cockpit/test_browser.py): the
page sends the file with its script, follows the progress, opens the report of a file with one
bad line, and the supplier applies the valid lines. With COCKPIT_SCREENSHOTS=/dir it saves
`supplier-stock-upload.png`, `supplier-stock-report.png`, `supplier-stock-applied.png` and
`supplier-stock.png`."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from tests.cockpit.test_browser import WAIT_SECONDS, chromium  # noqa: F401
from tests.suppliers.conftest import stock
from tests.suppliers.factories import SUPPLIER_PASSWORD
from tests.suppliers.stock_support import counts


def _shot(driver: Any, name: str) -> None:
    shots = os.environ.get("COCKPIT_SCREENSHOTS")
    if shots:
        Path(shots).mkdir(parents=True, exist_ok=True)
        driver.save_screenshot(str(Path(shots) / name))


def test_upload_a_file_with_one_bad_line_then_apply_the_valid_ones(
        chromium: Any, live_server: Any, supplier_user: Any, supplier_site: Any,  # noqa: F811
        tmp_path: Path) -> None:
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support import expected_conditions as shows
    from selenium.webdriver.support.ui import WebDriverWait

    wait = WebDriverWait(chromium, WAIT_SECONDS)
    # given boots and socks at Nordwerk's site, and a count whose sock line is negative
    stock(supplier_site, "BOOT-42", 10)
    stock(supplier_site, "SOCK-1", 20)
    file = tmp_path / "bestand.csv"
    file.write_text("site;sku;on_hand\nSUP-NORD;BOOT-42;7\nSUP-NORD;SOCK-1;-5\n")

    # when Nora logs in and uploads it from the stock page
    chromium.get(f"{live_server.url}/supplier/stock/upload/")
    wait.until(shows.presence_of_element_located((By.ID, "id_username"))).send_keys("nora")
    chromium.find_element(By.ID, "id_password").send_keys(SUPPLIER_PASSWORD)
    chromium.find_element(By.CSS_SELECTOR, "#login-form [type=submit]").click()
    wait.until(shows.presence_of_element_located((By.ID, "stock-upload-form")))
    chromium.find_element(By.ID, "id_file").send_keys(str(file))
    _shot(chromium, "supplier-stock-upload.png")
    chromium.find_element(By.CSS_SELECTOR, "#stock-upload-form [type=submit]").click()

    # then the report names line 3, and nothing is applied
    summary = wait.until(shows.presence_of_element_located(
        (By.CSS_SELECTOR, "[data-testid=upload-summary]")))
    assert summary.get_attribute("data-status") == "invalid"
    errors = chromium.find_element(By.CSS_SELECTOR, "[data-testid=upload-errors] tbody").text
    assert errors == "3 on_hand -5 The count may not be negative."
    assert counts() == {("SUP-NORD", "BOOT-42"): (10, 0), ("SUP-NORD", "SOCK-1"): (20, 0)}
    _shot(chromium, "supplier-stock-report.png")

    # when she applies the valid line
    chromium.find_element(By.CSS_SELECTOR, "[data-testid=apply-valid]").click()

    # then the boots are counted
    wait.until(shows.text_to_be_present_in_element(
        (By.CSS_SELECTOR, "[data-testid=upload-status]"), "The valid lines were applied"))
    assert counts() == {("SUP-NORD", "BOOT-42"): (7, 0), ("SUP-NORD", "SOCK-1"): (20, 0)}
    _shot(chromium, "supplier-stock-applied.png")
    chromium.get(f"{live_server.url}/supplier/stock/")
    wait.until(shows.presence_of_element_located((By.CSS_SELECTOR, "[data-testid=stock-table]")))
    _shot(chromium, "supplier-stock.png")
