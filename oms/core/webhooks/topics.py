"""Which topics active webhook subscriptions want, read on every emitting transaction (an event
nobody wants is stored already published, see `oms.core.events`) and by every relay run.

Cached for a few seconds in the shared cache: it changes when a subscription is created or
deactivated, which forgets the cached set at once and again after commit (a reader that
loaded the old set in between would otherwise keep it). The TTL bounds what is left: a reader
that read before the commit and stored after the forget keeps the old set until it expires,
so a new subscription receives every event from at most `TTL` after its creation."""

from __future__ import annotations

from collections.abc import Callable

from django.core.cache import cache
from django.db import transaction

from oms.core.events import ALL_TOPICS
from oms.core.models import WebhookSubscription

CACHE_KEY = "webhooks:subscribed-topics"
TTL = 10  # seconds


def _wanted() -> set[str]:
    topics = cache.get(CACHE_KEY)
    if topics is None:
        topics = sorted({topic for wanted in WebhookSubscription.objects.filter(is_active=True)
                         .values_list("topics", flat=True) for topic in wanted})
        cache.set(CACHE_KEY, topics, TTL)
    return set(topics)


def subscribed_topics() -> Callable[[str], bool]:
    wanted = _wanted()
    return lambda topic: ALL_TOPICS in wanted or topic in wanted


def topic_named(topic: str) -> bool:
    """Whether an active subscription names `topic` itself; a catch-all ("*") does not count."""
    return topic in _wanted()


def subscribed_topics_forget() -> None:
    cache.delete(CACHE_KEY)
    transaction.on_commit(lambda: cache.delete(CACHE_KEY), robust=True)
