"""E-mails to dropship suppliers (suppliers/notices.py): a new order, the daily digest, the
reminder when an order waits too long, the escalation to staff. Orders are placed through the
API (the `place_dropship` fixture), so the `fulfillment.created` event, the relay, the handler
and the send after commit all run; the sweeps are called with the moment they run at."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import datetime, timedelta
from typing import Any

import pytest
from django.core import mail

from fulfillment.lifecycle import fulfillment_accept
from fulfillment.models import FulfillmentOrder
from notifications.content import TIME_ZONE
from notifications.models import Notification
from suppliers import notices
from suppliers.models import Supplier
from tests.suppliers.factories import SupplierFactory, SupplierSiteFactory

pytestmark = pytest.mark.django_db

SupplierMails = Callable[..., list[Any]]


@pytest.fixture(autouse=True)
def _mail(settings: Any) -> None:
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    settings.NOTIFICATION_CHANNELS = ["email"]
    settings.SUPPLIER_PORTAL_URL = "https://lieferanten.shop.example/supplier/"
    settings.SUPPLIER_ESCALATION_EMAIL = "einkauf@shop.example"
    settings.SUPPLIER_DIGEST_HOUR = 7


@pytest.fixture
def to(mailoutbox: list) -> SupplierMails:
    """to("orders@...") → the e-mails sent to that address (the customer's are left out)."""
    return lambda address: [m for m in mailoutbox if m.to == [address]]


@pytest.fixture
def sweep(django_capture_on_commit_callbacks: Any) -> Iterator[Callable[..., list]]:
    """sweep(service, at=moment): run a beat sweep and the sends its commit sets off."""

    def run(service: Callable[..., list], at: datetime) -> list:
        with django_capture_on_commit_callbacks(execute=True):
            return service(now=at)

    yield run


def test_a_new_dropship_order_is_mailed_to_the_supplier_in_german(
        supplier: Supplier, dropship_order: FulfillmentOrder, to: SupplierMails) -> None:
    # given Nordwerk (German) and an order placed into its site (the fixture)
    # then Nordwerk's contact got one e-mail about it, in German
    [message] = to(supplier.contact_email)
    number = dropship_order.order.number
    assert message.subject.startswith(f"Neue Bestellung {number}: bitte bis ")
    assert "- 2 \N{MULTIPLICATION SIGN} " in message.body and "(BOOT-42)" in message.body
    assert "- 3 \N{MULTIPLICATION SIGN} " in message.body and "(SOCK-1)" in message.body
    assert "innerhalb von 24 Stunden" in message.body
    assert "https://lieferanten.shop.example/supplier/" in message.body
    html = message.alternatives[0][0]
    assert f"Bestellung {number}" in html and 'lang="de"' in html
    # and it is a notification row sent by its attempt, keyed by the event
    row = Notification.objects.get(kind=notices.NEW_ORDER)
    assert (row.recipient, row.fulfillment_id, row.topic) == (
        supplier.contact_email, dropship_order.pk, "fulfillment.created")


def test_an_english_supplier_gets_it_in_english(
        place_dropship: Callable[..., FulfillmentOrder], to: SupplierMails) -> None:
    # given a supplier who reads English
    english = SupplierFactory(code="MOOR", name="Moorland Ltd", language="en",
                              acknowledge_hours=12)
    site = SupplierSiteFactory(supplier=english, location__code="SUP-MOOR").location
    # when an order reaches its site
    fulfillment = place_dropship([("KETTLE-1", 1)], site=site)
    # then its e-mail is in English
    [message] = to(english.contact_email)
    assert message.subject.startswith(
        f"New order {fulfillment.order.number}: please acknowledge by ")
    assert "Please acknowledge the order by" in message.body
    assert "(within 12 hours)" in message.body
    assert "- 1 \N{MULTIPLICATION SIGN} " in message.body and "(KETTLE-1)" in message.body


def test_a_digest_supplier_gets_one_mail_a_day_listing_the_orders_still_waiting(
        supplier: Supplier, place_dropship: Callable[..., FulfillmentOrder],
        to: SupplierMails, sweep: Callable[..., list]) -> None:
    # given Nordwerk takes new orders as a daily digest, and three orders came in today
    Supplier.objects.filter(pk=supplier.pk).update(order_digest=True)
    first = place_dropship([("BOOT-42", 1)])
    second = place_dropship([("SOCK-1", 2)])
    acknowledged = place_dropship([("CAP-9", 1)])
    fulfillment_accept(fulfillment=acknowledged, actor="supplier:nora")
    # then none of them was mailed on its own
    assert to(supplier.contact_email) == []
    today = first.created_at.astimezone(TIME_ZONE).date()
    next_morning = datetime.combine(today + timedelta(days=1), datetime.min.time(),
                                    tzinfo=TIME_ZONE)
    # when the sweep runs before the digest hour next morning: nothing yet
    assert sweep(notices.digests_send, at=next_morning.replace(hour=6)) == []
    # when it runs at 07:00 and again at 07:30
    written = sweep(notices.digests_send, at=next_morning.replace(hour=7))
    again = sweep(notices.digests_send, at=next_morning.replace(hour=7, minute=30))
    # then one digest went out, naming the two orders still waiting (not the accepted one)
    assert len(written) == 1 and again == []
    [digest] = to(supplier.contact_email)
    assert digest.subject.startswith("2 neue Bestellungen vom ")
    assert first.order.number in digest.body and second.order.number in digest.body
    assert acknowledged.order.number not in digest.body
    # and its row hangs on the first order
    assert written[0].order_id == first.order_id


def test_the_reminder_sweep_run_twice_reminds_once(
        supplier: Supplier, dropship_order: FulfillmentOrder, to: SupplierMails,
        sweep: Callable[..., list]) -> None:
    # given an order Nordwerk (24 hours to acknowledge) has not acknowledged
    mail.outbox.clear()
    received = dropship_order.created_at
    # when the sweep runs within the 24 hours: nothing
    assert sweep(notices.reminders_send, at=received + timedelta(hours=23)) == []
    # when it runs after them, twice
    first = sweep(notices.reminders_send, at=received + timedelta(hours=24, minutes=5))
    second = sweep(notices.reminders_send, at=received + timedelta(hours=24, minutes=15))
    # then one reminder went to Nordwerk, in German
    assert [n.kind for n in first] == [notices.REMINDER] and second == []
    [reminder] = to(supplier.contact_email)
    assert reminder.subject == (f"Erinnerung: Bestellung {dropship_order.order.number} "
                                "wartet auf Ihre Bestätigung")
    assert "(BOOT-42)" in reminder.body
    # and nobody else heard of it yet
    assert len(mail.outbox) == 1


def test_an_acknowledged_order_gets_no_reminder(
        supplier: Supplier, dropship_order: FulfillmentOrder, mailoutbox: list,
        sweep: Callable[..., list]) -> None:
    # given Nordwerk accepted its order in time
    fulfillment_accept(fulfillment=dropship_order, actor="supplier:nora")
    mailoutbox.clear()
    # when the sweeps run long after the service level
    later = dropship_order.created_at + timedelta(hours=100)
    # then neither a reminder nor an escalation goes out
    assert sweep(notices.reminders_send, at=later) == []
    assert mailoutbox == []


def test_staff_hear_of_an_order_still_waiting_after_the_escalation_period(
        supplier: Supplier, dropship_order: FulfillmentOrder, to: SupplierMails,
        sweep: Callable[..., list]) -> None:
    # given Nordwerk was reminded after 24 hours and still did not acknowledge
    received = dropship_order.created_at
    sweep(notices.reminders_send, at=received + timedelta(hours=25))
    # when the sweep runs after 24 + 24 hours (twice)
    written = sweep(notices.reminders_send, at=received + timedelta(hours=48, minutes=1))
    sweep(notices.reminders_send, at=received + timedelta(hours=49))
    # then staff (the settings' address: Nordwerk names none) got one escalation, in German
    assert [n.kind for n in written] == [notices.ESCALATION]
    [escalation] = to("einkauf@shop.example")
    assert escalation.subject == (
        f"Eskalation: Nordwerk GmbH hat Bestellung {dropship_order.order.number} seit "
        "48 Stunden nicht bestätigt")
    assert supplier.contact_email in escalation.body
    # and Nordwerk got its new-order e-mail and one reminder, no second
    assert [m.subject.split(":")[0] for m in to(supplier.contact_email)] == [
        f"Neue Bestellung {dropship_order.order.number}", "Erinnerung"]


def test_a_supplier_naming_its_escalation_address_gets_escalations_there(
        supplier: Supplier, dropship_order: FulfillmentOrder, to: SupplierMails,
        sweep: Callable[..., list]) -> None:
    # given Nordwerk's escalations go to its account manager, after 6 more hours
    Supplier.objects.filter(pk=supplier.pk).update(escalation_email="am-nord@shop.example",
                                                   escalation_hours=6)
    # when the sweep first runs 31 hours after the order came in
    written = sweep(notices.reminders_send,
                    at=dropship_order.created_at + timedelta(hours=31))
    # then the reminder and the escalation go out together, the escalation to that address
    assert sorted(n.kind for n in written) == [notices.ESCALATION, notices.REMINDER]
    assert len(to("am-nord@shop.example")) == 1
    assert to("einkauf@shop.example") == []


def test_another_suppliers_hours_do_not_apply(
        supplier: Supplier, place_dropship: Callable[..., FulfillmentOrder],
        to: SupplierMails, sweep: Callable[..., list]) -> None:
    # given a second supplier with 48 hours to acknowledge, and an order at each
    patient = SupplierFactory(code="SLOW", name="Langsam KG", acknowledge_hours=48)
    site = SupplierSiteFactory(supplier=patient, location__code="SUP-SLOW").location
    nordwerk_order = place_dropship([("BOOT-42", 1)])
    place_dropship([("LAMP-3", 1)], site=site)
    # when the sweep runs 30 hours later
    written = sweep(notices.reminders_send,
                    at=nordwerk_order.created_at + timedelta(hours=30))
    # then only Nordwerk (24 hours) is reminded
    assert [(n.kind, n.recipient) for n in written] == [
        (notices.REMINDER, supplier.contact_email)]
    assert len(to(patient.contact_email)) == 1  # its new-order e-mail only
