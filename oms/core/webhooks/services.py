"""Webhook subscriptions and their deliveries.

A delivery is a row per (event, subscription). Attempts are serialised by a row lock; the next
attempt time is a database column that a beat sweep reads (ARCHITECTURE.md rule 8), with
exponential backoff and jitter, until the delivery succeeds or is dead-lettered.
"""

from __future__ import annotations

import json
import time
from datetime import datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from oms.core.backoff import exponential_backoff
from oms.core.errors import InvalidInput
from oms.core.models import (
    ApiClient,
    DeliveryStatus,
    OutboxEvent,
    WebhookAttempt,
    WebhookDelivery,
    WebhookSubscription,
)
from oms.core.outbound import outbound_url_refusal
from oms.core.webhooks.sender import WebhookSender, default_sender
from oms.core.webhooks.signing import generate_secret, signed_headers
from oms.core.webhooks.topics import subscribed_topics_forget

# A queued attempt holds the delivery for this long before the sweep may queue it again; the
# sweep re-queues deliveries whose task was lost (a worker killed mid-flight, a broker restart).
QUEUE_LEASE = timedelta(minutes=2)


def webhook_subscription_create(
    *, owner: ApiClient, url: str, topics: list[str]
) -> WebhookSubscription:
    errors: list[tuple[str, str, str | None]] = []
    # The API validated the URL already; checked again here because every write path (the
    # cockpit, a shell, a future import) passes through this service.
    refusal = outbound_url_refusal(url)
    if refusal is not None:
        errors.append((refusal.code, refusal.message, "url"))
    if not topics:
        errors.append(("required", _("Name at least one topic, or \"*\" for all."), "topics"))
    if errors:
        raise InvalidInput(errors)
    with transaction.atomic():
        return WebhookSubscription.objects.create(
            owner=owner, url=url, topics=sorted(set(topics)), secret=generate_secret()
        )


def _enqueue_on_commit(delivery_ids: list[int]) -> None:
    from oms.core import tasks

    def send() -> None:
        for delivery_id in delivery_ids:
            tasks.deliver_webhook.delay(delivery_id=delivery_id)

    transaction.on_commit(send, robust=True)


def webhook_deliveries_create(*, event: OutboxEvent) -> list[WebhookDelivery]:
    """One pending delivery per active subscription wanting the event's topic."""
    now = timezone.now()
    subscriptions = [s for s in WebhookSubscription.objects.filter(is_active=True)
                     if s.wants(event.topic)]
    if not subscriptions:
        return []
    WebhookDelivery.objects.bulk_create(
        [
            WebhookDelivery(subscription=s, event=event, created_at=now,
                            next_attempt_at=now + QUEUE_LEASE)
            for s in subscriptions
        ],
        ignore_conflicts=True,
    )
    deliveries = list(WebhookDelivery.objects.filter(event=event, status=DeliveryStatus.PENDING))
    _enqueue_on_commit([d.pk for d in deliveries])
    return deliveries


def _payload(event: OutboxEvent) -> bytes:
    return json.dumps(
        {
            "id": str(event.id),
            "type": event.topic,
            "timestamp": event.created_at.isoformat(),
            "data": event.payload,
        },
        separators=(",", ":"),
        sort_keys=True,
    ).encode()


def backoff_delay(attempts: int) -> timedelta:
    return exponential_backoff(attempts, settings.WEBHOOK_BACKOFF_BASE_SECONDS)


def webhook_delivery_attempt(*, delivery_id: int, sender: WebhookSender | None = None) -> str:
    """Try one delivery once; returns its status afterwards. A delivery already being attempted
    elsewhere (its row is locked) or already finished is left alone."""
    sender = sender or default_sender()
    with transaction.atomic():
        delivery = (
            WebhookDelivery.objects.select_for_update(skip_locked=True, of=("self",))
            .select_related("subscription", "event")
            .filter(pk=delivery_id)
            .first()
        )
        if delivery is None or delivery.status != DeliveryStatus.PENDING:
            return delivery.status if delivery else "locked"
        body = _payload(delivery.event)
        headers = signed_headers(
            delivery.subscription.secret, f"msg_{delivery.event_id}", int(time.time()), body
        )
        started = time.monotonic()
        result = sender.post(delivery.subscription.url, body, headers)
        now = timezone.now()
        delivery.attempts += 1
        WebhookAttempt.objects.create(
            delivery=delivery,
            number=delivery.attempts,
            at=now,
            response_status=result.status,
            error=result.error,
            duration_ms=int((time.monotonic() - started) * 1000),
        )
        if result.ok:
            delivery.status = DeliveryStatus.DELIVERED
            delivery.finished_at, delivery.next_attempt_at = now, None
        elif delivery.attempts >= settings.WEBHOOK_MAX_ATTEMPTS:
            delivery.status = DeliveryStatus.DEAD
            delivery.finished_at, delivery.next_attempt_at = now, None
        else:
            delivery.next_attempt_at = now + backoff_delay(delivery.attempts)
        delivery.save(update_fields=["status", "attempts", "finished_at", "next_attempt_at"])
        return delivery.status


def webhook_deliveries_requeue_due(*, now: datetime | None = None, limit: int = 500) -> int:
    """Queue every pending delivery whose next attempt is due; returns how many."""
    now = now or timezone.now()
    with transaction.atomic():
        due = list(
            WebhookDelivery.objects.select_for_update(skip_locked=True)
            .filter(status=DeliveryStatus.PENDING, next_attempt_at__lte=now)
            .order_by("next_attempt_at")
            .values_list("pk", flat=True)[:limit]
        )
        if due:
            WebhookDelivery.objects.filter(pk__in=due).update(next_attempt_at=now + QUEUE_LEASE)
            _enqueue_on_commit(due)
    return len(due)


def webhook_subscription_delete(*, subscription: WebhookSubscription) -> None:
    """Deactivate rather than delete: past deliveries stay inspectable in the admin."""
    with transaction.atomic():
        WebhookSubscription.objects.filter(pk=subscription.pk).update(is_active=False)
        subscribed_topics_forget()


def webhook_delivery_retry(*, delivery: WebhookDelivery) -> None:
    """Queue a delivery (also a dead-lettered one) for one more attempt now."""
    with transaction.atomic():
        now = timezone.now()
        WebhookDelivery.objects.filter(pk=delivery.pk).update(
            status=DeliveryStatus.PENDING, finished_at=None,
            next_attempt_at=now + QUEUE_LEASE,
        )
        _enqueue_on_commit([delivery.pk])
