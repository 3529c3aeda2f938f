"""Thin Celery tasks for fulfilment."""

from __future__ import annotations

from celery import shared_task

from fulfillment.dispatch import dispatches_requeue_due, fulfillment_dispatch
from fulfillment.pickup import pickup_reminders_due, pickups_expire_due


@shared_task(ignore_result=True)
def dispatch_fulfillment(fulfillment_id: int, attempt: int) -> str:
    return fulfillment_dispatch(fulfillment_id=fulfillment_id, attempt=attempt)


@shared_task(ignore_result=True)
def requeue_due_dispatches() -> int:
    return dispatches_requeue_due()


@shared_task(ignore_result=True)
def expire_due_pickups() -> int:
    return pickups_expire_due()


@shared_task(ignore_result=True)
def remind_due_pickups() -> int:
    return pickup_reminders_due()
