"""Factories for the core kernel's own rows, on top of the shared ones in tests/factories.py."""

from __future__ import annotations

import factory
from django.utils import timezone

from oms.core.models import DeliveryStatus, OutboxEvent, WebhookDelivery
from tests.core.handlers import TEST_TOPIC
from tests.factories import WebhookSubscriptionFactory


class OutboxEventFactory(factory.django.DjangoModelFactory):
    """An outbox row as a committed change leaves it: written, not yet published. Created
    directly, so no relay is kicked: exactly the state after a lost kick."""

    class Meta:
        model = OutboxEvent

    topic = TEST_TOPIC
    aggregate_type = "test"
    aggregate_id = factory.Sequence(lambda n: f"agg-{n}")
    payload = factory.LazyAttribute(lambda o: {"aggregate": o.aggregate_id})
    created_at = factory.LazyFunction(timezone.now)
    published_at = None


class WebhookDeliveryFactory(factory.django.DjangoModelFactory):
    """A pending delivery that is due now."""

    class Meta:
        model = WebhookDelivery

    subscription = factory.SubFactory(WebhookSubscriptionFactory)
    event = factory.SubFactory(OutboxEventFactory)
    status = DeliveryStatus.PENDING
    attempts = 0
    created_at = factory.LazyFunction(timezone.now)
    next_attempt_at = factory.LazyFunction(timezone.now)
