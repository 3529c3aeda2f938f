"""Thin Celery tasks for fulfilment: the dispatch to a location's system. The pickup timers'
sweeps are in `fulfillment.pickup_tasks`: `fulfillment.dispatch` enqueues from this module, and
the sweeps import the pickup services, which create dispatches; together they made a cycle."""

from __future__ import annotations

from celery import shared_task

from oms.core.attempts.services import attempt_run


@shared_task(ignore_result=True)
def dispatch_fulfillment(attempt_id: int, tries: int) -> str:
    """One try of a dispatch (kind ``wms_dispatch``); its own queue, which workers serve
    first. The beat sweep of all attempts is `oms.core.tasks.requeue_due_attempts`."""
    return attempt_run(attempt_id=attempt_id, tries=tries)

