"""Click-and-collect tells the customer when the order is ready, reminds them the day before the
deadline and says so when nobody came; the pickup code reaches the email and the app push but is
never stored."""

# Items are listed as "2 \u00d7 name": the multiplication sign is what customers read.
# ruff: noqa: RUF001

from __future__ import annotations

import base64
import json
import logging
from datetime import UTC, datetime

import pytest
from django.core import mail
from django.db import transaction

from fulfillment.pickup_codes import derive_code, qr_png
from notifications.handlers import notify_ready_for_pickup
from notifications.pickup import CODE_PLACEHOLDER
from notifications.tasks import send_notifications
from oms.core.events import event_handle
from oms.core.models import OutboxEvent, WebhookDelivery
from oms.core.webhooks.signing import verify
from tests.core.handlers import handler_name
from tests.factories import StoreFactory, WebhookSubscriptionFactory, a_payment, an_order
from tests.factories.fulfillment import a_pickup
from tests.notifications.support import notifications, runs_of
from tests.notifications.test_content import BOOTS, BOTTLE, html_of, only_email

pytestmark = pytest.mark.django_db

READY_HANDLER = handler_name(notify_ready_for_pickup)
# 19:00 UTC on a November Saturday is 20:00 in Munich.
DEADLINE = datetime(2026, 11, 28, 19, 0, tzinfo=UTC)


@pytest.fixture
def munich():
    return StoreFactory(code="ST-MUC", name="Filiale München",
                        address={"street": "Kaufingerstraße 1", "postal_code": "80331",
                                 "city": "München"})


def code_of(fulfillment) -> str:
    return derive_code(fulfillment.pk, fulfillment.pickup_code_salt)


def pickup_payload(fulfillment, status="ready_for_pickup"):
    return {"id": fulfillment.pk, "order": fulfillment.order.number, "location": "ST-MUC",
            "kind": "pickup", "status": status, "pickup_deadline": DEADLINE.isoformat()}


def expired_payload(fulfillment, amount="119.90"):
    return {"id": fulfillment.pk, "order": fulfillment.order.number, "location": "ST-MUC",
            "kind": "pickup", "status": "expired", "amount": amount, "currency": "EUR",
            "lines": [{"sku": "BOOT-42", "quantity": 2}]}


def a_waiting_pickup(munich, language="de", **fields):
    order = an_order([BOOTS], language=language, delivery_method="pickup",
                     pickup_location="ST-MUC", delivery_address={})
    return a_pickup(order, {"BOOT-42": 2}, store=munich, deadline=DEADLINE, **fields)


def app_backend(topics=("notification.push",)):
    return WebhookSubscriptionFactory(url="https://app-backend.example/hooks", topics=list(topics))


# --- ready for pickup -------------------------------------------------------------------------
@pytest.mark.parametrize(("language", "subject", "phrases"), [
    ("de", "Ihre Bestellung {number} liegt zur Abholung bereit",
     ["Guten Tag Kim Schmidt,", "Ihre Bestellung {number} liegt zur Abholung für Sie bereit.",
      "Für Sie zurückgelegt:\n- 2 × Wanderschuh Alpin (Art.-Nr. BOOT-42)",
      "Abholort:\nFiliale München\nKaufingerstraße 1\n80331 München",
      "bis Samstag, 28. November 2026, 20:00 Uhr ab.", "Ihr Abholcode: {code}\n"]),
    ("en", "Your order {number} is ready for pickup",
     ["Hello Kim Schmidt,", "Good news: your order {number} is ready for you to collect.",
      "Waiting for you:\n- 2 × Wanderschuh Alpin (item no. BOOT-42)",
      "Pickup store:\nFiliale München\nKaufingerstraße 1\n80331 München",
      "by Saturday, 28 November 2026, 20:00.", "Your pickup code: {code}\n"]),
])
def test_a_ready_pickup_email_names_the_store_the_deadline_in_munich_time_and_the_code(
        publish, munich, language, subject, phrases):
    # Given boots waiting in the Munich store until Saturday 20:00 local time
    fulfillment = a_waiting_pickup(munich, language)
    number, code = fulfillment.order.number, code_of(fulfillment)
    # When fulfillment.ready_for_pickup is published
    publish("fulfillment.ready_for_pickup", pickup_payload(fulfillment),
            aggregate_id=fulfillment.pk)
    # Then one email in the order's language says what waits where, until when, with the code
    email = only_email()
    assert email.to == [fulfillment.order.customer.email]
    assert email.subject == subject.format(number=number)
    for phrase in phrases:
        assert phrase.format(number=number, code=code) in email.body, (phrase, email.body)
    html = html_of(email)
    assert f'<html lang="{language}">' in html
    assert code in html
    assert CODE_PLACEHOLDER not in email.body + html


def test_the_ready_email_shows_the_qr_code_as_an_inline_image_referenced_by_cid(
        publish, munich):
    # Given a pickup waiting in Munich
    fulfillment = a_waiting_pickup(munich, "en")
    # When it is announced
    publish("fulfillment.ready_for_pickup", pickup_payload(fulfillment),
            aggregate_id=fulfillment.pk)
    # Then the HTML shows an image by Content-ID, and that image is a related part of the
    # email: the QR code of this pickup's code and order number
    message = only_email().message()
    assert message.get_content_type() == "multipart/related"
    [image] = [part for part in message.walk() if part.get_content_type() == "image/png"]
    content_id = image["Content-ID"].strip("<>")
    assert image.get_content_disposition() == "inline"
    assert f'src="cid:{content_id}"' in html_of(mail.outbox[0])
    assert image.get_payload(decode=True) == qr_png(code_of(fulfillment),
                                                    fulfillment.order.number)


def test_the_stored_notifications_and_events_hold_no_pickup_code(
        publish, munich, webhooks, caplog):
    # Given the app backend subscribes to pushes, and every log line is captured
    app_backend()
    caplog.set_level(logging.DEBUG)
    fulfillment = a_waiting_pickup(munich)
    code = code_of(fulfillment)
    # When the pickup is announced by email and push
    publish("fulfillment.ready_for_pickup", pickup_payload(fulfillment),
            aggregate_id=fulfillment.pk)
    # Then both went out with the code
    assert code in mail.outbox[0].body
    assert json.loads(webhooks[0][1])["data"]["pickup"]["code"] == code
    # but the rows keep only a placeholder and the fulfilment it is derived from
    rows = list(notifications().all())
    assert {(n.channel, n.status) for n in rows} == {("email", "succeeded"), ("push", "succeeded")}
    for row in rows:
        stored = " ".join([row.subject, row.body_text, row.body_html, row.url, row.error])
        assert code not in stored
        assert row.fulfillment_id == fulfillment.pk
    assert CODE_PLACEHOLDER in notifications().get(channel="email").body_text
    # and no outbox event, and no log line, carries it
    for payload in OutboxEvent.objects.values_list("payload", flat=True):
        assert code not in json.dumps(payload)
    assert code not in caplog.text


def test_the_app_push_carries_the_code_and_the_qr_image_for_the_wallet_pass(
        publish, munich, webhooks):
    # Given the app backend subscribes to notification.push
    subscription = app_backend()
    fulfillment = a_waiting_pickup(munich, "en")
    number, code = fulfillment.order.number, code_of(fulfillment)
    # When the pickup is announced
    publish("fulfillment.ready_for_pickup", pickup_payload(fulfillment),
            aggregate_id=fulfillment.pk)
    # Then one signed webhook carries the push with code, QR image, store and deadline
    [(url, body, headers)] = webhooks
    assert url == "https://app-backend.example/hooks"
    assert verify(subscription.secret, headers["webhook-id"],
                  int(headers["webhook-timestamp"]), body, headers["webhook-signature"])
    message = json.loads(body)
    assert message["type"] == "notification.push"
    data = message["data"]
    assert (data["kind"], data["language"]) == ("pickup_ready", "en")
    assert data["title"] == f"Your order {number} is ready for pickup"
    assert data["body"] == (f"Your order {number} is ready for pickup at Filiale München "
                            "until 28 November.")
    pickup = data["pickup"]
    assert pickup["code"] == code
    assert base64.b64decode(pickup["qr_png_base64"]) == qr_png(code, number)
    assert pickup["store"] == {"code": "ST-MUC", "name": "Filiale München",
                               "address": munich.address}
    assert pickup["deadline"] == DEADLINE.isoformat()
    assert pickup["fulfillment"] == fulfillment.pk
    # and it went directly, not through an outbox event the cockpit would show
    assert not OutboxEvent.objects.filter(topic="notification.push").exists()
    assert WebhookDelivery.objects.count() == 0


def test_a_catch_all_webhook_subscriber_gets_no_pickup_code(publish, munich, webhooks):
    # Given a data warehouse subscribed to every topic, and no app backend
    app_backend(topics=["*"])
    fulfillment = a_waiting_pickup(munich)
    # When the pickup is announced
    publish("fulfillment.ready_for_pickup", pickup_payload(fulfillment),
            aggregate_id=fulfillment.pk)
    # Then it receives the domain event, which has no code, and no push
    assert [json.loads(body)["type"] for _, body, _ in webhooks] == [
        "fulfillment.ready_for_pickup"]
    assert code_of(fulfillment) not in webhooks[0][1].decode()


def test_a_push_the_app_backend_rejects_is_retried_under_the_same_webhook_id(
        publish, munich, webhooks, settings, django_capture_on_commit_callbacks):
    # Given the app backend is down when the pickup is announced
    app_backend()
    settings.WEBHOOK_SENDER = "tests.notifications.support.RejectingWebhookSender"
    fulfillment = a_waiting_pickup(munich)
    publish("fulfillment.ready_for_pickup", pickup_payload(fulfillment),
            aggregate_id=fulfillment.pk)
    # Then the push stays pending with the error, which does not repeat the code
    push = notifications().get(channel="push")
    assert (push.status, push.attempts) == ("pending", 1)
    assert "HTTP 503" in push.error
    assert code_of(fulfillment) not in push.error
    # When the backend is back and the push is sent again
    settings.WEBHOOK_SENDER = "tests.notifications.support.RecordingWebhookSender"
    with django_capture_on_commit_callbacks(execute=True):
        assert send_notifications.delay(runs=runs_of(push)).get() == ["succeeded"]
    # Then the second post repeats the first one's id, so the app backend can drop a duplicate
    first, second = webhooks
    assert first[2]["webhook-id"] == second[2]["webhook-id"]
    assert json.loads(second[1])["data"]["pickup"]["code"] == code_of(fulfillment)


def test_a_pickup_without_a_code_is_not_announced_but_fails_visibly(publish, munich):
    # Given a pickup whose code salt is missing (a bug upstream)
    fulfillment = a_waiting_pickup(munich, with_code=False)
    # When it is announced
    publish("fulfillment.ready_for_pickup", pickup_payload(fulfillment),
            aggregate_id=fulfillment.pk)
    # Then nothing reaches the customer, and the cockpit shows why
    assert mail.outbox == []
    email = notifications().get(channel="email")
    assert email.status == "pending"
    assert "no pickup code" in email.error


# --- reminder ---------------------------------------------------------------------------------
@pytest.mark.parametrize(("language", "subject", "phrases", "push"), [
    ("de", "Erinnerung: Ihre Bestellung {number} liegt noch für Sie bereit",
     ["Morgen ist der letzte Tag, an dem Sie sie abholen können: "
      "bis Samstag, 28. November 2026, 20:00 Uhr.", "Ihr Abholcode: {code}\n",
      "Abholort:\nFiliale München"],
     "Erinnerung: Morgen ist der letzte Tag, um Ihre Bestellung {number} abzuholen "
     "(Filiale München)."),
    ("en", "Reminder: your order {number} is waiting for you",
     ["Tomorrow is the last day to collect it: please come by Saturday, 28 November 2026, "
      "20:00.", "Your pickup code: {code}\n", "Pickup store:\nFiliale München"],
     "Reminder: tomorrow is the last day to collect your order {number} at Filiale München."),
])
def test_a_reminder_says_tomorrow_is_the_last_day_and_repeats_the_same_code(
        publish, munich, app_backend_subscribed, language, subject, phrases, push):
    # Given a pickup that was announced and is still waiting a day before its deadline
    fulfillment = a_waiting_pickup(munich, language)
    number, code = fulfillment.order.number, code_of(fulfillment)
    publish("fulfillment.ready_for_pickup", pickup_payload(fulfillment),
            aggregate_id=fulfillment.pk)
    # When fulfillment.pickup_reminder is published
    publish("fulfillment.pickup_reminder", pickup_payload(fulfillment),
            aggregate_id=fulfillment.pk)
    # Then a second email reminds the customer, with the same code as the first
    ready, reminder = mail.outbox
    assert reminder.subject == subject.format(number=number)
    for phrase in phrases:
        assert phrase.format(number=number, code=code) in reminder.body, (phrase, reminder.body)
    assert code in ready.body
    assert 'src="cid:' in html_of(reminder)
    assert notifications().get(kind="pickup_reminder", channel="push").body_text == \
        push.format(number=number)


@pytest.mark.parametrize("status", ["picked_up", "cancelled", "expired"])
def test_a_reminder_for_a_pickup_no_longer_waiting_notifies_nobody(publish, munich, status):
    # Given the customer collected the order (or it ended otherwise) before the reminder ran
    fulfillment = a_waiting_pickup(munich, status=status)
    # When the reminder is handled
    publish("fulfillment.pickup_reminder", pickup_payload(fulfillment),
            aggregate_id=fulfillment.pk)
    # Then nobody is reminded
    assert mail.outbox == []
    assert not notifications().exists()


# --- not collected ----------------------------------------------------------------------------
@pytest.mark.parametrize(("language", "method", "subject", "phrases", "absent"), [
    ("de", "card", "Ihre Bestellung {number} wurde nicht abgeholt",
     ["leider wurde Ihre Bestellung {number} nicht innerhalb der Abholfrist abgeholt "
      "(Filiale München).", "storniert und wieder in den Verkauf gegeben:\n"
      "- 2 × Wanderschuh Alpin (Art.-Nr. BOOT-42)",
      "Den Betrag von 119,90\u00a0€ erhalten Sie über Ihre Zahlungsart (Karte bzw. PayPal) "
      "zurück."], "noch nicht bezahlt"),
    ("en", "paypal", "Your order {number} was not collected",
     ["your order {number} was not collected from Filiale München within the pickup period.",
      "put them back on sale:\n- 2 × Wanderschuh Alpin (item no. BOOT-42)",
      "you will get the €119.90 back through your payment method (card or PayPal)."],
     "had not paid"),
    ("de", "pay_in_store", "Ihre Bestellung {number} wurde nicht abgeholt",
     ["Da Sie diese Artikel noch nicht bezahlt hatten, berechnen wir Ihnen nichts"],
     "zurück"),
    ("en", "invoice", "Your order {number} was not collected",
     ["As you had not paid for these items yet, you will not be charged"], "back through"),
])
def test_an_expired_pickup_says_the_items_went_back_on_sale_and_refunds_only_online_payments(
        publish, munich, language, method, subject, phrases, absent):
    # Given a pickup nobody came for, paid by `method`
    fulfillment = a_waiting_pickup(munich, language, status="expired")
    a_payment(fulfillment.order, method)
    # When fulfillment.pickup_expired is published
    publish("fulfillment.pickup_expired", expired_payload(fulfillment),
            aggregate_id=fulfillment.pk)
    # Then the customer learns the items are gone and whether money comes back
    email = only_email()
    number = fulfillment.order.number
    assert email.subject == subject.format(number=number)
    for phrase in phrases:
        assert phrase.format(number=number) in email.body, (phrase, email.body)
    assert absent not in email.body
    # and there is nothing to collect any more: no code, no QR image
    assert code_of(fulfillment) not in email.body
    assert email.attachments == []


def test_the_expired_push_says_the_money_comes_back_and_goes_through_the_outbox(
        publish, munich, webhooks):
    app_backend()
    fulfillment = a_waiting_pickup(munich, "en", status="expired")
    a_payment(fulfillment.order, "card", status="voided")
    publish("fulfillment.pickup_expired", expired_payload(fulfillment),
            aggregate_id=fulfillment.pk)
    [push] = OutboxEvent.objects.filter(topic="notification.push")
    assert push.payload["body"] == (f"Your order {fulfillment.order.number} was not collected "
                                    "in time and has been cancelled. You will get your money "
                                    "back.")
    assert "pickup" not in push.payload
    assert len(webhooks) == 1


# --- once, and only for pickups ---------------------------------------------------------------
def test_handling_and_sending_a_ready_event_twice_notifies_once(
        publish, munich, webhooks, django_capture_on_commit_callbacks):
    # Given the app backend subscribes, and the pickup was announced
    app_backend()
    fulfillment = a_waiting_pickup(munich)
    event = publish("fulfillment.ready_for_pickup", pickup_payload(fulfillment),
                    aggregate_id=fulfillment.pk)
    # When the handler task is delivered again, the handler runs again regardless, and every
    # send task runs a second time
    with django_capture_on_commit_callbacks(execute=True):
        assert event_handle(event_id=event.id, handler_name=READY_HANDLER) is False
        with transaction.atomic():
            notify_ready_for_pickup(event)
        for notification in notifications().all():
            queued = [[runs_of(notification)[0][0], 0]]  # as the first send was queued
            assert send_notifications.delay(runs=queued).get() == ["skipped"]
    # Then the customer got one email and the app backend one push
    assert len(mail.outbox) == 1
    assert len(webhooks) == 1
    assert sorted(notifications().values_list("channel", "status", "attempts")) == [
        ("email", "succeeded", 1), ("push", "succeeded", 1)]


def test_a_handover_sends_no_shipped_email(publish, munich):
    # Given the customer collected the order at the counter
    fulfillment = a_waiting_pickup(munich, status="picked_up")
    # When the handover and a "shipped" of kind pickup are published, the latter even without
    # its kind
    publish("fulfillment.picked_up", {**expired_payload(fulfillment), "status": "picked_up"},
            aggregate_id=fulfillment.pk)
    shipped = {"id": fulfillment.pk, "order": fulfillment.order.number, "location": "ST-MUC",
               "status": "shipped", "amount": "119.90", "currency": "EUR",
               "shipment": {"id": 1, "carrier": "", "tracking_number": "",
                            "lines": [{"sku": "BOOT-42", "quantity": 2}]}}
    publish("fulfillment.shipped", {**shipped, "kind": "pickup"}, aggregate_id=fulfillment.pk)
    publish("fulfillment.shipped", shipped, aggregate_id=fulfillment.pk)
    # Then nobody is told the order "is on its way"
    assert mail.outbox == []
    assert not notifications().exists()


def test_a_ready_event_of_a_shipping_fulfilment_notifies_nobody(publish, munich):
    # Given a fulfilment that ships (no pickup), named by a malformed event
    order = an_order([BOOTS, BOTTLE])
    shipping = a_pickup(order, {"BOOT-42": 2}, store=munich)
    type(shipping).objects.filter(pk=shipping.pk).update(kind="ship")
    publish("fulfillment.ready_for_pickup", pickup_payload(shipping), aggregate_id=shipping.pk)
    assert mail.outbox == []
