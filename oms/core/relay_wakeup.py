"""At most one queued outbox relay run at a time, however many transactions commit events.

A relay run publishes every unpublished event, oldest first, not only the ones of the
transaction that queued it. So when a run is already waiting in the broker, a commit does not
need to queue another: that run will find its events too. A mark in the cache (Redis) says "a
run is queued"; a commit queues a run only if it is the one that set the mark, and a run clears
the mark before it reads the outbox. That order is what makes it safe:

* an event committed before the run cleared the mark is visible to the run's read;
* an event committed after it finds no mark, sets it and queues the next run.

Under load one run takes the events of many orders (one task and one pass over the outbox
instead of one per order); when idle every commit still gets its own run at once.

The mark expires after `OUTBOX_RELAY_MARK_SECONDS`: a run lost with a worker (or a mark left by
a kick whose send failed half-way) holds back new runs no longer than that, and the beat sweep
publishes in the meantime. With tasks run in-process (demo mode, most tests) there is no queue
to coalesce into: each commit relays at once and no mark is kept.
"""

from __future__ import annotations

from django.conf import settings
from django.core.cache import cache
from django.db import connection

from oms.celery import app as celery_app


def _mark() -> str:
    # one mark per database: two deployments (or a test run and a benchmark) may share a Redis
    return f"outbox-relay-queued:{connection.settings_dict['NAME']}"


def relay_wanted() -> None:
    """Events were committed: queue a relay run unless one is queued already."""
    from oms.core import tasks  # the task module imports the events module, which imports us

    if celery_app.conf.task_always_eager:
        tasks.relay_outbox.delay()
        return
    if not cache.add(_mark(), 1, timeout=settings.OUTBOX_RELAY_MARK_SECONDS):
        return
    try:
        tasks.relay_outbox.delay()
    except Exception:
        cache.delete(_mark())  # nothing is queued: the next commit must try again
        raise


def relay_starting() -> None:
    """A relay run starts: from here on, a commit queues the next one."""
    if not celery_app.conf.task_always_eager:
        cache.delete(_mark())
