"""A dunning level reached (finance's sweep, ``dunning.notice``) is e-mailed to the customer in
the order's language with the invoice, what was paid, the fees and the open amount: a friendly
reminder first, numbered notices with their fee, and at the last level the collection agency.
Once per level, and not when the item was paid or disputed before the event was handled."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from django.core import mail

from finance.models import OpenItem
from finance.services import dunning_sweep, open_item_dispute
from oms.core.events import outbox_relay
from tests.finance.factories import OpenItemFactory, an_invoice_order
from tests.notifications.support import notifications
from tests.notifications.test_content import html_of

pytestmark = pytest.mark.django_db
BERLIN = ZoneInfo("Europe/Berlin")


def an_item(language: str) -> OpenItem:
    """119.00 invoiced on 2 March 2026, due 16 March, 19.00 of it paid."""
    order = an_invoice_order("119.00", language=language)
    return OpenItemFactory(order=order, amount=Decimal("119.00"), paid=Decimal("19.00"),
                           status="partially_paid", invoiced_on=date(2026, 3, 2),
                           due_date=date(2026, 3, 16))


def sweep(item: OpenItem, days_after_due: int, capture: Any) -> None:
    """The sweep on that day, its events relayed and the e-mails sent, as after a commit."""
    with capture(execute=True):
        dunning_sweep(now=datetime.combine(item.due_date + timedelta(days=days_after_due),
                                           time(2), tzinfo=BERLIN))


@pytest.mark.parametrize(("language", "subject", "phrases"), [
    ("de", "Zahlungserinnerung: Ihre Rechnung zur Bestellung {number}", [
        "Guten Tag Kim Schmidt,", "Ihre Rechnung vom 2. März 2026 zu Ihrer Bestellung {number} "
        "war am 16. März 2026 fällig", "Rechnungsbetrag: 119,00\xa0€",
        "Bereits bezahlt oder gutgeschrieben: 19,00\xa0€", "Offener Betrag: 100,00\xa0€",
        "bis zum 30. März 2026", "Ihre Bestellnummer {number} an"]),
    ("en", "Payment reminder: your invoice for order {number}", [
        "Hello Kim Schmidt,", "your invoice of 2 March 2026 for your order {number} was due "
        "on 16 March 2026", "Invoice amount: €119.00", "Already paid or credited: €19.00",
        "Amount outstanding: €100.00", "by 30 March 2026", "your order number {number} as the "
        "payment reference"]),
])
def test_the_reminder_is_emailed_in_the_orders_language_with_the_open_amount(
        django_capture_on_commit_callbacks: Any, language: str, subject: str,
        phrases: list[str]) -> None:
    item = an_item(language)
    sweep(item, 7, django_capture_on_commit_callbacks)
    [email] = mail.outbox
    number = item.order.number
    assert email.to == [item.customer.email]
    assert email.subject == subject.format(number=number)
    for phrase in phrases:
        assert phrase.format(number=number) in email.body, (phrase, email.body)
    assert f'<html lang="{language}">' in html_of(email)
    assert "Mahngebühr" not in email.body
    assert list(notifications().values_list("kind", "channel", "language", "status")) == [
        ("dunning_notice", "email", language, "succeeded")]


def test_each_level_is_emailed_once_with_its_fee_and_the_last_names_the_agency(
        django_capture_on_commit_callbacks: Any) -> None:
    item = an_item("de")
    for day in (7, 7, 14, 21, 28, 28, 40):
        sweep(item, day, django_capture_on_commit_callbacks)
    number = item.order.number
    assert [m.subject for m in mail.outbox] == [
        f"Zahlungserinnerung: Ihre Rechnung zur Bestellung {number}",
        f"1. Mahnung: Ihre Rechnung zur Bestellung {number}",
        f"2. Mahnung: Ihre Rechnung zur Bestellung {number}",
        f"Übergabe an ein Inkassounternehmen: Ihre Rechnung zur Bestellung {number}"]
    first_notice, second_notice, final = (m.body for m in mail.outbox[1:])
    assert "Mahngebühr dieser Mahnung: 2,50\xa0€" in first_notice
    assert "Offener Betrag: 102,50\xa0€" in first_notice
    assert "Mahngebühr dieser Mahnung: 5,00\xa0€" in second_notice
    assert "Mahngebühren insgesamt: 7,50\xa0€" in second_notice
    assert "Offener Betrag: 107,50\xa0€" in second_notice
    assert "Inkassounternehmen vorgemerkt" in final and "Offener Betrag: 107,50\xa0€" in final


def test_no_notice_once_the_item_was_disputed_before_the_event_was_handled(
        django_capture_on_commit_callbacks: Any) -> None:
    # Given the sweep reached the reminder, its event not yet handled
    item = an_item("de")
    dunning_sweep(now=datetime.combine(item.due_date + timedelta(days=7), time(2),
                                       tzinfo=BERLIN))
    # When the customer disputes the invoice before the relay handles the event
    with django_capture_on_commit_callbacks(execute=True):
        open_item_dispute(item=item, reason="Ware fehlt", actor="anna")
        outbox_relay()
    # Then no e-mail goes out
    assert mail.outbox == []
    assert not notifications().exists()
