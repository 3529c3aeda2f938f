"""Thin Celery tasks for payments."""

from __future__ import annotations

from celery import shared_task

from payments.services import payment_capture_execute, payment_captures_requeue_due


class CaptureNotDoneYet(Exception):
    """A capture failed in a way that may pass: raised so that Celery retries the task."""


@shared_task(
    ignore_result=True,
    autoretry_for=(CaptureNotDoneYet,),
    retry_backoff=2,
    retry_backoff_max=300,
    retry_jitter=True,
    max_retries=5,
)
def execute_capture(capture_id: int) -> str:
    outcome = payment_capture_execute(capture_id=capture_id)
    if outcome == "retry":
        # After Celery's retries the database timer keeps going (retry_due_captures).
        raise CaptureNotDoneYet(capture_id)
    return outcome


@shared_task(ignore_result=True)
def retry_due_captures() -> int:
    return payment_captures_requeue_due()
