"""Webhook subscriptions and their deliveries.

A delivery is a row per (event, subscription), sent through the attempt mechanism
(`oms.core.attempts`: claim with a lease, backoff with jitter, dead letter, beat sweep) as kind
``webhook``.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass

from django.db import transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy as _lazy

from oms.core.attempts.kinds import AttemptKind, Outcome, Run, kind_register
from oms.core.attempts.models import Attempt
from oms.core.attempts.selectors import attempt_of
from oms.core.attempts.services import attempt_retry, attempt_run_for, attempts_create
from oms.core.errors import InvalidInput
from oms.core.models import ApiClient, OutboxEvent, WebhookDelivery, WebhookSubscription
from oms.core.outbound import outbound_url_refusal
from oms.core.webhooks.sender import WebhookSender, default_sender
from oms.core.webhooks.signing import generate_secret, signed_headers


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


@dataclass(frozen=True)
class WebhookCall:
    url: str
    secret: str
    message_id: str  # the same for every try: the subscriber drops duplicates by it
    body: bytes


class WebhookDeliveryKind(AttemptKind):
    """One event to one subscription (`WebhookDelivery`), retried until the subscriber answers
    2xx; a dead letter waits in the admin for a retry by hand."""

    name = "webhook"
    label = _lazy("Webhook delivery")
    max_attempts_setting = "WEBHOOK_MAX_ATTEMPTS"
    backoff_base_setting = "WEBHOOK_BACKOFF_BASE_SECONDS"

    def queue(self, runs: list[Run]) -> None:
        from oms.core import tasks  # the task module imports this one

        for attempt_id, tries in runs:
            tasks.deliver_webhook.delay(attempt_id=attempt_id, tries=tries)

    def prepare(self, attempt: Attempt) -> WebhookCall | None:
        delivery = (WebhookDelivery.objects.select_related("subscription", "event")
                    .filter(pk=attempt.target_id).first())
        if delivery is None:
            return None
        return WebhookCall(url=delivery.subscription.url, secret=delivery.subscription.secret,
                           message_id=f"msg_{delivery.event_id}", body=_payload(delivery.event))

    def perform(self, call: WebhookCall, adapter: WebhookSender | None = None) -> Outcome:
        headers = signed_headers(call.secret, call.message_id, int(time.time()), call.body)
        result = (adapter or default_sender()).post(call.url, call.body, headers)
        if result.ok:
            return Outcome.succeeded(result.status)
        return Outcome.failed(result.error or f"HTTP {result.status}", status_code=result.status)

    def describe(self, target_id: int) -> str:
        return str(_("webhook delivery %(id)s") % {"id": target_id})

    def admin_url(self, target_id: int) -> str | None:
        return reverse("admin:core_webhookdelivery_change", args=[target_id])


WEBHOOK = kind_register(WebhookDeliveryKind())


def webhook_deliveries_create(*, event: OutboxEvent) -> list[WebhookDelivery]:
    """One delivery per active subscription wanting the event's topic, attempted after
    commit. Again for the same event: nothing new."""
    now = timezone.now()
    subscriptions = [s for s in WebhookSubscription.objects.filter(is_active=True)
                     if s.wants(event.topic)]
    if not subscriptions:
        return []
    WebhookDelivery.objects.bulk_create(
        [WebhookDelivery(subscription=s, event=event, created_at=now) for s in subscriptions],
        ignore_conflicts=True,
    )
    deliveries = list(WebhookDelivery.objects.filter(event=event).order_by("pk"))
    attempts_create(kind=WEBHOOK, target_ids=[d.pk for d in deliveries], now=now)
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


def webhook_delivery_attempt(*, delivery_id: int, sender: WebhookSender | None = None) -> str:
    """Try one delivery once now (a shell, a test); returns the attempt's status afterwards,
    or "skipped" when it is being tried elsewhere or is finished."""
    return attempt_run_for(kind=WEBHOOK, target_id=delivery_id, adapter=sender)


def webhook_subscription_delete(*, subscription: WebhookSubscription) -> None:
    """Deactivate rather than delete: past deliveries stay inspectable in the admin."""
    with transaction.atomic():
        WebhookSubscription.objects.filter(pk=subscription.pk).update(is_active=False)


def webhook_delivery_retry(*, delivery: WebhookDelivery) -> bool:
    """Queue a delivery (also a dead-lettered one) for one more attempt now."""
    attempt = attempt_of(kind=WEBHOOK, target_id=delivery.pk)
    return attempt is not None and attempt_retry(attempt=attempt)
