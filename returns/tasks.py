"""Thin Celery tasks for returns."""

from __future__ import annotations

from celery import shared_task

from oms.core.attempts.services import attempt_run


@shared_task(ignore_result=True)
def create_return_label(attempt_id: int, tries: int) -> str:
    """One try of asking the carrier for a return label (kind ``return_label``); a failed
    try is queued again by the beat sweep of all attempts once its backoff has passed."""
    return attempt_run(attempt_id=attempt_id, tries=tries)

