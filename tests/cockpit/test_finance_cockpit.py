"""The finance cockpit (/cockpit/finance/): finance staff only; open items with filters and the
ageing chart, dispute and write-off; unmatched bank transactions matched by hand; dunning runs;
the trial balance; the ledger's exports as downloads; German and English."""

from __future__ import annotations

import html
from datetime import date
from decimal import Decimal
from io import StringIO

import pytest
from django.contrib.auth.models import Group
from django.core.management import CommandError, call_command
from django.test import Client
from django.utils import timezone

from finance.cockpit.access import FINANCE_GROUP, GROUP_PERMISSIONS
from finance.models import BankTransaction, DunningNotice, OpenItem
from finance.services import open_item_write_off
from ledger.models import JournalEntry
from ledger.services import Line, entry_post
from tests.cockpit.conftest import logged_in, messages_of
from tests.factories.cockpit import StoreStaffFactory
from tests.factories.finance_cockpit import FinanceStaffFactory, UnmatchedTransactionFactory
from tests.finance.factories import an_invoice_order, an_item_due

pytestmark = pytest.mark.django_db

D = Decimal
GERMAN = {"HTTP_ACCEPT_LANGUAGE": "de"}
ROOT = "/cockpit/finance/"
PAGES = [ROOT, f"{ROOT}bank/", f"{ROOT}dunning/", f"{ROOT}trial-balance/", f"{ROOT}export/"]


def text_of(response) -> str:
    return html.unescape(response.content.decode())


@pytest.fixture
def finance_staff() -> Client:
    return logged_in(FinanceStaffFactory(username="fiona"))


def item_of(number: str) -> OpenItem:
    return OpenItem.objects.get(order__number=number)


# --- access -----------------------------------------------------------------------------------
def test_finance_staff_see_every_finance_page(finance_staff):
    # Given an item that could be disputed and written off
    item = an_item_due(10)
    # When finance staff open each page
    pages = [*PAGES, f"{ROOT}open-items/{item.pk}/dispute/",
             f"{ROOT}open-items/{item.pk}/write-off/"]
    # then each answers
    assert {url: finance_staff.get(url).status_code for url in pages} == {
        url: 200 for url in pages}


def test_store_staff_are_refused_and_strangers_are_sent_to_the_login(network):
    # Given store staff of Munich (every store permission, none of finance), and nobody
    store_staff = logged_in(StoreStaffFactory(stores=[network.munich]))
    item = an_item_due(10)
    txn = UnmatchedTransactionFactory()
    posts = [f"{ROOT}open-items/{item.pk}/dispute/", f"{ROOT}open-items/{item.pk}/write-off/",
             f"{ROOT}bank/{txn.pk}/match/", f"{ROOT}dunning/run/"]
    # When they open the pages, or post the actions
    refused = {url: store_staff.get(url).status_code for url in PAGES}
    refused |= {f"POST {url}": store_staff.post(url, {"reason": "x", "order": item.order.number,
                                                      "open_item": item.pk}).status_code
                for url in posts}
    stranger = Client().get(ROOT)
    # then store staff get 403 everywhere, and nothing changed
    assert set(refused.values()) == {403}, refused
    item.refresh_from_db()
    assert item.status == "open" and not DunningNotice.objects.exists()
    assert BankTransaction.objects.get().status == "unmatched"
    # and someone not logged in is sent to the login form
    assert stranger.status_code == 302
    assert stranger["Location"].startswith("/admin/login/?next=/cockpit/finance/")


def test_the_finance_tab_is_shown_to_finance_staff_only(network, finance_staff):
    store_staff = logged_in(StoreStaffFactory(stores=[network.munich]))
    # When finance staff open their list and the admin's index
    finance_page = text_of(finance_staff.get(ROOT))
    finance_index = text_of(finance_staff.get("/admin/"))
    # then the cockpit's tabs offer Finance, and no store screen that would refuse them
    assert f'href="{ROOT}" class="selected">Finance</a>' in finance_page
    assert "/cockpit/to-pick/" not in finance_page
    assert 'id="finance-cockpit"' in finance_index and f'href="{ROOT}bank/"' in finance_index
    # and store staff see neither
    assert f'href="{ROOT}"' not in text_of(store_staff.get("/cockpit/to-pick/"))
    assert 'id="finance-cockpit"' not in text_of(store_staff.get("/admin/"))


def test_the_finance_group_command_makes_the_group_and_adds_staff(network):
    # Given a staff user
    clerk = StoreStaffFactory(username="paula", permissions=[])
    assert logged_in(clerk).get(ROOT).status_code == 403
    # When the command runs, twice
    out = StringIO()
    call_command("finance_group", "paula", stdout=out)
    call_command("finance_group", "paula", stdout=StringIO())
    # then the group holds its permissions once, and paula may use the finance cockpit
    group = Group.objects.get(name=FINANCE_GROUP)
    assert group.permissions.count() == len(GROUP_PERMISSIONS)
    assert "paula added to Finance" in out.getvalue()
    assert logged_in(clerk).get(ROOT).status_code == 200
    # and an unknown name is refused
    with pytest.raises(CommandError, match="no such user: nobody"):
        call_command("finance_group", "nobody")


# --- open items -------------------------------------------------------------------------------
def rows_of(response) -> list[str]:
    """The order numbers of the open items list, in order."""
    return [row.item.order.number for row in response.context["rows"]]


def test_the_open_items_filter_by_status_email_overdue_days_and_dunning_level(finance_staff):
    # Given items due in 5 days, 3, 20 and 40 days ago (one of Kim's, one at level 2), and a
    # paid one
    soon = an_item_due(-5)
    three = an_item_due(3, order=an_invoice_order("119.00", customer__email="kim@example.de"))
    twenty = an_item_due(20)
    forty = an_item_due(40, dunning_level=2, status="overdue")
    paid = an_item_due(50, paid=D("119.00"), status="paid")
    n = {item.pk: item.order.number for item in (soon, three, twenty, forty, paid)}

    def shown(**query) -> list[str]:
        response = finance_staff.get(ROOT, query)
        assert response.status_code == 200
        return rows_of(response)

    # Then by default what is still owed is listed, the longest overdue first
    assert shown() == [n[forty.pk], n[twenty.pk], n[three.pk], n[soon.pk]]
    assert shown(status="all") == [n[paid.pk], n[forty.pk], n[twenty.pk], n[three.pk],
                                   n[soon.pk]]
    assert shown(status="paid") == [n[paid.pk]]
    assert shown(status="overdue") == [n[forty.pk]]
    assert shown(email="KIM@example") == [n[three.pk]]
    assert shown(overdue_days=15) == [n[forty.pk], n[twenty.pk]]
    assert shown(overdue_days=0) == [n[forty.pk], n[twenty.pk], n[three.pk]]
    assert shown(dunning_level=2) == [n[forty.pk]]
    # and a filter that does not parse is shown as an error, the others still apply
    response = finance_staff.get(ROOT, {"overdue_days": "many", "dunning_level": "2"})
    assert rows_of(response) == [n[forty.pk]]
    assert "overdue_days" in response.context["form"].errors


def test_the_ageing_chart_sums_what_is_owed_by_days_past_due(finance_staff):
    # Given items not yet due, 1-30, 31-60, 61-90 and over 90 days overdue; one partly paid,
    # one written off
    an_item_due(-3, "100.00")
    an_item_due(0, "20.00")  # due today: not overdue yet
    an_item_due(1, "10.00")
    an_item_due(30, "30.00", paid=D("5.00"), status="partially_paid")
    an_item_due(31, "31.00")
    an_item_due(90, "90.00")
    an_item_due(91, "1000.00")
    an_item_due(200, "50.00", written_off=D("50.00"), status="written_off")
    # When finance staff open the open items
    response = finance_staff.get(ROOT)
    # then each bucket holds what is still owed in it
    [(currency, buckets, chart)] = response.context["charts"]
    assert currency == "EUR"
    assert [(b.key, b.count, b.amount) for b in buckets] == [
        ("not_due", 2, D("120.00")), ("1_30", 2, D("35.00")), ("31_60", 1, D("31.00")),
        ("61_90", 1, D("90.00")), ("over_90", 1, D("1000.00"))]
    # and the chart draws them, the tallest bar for the most money, overdue bars marked
    page = text_of(response)
    assert '<figure class="chart" id="ageing-chart-eur"' in page
    assert [bar.overdue for bar in chart.bars] == [False, True, True, True, True]
    assert max(chart.bars, key=lambda bar: bar.height) is chart.bars[4]
    assert "1,000.00" in page and 'data-bucket="over_90"' in page


# --- dispute, undispute, write-off ------------------------------------------------------------
def test_finance_staff_dispute_and_undispute_an_item(finance_staff):
    item = an_item_due(10, dunning_level=1, status="overdue")
    url = f"{ROOT}open-items/{item.pk}/dispute/"
    # When they open the confirmation and post it without a reason
    assert "Dunning pauses" in text_of(finance_staff.get(url))
    refused = finance_staff.post(url, {"reason": " "})
    # then nothing changes
    assert refused.status_code == 200 and "reason" in refused.context["form"].errors
    item.refresh_from_db()
    assert item.status == "overdue"
    # When they give the reason (from a filtered list)
    done = finance_staff.post(url, {"reason": "Ware nie angekommen",
                                    "back": "status=overdue&evil=1"})
    # then the item is disputed, dunning paused, and they are back on their filtered list
    assert done.status_code == 302 and done["Location"] == f"{ROOT}?status=overdue"
    item.refresh_from_db()
    assert (item.status, item.note, item.next_dunning_at) == (
        "disputed", "Ware nie angekommen", None)
    assert messages_of(finance_staff.get(ROOT)) == [
        f"The open item of order {item.order.number} is disputed: dunning pauses."]
    # When they resolve the dispute
    finance_staff.post(f"{ROOT}open-items/{item.pk}/undispute/", {})
    # then the item is overdue again, dunning goes on
    item.refresh_from_db()
    assert item.status == "overdue" and item.next_dunning_at is not None


def test_a_refused_action_is_shown_on_the_form_and_changes_nothing(finance_staff):
    # Given a paid item
    item = an_item_due(10, paid=D("119.00"), status="paid")
    # When finance staff post a dispute anyway
    response = finance_staff.post(f"{ROOT}open-items/{item.pk}/dispute/", {"reason": "x"})
    # then the service's refusal is on the page, and the item is as it was
    assert response.status_code == 200
    assert f"Open item {item.pk} is Paid: this is not possible now." in text_of(response)
    item.refresh_from_db()
    assert item.status == "paid" and item.events.count() == 0


def test_finance_staff_write_off_what_is_still_owed(finance_staff):
    item = an_item_due(120, "119.00", paid=D("19.00"), status="overdue")
    url = f"{ROOT}open-items/{item.pk}/write-off/"
    # When they open the confirmation
    page = text_of(finance_staff.get(url))
    # then it says how much is given up
    assert "100.00 EUR still owed is given up" in page
    # When they confirm with a reason
    response = finance_staff.post(url, {"reason": "Insolvenz"})
    # then the item is written off and booked as a bad debt
    assert response.status_code == 302
    item.refresh_from_db()
    assert (item.status, item.written_off, item.open_amount, item.note) == (
        "written_off", D("100.00"), D("0.00"), "Insolvenz")
    assert JournalEntry.objects.filter(source=f"write-off:{item.pk}").exists()


def test_an_action_without_the_csrf_token_is_refused():
    # Given finance staff whose browser enforces CSRF like a real one
    browser = Client(enforce_csrf_checks=True)
    browser.force_login(FinanceStaffFactory())
    item = an_item_due(10)
    # When a page of another site posts a write-off for them (no token)
    response = browser.post(f"{ROOT}open-items/{item.pk}/write-off/", {"reason": "x"})
    # then it is refused and the item is as it was
    assert response.status_code == 403
    item.refresh_from_db()
    assert item.status == "open"


def test_staff_who_may_only_look_cannot_write_off(network):
    # Given a staff user with only the view permission of open items
    viewer = logged_in(StoreStaffFactory(permissions=[("finance", "view_openitem")]))
    item = an_item_due(10)
    # When they open the list and post a write-off
    page = text_of(viewer.get(ROOT))
    response = viewer.post(f"{ROOT}open-items/{item.pk}/write-off/", {"reason": "x"})
    # then they see no action and the post is refused
    assert "/write-off/" not in page
    assert response.status_code == 403
    item.refresh_from_db()
    assert item.status == "open"


# --- bank transactions ------------------------------------------------------------------------
def test_finance_staff_match_an_unmatched_transaction_to_an_order(finance_staff):
    # Given an item of 119.00 and 150.00 received without a usable purpose
    item = an_item_due(3, "119.00")
    number = item.order.number
    txn = UnmatchedTransactionFactory(amount=D("150.00"))
    assert f'data-transaction="{txn.pk}"' in text_of(finance_staff.get(f"{ROOT}bank/"))
    # When they look the order up (as people type it)
    url = f"{ROOT}bank/{txn.pk}/match/"
    found = finance_staff.get(url, {"order": f"# {number[:3]} {number[3:]}"})
    # then its item is offered, chosen already
    assert found.context["number"] == number
    assert f'value="{item.pk}" id="id_open_item_{item.pk}" checked' in text_of(found)
    # When they match
    response = finance_staff.post(url, {"order": number, "open_item": item.pk})
    # then the item is paid, the rest is the customer's credit, and the transaction booked
    assert response.status_code == 302 and response["Location"] == f"{ROOT}bank/"
    item.refresh_from_db()
    txn.refresh_from_db()
    assert (item.status, item.paid) == ("paid", D("119.00"))
    assert (txn.status, txn.matched_by) == ("matched", "staff:fiona")
    assert item.customer.finance_credits.get().amount == D("31.00")
    # and it is gone from the list
    listed = finance_staff.get(f"{ROOT}bank/")
    assert messages_of(listed) == [
        f"Bank transaction {txn.reference} (150.00 EUR) is matched to order {number}."]
    assert f'data-transaction="{txn.pk}"' not in text_of(listed)
    assert "Every bank transaction is matched." in text_of(listed)


def test_a_refused_match_is_shown_on_the_form_and_changes_nothing(finance_staff):
    # Given an item written off, and an unmatched transaction
    item = an_item_due(100, "119.00", status="overdue")
    open_item_write_off(item=item, reason="uneinbringlich", actor="test")
    txn = UnmatchedTransactionFactory()
    entries = JournalEntry.objects.count()
    # When finance staff match the transaction to it
    response = finance_staff.post(f"{ROOT}bank/{txn.pk}/match/",
                                  {"order": item.order.number, "open_item": item.pk})
    # then the service's refusal is on the form
    assert response.status_code == 200
    assert "This open item was written off." in text_of(response)
    # and nothing changed
    txn.refresh_from_db()
    assert txn.status == "unmatched" and txn.entry is None
    assert JournalEntry.objects.count() == entries
    assert not item.customer.finance_credits.exists()


def test_an_order_without_items_or_another_orders_item_is_not_matched(finance_staff):
    item = an_item_due(3)
    other = an_item_due(3)
    txn = UnmatchedTransactionFactory()
    url = f"{ROOT}bank/{txn.pk}/match/"
    # When they look up an order without items
    empty = text_of(finance_staff.get(url, {"order": "99999999"}))
    # or post another order's item under this order
    wrong = finance_staff.post(url, {"order": item.order.number, "open_item": other.pk})
    # then nothing is matched
    assert "Order 99999999 has no open item" in empty
    assert wrong.status_code == 200 and "open_item" in wrong.context["form"].errors
    txn.refresh_from_db()
    assert txn.status == "unmatched"


def test_a_matched_transaction_is_not_offered_again(finance_staff):
    txn = UnmatchedTransactionFactory(status="matched")
    response = finance_staff.get(f"{ROOT}bank/{txn.pk}/match/")
    assert response.status_code == 302 and response["Location"] == f"{ROOT}bank/"
    assert finance_staff.get(f"{ROOT}bank/999999/match/").status_code == 404


# --- dunning ----------------------------------------------------------------------------------
def test_running_the_dunning_sweep_twice_sends_once(finance_staff):
    # Given an item 8 days overdue (the reminder is due 7 days after the due date)
    item = an_item_due(8, "119.00")
    # When finance staff press the button twice
    first = finance_staff.post(f"{ROOT}dunning/run/")
    second = finance_staff.post(f"{ROOT}dunning/run/", follow=True)
    # then one notice is sent
    assert first.status_code == 302
    notice = DunningNotice.objects.get()
    assert (notice.open_item_id, notice.level) == (item.pk, 1)
    assert messages_of(second) == [
        "Dunning run: 1 notice sent · 1 item fell due · fees 0.00 · "
        "0 items put on the collection list",
        "Dunning run: no item was due for a dunning step."]
    # and the dunning page lists it under today
    page = text_of(second)
    assert f'data-day="{timezone.localdate():%Y-%m-%d}"' in page
    assert f'<tr data-order="{item.order.number}" data-level="1">' in page


def test_the_dunning_run_is_a_post(finance_staff):
    assert finance_staff.get(f"{ROOT}dunning/run/").status_code == 405
    assert not DunningNotice.objects.exists()


def test_the_collection_list_shows_items_at_the_final_level(finance_staff):
    final = an_item_due(40, status="overdue", dunning_level=4, for_collection=True)
    an_item_due(40, status="overdue", dunning_level=3)
    page = text_of(finance_staff.get(f"{ROOT}dunning/"))
    collection = page[page.index('id="collection"'):page.index('id="dunning-levels"')
                      if 'id="dunning-levels"' in page else None]
    assert f'data-order="{final.order.number}"' in collection
    assert collection.count("<tr data-order=") == 1


# --- trial balance and exports ----------------------------------------------------------------
@pytest.fixture
def booked() -> date:
    """Two sales booked on 2 and 20 March 2026; answers the first day."""
    first = date(2026, 3, 2)
    entry_post(booked_on=first, reference="1000001", text="Rechnung 1000001", source="t:1",
               lines=[Line.dr("receivables", D("119.00")), Line.cr("revenue:19", D("100.00")),
                      Line.cr("vat:19", D("19.00"))])
    entry_post(booked_on=date(2026, 3, 20), reference="1000002", text="Rechnung 1000002",
               source="t:2", lines=[Line.dr("receivables", D("107.00")),
                                    Line.cr("revenue:7", D("100.00")),
                                    Line.cr("vat:7", D("7.00"))])
    return first


def test_the_trial_balance_at_a_date_balances(finance_staff, booked):
    # When finance staff ask for the balances at 2 March and at 31 March
    early = finance_staff.get(f"{ROOT}trial-balance/", {"at": "2026-03-02"})
    late = finance_staff.get(f"{ROOT}trial-balance/", {"at": "2026-03-31"})
    # then each lists the accounts booked by then, debits equal credits
    for response, total in ((early, D("119.00")), (late, D("226.00"))):
        balance = response.context["balance"]
        assert (balance.debit, balance.credit, balance.balanced) == (total, total, True)
        assert 'data-balanced="true"' in text_of(response)
    # (in the order of their account numbers)
    assert [(r.account.role, r.balance, r.side) for r in early.context["balance"].rows] == [
        ("receivables", D("119.00"), "debit"), ("vat:19", D("19.00"), "credit"),
        ("revenue:19", D("100.00"), "credit")]
    assert len(late.context["balance"].rows) == 5
    # and a date that does not parse shows today's balances with the error
    wrong = finance_staff.get(f"{ROOT}trial-balance/", {"at": "2026-02-30"})
    assert wrong.context["balance"].at == timezone.localdate()
    assert "at" in wrong.context["form"].errors


def test_the_export_downloads_csv_and_datev(finance_staff, booked):
    period = {"from": "2026-03-01", "to": "2026-03-31"}
    # When finance staff download the period as CSV and as DATEV
    csv = finance_staff.get(f"{ROOT}export/", {**period, "format": "csv"})
    datev = finance_staff.get(f"{ROOT}export/", {**period, "format": "datev"})
    # then both are files, streamed
    assert csv.streaming and datev.streaming
    assert csv["Content-Disposition"] == 'attachment; filename="ledger_20260301_20260331.csv"'
    assert datev["Content-Disposition"] == (
        'attachment; filename="EXTF_Buchungsstapel_20260301_20260331.csv"')
    csv_lines = b"".join(csv.streaming_content).decode().split("\r\n")
    assert csv_lines[0] == "date,entry,reference,text,account,account_name,debit,credit"
    assert len([line for line in csv_lines if line]) == 1 + 6
    datev_lines = b"".join(datev.streaming_content).decode("cp1252").split("\r\n")
    assert datev_lines[0].startswith('"EXTF";700;21;"Buchungsstapel"')
    assert datev["Content-Type"] == "text/csv; charset=windows-1252"


def test_an_export_of_a_wrong_period_shows_the_form_with_the_error(finance_staff):
    # When the period runs backwards, or a DATEV file would span two fiscal years
    backwards = finance_staff.get(f"{ROOT}export/", {"from": "2026-03-31", "to": "2026-03-01",
                                                     "format": "csv"})
    two_years = finance_staff.get(f"{ROOT}export/", {"from": "2025-12-01", "to": "2026-01-31",
                                                     "format": "datev"})
    missing = finance_staff.get(f"{ROOT}export/", {"format": "csv"})
    # then the form comes back, not a file
    assert not backwards.streaming and not two_years.streaming and not missing.streaming
    assert backwards.context["form"].errors["from"] == ["'from' must not be after 'to'."]
    assert "A DATEV batch covers one fiscal year at most" in two_years.context[
        "form"].errors["to"][0]
    assert set(missing.context["form"].errors) == {"from", "to"}
    # and the empty form offers the current month
    form = finance_staff.get(f"{ROOT}export/").context["form"]
    assert form["to"].value() == timezone.localdate()


# --- German -----------------------------------------------------------------------------------
def test_the_finance_pages_speak_german(finance_staff, booked):
    # Given an item of 1,234.50 due on 7 December 2026
    item = an_item_due(0, "1234.50")
    OpenItem.objects.filter(pk=item.pk).update(due_date=date(2026, 12, 7))
    # When finance staff open the pages in German
    pages = {url: finance_staff.get(url, **GERMAN) for url in PAGES}
    items = text_of(pages[ROOT])
    # then they are German pages: the tab, the status, German numbers and dates
    assert all('<html lang="de"' in text_of(page) for page in pages.values())
    assert f'href="{ROOT}" class="selected">Finanzen</a>' in items
    assert ">Offen</td>" in items
    assert "1.234,50 EUR" in items and "07.12.2026" in items
    balance = text_of(finance_staff.get(f"{ROOT}trial-balance/", {"at": "2026-03-31"},
                                        **GERMAN))
    assert "226,00" in balance and "31.03.2026" in balance
