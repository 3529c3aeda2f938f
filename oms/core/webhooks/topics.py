"""Which topics active webhook subscriptions want, read on every emitting transaction (an event
nobody wants is stored already published, see `oms.core.events`) and by every relay run.

Cached for a few seconds in the shared cache: it changes when a subscription is created or
deactivated, which forgets the cached set at once and again after commit (a reader that
loaded the old set in between would otherwise keep it). The TTL bounds what is left: a reader
that read before the commit and stored after the forget keeps the old set until it expires,
so a new subscription receives every event from at most `TTL` after its creation.

Each process also keeps the set it read for `LOCAL_TTL`: an order emits and relays several
events within milliseconds, and a Redis round trip for each was a few per cent of the intake's
CPU. That adds `LOCAL_TTL` to the delay in other processes (the one that changed a subscription
forgets its own copy at once)."""

from __future__ import annotations

import time
from collections.abc import Callable

from django.core.cache import cache
from django.db import transaction

from oms.core.events import ALL_TOPICS
from oms.core.models import WebhookSubscription

CACHE_KEY = "webhooks:subscribed-topics"
TTL = 10  # seconds
LOCAL_TTL = 1.0  # seconds

# (monotonic deadline, the set read); replaced as a whole, never changed in place, so a thread
# reading it while another forgets it sees either the old pair or the new one.
_local: tuple[float, frozenset[str]] = (0.0, frozenset())


def _wanted() -> frozenset[str]:
    global _local
    until, wanted = _local
    if time.monotonic() < until:
        return wanted
    topics = cache.get(CACHE_KEY)
    if topics is None:
        topics = sorted({topic for wanted in WebhookSubscription.objects.filter(is_active=True)
                         .values_list("topics", flat=True) for topic in wanted})
        cache.set(CACHE_KEY, topics, TTL)
    wanted = frozenset(topics)
    _local = (time.monotonic() + LOCAL_TTL, wanted)
    return wanted


def subscribed_topics() -> Callable[[str], bool]:
    wanted = _wanted()
    return lambda topic: ALL_TOPICS in wanted or topic in wanted


def topic_named(topic: str) -> bool:
    """Whether an active subscription names `topic` itself; a catch-all ("*") does not count."""
    return topic in _wanted()


def subscribed_topics_forget() -> None:
    """Call when a subscription changes: forgotten now and again after commit."""
    subscribed_topics_forget_now()
    transaction.on_commit(subscribed_topics_forget_now, robust=True)


def subscribed_topics_forget_now() -> None:
    """Forget the cached set, here and in Redis, outside any transaction."""
    global _local
    _local = (0.0, frozenset())
    cache.delete(CACHE_KEY)
