"""Each notification goes out once per event, even when its task runs twice; a failed send is
retried by the beat sweep; app push reaches the app backend as a signed webhook."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from django.core import mail
from django.db import transaction
from django.utils import timezone

from notifications.adapters import AppPushNotifier, OutgoingMessage
from notifications.handlers import notify_order_confirmed
from notifications.services import (
    NOTIFICATION,
    notification_retry,
    notification_send,
)
from notifications.tasks import send_notifications
from oms.core.attempts.services import attempts_requeue_due
from oms.core.events import event_emit, event_handle, outbox_relay
from oms.core.models import Attempt, OutboxEvent, WebhookDelivery
from oms.core.tasks import requeue_due_attempts
from oms.orders.services import order_payload
from tests.core.handlers import handler_name
from tests.factories import WebhookSubscriptionFactory, a_pending_notification, an_order
from tests.notifications.support import notifications, runs_of
from tests.notifications.test_content import BOOTS

HANDLER = handler_name(notify_order_confirmed)
FAILING = "tests.notifications.support.FailingEmailBackend"
LOCMEM = "django.core.mail.backends.locmem.EmailBackend"


def confirm(publish, order):
    return publish("order.confirmed", order_payload(order), aggregate_type="order",
                   aggregate_id=order.number)


def confirmed_without_sending(order) -> OutboxEvent:
    """order.confirmed handled by a worker whose send tasks were then lost (the test's outer
    transaction never commits, so no after-commit callback runs)."""
    with transaction.atomic():
        event = event_emit(topic="order.confirmed", aggregate_type="order",
                           aggregate_id=order.number, payload=order_payload(order))
    assert event_handle(event_id=event.id, handler_name=HANDLER)
    return event


def notifications_requeue_due(**kwargs) -> int:
    return attempts_requeue_due(kinds=[NOTIFICATION.name], **kwargs)


def push_events() -> list[OutboxEvent]:
    return list(OutboxEvent.objects.filter(topic="notification.push"))


@pytest.mark.django_db
def test_handling_and_sending_the_same_event_twice_sends_one_email_and_one_push(
        publish, webhooks, django_capture_on_commit_callbacks):
    # Given the app backend subscribes to push notifications
    WebhookSubscriptionFactory(url="https://app-backend.example/hooks",
                               topics=["notification.push"])
    order = an_order([BOOTS])
    # and order.confirmed was handled and its notifications sent
    event = confirm(publish, order)
    # When the handler task is delivered again, the handler runs again regardless, and every
    # send task runs a second time
    with django_capture_on_commit_callbacks(execute=True):
        assert event_handle(event_id=event.id, handler_name=HANDLER) is False
        with transaction.atomic():
            notify_order_confirmed(event)
        for notification in notifications().all():
            queued = [[runs_of(notification)[0][0], 0]]  # as the first send was queued
            assert send_notifications.delay(runs=queued).get() == ["skipped"]
    # Then the customer got exactly one email and the app backend exactly one push
    assert len(mail.outbox) == 1
    assert len(push_events()) == 1
    assert WebhookDelivery.objects.count() == 1
    assert len(webhooks) == 1
    assert sorted(notifications().values_list("channel", "status", "attempts")) == [
        ("email", "succeeded", 1), ("push", "succeeded", 1)]


@pytest.mark.django_db
def test_the_app_push_reaches_the_app_backend_as_a_signed_webhook(publish, webhooks):
    # Given the app backend subscribes to notification.push
    WebhookSubscriptionFactory(url="https://app-backend.example/hooks",
                               topics=["notification.push"])
    order = an_order([BOOTS], language="en")
    # When the order is confirmed
    confirm(publish, order)
    # Then one signed webhook carries the push: who, what, in which language
    [(url, body, headers)] = webhooks
    assert url == "https://app-backend.example/hooks"
    assert headers["webhook-signature"].startswith("v1,")
    message = json.loads(body)
    assert message["type"] == "notification.push"
    assert message["data"] == {
        "order": order.number,
        "customer": {"email": order.customer.email,
                     "external_id": order.customer.external_id},
        "kind": "order_confirmation",
        "title": f"Your order {order.number} is confirmed",
        "body": f"Thank you! Your order {order.number} is confirmed.",
        "language": "en",
    }


@pytest.mark.django_db
def test_a_failing_email_backend_leaves_the_notification_pending_and_the_sweep_sends_it(
        publish, settings, django_capture_on_commit_callbacks, app_backend_subscribed):
    # Given the mail server is down when the order is confirmed
    settings.EMAIL_BACKEND = FAILING
    order = an_order([BOOTS])
    confirm(publish, order)
    # Then the email is still pending, with the error and a later attempt recorded
    email = notifications().get(channel="email")
    assert (email.status, email.attempts, email.sent_at) == ("pending", 1, None)
    assert "SMTPConnectError" in email.error
    assert email.next_attempt_at > timezone.now()
    assert mail.outbox == []
    # and the push, another channel, went out regardless
    assert notifications().get(channel="push").status == "succeeded"
    # When the beat sweep runs before the retry is due, nothing happens
    with django_capture_on_commit_callbacks(execute=True):
        requeue_due_attempts.delay()
    assert notifications().get(pk=email.pk).attempts == 1
    # When the mail server is back and the retry is due
    settings.EMAIL_BACKEND = LOCMEM
    Attempt.objects.filter(kind=NOTIFICATION.name, target_id=email.pk).update(
        next_attempt_at=timezone.now() - timedelta(seconds=1))
    with django_capture_on_commit_callbacks(execute=True):
        requeue_due_attempts.delay()
    # Then the sweep sends it, once
    email = notifications().get(pk=email.pk)
    assert (email.status, email.attempts, email.error) == ("succeeded", 2, "")
    assert [m.subject for m in mail.outbox] == [f"Ihre Bestellung {order.number} ist bestätigt"]


@pytest.mark.django_db
def test_a_notification_that_keeps_failing_is_given_up_and_can_be_retried_by_hand(
        publish, settings, django_capture_on_commit_callbacks):
    # Given the mail server stays down for every attempt
    settings.EMAIL_BACKEND = FAILING
    settings.NOTIFICATION_MAX_ATTEMPTS = 3
    order = an_order([BOOTS])
    confirm(publish, order)
    email = notifications().get(channel="email")
    for _ in range(2):
        Attempt.objects.filter(kind=NOTIFICATION.name, target_id=email.pk).update(
            next_attempt_at=timezone.now())
        with django_capture_on_commit_callbacks(execute=True):
            assert notifications_requeue_due() == 1
    # Then after the third attempt it is failed and no longer swept
    email = notifications().get(pk=email.pk)
    assert (email.status, email.attempts, email.next_attempt_at) == ("dead", 3, None)
    assert notifications_requeue_due(now=timezone.now() + timedelta(days=1)) == 0
    # When staff retry it once the mail server is back
    settings.EMAIL_BACKEND = LOCMEM
    with django_capture_on_commit_callbacks(execute=True):
        notification_retry(notification=email)
    email = notifications().get(pk=email.pk)
    assert email.status == "succeeded"
    assert len(mail.outbox) == 1


@pytest.mark.django_db
def test_the_sweep_sends_notifications_whose_send_task_was_lost(
        django_capture_on_commit_callbacks, app_backend_subscribed):
    # Given order.confirmed was handled but the send tasks never reached the broker
    order = an_order([BOOTS])
    confirmed_without_sending(order)
    assert set(notifications().values_list("status", flat=True)) == {"pending"}
    # When the sweep runs before the lease is over, it leaves them to their tasks
    assert notifications_requeue_due() == 0
    # When it runs after the lease
    with django_capture_on_commit_callbacks(execute=True):
        assert notifications_requeue_due(now=timezone.now() + timedelta(minutes=3)) == 2
    # Then both go out, once
    assert set(notifications().values_list("status", flat=True)) == {"succeeded"}
    assert len(mail.outbox) == 1
    assert len(push_events()) == 1


@pytest.mark.django_db
def test_a_push_that_fails_halfway_leaves_no_event_behind(app_backend_subscribed):
    # Given a pending push whose notifier writes the event and then fails
    order = an_order([BOOTS])
    confirmed_without_sending(order)
    push = notifications().get(channel="push")

    class FailsAfterEmitting(AppPushNotifier):
        def send(self, message: OutgoingMessage) -> None:
            super().send(message)
            raise RuntimeError("lost the connection")

    # When it is sent
    status = notification_send(notification_id=push.pk, notifier=FailsAfterEmitting())
    # Then no push event survives, and the push stays pending for a retry
    assert status == "pending"
    assert push_events() == []
    push = notifications().get(pk=push.pk)
    assert push.attempts == 1
    assert "lost the connection" in push.error


@pytest.mark.django_db(transaction=True)
def test_two_workers_sending_the_same_notification_at_once_send_one_email(
        run_concurrently, settings):
    # Given a pending email and a mail server that takes its time
    settings.EMAIL_BACKEND = "tests.notifications.support.SlowEmailBackend"
    notification = a_pending_notification(an_order([BOOTS]))
    # When two workers send it at the same moment
    results = run_concurrently(2, lambda _: notification_send(notification_id=notification.pk))
    # Then one sends, the other finds the row locked and leaves it
    assert sorted(results) == ["skipped", "succeeded"]
    assert len(mail.outbox) == 1
    notification = notifications().get(pk=notification.pk)
    assert (notification.status, notification.attempts) == ("succeeded", 1)


@pytest.mark.django_db(transaction=True)
def test_one_relay_run_confirming_three_orders_queues_their_emails_in_one_send_task(broker):
    # Given three orders confirmed in three transactions, their relay kick taken by a worker
    orders = [an_order([BOOTS]) for _ in range(3)]
    for order in orders:
        with transaction.atomic():
            event_emit(topic="order.confirmed", aggregate_type="order",
                       aggregate_id=order.number, payload=order_payload(order))
    broker.take_all()
    # When one relay run handles the three confirmations
    assert outbox_relay() == 3
    # Then each order has its pending email, and one task sends all three
    emails = notifications().filter(channel="email", status="pending")
    assert sorted(emails.values_list("order__number", flat=True)) == sorted(
        o.number for o in orders)
    [send] = broker.tasks("fulfillment.notifications.tasks.send_notifications")
    assert sorted(attempt_id for attempt_id, _tries in send.kwargs["runs"]) == sorted(
        run[0] for run in runs_of(*emails))
