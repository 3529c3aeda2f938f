"""Fixtures for customer notifications: emails go to Django's locmem outbox, events are
published the way the relay does after a commit."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest
from django.db import transaction

from oms.core.events import event_emit, outbox_relay
from oms.core.models import OutboxEvent
from tests.factories import WebhookSubscriptionFactory
from tests.notifications.support import RecordingWebhookSender

Publish = Callable[..., OutboxEvent]


@pytest.fixture(autouse=True)
def _notification_settings(settings: Any, mailoutbox: list) -> None:
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    settings.DEFAULT_FROM_EMAIL = "Kundenservice <service@shop.example>"
    settings.NOTIFICATION_CHANNELS = ["email", "push"]
    settings.NOTIFICATION_SHOP_NAME = ""
    settings.NOTIFICATION_ORDER_URL = ""
    settings.NOTIFICATION_FEEDBACK_URL = "https://shop.example/feedback/{number}"


@pytest.fixture
def webhooks(settings: Any) -> Iterator[list[tuple[str, bytes, dict[str, str]]]]:
    """Webhook deliveries are posted to a recorder instead of the network."""
    settings.WEBHOOK_SENDER = "tests.notifications.support.RecordingWebhookSender"
    RecordingWebhookSender.calls = []
    yield RecordingWebhookSender.calls
    RecordingWebhookSender.calls = []


@pytest.fixture
def app_backend_subscribed(webhooks: list) -> Any:
    """An app backend subscribed to `notification.push` by name: without one, nobody receives
    app pushes and none is written."""
    return WebhookSubscriptionFactory(url="https://app-backend.example/hooks",
                                      topics=["notification.push"])


@pytest.fixture
def publish(django_capture_on_commit_callbacks: Any) -> Publish:
    """`publish(topic, payload)` emits an event in its own transaction and relays it; every
    after-commit callback this sets off (handler tasks, sends, webhook deliveries) runs before it
    returns, as it would after real commits."""

    def run(topic: str, payload: dict[str, Any], *, aggregate_type: str = "fulfillment",
            aggregate_id: str | int = "1") -> OutboxEvent:
        with django_capture_on_commit_callbacks(execute=True):
            with transaction.atomic():
                event = event_emit(topic=topic, aggregate_type=aggregate_type,
                                   aggregate_id=aggregate_id, payload=payload)
            outbox_relay()
        return event

    return run
