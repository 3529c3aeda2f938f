"""The finance cockpit in a real browser (headless Chromium through chromedriver, as
tests/cockpit/test_browser.py): finance staff log in, see the open items and their ageing chart,
match a bank transaction nobody could match by its purpose to the order it pays, and see it
leave the unmatched list. Then every finance page, in German and English, fits a 1280 px
screen.

With COCKPIT_SCREENSHOTS=/some/dir it saves screenshots there (`finance-open-items.png`, ...,
`de-finance-bank.png`, `en-finance-trial-balance.png`, ...). Without Chromium the test skips on
a developer's machine and fails in CI (CI=true), where .ci/run installs it."""

from __future__ import annotations

import os
from datetime import timedelta
from decimal import Decimal
from pathlib import Path

import pytest
from django.utils import timezone

from finance.models import BankTransaction, OpenItem
from finance.services import dunning_sweep, open_item_dispute
from ledger.services import Line, entry_post
from tests.cockpit.test_browser import (  # noqa: F401
    OVERFLOW,
    SCREEN_HEIGHT,
    SCREEN_WIDTH,
    WAIT_SECONDS,
    chromium,
    log_in,
)
from tests.factories.finance_cockpit import FinanceStaffFactory, UnmatchedTransactionFactory
from tests.finance.factories import an_invoice_order, an_item_due

D = Decimal
LONG_NAMES = ["Annemarie Schulze-Oberhausen", "Konstantin Wolkenstein-Rodeneck",
              "Friederike von Hohenzollern-Sigmaringen", "Ole"]


def _shots() -> str | None:
    shots = os.environ.get("COCKPIT_SCREENSHOTS")
    if shots:
        Path(shots).mkdir(parents=True, exist_ok=True)
    return shots


def _whole_page_shot(driver, path: str) -> None:
    height = driver.execute_script("return document.documentElement.scrollHeight")
    driver.set_window_size(SCREEN_WIDTH, max(height + 120, SCREEN_HEIGHT))
    driver.save_screenshot(path)
    driver.set_window_size(SCREEN_WIDTH, SCREEN_HEIGHT)


def a_month_of_receivables() -> dict[str, OpenItem]:
    """Items in every ageing bucket with names and addresses as long as real ones, some dunned
    (one to the collection list), one disputed; sales booked in the ledger."""
    items = {}
    for n, (days, amount) in enumerate([(-10, "1249.90"), (-2, "89.00"), (12, "119.00"),
                                        (25, "459.95"), (45, "2380.00"), (75, "64.20"),
                                        (130, "799.00")]):
        name = LONG_NAMES[n % len(LONG_NAMES)]
        order = an_invoice_order(amount, customer__name=name,
                                 customer__email=f"{name.split()[0].lower()}.{n}"
                                                 "@beispiel-versandhandel.de")
        items[f"{days}"] = an_item_due(days, amount, order=order)
        entry_post(booked_on=timezone.localdate() - timedelta(days=max(days, 0) + 14),
                   reference=order.number, text=f"Rechnung {order.number}",
                   source=f"browser:{order.number}",
                   lines=[Line.dr("receivables", D(amount)),
                          Line.cr("revenue:19", (D(amount) / D("1.19")).quantize(D("0.01"))),
                          Line.cr("vat:19", D(amount) - (D(amount) / D("1.19")).quantize(
                              D("0.01")))])
    OpenItem.objects.filter(pk=items["130"].pk).update(dunning_level=3, status="overdue")
    dunning_sweep()  # reminders, notices, the collection list
    open_item_dispute(item=items["25"], reason="Ware beschädigt angekommen", actor="test")
    return items


@pytest.mark.browser
@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
def test_finance_staff_match_a_bank_transaction_in_the_browser(chromium, live_server):  # noqa: F811
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support import expected_conditions as shows
    from selenium.webdriver.support.ui import WebDriverWait

    wait = WebDriverWait(chromium, WAIT_SECONDS)
    shots = _shots()

    def shot(name: str) -> None:
        if shots:
            _whole_page_shot(chromium, f"{shots}/finance-{name}.png")

    # Given a month of receivables, and two transfers whose purpose names no order
    items = a_month_of_receivables()
    owed = items["12"]
    number = owed.order.number
    paying = UnmatchedTransactionFactory(amount=D("119.00"),
                                         purpose="Rechnung vom 3. Maerz Kundennr fehlt")
    other = UnmatchedTransactionFactory(amount=D("50.00"), purpose="Anzahlung")
    # and finance staff
    FinanceStaffFactory(username="fiona")

    # When they log in to the finance cockpit
    log_in(chromium, f"{live_server.url}/cockpit/finance/", "fiona")
    # then they see the open items, and the ageing chart with its five buckets
    wait.until(shows.presence_of_element_located(
        (By.CSS_SELECTOR, f'#open-items tr[data-order="{number}"]')))
    chart = chromium.find_element(By.ID, "ageing-chart-eur")
    assert len(chart.find_elements(By.CSS_SELECTOR, "rect.bar")) == 5
    assert len(chart.find_elements(By.CSS_SELECTOR, "rect.bar.overdue")) == 4
    shot("open-items")

    # When they open the bank transactions and match the first to the order it pays
    chromium.find_element(By.LINK_TEXT, "Bank transactions").click()
    row = wait.until(shows.presence_of_element_located(
        (By.CSS_SELECTOR, f'#unmatched tr[data-transaction="{paying.pk}"]')))
    shot("bank")
    row.find_element(By.LINK_TEXT, "Match").click()
    search = wait.until(shows.presence_of_element_located((By.ID, "id_order")))
    search.send_keys(number)
    search.submit()
    choice = wait.until(shows.presence_of_element_located(
        (By.CSS_SELECTOR, f'#order-items input[value="{owed.pk}"]')))
    assert choice.is_selected()  # the order's only item, chosen already
    shot("match")
    chromium.find_element(By.CSS_SELECTOR, "#match-form input[type=submit][value='Match']") \
        .click()

    # then they are back on the list, which says so, and the transaction has left it
    wait.until(shows.text_to_be_present_in_element(
        (By.CSS_SELECTOR, ".messagelist"), f"is matched to order {number}"))
    assert not chromium.find_elements(By.CSS_SELECTOR,
                                      f'#unmatched tr[data-transaction="{paying.pk}"]')
    assert chromium.find_elements(By.CSS_SELECTOR,
                                  f'#unmatched tr[data-transaction="{other.pk}"]')
    assert BankTransaction.objects.get(pk=paying.pk).status == "matched"
    assert OpenItem.objects.get(pk=owed.pk).status == "paid"

    # When they look at every finance page in German and in English
    chromium.get(f"{live_server.url}/admin/")
    wait.until(shows.presence_of_element_located((By.ID, "language-switcher")))
    pages = {"open-items": "/cockpit/finance/", "bank": "/cockpit/finance/bank/",
             "match": f"/cockpit/finance/bank/{other.pk}/match/?order={items['45'].order.number}",
             "write-off": f"/cockpit/finance/open-items/{items['130'].pk}/write-off/",
             "dunning": "/cockpit/finance/dunning/",
             "trial-balance": "/cockpit/finance/trial-balance/",
             "export": "/cockpit/finance/export/", "admin-index": "/admin/"}
    too_wide = {}
    for language in ("de", "en"):
        chromium.find_element(By.CSS_SELECTOR,
                              f"#language-switcher button[value={language}]").click()
        wait.until(shows.presence_of_element_located(
            (By.CSS_SELECTOR, f"html[lang={language}]")))
        for name, path in pages.items():
            chromium.get(f"{live_server.url}{path}")
            wait.until(shows.presence_of_element_located((By.ID, "content")))
            wide = chromium.execute_script(OVERFLOW, SCREEN_WIDTH)
            if wide:
                too_wide[f"{language} {name}"] = wide
            if shots:
                _whole_page_shot(chromium, f"{shots}/{language}-finance-{name}.png")
    # then nothing is wider than the screen
    assert too_wide == {}
