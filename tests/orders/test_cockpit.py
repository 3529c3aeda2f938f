"""The order page of the admin cockpit, and the generated state-machine diagrams."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import User
from django.core.management import call_command

from tests.network import level, order_body


@pytest.fixture
def staff_browser(client, db):
    user = User.objects.create_superuser("anna", "anna@example.de", "pw")
    client.force_login(user)
    return client


@pytest.fixture
def order(network, api):
    network.stock(network.kassel, "A", 5)
    response = api("webshop", channel="web").post("/api/v1/orders", order_body([("A", 2)]))
    return response.json()


def test_one_order_page_shows_lines_fulfilments_payment_sourcing_and_audit_trail(
        staff_browser, order):
    from oms.orders.models import Order

    pk = Order.objects.get(number=order["number"]).pk
    page = staff_browser.get(f"/admin/orders/order/{pk}/change/")
    assert page.status_code == 200
    html = page.content.decode()
    for expected in ("WH-KS", "psp_", "sourcing.decided", "order.confirmed", "single_location",
                     "serves the whole order"):
        assert expected in html, expected


def test_the_cockpit_cancel_action_uses_the_same_service_as_the_api(network, staff_browser,
                                                                   order):
    from oms.orders.models import Order

    pk = Order.objects.get(number=order["number"]).pk
    response = staff_browser.post("/admin/orders/order/", {
        "action": "cancel_orders", "_selected_action": [pk]}, follow=True)
    assert response.status_code == 200
    cancelled = Order.objects.get(pk=pk)
    assert cancelled.status == "cancelled"
    assert level("A", network.kassel).reserved == 0
    assert cancelled.events.last().actor == "staff:anna"


def test_the_state_machine_diagrams_in_docs_match_the_code():
    # `manage.py state_diagrams` regenerates them; --check fails when they are stale
    call_command("state_diagrams", "--check")
