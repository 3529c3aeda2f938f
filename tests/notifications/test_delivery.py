"""Each notification goes out once per event, even when its task runs twice; a failed send is
retried by the beat sweep; app push reaches the app backend as a signed webhook."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from django.core import mail
from django.db import transaction
from django.utils import timezone

from fulfillment.notifications.adapters import AppPushNotifier, OutgoingMessage
from fulfillment.notifications.handlers import notify_order_confirmed
from fulfillment.notifications.models import Notification
from fulfillment.notifications.services import (
    notification_retry,
    notification_send,
    notifications_requeue_due,
)
from fulfillment.notifications.tasks import send_due_notifications, send_notifications
from oms.core.events import event_emit, event_handle, outbox_relay
from oms.core.models import OutboxEvent, WebhookDelivery
from oms.orders.services import order_payload
from tests.factories import WebhookSubscriptionFactory
from tests.notifications.factories import a_pending_notification, an_order
from tests.notifications.test_content import BOOTS

HANDLER = f"{notify_order_confirmed.__module__}.{notify_order_confirmed.__qualname__}"
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
        for notification in Notification.objects.all():
            assert send_notifications.delay(notification_ids=[notification.pk]).get() == ["sent"]
    # Then the customer got exactly one email and the app backend exactly one push
    assert len(mail.outbox) == 1
    assert len(push_events()) == 1
    assert WebhookDelivery.objects.count() == 1
    assert len(webhooks) == 1
    assert sorted(Notification.objects.values_list("channel", "status", "attempts")) == [
        ("email", "sent", 1), ("push", "sent", 1)]


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
    email = Notification.objects.get(channel="email")
    assert (email.status, email.attempts, email.sent_at) == ("pending", 1, None)
    assert "SMTPConnectError" in email.error
    assert email.next_attempt_at > timezone.now()
    assert mail.outbox == []
    # and the push, another channel, went out regardless
    assert Notification.objects.get(channel="push").status == "sent"
    # When the beat sweep runs before the retry is due, nothing happens
    with django_capture_on_commit_callbacks(execute=True):
        send_due_notifications.delay()
    assert Notification.objects.get(pk=email.pk).attempts == 1
    # When the mail server is back and the retry is due
    settings.EMAIL_BACKEND = LOCMEM
    Notification.objects.filter(pk=email.pk).update(
        next_attempt_at=timezone.now() - timedelta(seconds=1))
    with django_capture_on_commit_callbacks(execute=True):
        send_due_notifications.delay()
    # Then the sweep sends it, once
    email = Notification.objects.get(pk=email.pk)
    assert (email.status, email.attempts, email.error) == ("sent", 2, "")
    assert [m.subject for m in mail.outbox] == [f"Ihre Bestellung {order.number} ist bestätigt"]


@pytest.mark.django_db
def test_a_notification_that_keeps_failing_is_given_up_and_can_be_retried_by_hand(
        publish, settings, django_capture_on_commit_callbacks):
    # Given the mail server stays down for every attempt
    settings.EMAIL_BACKEND = FAILING
    settings.NOTIFICATION_MAX_ATTEMPTS = 3
    order = an_order([BOOTS])
    confirm(publish, order)
    email = Notification.objects.get(channel="email")
    for _ in range(2):
        Notification.objects.filter(pk=email.pk).update(next_attempt_at=timezone.now())
        with django_capture_on_commit_callbacks(execute=True):
            assert notifications_requeue_due() == 1
    # Then after the third attempt it is failed and no longer swept
    email.refresh_from_db()
    assert (email.status, email.attempts, email.next_attempt_at) == ("failed", 3, None)
    assert notifications_requeue_due(now=timezone.now() + timedelta(days=1)) == 0
    # When staff retry it once the mail server is back
    settings.EMAIL_BACKEND = LOCMEM
    with django_capture_on_commit_callbacks(execute=True):
        notification_retry(notification=email)
    email.refresh_from_db()
    assert email.status == "sent"
    assert len(mail.outbox) == 1


@pytest.mark.django_db
def test_the_sweep_sends_notifications_whose_send_task_was_lost(
        django_capture_on_commit_callbacks, app_backend_subscribed):
    # Given order.confirmed was handled but the send tasks never reached the broker
    order = an_order([BOOTS])
    confirmed_without_sending(order)
    assert set(Notification.objects.values_list("status", flat=True)) == {"pending"}
    # When the sweep runs before the lease is over, it leaves them to their tasks
    assert notifications_requeue_due() == 0
    # When it runs after the lease
    with django_capture_on_commit_callbacks(execute=True):
        assert notifications_requeue_due(now=timezone.now() + timedelta(minutes=3)) == 2
    # Then both go out, once
    assert set(Notification.objects.values_list("status", flat=True)) == {"sent"}
    assert len(mail.outbox) == 1
    assert len(push_events()) == 1


@pytest.mark.django_db
def test_a_push_that_fails_halfway_leaves_no_event_behind(app_backend_subscribed):
    # Given a pending push whose notifier writes the event and then fails
    order = an_order([BOOTS])
    confirmed_without_sending(order)
    push = Notification.objects.get(channel="push")

    class FailsAfterEmitting(AppPushNotifier):
        def send(self, message: OutgoingMessage) -> None:
            super().send(message)
            raise RuntimeError("lost the connection")

    # When it is sent
    status = notification_send(notification_id=push.pk, notifier=FailsAfterEmitting())
    # Then no push event survives, and the push stays pending for a retry
    assert status == "pending"
    assert push_events() == []
    push.refresh_from_db()
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
    assert sorted(results) == ["locked", "sent"]
    assert len(mail.outbox) == 1
    notification.refresh_from_db()
    assert (notification.status, notification.attempts) == ("sent", 1)


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
    emails = Notification.objects.filter(channel="email", status="pending")
    assert sorted(emails.values_list("order__number", flat=True)) == sorted(
        o.number for o in orders)
    [send] = broker.tasks("fulfillment.notifications.tasks.send_notifications")
    assert sorted(send.kwargs["notification_ids"]) == sorted(emails.values_list("pk", flat=True))
