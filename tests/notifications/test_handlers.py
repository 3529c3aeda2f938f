"""Which events notify whom: pickups wait for click-and-collect, a stock incident is announced
once, and events the customer caused themselves stay quiet."""

from __future__ import annotations

import pytest
from django.core import mail
from django.db import transaction

from oms.core.events import event_emit, outbox_relay
from oms.core.models import OutboxEvent
from oms.orders.services import order_payload
from tests.factories import WebhookSubscriptionFactory, a_fulfillment, an_order, cancel, fulfil
from tests.notifications.support import notifications
from tests.notifications.test_content import BOOTS, BOTTLE, shipped_payload

pytestmark = pytest.mark.django_db


def lines_cancelled(order, reason, units):
    return {**order_payload(order), "detail": {
        "reason": reason, "lines": [{"sku": s, "quantity": q} for s, q in units.items()]}}


def test_a_pickup_shipment_notifies_nobody(publish):
    # Given a click-and-collect order whose store fulfilment was "shipped" to the store
    order = an_order([BOOTS], delivery_method="pickup", pickup_location="ST-MUC")
    fulfillment = a_fulfillment(order, {"BOOT-42": 2}, kind="pickup")
    fulfil(order, {"BOOT-42": 2})
    # When fulfillment.shipped of kind pickup is published
    publish("fulfillment.shipped", shipped_payload(order, fulfillment, kind="pickup"))
    # Then neither email nor push goes out: click-and-collect tells the customer
    assert mail.outbox == []
    assert not notifications().exists()


def test_a_dropship_shipment_is_notified_like_any_parcel(publish):
    order = an_order([BOOTS])
    fulfillment = a_fulfillment(order, {"BOOT-42": 2}, kind="dropship")
    fulfil(order, {"BOOT-42": 2})
    publish("fulfillment.shipped", shipped_payload(order, fulfillment, kind="dropship"))
    assert [m.subject for m in mail.outbox] == [f"Ihre Bestellung {order.number} ist unterwegs"]


def test_a_rejection_and_the_order_event_of_the_same_stock_incident_notify_once(
        django_capture_on_commit_callbacks):
    # Given Kassel rejects boots and bottle; boots are re-sourced, the bottle is cancelled on
    # the order: one transaction writes two events about one incident, the order event first
    order = an_order([BOOTS, BOTTLE], language="en")
    fulfillment = a_fulfillment(order, {"BOOT-42": 2, "BOTTLE-1": 1})
    cancel(order, {"BOTTLE-1": 1})
    with django_capture_on_commit_callbacks(execute=True):
        with transaction.atomic():
            event_emit(topic="order.lines_cancelled", aggregate_type="order",
                       aggregate_id=order.number,
                       payload=lines_cancelled(order, "no_stock", {"BOTTLE-1": 1}))
            event_emit(topic="fulfillment.rejected", aggregate_type="fulfillment",
                       aggregate_id=fulfillment.pk, payload={
                           "id": fulfillment.pk, "order": order.number, "location": "WH-KS",
                           "reason": "empty", "resourced_to": ["WH-HH"],
                           "cancelled": [{"sku": "BOTTLE-1", "quantity": 1}]})
        # When the relay publishes both
        outbox_relay()
    # Then the customer gets one email: the delay notice naming the cancelled bottle
    assert [m.subject for m in mail.outbox] == [f"Your order {order.number} is delayed"]
    assert "Trinkflasche" in mail.outbox[0].body


def test_a_later_stock_incident_on_the_same_order_is_announced_again(publish):
    # Given a rejection that cancelled one bottle long ago
    order = an_order([BOOTS, ("BOTTLE-1", "Trinkflasche", 2, "9.90")], language="en")
    fulfillment = a_fulfillment(order, {"BOTTLE-1": 1})
    old = publish("fulfillment.rejected", {
        "id": fulfillment.pk, "order": order.number, "location": "WH-KS", "reason": "empty",
        "resourced_to": [], "cancelled": [{"sku": "BOTTLE-1", "quantity": 1}]})
    type(old).objects.filter(pk=old.pk).update(created_at=old.created_at.replace(year=2020))
    mail.outbox.clear()
    # When, today, the other bottle is cancelled for lack of stock without a fulfilment event
    publish("order.lines_cancelled", lines_cancelled(order, "no_stock", {"BOTTLE-1": 1}),
            aggregate_type="order", aggregate_id=order.number)
    # Then that is a new incident and the customer hears about it
    assert [m.subject for m in mail.outbox] == [
        f"An item from your order {order.number} is unavailable"]


def test_a_rejection_that_cancels_fewer_units_does_not_silence_the_order_event(publish):
    order = an_order([BOOTS, BOTTLE], language="en")
    fulfillment = a_fulfillment(order, {"BOOT-42": 2})
    publish("fulfillment.rejected", {
        "id": fulfillment.pk, "order": order.number, "location": "WH-KS", "reason": "empty",
        "resourced_to": [], "cancelled": [{"sku": "BOOT-42", "quantity": 1}]})
    mail.outbox.clear()
    publish("order.lines_cancelled",
            lines_cancelled(order, "no_stock", {"BOOT-42": 1, "BOTTLE-1": 1}),
            aggregate_type="order", aggregate_id=order.number)
    assert len(mail.outbox) == 1


@pytest.mark.parametrize("reason", ["customer changed their mind", "fraud suspected", ""])
def test_lines_cancelled_for_any_other_reason_notify_nobody(publish, reason):
    # Given the customer (or the shop) cancelled a line: they know already
    order = an_order([BOOTS, BOTTLE])
    cancel(order, {"BOTTLE-1": 1})
    publish("order.lines_cancelled", lines_cancelled(order, reason, {"BOTTLE-1": 1}),
            aggregate_type="order", aggregate_id=order.number)
    assert mail.outbox == []


def test_an_event_about_an_unknown_order_notifies_nobody_and_does_not_fail(publish):
    publish("fulfillment.delivered", {"id": 1, "order": "404", "location": "WH-KS",
                                      "at": "2026-03-03T10:15:00+01:00"})
    assert mail.outbox == []
    assert not notifications().exists()


def test_only_the_configured_channels_are_used(publish, settings):
    # Given push is switched off
    settings.NOTIFICATION_CHANNELS = ["email"]
    order = an_order([BOOTS])
    publish("order.confirmed", order_payload(order), aggregate_type="order",
            aggregate_id=order.number)
    # Then only an email is recorded and sent
    assert list(notifications().values_list("channel", "status")) == [("email", "succeeded")]
    assert len(mail.outbox) == 1


def test_no_push_is_written_while_no_app_backend_subscribes_to_it(publish, webhooks):
    # Given push is configured, but only a data warehouse subscribes, to every topic
    WebhookSubscriptionFactory(url="https://dwh.example/hooks", topics=["*"])
    order = an_order([BOOTS])
    # When the order is confirmed
    publish("order.confirmed", order_payload(order), aggregate_type="order",
            aggregate_id=order.number)
    # Then the email goes out, and no push is recorded as sent to nobody
    assert list(notifications().values_list("channel", "status")) == [("email", "succeeded")]
    assert not OutboxEvent.objects.filter(topic="notification.push").exists()


def test_a_push_is_written_once_an_app_backend_subscribes(publish, webhooks):
    # Given the app backend subscribes to notification.push by name
    WebhookSubscriptionFactory(url="https://app-backend.example/hooks",
                               topics=["notification.push"])
    order = an_order([BOOTS])
    # When the order is confirmed
    publish("order.confirmed", order_payload(order), aggregate_type="order",
            aggregate_id=order.number)
    # Then email and push are both sent, the push as a notification.push event
    assert sorted(notifications().values_list("channel", "status")) == [
        ("email", "succeeded"), ("push", "succeeded")]
    assert OutboxEvent.objects.filter(topic="notification.push").count() == 1
