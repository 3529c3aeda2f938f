"""Which topics active webhook subscriptions want, read from the database each time it is asked:
once per relay batch (`oms.core.events.outbox_relay`), and by a push notification deciding
whether an app listens.

Not cached: a subscription created a moment before an event must receive it (issue 18). A cache
in the shared store or in each process would make a new subscriber miss the events relayed
until it expired, and the relay, which reads this once per batch of up to
`OUTBOX_BATCH_SIZE` events, gains little from one.
"""

from __future__ import annotations

from collections.abc import Callable

from oms.core.events import ALL_TOPICS
from oms.core.models import WebhookSubscription


def _wanted() -> frozenset[str]:
    return frozenset(topic for topics in WebhookSubscription.objects.filter(is_active=True)
                     .values_list("topics", flat=True) for topic in topics)


def subscribed_topics() -> Callable[[str], bool]:
    """Whether some active subscription wants a topic (a catch-all `*` wants every one)."""
    wanted = _wanted()
    return lambda topic: ALL_TOPICS in wanted or topic in wanted


def topic_named(topic: str) -> bool:
    """Whether an active subscription names `topic` itself; a catch-all ("*") does not count."""
    return topic in _wanted()
