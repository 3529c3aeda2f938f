"""The customer hears about a return at each step: registered (by mail: the label follows), the
label, received, and each refund, worded for where the money went; in German and English, by
email and app push. A store credit's code reaches the email but is never stored."""

# Items are listed as "1 \u00d7 name": the multiplication sign is what customers read.
# ruff: noqa: RUF001

from __future__ import annotations

import json
from typing import Any

import pytest
from django.core import mail
from django.db import transaction

from notifications.handlers import notify_refund_issued
from notifications.models import Notification
from notifications.return_notices import CREDIT_CODE_PLACEHOLDER
from notifications.tasks import send_notifications
from oms.catalog.models import Product
from oms.core.events import event_handle
from oms.core.models import OutboxEvent
from payments.models import Refund
from returns.models import Return
from tests.core.handlers import handler_name
from tests.notifications.support import notifications, runs_of
from tests.notifications.test_content import html_of
from tests.returns import conftest as returns_setup
from tests.returns.conftest import receive_body, return_body

pytestmark = pytest.mark.django_db

REFUND_HANDLER = handler_name(notify_refund_issued)
KASSEL_ADDRESS = {"street": "Lagerstraße 5", "postal_code": "34117", "city": "Kassel"}
MUNICH_ADDRESS = {"street": "Kaufingerstraße 1", "postal_code": "80331", "city": "München"}


# The returns tests' fixtures, here under the same names: fake PSP and carrier (autouse),
# after-commit work run, a delivered order, the Munich till and the Kassel warehouse client.
_fakes = returns_setup._fakes
after_commit = returns_setup.after_commit
delivered = returns_setup.delivered
pos_munich = returns_setup.pos_munich
wms_kassel = returns_setup.wms_kassel


# --- the story of a return, step by step ------------------------------------------------------
@pytest.fixture
def shop_network(network: Any) -> Any:
    """Kassel takes parcels back, Munich is a store taking goods back at the counter; the
    products have the names customers know."""
    network.kassel.name, network.kassel.address = "Lager Kassel", KASSEL_ADDRESS
    network.kassel.accepts_returns = True
    network.kassel.save()
    network.munich.name, network.munich.address = "Filiale München", MUNICH_ADDRESS
    network.munich.save()
    return network


def name_products() -> None:
    Product.objects.filter(sku="A").update(name="Wanderschuh Alpin")
    Product.objects.filter(sku="B").update(name="Trinkflasche & Becher")


@pytest.fixture
def bought(shop_network: Any, delivered: Any) -> Any:
    """bought(language) → an order of 2 A and 1 B at 10.00 each, paid by card, delivered from
    Kassel; what the customer was told about the order itself is cleared."""

    def run(language: str = "de", **overrides: Any) -> dict[str, Any]:
        order = delivered([("A", 2), ("B", 1)], language=language, **overrides)
        name_products()
        mail.outbox.clear()
        return order

    return run


def ok(response: Any, status: int = 200) -> dict[str, Any]:
    assert response.status_code == status, response.content
    return response.json()


def sent(subject_start: str) -> mail.EmailMultiAlternatives:
    """The one email sent whose subject starts so."""
    found = [m for m in mail.outbox if m.subject.startswith(subject_start)]
    assert len(found) == 1, [m.subject for m in mail.outbox]
    return found[0]


def assert_says(email: mail.EmailMultiAlternatives, *phrases: str) -> None:
    for phrase in phrases:
        assert phrase in email.body, (phrase, email.body)


def by_mail(shop: Any, after_commit: Any, order: dict[str, Any],
            lines: list[tuple[str, int]], **extra: Any) -> dict[str, Any]:
    """The customer registers a return in the webshop; the label comes from the carrier."""
    return ok(after_commit(shop.post, "/api/v1/returns", return_body(order, lines, **extra)),
              201)


def at_the_counter(pos: Any, after_commit: Any, order: dict[str, Any],
                   lines: list[tuple[str, int]], method: str) -> dict[str, Any]:
    """The customer brings goods back to the Munich store, which takes them in one visit."""
    ret = ok(after_commit(pos.post, "/api/v1/returns", return_body(order, lines, method=method)),
             201)
    ok(after_commit(pos.post, f"/api/v1/returns/{ret['id']}/receive", receive_body(lines)))
    return ret


def received_in_kassel(wms: Any, after_commit: Any, ret: dict[str, Any],
                       lines: list[tuple[str, int]], **extra: Any) -> None:
    ok(after_commit(wms.post, f"/api/v1/returns/{ret['id']}/receive",
                    {**receive_body(lines), **extra}))


@pytest.mark.parametrize(("language", "subject", "phrases"), [
    ("de", "Wir haben Ihre Rückgabe {ret} registriert",
     ["Guten Tag Kim,", "wir haben Ihre Rückgabe {ret} zur Bestellung {order} registriert.",
      "Zurück kommt:\n- 1 × Wanderschuh Alpin (Art.-Nr. A)\n- 1 × Trinkflasche & Becher",
      "Bitte senden Sie sie an:\nLager Kassel\nLagerstraße 5\n34117 Kassel",
      "Ihr Rücksendeetikett folgt in einer separaten E-Mail.",
      "Voraussichtliche Erstattung: 20,00\u00a0€, über Ihre ursprüngliche Zahlungsart."]),
    ("en", "We registered your return {ret}",
     ["Hello Kim,", "We have registered your return {ret} for order {order}.",
      "Coming back:\n- 1 × Wanderschuh Alpin (item no. A)\n- 1 × Trinkflasche & Becher",
      "Please send it to:\nLager Kassel\nLagerstraße 5\n34117 Kassel",
      "Your return label follows in a separate email.",
      "Estimated refund: €20.00, to your original payment method."]),
])
def test_a_return_by_mail_is_confirmed_with_where_it_goes_and_the_label_to_follow(
        bought, shop, after_commit, language, subject, phrases):
    # Given a delivered order in the customer's language
    order = bought(language)
    # When the customer registers a return of one A and the B by mail
    ret = by_mail(shop, after_commit, order, [("A", 1), ("B", 1)])
    # Then an email in that language confirms it: what, where to, the label to follow, and
    # the estimated refund
    email = sent(subject.format(ret=ret["number"]))
    assert email.to == ["kim@example.de"]
    assert_says(email, *(p.format(ret=ret["number"], order=order["number"]) for p in phrases))
    html = html_of(email)
    assert f'<html lang="{language}">' in html
    assert "Trinkflasche &amp; Becher" in html


@pytest.mark.parametrize(("language", "subject", "phrases"), [
    ("de", "Ihr Rücksendeetikett zur Rückgabe {ret}",
     ["Ihr Rücksendeetikett: https://labels.example.com/{ret}.pdf",
      "Versanddienstleister: DHL\nSendungsnummer: {tracking}\n",
      "So verpacken Sie Ihre Rücksendung:\n1. Legen Sie die Artikel in einen stabilen Karton",
      "DHL-Annahmestelle", "Das Paket geht an:\nLager Kassel"]),
    ("en", "Your return label for return {ret}",
     ["Your return label: https://labels.example.com/{ret}.pdf",
      "Carrier: DHL\nTracking number: {tracking}\n",
      "How to pack your return:\n1. Put the items in a sturdy box",
      "at a DHL drop-off point", "The parcel goes to:\nLager Kassel"]),
])
def test_the_return_label_email_links_the_label_with_carrier_tracking_and_packing_steps(
        bought, shop, after_commit, language, subject, phrases):
    # Given a delivered order
    order = bought(language)
    # When a return by mail is registered and the carrier makes its label
    ret = by_mail(shop, after_commit, order, [("A", 1)])
    # Then a second email brings the label, with the carrier's tracking number
    tracking = Return.objects.get(number=ret["number"]).tracking_number
    assert tracking
    email = sent(subject.format(ret=ret["number"]))
    assert_says(email, *(p.format(ret=ret["number"], tracking=tracking) for p in phrases))
    assert f'href="https://labels.example.com/{ret["number"]}.pdf"' in html_of(email)
    [row] = Notification.objects.filter(kind="return_label", channel="email")
    assert row.url == f"https://labels.example.com/{ret['number']}.pdf"


@pytest.mark.parametrize(("language", "subject", "phrases"), [
    ("de", "Wir haben Ihre Rückgabe {ret} erhalten",
     ["wir haben Ihre Rückgabe {ret} zur Bestellung {order} erhalten.",
      "Erhalten:\n- 1 × Wanderschuh Alpin (Art.-Nr. A)\n",
      "Nicht annehmen konnten wir:\n- 1 × Trinkflasche & Becher (Art.-Nr. B): benutzt",
      "Ihre Erstattung: 10,00\u00a0€, über Ihre ursprüngliche Zahlungsart. Sobald sie "
      "ausgezahlt ist, bestätigen wir sie Ihnen in einer separaten E-Mail."]),
    ("en", "We received your return {ret}",
     ["We have received your return {ret} for order {order}.",
      "Received:\n- 1 × Wanderschuh Alpin (item no. A)\n",
      "We could not accept:\n- 1 × Trinkflasche & Becher (item no. B): benutzt",
      "Your refund: €10.00, to your original payment method. We will confirm it in a "
      "separate email once it has been paid out."]),
])
def test_a_received_return_says_what_came_back_what_was_refused_and_why_and_the_refund(
        bought, shop, wms_kassel, after_commit, language, subject, phrases):
    # Given a return by mail of one A and the B
    order = bought(language)
    ret = by_mail(shop, after_commit, order, [("A", 1), ("B", 1)])
    # When Kassel receives the A and refuses the used B
    received_in_kassel(wms_kassel, after_commit, ret, [("A", 1)],
                       refused=[{"sku": "B", "reason": "benutzt"}])
    # Then the customer reads what was taken back, what not and why, and the refund to come
    email = sent(subject.format(ret=ret["number"]))
    assert_says(email, *(p.format(ret=ret["number"], order=order["number"]) for p in phrases))


@pytest.mark.parametrize(("language", "phrases"), [
    ("de", ["Nicht in Ihrer Rückgabe enthalten:\n- 1 × Trinkflasche & Becher (Art.-Nr. B)"]),
    ("en", ["Not in your return:\n- 1 × Trinkflasche & Becher (item no. B)"]),
])
def test_an_item_missing_from_the_parcel_is_named_as_missing_not_as_refused(
        bought, shop, wms_kassel, after_commit, language, phrases):
    # Given a return by mail of one A and the B
    order = bought(language)
    ret = by_mail(shop, after_commit, order, [("A", 1), ("B", 1)])
    # When the parcel arrives with the A only
    received_in_kassel(wms_kassel, after_commit, ret, [("A", 1)])
    # Then the B is named as not in the parcel, without a staff refusal reason
    email = sent(f"Wir haben Ihre Rückgabe {ret['number']} erhalten" if language == "de"
                 else f"We received your return {ret['number']}")
    assert_says(email, *phrases)
    assert "not in the parcel" not in email.body


@pytest.mark.parametrize(("language", "subject", "phrases"), [
    ("de", "Ihre Erstattung zur Rückgabe {ret}",
     ["wir haben Ihnen für Ihre Rückgabe {ret} (Bestellung {order}) 10,00\u00a0€ erstattet.",
      "Das Geld geht zurück auf Ihre Karte; es kann einige Tage dauern"]),
    ("en", "Your refund for return {ret}",
     ["We have refunded €10.00 for your return {ret} (order {order}).",
      "The money goes back to your card; it may take a few days to show"]),
])
def test_a_card_refund_says_the_money_goes_back_to_the_card_and_may_take_days(
        bought, shop, wms_kassel, after_commit, language, subject, phrases):
    # Given a return by mail of one A, paid by card
    order = bought(language)
    ret = by_mail(shop, after_commit, order, [("A", 1)])
    # When Kassel receives it and the PSP refunds the card
    received_in_kassel(wms_kassel, after_commit, ret, [("A", 1)])
    assert Refund.objects.get(reference=ret["number"]).status == "issued"
    # Then the customer is told the money goes back to the card
    email = sent(subject.format(ret=ret["number"]))
    assert_says(email, *(p.format(ret=ret["number"], order=order["number"]) for p in phrases))


@pytest.mark.parametrize(("language", "phrases"), [
    ("de", ["wir haben Ihnen für Ihre Rückgabe {ret} (Bestellung {order}) 10,00\u00a0€ als "
            "Guthaben gutgeschrieben.", "Ihr Guthabencode: {code}\nGuthaben: 10,00\u00a0€"]),
    ("en", ["We have credited €10.00 for your return {ret} (order {order}) as store credit.",
            "Your store credit code: {code}\nBalance: €10.00"]),
])
def test_a_store_credit_refund_sends_the_code_but_never_stores_it(
        bought, pos_munich, after_commit, app_backend_subscribed, language, phrases):
    # Given a delivered order, and an app backend taking pushes
    order = bought(language)
    # When the customer brings one A to Munich and takes store credit
    ret = at_the_counter(pos_munich, after_commit, order, [("A", 1)], "store_credit")
    # Then the refund email carries the credit's code and balance
    code = Refund.objects.select_related("store_credit").get(
        reference=ret["number"]).store_credit.code
    email = sent("Ihre Erstattung" if language == "de" else "Your refund")
    assert_says(email, *(p.format(ret=ret["number"], order=order["number"], code=code)
                         for p in phrases))
    assert code in html_of(email)
    assert CREDIT_CODE_PLACEHOLDER not in email.body + html_of(email)
    # and the stored rows hold the placeholder, never the code, and point at the refund
    rows = Notification.objects.filter(kind="refund_issued")
    assert sorted(rows.values_list("channel", flat=True)) == ["email", "push"]
    for row in rows:
        assert code not in row.subject + row.body_text + row.body_html
        assert row.refund.reference == ret["number"]
    assert CREDIT_CODE_PLACEHOLDER in rows.get(channel="email").body_text
    # and no event of the outbox (the push included) holds it either
    for event in OutboxEvent.objects.all():
        assert code not in json.dumps(event.payload), event.topic
    push = OutboxEvent.objects.get(topic="notification.push", payload__kind="refund_issued")
    assert ("E-Mail" if language == "de" else "email") in push.payload["body"]


@pytest.mark.parametrize(("language", "phrases"), [
    ("de", ["für Ihre Rückgabe {ret} (Bestellung {order}) wurden Ihnen an der Kasse "
            "10,00\u00a0€ bar ausgezahlt (Filiale München)."]),
    ("en", ["€10.00 for your return {ret} (order {order}) was paid out to you in cash at "
            "Filiale München."]),
])
def test_a_cash_refund_names_the_store_that_paid_it_out(
        bought, pos_munich, after_commit, language, phrases):
    # Given a delivered order
    order = bought(language)
    # When the customer brings one A to Munich and takes cash
    ret = at_the_counter(pos_munich, after_commit, order, [("A", 1)], "cash")
    # Then the customer was told of the registration at that store, the receipt, and the cash
    number = ret["number"]
    registered = sent(f"Wir haben Ihre Rückgabe {number} registriert" if language == "de"
                      else f"We registered your return {number}")
    assert_says(registered, "Angenommen in:\nFiliale München" if language == "de"
                else "Taken back at:\nFiliale München")
    assert "etikett" not in registered.body.lower() and "label" not in registered.body
    received = sent(f"Wir haben Ihre Rückgabe {number} erhalten" if language == "de"
                    else f"We received your return {number}")
    assert_says(received, "(Filiale München)" if language == "de" else "at Filiale München")
    assert "separat" not in received.body  # the cash is in the customer's hand already
    email = sent("Ihre Erstattung" if language == "de" else "Your refund")
    assert_says(email, *(p.format(ret=ret["number"], order=order["number"]) for p in phrases))


@pytest.mark.parametrize(("language", "registered", "received"), [
    ("de", "Ihre Umtauschbestellung: {exchange}, bezahlt mit dem Wert der zurückgegebenen "
           "Artikel.",
     "Eine Erstattung gibt es nicht: Der Wert der zurückgegebenen Artikel bezahlt Ihre "
     "Umtauschbestellung {exchange}."),
    ("en", "Your exchange order: {exchange}, paid with the value of the returned items.",
     "There is no refund: the value of the returned items pays for your exchange order "
     "{exchange}."),
])
def test_an_exchange_that_takes_the_whole_value_is_named_and_nothing_is_refunded(
        bought, shop_network, pos_munich, after_commit, language, registered, received):
    # Given a delivered order, and Munich has the other size on its shelf
    order = bought(language)
    shop_network.stock(shop_network.munich, "A-43", 3)
    # When the customer brings one A to Munich and takes an A-43 of the same price instead
    body = return_body(order, [("A", 1)], method="cash",
                       exchange=[{"sku": "A-43", "quantity": 1, "unit_price": "10.00"}])
    ret = ok(after_commit(pos_munich.post, "/api/v1/returns", body), 201)
    ok(after_commit(pos_munich.post, f"/api/v1/returns/{ret['id']}/receive",
                    receive_body([("A", 1)])))
    # Then the registration names the exchange order, and the receipt says nothing comes back
    # because the exchange took the value; no refund notice follows
    exchange = Return.objects.get(number=ret["number"]).exchange_order.number
    number = ret["number"]
    assert_says(sent(f"Wir haben Ihre Rückgabe {number} registriert" if language == "de"
                     else f"We registered your return {number}"),
                registered.format(exchange=exchange))
    assert_says(sent(f"Wir haben Ihre Rückgabe {number} erhalten" if language == "de"
                     else f"We received your return {number}"),
                received.format(exchange=exchange))
    assert not Notification.objects.filter(kind="refund_issued").exists()


def test_every_return_notice_is_also_an_app_push(
        bought, shop, wms_kassel, after_commit, app_backend_subscribed):
    # Given an English order, and an app backend taking pushes
    order = bought("en")
    # When a return by mail is registered, labelled, received and refunded to the card
    ret = by_mail(shop, after_commit, order, [("A", 1)])
    received_in_kassel(wms_kassel, after_commit, ret, [("A", 1)])
    # Then each step was pushed once, in the order's language
    number = ret["number"]
    pushes = {e.payload["kind"]: e.payload["body"]
              for e in OutboxEvent.objects.filter(topic="notification.push")
              if e.payload["kind"].startswith(("return", "refund"))}
    assert pushes == {
        "return_requested": f"We registered your return {number}. Your return label follows "
                            "by email.",
        "return_label": f"Your return label for return {number} is ready to print.",
        "return_received": f"We received your return {number}. Your refund: €10.00.",
        "refund_issued": f"€10.00 for your return {number} is on its way back to your card.",
    }
    assert set(notifications().filter(kind__in=list(pushes)).values_list("status", flat=True)) \
        == {"succeeded"}


def test_handling_a_refund_event_twice_notifies_once(
        bought, shop, wms_kassel, after_commit, app_backend_subscribed,
        django_capture_on_commit_callbacks):
    # Given a return refunded to the card, and the customer told
    order = bought("en")
    ret = by_mail(shop, after_commit, order, [("A", 1)])
    received_in_kassel(wms_kassel, after_commit, ret, [("A", 1)])
    event = OutboxEvent.objects.get(topic="refund.issued")
    # When the handler task is delivered again, the handler runs again regardless, and every
    # send task runs a second time
    with django_capture_on_commit_callbacks(execute=True):
        assert event_handle(event_id=event.id, handler_name=REFUND_HANDLER) is False
        with transaction.atomic():
            notify_refund_issued(event)
        for row in notifications().filter(kind="refund_issued"):
            queued = [[runs_of(row)[0][0], 0]]  # as the first send was queued
            assert send_notifications.delay(runs=queued).get() == ["skipped"]
    # Then the customer got one refund email and one refund push
    assert len([m for m in mail.outbox if m.subject.startswith("Your refund")]) == 1
    assert OutboxEvent.objects.filter(topic="notification.push",
                                      payload__kind="refund_issued").count() == 1
    assert sorted(notifications().filter(kind="refund_issued")
                  .values_list("channel", "status", "attempts")) == [
        ("email", "succeeded", 1), ("push", "succeeded", 1)]


def test_a_refund_that_names_no_return_notifies_nobody(publish):
    # Given no return of that number
    # When a refund.issued names it
    publish("refund.issued", {"id": 1, "order": "404", "reference": "404-R1", "method": "cash",
                              "route": "till", "status": "issued", "amount": "10.00",
                              "currency": "EUR"}, aggregate_type="refund")
    # Then nobody is notified and nothing fails
    assert mail.outbox == []
    assert not Notification.objects.exists()
