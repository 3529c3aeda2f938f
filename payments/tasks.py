"""Thin Celery tasks for payments."""

from __future__ import annotations

from celery import shared_task

from oms.core.attempts.services import attempt_run


@shared_task(ignore_result=True)
def execute_capture(attempt_id: int, tries: int) -> str:
    """One try of a capture (kind ``psp_capture``). A failed try is tried again by the beat
    sweep of all attempts once its backoff has passed (a database timer, not a Celery
    retry: ARCHITECTURE.md rule 8)."""
    return attempt_run(attempt_id=attempt_id, tries=tries)


@shared_task(ignore_result=True)
def execute_refund(attempt_id: int, tries: int) -> str:
    """One try of a refund at the PSP (kind ``psp_refund``), retried like a capture."""
    return attempt_run(attempt_id=attempt_id, tries=tries)
