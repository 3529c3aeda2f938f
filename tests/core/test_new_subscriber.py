"""Events never skip a new subscriber: whether anyone wants an event is decided by the relay,
from the subscriptions as they are when it runs, not when the event was written or from a cache
(issue 18, point 5)."""

from __future__ import annotations

import json
import threading
from typing import Any

import pytest
from django.db import connections, transaction

from oms.core.events import event_emit
from tests.core.handlers import TEST_TOPIC
from tests.http_receiver import HttpReceiver

pytestmark = pytest.mark.django_db(transaction=True)  # the threads see only committed rows


def event_ids(receiver: HttpReceiver) -> list[str]:
    return [json.loads(request.body)["id"] for request in receiver.requests]


def test_a_subscriber_gets_the_event_emitted_right_after_it_subscribed(
        api: Any, webhook_receiver: HttpReceiver) -> None:
    # Given an event relayed while nobody listened (whatever it read, it read then)
    with transaction.atomic():
        event_emit(topic=TEST_TOPIC, aggregate_type="test", aggregate_id="0", payload={})

    # When a subscription is made and an event of its topic is emitted at once
    created = api("staff").post("/api/v1/webhook-subscriptions",
                                {"url": webhook_receiver.url, "topics": [TEST_TOPIC]})
    assert created.status_code == 201, created.content
    with transaction.atomic():
        event = event_emit(topic=TEST_TOPIC, aggregate_type="test", aggregate_id="1",
                           payload={})

    # Then that event is delivered, and only that one
    assert event_ids(webhook_receiver) == [str(event.id)]


def test_an_event_written_before_the_subscription_and_committed_after_it_is_delivered(
        api: Any, webhook_receiver: HttpReceiver) -> None:
    # Given a transaction that has written its event but not yet committed
    written, subscribed = threading.Event(), threading.Event()
    emitted: list[Any] = []

    def emit_and_wait() -> None:
        try:
            with transaction.atomic():
                emitted.append(event_emit(topic=TEST_TOPIC, aggregate_type="test",
                                          aggregate_id="1", payload={}))
                written.set()
                assert subscribed.wait(timeout=10)
        finally:
            connections.close_all()

    writer = threading.Thread(target=emit_and_wait)
    writer.start()
    assert written.wait(timeout=10)

    # When a subscription to its topic commits in the meantime, then the event commits
    created = api("staff").post("/api/v1/webhook-subscriptions",
                                {"url": webhook_receiver.url, "topics": [TEST_TOPIC]})
    assert created.status_code == 201, created.content
    subscribed.set()
    writer.join(timeout=30)

    # Then the relay, running after the commit, delivers it to the new subscriber
    assert event_ids(webhook_receiver) == [str(emitted[0].id)]
