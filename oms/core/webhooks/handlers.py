"""Every domain event fans out to the webhook subscriptions that want its topic."""

from __future__ import annotations

from oms.core.events import ALL_TOPICS, on_event
from oms.core.models import OutboxEvent
from oms.core.webhooks.services import webhook_deliveries_create
from oms.core.webhooks.topics import subscribed_topics


@on_event(ALL_TOPICS, interest=subscribed_topics, in_relay=True)
def fan_out_to_webhooks(event: OutboxEvent) -> None:
    webhook_deliveries_create(event=event)
