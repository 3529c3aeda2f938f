"""Webhooks out (API.md): subscriptions, Standard Webhooks signatures, retries with backoff,
dead-lettering, and at-least-once delivery without duplicates from our side."""

from __future__ import annotations

import base64
import json
import socket
import time
from datetime import timedelta
from typing import Any

import pytest
from django.db import transaction
from django.utils import timezone

from oms.core import tasks
from oms.core.attempts.selectors import attempt_of
from oms.core.attempts.services import attempts_requeue_due
from oms.core.attempts.states import AttemptStatus as Status
from oms.core.events import event_emit
from oms.core.models import Attempt, AttemptTry, WebhookDelivery, WebhookSubscription
from oms.core.webhooks.services import WEBHOOK, webhook_delivery_attempt, webhook_delivery_retry
from oms.core.webhooks.signing import generate_secret, verify
from tests.conftest import error_codes
from tests.core.handlers import TEST_TOPIC
from tests.factories import WebhookDeliveryFactory, WebhookSubscriptionFactory
from tests.http_receiver import HttpReceiver as WebhookReceiver

SUBSCRIPTIONS = "/api/v1/webhook-subscriptions"


def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def delivery_to(receiver: WebhookReceiver, **fields: Any) -> WebhookDelivery:
    return WebhookDeliveryFactory(subscription__url=receiver.url, **fields)


def attempt(delivery: WebhookDelivery) -> Attempt:
    found = attempt_of(kind=WEBHOOK, target_id=delivery.pk)
    assert found is not None
    return found


def webhook_deliveries_requeue_due(**kwargs: Any) -> int:
    return attempts_requeue_due(kinds=[WEBHOOK.name], **kwargs)


def between(value: Any, low: timedelta, high: timedelta, since: Any) -> bool:
    return since + low <= value <= timezone.now() + high


# --- Subscriptions ------------------------------------------------------------------------------


@pytest.mark.django_db
def test_staff_subscribe_and_get_an_id_and_a_signing_secret(api: Any) -> None:
    # given a staff client
    staff = api("staff")

    # when it subscribes a URL to two topics
    response = staff.post(SUBSCRIPTIONS, {"url": "https://erp.example.com/hooks",
                                          "topics": ["order.placed", "stock.shortfall"]})

    # then it gets the id and a Standard Webhooks secret of 32 random bytes, once
    assert response.status_code == 201
    body = response.json()
    assert body["secret"].startswith("whsec_")
    assert len(base64.b64decode(body["secret"].removeprefix("whsec_"))) == 32
    subscription = WebhookSubscription.objects.get(pk=body["id"])
    assert subscription.owner_id == staff.api_client.pk
    assert subscription.secret == body["secret"]
    assert subscription.topics == ["order.placed", "stock.shortfall"]


@pytest.mark.django_db
def test_listing_subscriptions_never_shows_the_secret(api: Any) -> None:
    # given a subscription
    staff = api("staff")
    secret = staff.post(SUBSCRIPTIONS, {"url": "https://erp.example.com/hooks",
                                        "topics": ["*"]}).json()["secret"]

    # when the staff client lists its subscriptions
    listing = staff.get(SUBSCRIPTIONS)

    # then the secret is nowhere in the answer
    assert listing.status_code == 200
    assert [s["url"] for s in listing.json()["results"]] == ["https://erp.example.com/hooks"]
    assert secret not in listing.content.decode()


@pytest.mark.django_db
@pytest.mark.parametrize("kind", ["webshop", "wms", "erp", "finance", "supplier"])
def test_only_staff_may_subscribe(api: Any, kind: str) -> None:
    # when a client of another kind tries to subscribe
    response = api(kind).post(SUBSCRIPTIONS, {"url": "https://example.com/h", "topics": ["*"]})

    # then it is refused and nothing is created
    assert response.status_code == 403
    assert error_codes(response) == ["permission_denied"]
    assert not WebhookSubscription.objects.exists()


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("body", "attrs"),
    [
        ({"url": "not a url", "topics": ["*"]}, ["url"]),
        ({"url": "ftp://example.com/h", "topics": ["*"]}, ["url"]),
        ({"url": "https://example.com/h", "topics": []}, ["topics"]),
        ({"url": "nope", "topics": []}, ["url", "topics"]),
        ({"topics": ["*"]}, ["url"]),
        ({"url": "https://example.com/h", "topics": "order.placed"}, ["topics"]),
    ],
)
def test_an_invalid_subscription_is_refused_naming_the_field(
    api: Any, body: dict[str, Any], attrs: list[str]
) -> None:
    # when staff send an invalid subscription
    response = api("staff").post(SUBSCRIPTIONS, body)

    # then it is a 400 naming every wrong field, and nothing is created
    assert response.status_code == 400
    assert response.json()["type"] == "validation_error"
    assert [e["attr"] for e in response.json()["errors"]] == attrs
    assert not WebhookSubscription.objects.exists()


# --- Delivery -------------------------------------------------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_a_subscriber_receives_each_event_signed_with_its_secret(
    api: Any, webhook_receiver: WebhookReceiver
) -> None:
    # given a subscription to the test topic at a real HTTP endpoint
    created = api("staff").post(SUBSCRIPTIONS, {"url": webhook_receiver.url,
                                                "topics": [TEST_TOPIC]}).json()

    # when an event of that topic commits (tasks run in-process: relay, fan-out, delivery)
    sent_at = int(time.time())
    with transaction.atomic():
        event = event_emit(topic=TEST_TOPIC, aggregate_type="test", aggregate_id="42",
                           payload={"answer": 42})

    # then the subscriber got one POST carrying the event id, signed per Standard Webhooks
    assert len(webhook_receiver.requests) == 1
    request = webhook_receiver.requests[0]
    headers, body = request.headers, request.body
    assert request.path == "/hooks/oms"
    assert headers["webhook-id"] == f"msg_{event.id}"
    assert sent_at - 5 <= int(headers["webhook-timestamp"]) <= time.time() + 5
    assert verify(created["secret"], headers["webhook-id"], int(headers["webhook-timestamp"]),
                  body, headers["webhook-signature"])
    assert headers["content-type"] == "application/json"
    assert json.loads(body) == {"id": str(event.id), "type": TEST_TOPIC,
                                "timestamp": event.created_at.isoformat(),
                                "data": {"answer": 42}}
    # and the signature binds the secret, the id, the timestamp and the body
    ts = int(headers["webhook-timestamp"])
    assert not verify(generate_secret(), headers["webhook-id"], ts, body,
                      headers["webhook-signature"])
    assert not verify(created["secret"], headers["webhook-id"], ts + 1, body,
                      headers["webhook-signature"])
    assert not verify(created["secret"], headers["webhook-id"], ts, body.replace(b"42", b"43"),
                      headers["webhook-signature"])
    sent = attempt(WebhookDelivery.objects.get(event=event))
    assert (sent.status, sent.tries) == (Status.SUCCEEDED, 1)
    assert sent.log.get().status_code == 200


@pytest.mark.django_db(transaction=True)
def test_only_subscriptions_wanting_the_topic_receive_it(webhook_receiver: WebhookReceiver) -> None:
    # given one subscription to the topic, one to everything, one to another topic, one inactive
    wanted = WebhookSubscriptionFactory(url=webhook_receiver.url, topics=[TEST_TOPIC])
    everything = WebhookSubscriptionFactory(url=webhook_receiver.url, topics=["*"])
    WebhookSubscriptionFactory(url=webhook_receiver.url, topics=["order.placed"])
    WebhookSubscriptionFactory(url=webhook_receiver.url, topics=["*"], is_active=False)

    # when an event of the topic commits
    with transaction.atomic():
        event = event_emit(topic=TEST_TOPIC, aggregate_type="test", aggregate_id="1",
                           payload={})

    # then exactly the two wanting it got a delivery
    assert set(WebhookDelivery.objects.filter(event=event)
               .values_list("subscription_id", flat=True)) == {wanted.pk, everything.pk}
    assert len(webhook_receiver.requests) == 2


@pytest.mark.django_db
def test_a_failing_subscriber_is_retried_with_backoff_then_dead_lettered(
    settings: Any, webhook_receiver: WebhookReceiver
) -> None:
    # given a subscriber answering 500, three attempts allowed, a 30 s backoff base
    settings.WEBHOOK_MAX_ATTEMPTS = 3
    settings.WEBHOOK_BACKOFF_BASE_SECONDS = 30
    webhook_receiver.status = 500
    delivery = delivery_to(webhook_receiver)

    # when the first attempt fails
    started = timezone.now()
    status = webhook_delivery_attempt(delivery_id=delivery.pk)

    # then it stays pending, due again after 15-30 s (30 s x jitter in [0.5, 1])
    tried = attempt(delivery)
    assert (status, tried.tries) == (Status.PENDING, 1)
    assert between(tried.next_attempt_at, timedelta(seconds=15), timedelta(seconds=30),
                   started)

    # when the second attempt fails
    started = timezone.now()
    webhook_delivery_attempt(delivery_id=delivery.pk)

    # then the backoff doubled: due after 30-60 s
    tried = attempt(delivery)
    assert (tried.status, tried.tries) == (Status.PENDING, 2)
    assert between(tried.next_attempt_at, timedelta(seconds=30), timedelta(seconds=60),
                   started)

    # when the third and last allowed attempt fails
    status = webhook_delivery_attempt(delivery_id=delivery.pk)

    # then the delivery is dead-lettered, with every attempt logged
    tried = attempt(delivery)
    assert status == Status.DEAD
    assert (tried.status, tried.tries) == (Status.DEAD, 3)
    assert tried.next_attempt_at is None
    assert tried.finished_at is not None
    assert [(a.number, a.status_code, a.error) for a in tried.log.all()] == [
        (1, 500, "HTTP 500"), (2, 500, "HTTP 500"), (3, 500, "HTTP 500")]
    # and every retry carried the same message id, so the receiver can drop duplicates
    assert {r.headers["webhook-id"] for r in webhook_receiver.requests} == {
        f"msg_{delivery.event_id}"}

    # when something tries it again anyway
    assert webhook_delivery_attempt(delivery_id=delivery.pk) == "skipped"

    # then a dead delivery is not sent again
    assert len(webhook_receiver.requests) == 3


@pytest.mark.django_db
def test_a_dead_delivery_retried_from_the_cockpit_gets_one_more_attempt(
    settings: Any, webhook_receiver: WebhookReceiver, django_capture_on_commit_callbacks: Any
) -> None:
    # given a dead-lettered delivery whose subscriber works again
    settings.WEBHOOK_MAX_ATTEMPTS = 3
    delivery = delivery_to(webhook_receiver, attempt__status=Status.DEAD, attempt__tries=3,
                           attempt__next_attempt_at=None, attempt__finished_at=timezone.now())

    # when staff retry it from the cockpit
    with django_capture_on_commit_callbacks(execute=True):
        webhook_delivery_retry(delivery=delivery)

    # then it is attempted once more and delivered
    tried = attempt(delivery)
    assert (tried.status, tried.tries) == (Status.SUCCEEDED, 4)
    assert len(webhook_receiver.requests) == 1


@pytest.mark.django_db
def test_an_unreachable_subscriber_counts_as_a_failed_attempt(settings: Any) -> None:
    # given a subscription to a port nobody listens on
    delivery = WebhookDeliveryFactory(subscription__url=f"http://127.0.0.1:{closed_port()}/h")

    # when an attempt is made
    status = webhook_delivery_attempt(delivery_id=delivery.pk)

    # then the failure is logged with its reason and retried later
    assert status == Status.PENDING
    logged = AttemptTry.objects.get(attempt=attempt(delivery))
    assert logged.status_code is None
    assert "refused" in logged.error.lower()
    assert attempt(delivery).next_attempt_at > timezone.now()


@pytest.mark.django_db
def test_a_subscriber_slower_than_the_timeout_counts_as_a_failed_attempt(
    settings: Any, webhook_receiver: WebhookReceiver
) -> None:
    # given a subscriber that needs a second and a 0.2 s timeout
    settings.WEBHOOK_TIMEOUT_SECONDS = 0.2
    webhook_receiver.delay = 1.0
    delivery = delivery_to(webhook_receiver)

    # when an attempt is made
    status = webhook_delivery_attempt(delivery_id=delivery.pk)

    # then it gave up after the timeout and will retry
    assert status == Status.PENDING
    logged = AttemptTry.objects.get(attempt=attempt(delivery))
    assert logged.status_code is None
    assert "timed out" in logged.error
    assert logged.duration_ms < 900


@pytest.mark.django_db
def test_the_sweep_requeues_only_pending_deliveries_that_are_due(
    webhook_receiver: WebhookReceiver, django_capture_on_commit_callbacks: Any
) -> None:
    # given deliveries: one due, one due later, one delivered and one dead (both "due")
    past, future = timezone.now() - timedelta(minutes=1), timezone.now() + timedelta(minutes=5)
    due = delivery_to(webhook_receiver, attempt__next_attempt_at=past)
    later = delivery_to(webhook_receiver, attempt__next_attempt_at=future)
    done = delivery_to(webhook_receiver, attempt__next_attempt_at=past,
                       attempt__status=Status.SUCCEEDED)
    dead = delivery_to(webhook_receiver, attempt__next_attempt_at=past,
                       attempt__status=Status.DEAD)

    # when the beat sweep runs and its transaction commits
    with django_capture_on_commit_callbacks(execute=True):
        requeued = webhook_deliveries_requeue_due()

    # then only the due one was queued and delivered
    assert requeued == 1
    assert [r.headers["webhook-id"] for r in webhook_receiver.requests] == [
        f"msg_{due.event_id}"]
    assert attempt(due).status == Status.SUCCEEDED
    assert (attempt(later).status, attempt(later).next_attempt_at) == (Status.PENDING, future)
    assert (attempt(done).tries, attempt(dead).tries) == (0, 0)


@pytest.mark.django_db
def test_a_requeued_delivery_is_leased_so_the_next_sweep_skips_it(
    django_capture_on_commit_callbacks: Any,
) -> None:
    # given a due delivery
    delivery = WebhookDeliveryFactory(
        attempt__next_attempt_at=timezone.now() - timedelta(seconds=1))

    # when the sweep queues it (the task has not run yet) and the sweep runs again
    with django_capture_on_commit_callbacks(execute=False) as queued:
        first = webhook_deliveries_requeue_due()
        second = webhook_deliveries_requeue_due()

    # then it was queued once, and becomes due again only when the lease ends
    assert (first, second, len(queued)) == (1, 0, 1)
    assert attempt(delivery).next_attempt_at > \
        timezone.now() + WEBHOOK.lease() - timedelta(seconds=10)


@pytest.mark.django_db
def test_running_the_delivery_task_twice_delivers_once(webhook_receiver: WebhookReceiver) -> None:
    # given a pending delivery
    delivery = delivery_to(webhook_receiver)

    # when its task is delivered twice by the broker
    run = {"attempt_id": attempt(delivery).pk, "tries": 0}
    first = tasks.deliver_webhook.delay(**run).get()
    second = tasks.deliver_webhook.delay(**run).get()

    # then the subscriber got it once
    assert (first, second) == (Status.SUCCEEDED, "skipped")
    assert len(webhook_receiver.requests) == 1
    assert AttemptTry.objects.filter(attempt=attempt(delivery)).count() == 1


@pytest.mark.django_db(transaction=True)
def test_running_the_delivery_task_twice_at_once_delivers_once(
    webhook_receiver: WebhookReceiver, run_concurrently: Any
) -> None:
    # given a pending delivery to a subscriber that takes half a second to answer
    webhook_receiver.delay = 0.5
    delivery = delivery_to(webhook_receiver)

    # when two workers run its task at the same moment
    results = run_concurrently(2, lambda _i: webhook_delivery_attempt(delivery_id=delivery.pk))

    # then one delivered it and the other left the claimed delivery alone
    assert sorted(results) == ["skipped", Status.SUCCEEDED]
    assert len(webhook_receiver.requests) == 1
    assert (attempt(delivery).status, attempt(delivery).tries) == (Status.SUCCEEDED, 1)


@pytest.mark.django_db(transaction=True)
def test_relaying_an_event_again_does_not_deliver_it_again(
    webhook_receiver: WebhookReceiver,
) -> None:
    # given an event already delivered to a subscriber
    WebhookSubscriptionFactory(url=webhook_receiver.url, topics=["*"])
    with transaction.atomic():
        event = event_emit(topic=TEST_TOPIC, aggregate_type="test", aggregate_id="1",
                           payload={})
    assert len(webhook_receiver.requests) == 1

    # when its fan-out task is delivered a second time
    tasks.handle_event.delay(event_id=str(event.id),
                             handler="oms.core.webhooks.handlers.fan_out_to_webhooks")

    # then there is still one delivery and one POST
    assert WebhookDelivery.objects.filter(event=event).count() == 1
    assert len(webhook_receiver.requests) == 1
