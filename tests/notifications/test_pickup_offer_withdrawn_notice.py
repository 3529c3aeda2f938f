"""An accepted offer to take the goods at the store is undone when the warehouse had already
packed the parcel: the customer is told by push and by e-mail (they may have left the store),
in the order's language, which store prepares nothing and which items come by parcel."""

# Items are listed as "2 \u00d7 name": the multiplication sign is what customers read.
# ruff: noqa: RUF001

from __future__ import annotations

from typing import Any

import pytest
from django.core import mail
from django.db import transaction

from notifications.handlers import notify_pickup_offer_withdrawn
from oms.core.events import event_handle
from oms.core.models import OutboxEvent
from oms.orders.models import Order
from tests.core.handlers import handler_name
from tests.factories import StoreFactory, an_order
from tests.notifications.support import notifications
from tests.notifications.test_content import BOOTS, BOTTLE, html_of

pytestmark = pytest.mark.django_db

HANDLER = handler_name(notify_pickup_offer_withdrawn)
STORE_NAME = "Filiale München"


def withdrawn_payload(order_number: str, store: Any) -> dict[str, Any]:
    """What the visits service writes when the warehouse answers that the parcel has left."""
    return {"id": 17, "visit": 5, "order": order_number, "store": store.code,
            "store_name": store.name, "status": "withdrawn",
            "expires_at": "2026-03-03T10:35:00+01:00",
            "lines": [{"sku": "BOOT-42", "quantity": 2}, {"sku": "BOTTLE-1", "quantity": 1}],
            "reason": "shipment_already_left"}


def withdraw(publish: Any, order_number: str) -> OutboxEvent:
    store = StoreFactory(code="ST-MUC", name=STORE_NAME)
    return publish("pickup_offer.withdrawn", withdrawn_payload(order_number, store),
                   aggregate_type="pickup_offer", aggregate_id=17)


def an_order_in(language: str) -> Order:
    return an_order([BOOTS, BOTTLE], language=language)


@pytest.mark.parametrize(("language", "subject", "push", "phrases"), [
    ("de", "Ihre Bestellung {number} kommt nun doch per Paket",
     "Leider hatte unser Lager Ihr Paket schon gepackt: Ihre Bestellung {number} ist wie "
     "geplant auf dem Weg zu Ihnen, und in Filiale München wird nichts für Sie bereitgelegt.",
     ["Guten Tag Kim Schmidt,", "gleich in Filiale München mitzunehmen",
      "hatte unser Lager Ihr Paket bereits gepackt", "2 × Wanderschuh Alpin (Art.-Nr. BOOT-42)",
      "1 × Trinkflasche & Becher (Art.-Nr. BOTTLE-1)",
      "Ihr Paket ist deshalb wie geplant auf dem Weg zu Ihnen",
      "in Filiale München werden die Artikel nicht für Sie bereitgelegt"]),
    ("en", "Your order {number} comes by parcel after all",
     "Sorry, our warehouse had already packed your parcel: your order {number} is on its way "
     "to you as planned, and nothing is being prepared for you at Filiale München.",
     ["Hello Kim Schmidt,", "with you at Filiale München",
      "our warehouse had already packed your parcel",
      "2 × Wanderschuh Alpin (item no. BOOT-42)",
      "1 × Trinkflasche & Becher (item no. BOTTLE-1)",
      "your parcel is on its way to you as planned",
      "the items are not being prepared for you at Filiale München"]),
])
def test_a_withdrawn_offer_is_pushed_and_emailed_in_the_orders_language(
        publish: Any, app_backend_subscribed: Any, language: str, subject: str, push: str,
        phrases: list[str]) -> None:
    # Given an order whose parcel goods the customer accepted to take at the Munich store
    order = an_order_in(language)
    # When the visits service withdraws the offer: the warehouse had already packed the parcel
    withdraw(publish, order.number)
    # Then the app gets a push naming the store
    [pushed] = OutboxEvent.objects.filter(topic="notification.push",
                                          payload__kind="pickup_offer_withdrawn")
    assert pushed.payload["body"] == push.format(number=order.number)
    assert pushed.payload["language"] == language
    # and the customer an e-mail naming the store and the items, as text and HTML
    [email] = mail.outbox
    assert email.to == [order.customer.email]
    assert email.subject == subject.format(number=order.number)
    for phrase in phrases:
        assert phrase in email.body, (phrase, email.body)
    html = html_of(email)
    assert f'<html lang="{language}">' in html
    assert f"<strong>{STORE_NAME}</strong>" in html
    assert "Trinkflasche &amp; Becher" in html  # escaped in HTML, plain in text
    assert sorted(notifications().values_list("kind", "channel", "language", "status")) == [
        ("pickup_offer_withdrawn", "email", language, "succeeded"),
        ("pickup_offer_withdrawn", "push", language, "succeeded")]


def test_a_withdrawn_offer_for_an_unknown_order_notifies_nobody(
        publish: Any, app_backend_subscribed: Any) -> None:
    # Given no order numbered 404
    # When an offer of it is withdrawn
    withdraw(publish, "404")
    # Then nobody is notified, and the handler did not fail
    assert mail.outbox == []
    assert not notifications().exists()
    assert not OutboxEvent.objects.filter(topic="notification.push").exists()


def test_handling_a_withdrawn_offer_twice_notifies_once(
        publish: Any, app_backend_subscribed: Any, webhooks: list,
        django_capture_on_commit_callbacks: Any) -> None:
    # Given the withdrawal was handled and its notices sent
    order = an_order_in("en")
    event = withdraw(publish, order.number)
    # When the handler task is delivered again, and the handler runs again regardless
    with django_capture_on_commit_callbacks(execute=True):
        assert event_handle(event_id=event.id, handler_name=HANDLER) is False
        with transaction.atomic():
            notify_pickup_offer_withdrawn(event)
    # Then there is still one e-mail and one push
    assert len(mail.outbox) == 1
    assert OutboxEvent.objects.filter(topic="notification.push").count() == 1
    assert len(webhooks) == 1
    assert sorted(notifications().values_list("channel", "status", "attempts")) == [
        ("email", "succeeded", 1), ("push", "succeeded", 1)]
