"""Orders placed through the API are confirmed to the customer in the order's language."""

# Items are listed as "2 \u00d7 name": the multiplication sign is what customers read.
# ruff: noqa: RUF001

from __future__ import annotations

import pytest
from django.core import mail

from oms.catalog.models import Product
from tests.network import order_body
from tests.notifications.support import notifications


@pytest.mark.parametrize(("language", "subject", "phrases"), [
    ("de", "Ihre Bestellung {number} ist bestätigt",
     ["Guten Tag Kim,", "1 × Wanderjacke (Art.-Nr. JACKET)", "Gesamtbetrag: 10,00\u00a0€"]),
    ("en", "Your order {number} is confirmed",
     ["Hello Kim,", "1 × Wanderjacke (item no. JACKET)", "Total: €10.00"]),
])
def test_an_order_placed_through_the_api_is_confirmed_in_its_language(
        network, shop, django_capture_on_commit_callbacks, language, subject, phrases):
    # Given Kassel stocks the jacket, called "Wanderjacke" in the catalogue
    network.stock(network.kassel, "JACKET", 3)
    Product.objects.filter(sku="JACKET").update(name="Wanderjacke")
    # When the webshop places an order in that language, paid by an authorized card
    with django_capture_on_commit_callbacks(execute=True):
        response = shop.post("/api/v1/orders",
                             order_body([("JACKET", 1)], language=language))
    assert response.status_code == 201, response.content
    number = response.json()["number"]
    # Then the customer gets the order confirmation in that language
    [email] = mail.outbox
    assert email.to == ["kim@example.de"]
    assert email.subject == subject.format(number=number)
    for phrase in phrases:
        assert phrase in email.body, (phrase, email.body)
    assert set(notifications().values_list("language", "status")) == {(language, "succeeded")}


def test_an_order_waiting_for_payment_is_not_confirmed_yet(
        network, shop, django_capture_on_commit_callbacks):
    # Given a card payment that is still pending
    network.stock(network.kassel, "JACKET", 3)
    body = order_body([("JACKET", 1)])
    body["payment"]["status"] = "pending"
    # When the order is placed, it is on hold
    with django_capture_on_commit_callbacks(execute=True):
        response = shop.post("/api/v1/orders", body)
    assert response.json()["status"] == "on_hold"
    # Then no confirmation goes out
    assert mail.outbox == []
    assert not notifications().exists()
