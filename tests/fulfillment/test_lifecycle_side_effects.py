"""What leaves the service when an order moves: the customer is told, the money is captured,
once each even when Celery runs a task twice."""

from __future__ import annotations

from typing import Any

import pytest
from django.core import mail

from oms.core.events import event_handle, handlers_for
from oms.core.models import OutboxEvent, ProcessedEvent
from oms.core.tasks import handle_event
from payments.adapters.psp import fake
from tests.factories import WebhookSubscriptionFactory
from tests.fulfillment.conftest import fulfillment_of


@pytest.fixture
def outside_world(settings: Any) -> Any:
    settings.PSP_ADAPTER = "payments.adapters.psp.fake"
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    settings.NOTIFICATION_CHANNELS = ["email", "push"]
    # an app backend receives pushes (recorded, not posted)
    settings.WEBHOOK_SENDER = "tests.notifications.support.RecordingWebhookSender"
    WebhookSubscriptionFactory(url="https://app-backend.example/hooks",
                               topics=["notification.push"])
    fake.reset()
    yield fake
    fake.reset()


def run_every_handler_twice(topic: str, captured: Any) -> None:
    """Deliver each handler task of the event twice, as a broker redelivery would."""
    event = OutboxEvent.objects.get(topic=topic)
    for name in handlers_for(topic):
        for _ in range(2):
            with captured(execute=True):
                handle_event.apply(kwargs={"event_id": str(event.id), "handler": name})


def test_a_shipment_handled_twice_sends_one_email_and_captures_once(
        network, place, wms, outside_world, django_capture_on_commit_callbacks):
    # Given an order paid by an authorized card (its confirmation sent after commit), shipped by
    # Kassel
    network.stock(network.kassel, "A", 5)
    with django_capture_on_commit_callbacks(execute=True):
        order = place([("A", 2)], language="en")
    fo = fulfillment_of(order, "WH-KS")
    response = wms.post(f"/api/v1/fulfillments/{fo.pk}/ship",
                        {"carrier": "dhl", "tracking_number": "00340434161094042557"})
    assert response.status_code == 200, response.content
    mail.outbox.clear()
    # When every handler of fulfillment.shipped runs twice
    run_every_handler_twice("fulfillment.shipped", django_capture_on_commit_callbacks)
    # Then the customer got one shipping email with the DHL tracking link
    assert len(mail.outbox) == 1
    message = mail.outbox[0]
    assert message.to == ["kim@example.de"]
    assert "00340434161094042557" in message.body
    assert "dhl" in message.body.lower()
    # And the shipped amount was captured once
    assert [c.amount for c in outside_world.captures.values()] == [20]
    assert OutboxEvent.objects.filter(topic="notification.push",
                                      payload__kind="shipped").count() == 1


def test_nothing_left_anywhere_cancels_the_line_and_tells_the_customer(
        network, place, wms, outside_world, django_capture_on_commit_callbacks):
    network.stock(network.kassel, "A", 1)
    with django_capture_on_commit_callbacks(execute=True):
        order = place([("A", 1)], language="de")
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        response = wms.post(f"/api/v1/fulfillments/{fulfillment_of(order, 'WH-KS').pk}/reject",
                            {"reason": "nicht auffindbar"})
    assert response.status_code == 200
    # the relay runs in-process after the commit; each notification is sent once
    emails = [m for m in mail.outbox if order["number"] in m.subject + m.body]
    assert len(emails) == 1
    assert emails[0].to == ["kim@example.de"]
    event = OutboxEvent.objects.get(topic="fulfillment.rejected")
    ran = set(ProcessedEvent.objects.filter(event=event).values_list("handler", flat=True))
    assert any("notifications" in name for name in ran)
    for name in ran:
        assert event_handle(event_id=event.id, handler_name=name) is False  # already done
