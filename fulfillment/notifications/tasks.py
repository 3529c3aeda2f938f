"""Thin Celery tasks: each calls one service. Registered when `handlers` imports this module at
app start (this package is not an app, so Celery's autodiscovery does not look here)."""

from __future__ import annotations

from celery import shared_task

from oms.core.attempts.services import attempt_run


@shared_task(ignore_result=True)
def send_notifications(runs: list[list[int]]) -> list[str]:
    """One try of each notification attempt, given as [attempt id, tries when queued]; the
    beat sweep of all attempts is `oms.core.tasks.requeue_due_attempts`."""
    return [attempt_run(attempt_id=attempt_id, tries=tries) for attempt_id, tries in runs]
