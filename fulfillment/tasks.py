"""Thin Celery tasks for fulfilment."""

from __future__ import annotations

from celery import shared_task

from fulfillment.dispatch import dispatches_requeue_due, fulfillment_dispatch


@shared_task(ignore_result=True)
def dispatch_fulfillment(fulfillment_id: int, attempt: int) -> str:
    return fulfillment_dispatch(fulfillment_id=fulfillment_id, attempt=attempt)


@shared_task(ignore_result=True)
def requeue_due_dispatches() -> int:
    return dispatches_requeue_due()
