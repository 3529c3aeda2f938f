"""The core kernel's rows: API clients, webhook subscriptions, outbox events, attempts."""

from __future__ import annotations

import factory
from django.utils import timezone

from oms.core.attempts.states import AttemptStatus
from oms.core.auth import generate_token, hash_token
from oms.core.models import (
    ApiClient,
    Attempt,
    ClientKind,
    OutboxEvent,
    WebhookDelivery,
    WebhookSubscription,
)
from oms.core.webhooks.signing import generate_secret


class ApiClientFactory(factory.django.DjangoModelFactory):
    """`client.token` holds the clear token of a freshly built client."""

    class Meta:
        model = ApiClient

    name = factory.Sequence(lambda n: f"client-{n}")
    kind = ClientKind.WEBSHOP
    channel = factory.LazyAttribute(
        lambda o: "web" if o.kind in ("webshop", "app", "pos", "marketplace") else ""
    )
    token = factory.LazyFunction(generate_token)
    token_prefix = factory.LazyAttribute(lambda o: o.token[:12])
    token_hash = factory.LazyAttribute(lambda o: hash_token(o.token))

    @classmethod
    def _create(cls, model_class, *args, **kwargs):
        token = kwargs.pop("token")
        client = super()._create(model_class, *args, **kwargs)
        client.token = token
        return client


class WebhookSubscriptionFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = WebhookSubscription

    url = "http://127.0.0.1:9/hook"
    topics = factory.LazyFunction(lambda: ["*"])
    secret = factory.LazyFunction(generate_secret)
    owner = factory.SubFactory(ApiClientFactory, kind=ClientKind.STAFF)


def _test_topic() -> str:
    from tests.core.handlers import TEST_TOPIC

    return TEST_TOPIC


class OutboxEventFactory(factory.django.DjangoModelFactory):
    """An outbox row as a committed change leaves it: written, not yet published. Created
    directly, so no relay is kicked: exactly the state after a lost kick."""

    class Meta:
        model = OutboxEvent

    # The topic the core tests' handlers listen to. Imported when a row is built, not with this
    # package: importing tests.core.handlers registers those handlers, for core tests only.
    topic = factory.LazyFunction(lambda: _test_topic())
    aggregate_type = "test"
    aggregate_id = factory.Sequence(lambda n: f"agg-{n}")
    payload = factory.LazyAttribute(lambda o: {"aggregate": o.aggregate_id})
    created_at = factory.LazyFunction(timezone.now)
    published_at = None


class AttemptFactory(factory.django.DjangoModelFactory):
    """An attempt as the engine leaves it; pending and due now unless told otherwise."""

    class Meta:
        model = Attempt

    kind = "webhook"
    target_id = factory.Sequence(lambda n: 1_000_000 + n)
    status = AttemptStatus.PENDING
    tries = 0
    next_attempt_at = factory.LazyFunction(timezone.now)
    created_at = factory.LazyFunction(timezone.now)


class WebhookDeliveryFactory(factory.django.DjangoModelFactory):
    """A delivery with its pending attempt, due now; `attempt__status`, `attempt__tries`,
    `attempt__next_attempt_at` set it otherwise."""

    class Meta:
        model = WebhookDelivery
        skip_postgeneration_save = True

    subscription = factory.SubFactory(WebhookSubscriptionFactory)
    event = factory.SubFactory(OutboxEventFactory)
    created_at = factory.LazyFunction(timezone.now)
    @factory.post_generation
    def attempt(obj: WebhookDelivery, create: bool, extracted: object, **fields: object) -> None:
        if create:
            AttemptFactory(kind="webhook", target_id=obj.pk, **fields)
