"""Every notification kind, in German and in English, says what the customer needs to know."""

# Items are listed as "2 \u00d7 name": the multiplication sign is what customers read.
# ruff: noqa: RUF001

from __future__ import annotations

import pytest
from django.core import mail

from notifications.models import Notification
from oms.orders.services import order_payload
from tests.factories import a_fulfillment, an_order, cancel, fulfil

pytestmark = pytest.mark.django_db

BOOTS = ("BOOT-42", "Wanderschuh Alpin", 2, "59.95")
BOTTLE = ("BOTTLE-1", "Trinkflasche & Becher", 1, "9.90")


def html_of(message: mail.EmailMultiAlternatives) -> str:
    [(html, mimetype)] = message.alternatives
    assert mimetype == "text/html"
    return html


def only_email() -> mail.EmailMultiAlternatives:
    assert len(mail.outbox) == 1, [m.subject for m in mail.outbox]
    return mail.outbox[0]


def shipped_payload(order, fulfillment, *, carrier="dhl", tracking="00340434161094042557",
                    lines=None, kind="ship"):
    return {
        "id": fulfillment.pk, "order": order.number, "location": "WH-KS", "kind": kind,
        "status": "shipped",
        "shipment": {"id": 7, "carrier": carrier, "tracking_number": tracking,
                     "lines": lines or [{"sku": "BOOT-42", "quantity": 2}]},
        "amount": "119.90", "currency": "EUR",
    }


# --- order confirmation -----------------------------------------------------------------------
@pytest.mark.parametrize(("language", "expected"), [
    ("de", ["Ihre Bestellung {number} ist bestätigt", "Guten Tag Kim Schmidt,",
            "vielen Dank für Ihre Bestellung",
            "2 × Wanderschuh Alpin (Art.-Nr. BOOT-42): 119,90\u00a0€",
            "1 × Trinkflasche & Becher (Art.-Nr. BOTTLE-1): 9,90\u00a0€",
            "Gesamtbetrag: 129,80\u00a0€",
            "Lieferadresse:\nUnter den Linden 1\n10117 Berlin\nDE", "Sendungsverfolgung"]),
    ("en", ["Your order {number} is confirmed", "Hello Kim Schmidt,",
            "Thank you for your order", "2 × Wanderschuh Alpin (item no. BOOT-42): €119.90",
            "1 × Trinkflasche & Becher (item no. BOTTLE-1): €9.90", "Total: €129.80",
            "Delivery address:\nUnter den Linden 1\n10117 Berlin\nDE", "track it"]),
])
def test_an_order_confirmation_lists_the_items_the_total_and_the_delivery_address(
        publish, language, expected):
    # Given a confirmed order in the customer's language
    order = an_order([BOOTS, BOTTLE], language=language)
    # When order.confirmed is published
    publish("order.confirmed", order_payload(order), aggregate_type="order",
            aggregate_id=order.number)
    # Then one email in that language goes to the customer, as text and HTML
    email = only_email()
    assert email.to == [order.customer.email]
    assert email.from_email == "Kundenservice <service@shop.example>"
    assert email.subject == expected[0].format(number=order.number)
    for phrase in expected[1:]:
        assert phrase in email.body, (phrase, email.body)
    html = html_of(email)
    assert f'<html lang="{language}">' in html
    assert "Trinkflasche &amp; Becher" in html  # escaped in HTML, plain in text
    assert "Wanderschuh Alpin" in html


@pytest.mark.parametrize(("language", "expected"), [
    ("de", "Abholung in der Filiale: Filiale München"),
    ("en", "Pickup in store: Filiale München"),
])
def test_a_pickup_order_confirmation_names_the_store(publish, language, expected):
    from tests.factories import StoreFactory

    StoreFactory(code="ST-MUC", name="Filiale München",
                 address={"street": "Kaufingerstraße 1", "postal_code": "80331",
                          "city": "München"})
    order = an_order([BOOTS], language=language, delivery_method="pickup",
                     pickup_location="ST-MUC", delivery_address={})
    publish("order.confirmed", order_payload(order), aggregate_type="order",
            aggregate_id=order.number)
    body = only_email().body
    assert f"{expected}\nKaufingerstraße 1\n80331 München" in body


# --- shipped ----------------------------------------------------------------------------------
@pytest.mark.parametrize(("language", "subject", "phrases"), [
    ("de", "Ihre Bestellung {number} ist unterwegs",
     ["Versanddienstleister: DHL", "Sendungsnummer: 00340434161094042557",
      "Sendung verfolgen: https://www.dhl.de/de/privatkunden/pakete-empfangen/verfolgen.html"
      "?piececode=00340434161094042557", "2 × Wanderschuh Alpin"]),
    ("en", "Your order {number} is on its way",
     ["Carrier: DHL", "Tracking number: 00340434161094042557",
      "Track your parcel: https://www.dhl.de/en/privatkunden/pakete-empfangen/verfolgen.html"
      "?piececode=00340434161094042557", "2 × Wanderschuh Alpin"]),
])
def test_a_shipped_notice_links_to_the_dhl_tracking_page(publish, app_backend_subscribed,
                                                          language, subject, phrases):
    # Given an order whose only parcel has left with DHL
    order = an_order([BOOTS], language=language)
    fulfillment = a_fulfillment(order, {"BOOT-42": 2})
    fulfil(order, {"BOOT-42": 2})
    # When fulfillment.shipped is published
    publish("fulfillment.shipped", shipped_payload(order, fulfillment))
    # Then the email names carrier and number and links to DHL's tracking page
    email = only_email()
    assert email.subject == subject.format(number=order.number)
    for phrase in phrases:
        assert phrase in email.body
    assert ('href="https://www.dhl.de/' + language + '/privatkunden/pakete-empfangen/'
            'verfolgen.html?piececode=00340434161094042557"') in html_of(email)
    # and the push carries the same link
    push = Notification.objects.get(channel="push")
    assert push.url.startswith(f"https://www.dhl.de/{language}/")


@pytest.mark.parametrize(("language", "phrase"), [
    ("de", "Mit der Sendungsnummer können Sie Ihr Paket auf der Website von Kurier Meyer "
           "verfolgen."),
    ("en", "You can track your parcel with this number on the Kurier Meyer website."),
])
def test_a_shipped_notice_for_an_unknown_carrier_shows_the_number_without_a_link(
        publish, app_backend_subscribed, language, phrase):
    order = an_order([BOOTS], language=language)
    fulfillment = a_fulfillment(order, {"BOOT-42": 2})
    fulfil(order, {"BOOT-42": 2})
    publish("fulfillment.shipped", shipped_payload(order, fulfillment, carrier="Kurier Meyer",
                                                   tracking="KM-4711"))
    email = only_email()
    assert "KM-4711" in email.body
    assert phrase in email.body
    assert "http" not in email.body
    assert "href" not in html_of(email)
    assert Notification.objects.get(channel="push").url == ""


@pytest.mark.parametrize(("language", "subject", "phrase"), [
    ("de", "Ein Teil Ihrer Bestellung {number} ist unterwegs",
     "Die übrigen Artikel schicken wir Ihnen separat"),
    ("en", "Part of your order {number} is on its way",
     "We will send the remaining items separately"),
])
def test_a_partial_shipment_says_that_the_rest_follows(publish, language, subject, phrase):
    # Given an order of boots and a bottle, of which only the boots have shipped
    order = an_order([BOOTS, BOTTLE], language=language)
    fulfillment = a_fulfillment(order, {"BOOT-42": 2})
    fulfil(order, {"BOOT-42": 2})
    publish("fulfillment.shipped", shipped_payload(order, fulfillment))
    email = only_email()
    assert email.subject == subject.format(number=order.number)
    assert phrase in email.body
    assert "Trinkflasche" not in email.body  # not in this parcel


# --- delay ------------------------------------------------------------------------------------
@pytest.mark.parametrize(("language", "subject", "phrases"), [
    ("de", "Ihre Bestellung {number} verzögert sich",
     ["leider dauert Ihre Bestellung {number} länger als geplant",
      "von einem anderen Standort aus", "Davon betroffen:\n- 2 × Wanderschuh Alpin",
      "wir haben sie storniert:\n- 1 × Trinkflasche & Becher",
      "Diese Artikel berechnen wir Ihnen nicht."]),
    ("en", "Your order {number} is delayed",
     ["your order {number} is taking longer than planned", "from another location",
      "Items affected:\n- 2 × Wanderschuh Alpin",
      "so we have cancelled them:\n- 1 × Trinkflasche & Becher",
      "You will not be charged for these items"]),
])
def test_a_delay_notice_names_the_delayed_items_and_the_cancelled_ones_that_are_not_charged(
        publish, language, subject, phrases):
    # Given Kassel rejected boots and bottle; the boots come from Hamburg, the bottle is gone
    order = an_order([BOOTS, BOTTLE], language=language)
    fulfillment = a_fulfillment(order, {"BOOT-42": 2, "BOTTLE-1": 1})
    cancel(order, {"BOTTLE-1": 1})
    # When fulfillment.rejected is published
    publish("fulfillment.rejected", {
        "id": fulfillment.pk, "order": order.number, "location": "WH-KS",
        "reason": "shelf empty", "resourced_to": ["WH-HH"],
        "cancelled": [{"sku": "BOTTLE-1", "quantity": 1}]})
    # Then one delay email names both and says the bottle is not charged
    email = only_email()
    assert email.subject == subject.format(number=order.number)
    for phrase in phrases:
        assert phrase.format(number=order.number) in email.body, (phrase, email.body)
    assert "shelf empty" not in email.body  # the location's reason is internal
    assert "WH-HH" not in email.body
    assert Notification.objects.get(channel="email").kind == "delay"


@pytest.mark.parametrize(("language", "phrase"), [
    ("de", "Die Ware ist am ursprünglich vorgesehenen Standort nicht verfügbar. Wir versenden"),
    ("en", "so we are now sending them from another location"),
])
def test_a_re_sourced_fulfilment_is_a_delay_without_cancellations(publish, language, phrase):
    order = an_order([BOOTS], language=language)
    fulfillment = a_fulfillment(order, {"BOOT-42": 2})
    publish("fulfillment.resourced", {
        "id": fulfillment.pk, "order": order.number, "location": "WH-KS",
        "reason": "stock count", "resourced_to": ["WH-HH"], "cancelled": []})
    body = only_email().body
    assert phrase in body
    assert "storniert" not in body
    assert "cancelled" not in body


# --- items unavailable ------------------------------------------------------------------------
@pytest.mark.parametrize(("language", "subject", "phrases"), [
    ("de", "Ein Artikel aus Ihrer Bestellung {number} ist leider nicht lieferbar",
     ["leider ist der folgende Artikel aus Ihrer Bestellung {number} nicht mehr vorrätig. "
      "Wir haben ihn storniert:\n- 1 × Trinkflasche & Becher",
      "Diesen Artikel berechnen wir Ihnen nicht.",
      "Die übrigen Artikel Ihrer Bestellung liefern wir wie geplant."]),
    ("en", "An item from your order {number} is unavailable",
     ["the following item from your order {number} is out of stock, so we have cancelled it:"
      "\n- 1 × Trinkflasche & Becher",
      "You will not be charged for it",
      "We will deliver the rest of your order as planned."]),
])
def test_items_cancelled_for_lack_of_stock_are_announced_as_unavailable(
        publish, language, subject, phrases):
    # Given the bottle of an order was cancelled because no location has it any more
    order = an_order([BOOTS, BOTTLE], language=language)
    cancel(order, {"BOTTLE-1": 1})
    payload = {**order_payload(order), "detail": {
        "reason": "no_stock", "lines": [{"sku": "BOTTLE-1", "quantity": 1}]}}
    # When order.lines_cancelled is published
    publish("order.lines_cancelled", payload, aggregate_type="order", aggregate_id=order.number)
    # Then the customer learns which item is gone, that it is not charged, and that the rest
    # comes as planned
    email = only_email()
    assert email.subject == subject.format(number=order.number)
    for phrase in phrases:
        assert phrase.format(number=order.number) in email.body, (phrase, email.body)


def test_a_rejection_that_cancels_all_it_held_is_an_items_unavailable_notice(publish):
    # Given Hamburg held only the bottle, rejects it, and nobody else has one
    order = an_order([BOOTS, BOTTLE], language="en")
    fulfillment = a_fulfillment(order, {"BOTTLE-1": 1})
    cancel(order, {"BOTTLE-1": 1})
    publish("fulfillment.rejected", {
        "id": fulfillment.pk, "order": order.number, "location": "WH-HH",
        "reason": "damaged", "resourced_to": [],
        "cancelled": [{"sku": "BOTTLE-1", "quantity": 1}]})
    # Then nothing is late: the notice says the bottle is unavailable, not that the order is
    email = only_email()
    assert email.subject == f"An item from your order {order.number} is unavailable"
    assert "taking longer" not in email.body


# --- delivered --------------------------------------------------------------------------------
@pytest.mark.parametrize(("language", "subject", "phrases"), [
    ("de", "Ihre Bestellung {number} wurde zugestellt",
     ["Ihre Bestellung {number} wurde am 3. März 2026 zugestellt.",
      "Wie zufrieden sind Sie mit Ihrer Bestellung?",
      "https://shop.example/feedback/{number}"]),
    ("en", "Your order {number} has been delivered",
     ["Your order {number} was delivered on March 3, 2026.",
      "How happy are you with your order?", "https://shop.example/feedback/{number}"]),
])
def test_a_delivered_notice_asks_for_feedback(publish, language, subject, phrases):
    order = an_order([BOOTS], language=language)
    fulfillment = a_fulfillment(order, {"BOOT-42": 2})
    publish("fulfillment.delivered", {"id": fulfillment.pk, "order": order.number,
                                      "location": "WH-KS", "at": "2026-03-03T10:15:00+01:00"})
    email = only_email()
    assert email.subject == subject.format(number=order.number)
    for phrase in phrases:
        assert phrase.format(number=order.number) in email.body, (phrase, email.body)
    assert f'href="https://shop.example/feedback/{order.number}"' in html_of(email)


def test_without_a_feedback_address_the_delivered_notice_asks_for_nothing(publish, settings):
    settings.NOTIFICATION_FEEDBACK_URL = ""
    order = an_order([BOOTS], language="de")
    fulfillment = a_fulfillment(order, {"BOOT-42": 2})
    publish("fulfillment.delivered", {"id": fulfillment.pk, "order": order.number,
                                      "location": "WH-KS", "at": "2026-03-03T10:15:00+01:00"})
    assert "zufrieden" not in only_email().body


# --- language ---------------------------------------------------------------------------------
def test_an_order_in_a_language_without_templates_is_notified_in_english(publish):
    order = an_order([BOOTS], language="fr")
    publish("order.confirmed", order_payload(order), aggregate_type="order",
            aggregate_id=order.number)
    assert only_email().subject == f"Your order {order.number} is confirmed"
    assert set(Notification.objects.values_list("language", flat=True)) == {"en"}


def test_a_short_pick_delays_only_the_missing_units(publish):
    # Given Kassel picked the boots but found no bottle, which now comes from Hamburg
    order = an_order([BOOTS, BOTTLE], language="en")
    fulfillment = a_fulfillment(order, {"BOOT-42": 2, "BOTTLE-1": 1})
    # When fulfillment.resourced names the short units
    publish("fulfillment.resourced", {
        "id": fulfillment.pk, "order": order.number, "location": "WH-KS",
        "reason": "short_pick", "lines": [{"sku": "BOTTLE-1", "quantity": 1}],
        "resourced_to": ["WH-HH"], "cancelled": []})
    # Then only the bottle is named as delayed
    body = only_email().body
    assert "Items affected:\n- 1 × Trinkflasche & Becher" in body
    assert "Wanderschuh" not in body
