"""Every domain event fans out to the webhook subscriptions that want its topic."""

from __future__ import annotations

from collections.abc import Callable

from oms.core.events import ALL_TOPICS, on_event
from oms.core.models import OutboxEvent, WebhookSubscription
from oms.core.webhooks.services import webhook_deliveries_create


def subscribed_topics() -> Callable[[str], bool]:
    topics = set()
    for wanted in WebhookSubscription.objects.filter(is_active=True).values_list("topics",
                                                                               flat=True):
        topics.update(wanted)
    return lambda topic: ALL_TOPICS in topics or topic in topics


@on_event(ALL_TOPICS, interest=subscribed_topics, in_relay=True)
def fan_out_to_webhooks(event: OutboxEvent) -> None:
    webhook_deliveries_create(event=event)
