"""Every write to customer notifications.

Why a notification goes out once even when its task runs twice:

1. `notifications_create` runs inside the handler's transaction (the relay's, or
   `event_handle`'s; at most once per event and handler). It writes one pending row per
   channel; the unique (event, kind, channel) constraint makes a second call a no-op even
   outside `event_handle`. Nothing is sent here: a send inside this transaction could reach
   the customer and then roll back, and the redelivered event would send again.
2. After commit, `notification_send` (one task sends up to `SEND_BATCH` rows, each in its own
   transaction) locks the row with `FOR UPDATE SKIP LOCKED`, sends only while it is pending,
   and marks it sent in the same transaction. A second run finds it locked (and skips) or sent
   (and does nothing). For app push the send is an outbox event that commits with the `sent`
   status: exactly once. For email the one gap left is a crash between the SMTP server
   accepting the message and our commit; then the row is still pending and the customer may
   get the email twice, never zero times. (A push carrying a pickup code is posted directly,
   like an email, so the code never lands in the outbox; `adapters.py`.)
3. A failed send stays pending with a `next_attempt_at` (exponential backoff with jitter) until
   `NOTIFICATION_MAX_ATTEMPTS`, then it is `failed`. The beat task `send_due_notifications`
   re-queues every pending row that is due, which also covers a task lost between commit and
   broker.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from contextlib import nullcontext
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.db import transaction
from django.utils import timezone, translation

from fulfillment.models import FulfillmentOrder
from fulfillment.notifications import pickup
from fulfillment.notifications.adapters import (
    Notifier,
    OutgoingMessage,
    channel_reaches_anyone,
    notifier_for,
)
from fulfillment.notifications.content import render
from fulfillment.notifications.models import Notification, NotificationStatus
from oms.core.backoff import exponential_backoff
from oms.core.commit_hooks import CommitHook, commit_hook
from oms.core.model_sql import db_param, for_update, select_model, select_models
from oms.core.models import OutboxEvent
from oms.orders.models import Order

logger = logging.getLogger(__name__)

# A queued send holds the row this long before the sweep may queue it again; the sweep
# re-queues rows whose task was lost (a broker outage after commit, a worker killed mid-flight).
QUEUE_LEASE = timedelta(minutes=2)


def notification_language(order: Order) -> str:
    """The order's language if there are templates for it, else `NOTIFICATION_FALLBACK_LANGUAGE`."""
    language = (order.language or "").strip().lower().split("-")[0]
    if language in settings.NOTIFICATION_LANGUAGES:
        return language
    return settings.NOTIFICATION_FALLBACK_LANGUAGE


# One task sends up to this many rows: the notices of all the orders a relay run handled share
# tasks, while a sweep re-queueing hundreds still spreads them over the workers.
SEND_BATCH = 20


class _Sends(CommitHook):
    """The notifications one transaction created or re-queued, sent after its commit."""

    label = "notification sends"

    def __init__(self, transaction_block: object) -> None:
        super().__init__(transaction_block)
        self.ids: list[int] = []

    def run(self) -> None:
        from fulfillment.notifications import tasks  # the task module imports this one

        for start in range(0, len(self.ids), SEND_BATCH):
            tasks.send_notifications.delay(notification_ids=self.ids[start:start + SEND_BATCH])


def _send_on_commit(notification_ids: list[int]) -> None:
    """Queue the sends after commit, together with the transaction's other notifications (a
    relay run notifies for many orders). With the broker down the commit stands and the beat
    sweep sends later."""
    if notification_ids:
        commit_hook(_Sends, _Sends).ids.extend(notification_ids)


def notifications_create(*, event: OutboxEvent, order: Order, kind: str,
                         context: Callable[[], dict[str, Any]],
                         fulfillment: FulfillmentOrder | None = None) -> list[Notification]:
    """One pending notification per channel in `NOTIFICATION_CHANNELS` that reaches anyone
    (`channel_reaches_anyone`), rendered in the order's language from `context()`, sent after
    commit. Again for the same event: nothing new. `fulfillment` is the pickup whose code a
    pickup notice gets when it is sent."""
    channels = [channel for channel in dict.fromkeys(settings.NOTIFICATION_CHANNELS)
                if channel_reaches_anyone(channel)]
    # No read of what exists first: a handler's work commits once per event (ProcessedEvent),
    # so rows are almost never there already, and when they are the unique constraint drops
    # ours (the rendering is then wasted, which is rare enough).
    if channels:
        language = notification_language(order)
        with translation.override(language):
            message = render(kind, language, context())
        now = timezone.now()
        Notification.objects.bulk_create(
            [
                Notification(
                    event_id=event.id, topic=event.topic, kind=kind, channel=channel,
                    order=order, fulfillment=fulfillment, recipient=order.customer.email,
                    language=language,
                    subject=message.subject,
                    body_text=message.text if channel == "email" else message.push,
                    body_html=message.html if channel == "email" else "",
                    url=message.url, created_at=now, next_attempt_at=now + QUEUE_LEASE,
                )
                for channel in channels
            ],
            ignore_conflicts=True,
        )
    pending = select_models(
        Notification, "event_id = %s AND kind = %s AND status = %s ORDER BY id",
        [db_param(Notification, "event_id", event.id), kind, NotificationStatus.PENDING])
    _send_on_commit([n.pk for n in pending])
    return pending


def _message(notification: Notification) -> OutgoingMessage:
    message = OutgoingMessage(
        notification_id=notification.pk,
        kind=notification.kind,
        channel=notification.channel,
        order_number=notification.order.number,
        language=notification.language,
        recipient=notification.recipient,
        customer_external_id=notification.order.customer.external_id,
        subject=notification.subject,
        text=notification.body_text,
        html=notification.body_html,
        url=notification.url,
    )
    if notification.kind in pickup.CODE_KINDS:
        return pickup.with_pickup_pass(message, notification.fulfillment)
    return message


def backoff_delay(attempts: int) -> timedelta:
    return exponential_backoff(attempts, settings.NOTIFICATION_BACKOFF_BASE_SECONDS)


def notification_send(*, notification_id: int, notifier: Notifier | None = None) -> str:
    """Send one pending notification once; returns its status afterwards ("locked" when another
    worker is sending it right now, "missing" for an unknown id)."""
    with transaction.atomic():
        # With its order and customer, which the message needs, but not the fulfilment and its
        # location (read lazily for the few pickup notices); written by hand, as compiling the
        # query cost more than the send.
        table = Notification._meta.db_table
        notification = select_model(
            Notification,
            f"{table}.id = %s{for_update(of=table, skip_locked=True)}", [notification_id],
            related=["order__customer"])
        if notification is None:
            exists = Notification.objects.filter(pk=notification_id).exists()
            return "locked" if exists else "missing"
        if notification.status != NotificationStatus.PENDING:
            return notification.status
        now = timezone.now()
        notification.attempts += 1
        notifier = notifier or notifier_for(notification.channel)
        try:
            # A savepoint if the notifier writes: what it wrote before failing (a half-emitted
            # push) is undone, while the attempt itself is still recorded below. The message is
            # built in here too: a pickup code that cannot be derived is a failed attempt like
            # any other.
            # a notifier named in settings may not say: then it gets the savepoint
            writes = getattr(notifier, "writes_to_database", True)
            with transaction.atomic() if writes else nullcontext():
                notifier.send(_message(notification))
        except Exception as exc:
            logger.warning("notification %s (%s via %s) failed: %s", notification.pk,
                           notification.kind, notification.channel, exc, exc_info=True)
            notification.error = f"{type(exc).__name__}: {exc}"[:2000]
            if notification.attempts >= settings.NOTIFICATION_MAX_ATTEMPTS:
                notification.status = NotificationStatus.FAILED
                notification.next_attempt_at = None
            else:
                notification.next_attempt_at = now + backoff_delay(notification.attempts)
        else:
            notification.status = NotificationStatus.SENT
            notification.sent_at, notification.next_attempt_at = now, None
            notification.error = ""
        notification.save(update_fields=["status", "attempts", "next_attempt_at", "sent_at",
                                         "error"])
        return notification.status


def notifications_requeue_due(*, now: datetime | None = None, limit: int = 500) -> int:
    """Queue every pending notification whose next attempt is due; returns how many."""
    now = now or timezone.now()
    with transaction.atomic():
        due = list(
            Notification.objects.select_for_update(skip_locked=True)
            .filter(status=NotificationStatus.PENDING, next_attempt_at__lte=now)
            .order_by("next_attempt_at")
            .values_list("pk", flat=True)[:limit]
        )
        if due:
            Notification.objects.filter(pk__in=due).update(next_attempt_at=now + QUEUE_LEASE)
            _send_on_commit(due)
    return len(due)


def notification_retry(*, notification: Notification) -> None:
    """Give a failed (or pending) notification one more attempt now, e.g. from the cockpit; a
    failed one that fails again is failed again."""
    with transaction.atomic():
        Notification.objects.filter(pk=notification.pk).exclude(
            status=NotificationStatus.SENT
        ).update(status=NotificationStatus.PENDING, next_attempt_at=timezone.now() + QUEUE_LEASE)
        _send_on_commit([notification.pk])
