"""An offer to take an order's goods now at the store the customer walked into goes to the app
as a push, in the order's language, never as an e-mail (it lasts minutes)."""

from __future__ import annotations

from typing import Any

import pytest
from django.core import mail

from notifications.models import Notification
from oms.core.models import OutboxEvent
from oms.orders.models import Customer
from tests.factories import ConsentFactory
from tests.network import order_body

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(("language", "expected"), [
    ("en", "You are at {store}, and it has your order {number} on its shelf"),
    ("de", "Sie sind in {store}, und Ihre Bestellung {number} liegt dort im Regal"),
])
def test_an_offer_is_pushed_to_the_app_in_the_orders_language(
        network: Any, shop: Any, api: Any, app_backend_subscribed: Any,
        django_capture_on_commit_callbacks: Any, language: str, expected: str) -> None:
    # given a parcel from Kassel not started, the goods in Munich, and the customer's consent
    network.stock(network.kassel, "A", 5)
    network.stock(network.munich, "A", 5)
    order = shop.post("/api/v1/orders", order_body([("A", 1)], language=language)).json()
    ConsentFactory(customer=Customer.objects.get(email="kim@example.de"),
                   purpose="in_store_offers", granted=True)
    mail.outbox.clear()

    # when the app reports the customer walking into Munich
    with django_capture_on_commit_callbacks(execute=True):
        response = api("app", channel="app").post("/api/v1/store-visits", {
            "location": "ST-MUC", "customer": {"email": "kim@example.de"},
            "source": "geofence"})
    assert response.status_code == 201, response.content

    # then one push went to the app, in the order's language, and no e-mail
    [push] = OutboxEvent.objects.filter(topic="notification.push",
                                        payload__kind="pickup_offer")
    assert push.payload["body"].startswith(
        expected.format(store=network.munich.name, number=order["number"]))
    assert not Notification.objects.filter(kind="pickup_offer", channel="email").exists()
    assert not any("with you now" in m.subject or "jetzt in" in m.subject
                   for m in mail.outbox)
