"""Thin Celery tasks: each calls one service. Found by Celery's autodiscovery (this is an app).

A task's name travels in every queued message. These keep the name they had while the package
lived in `fulfillment` (``fulfillment.notifications.tasks.*``), so messages queued before a
deploy still find their task; renaming one needs a release that registers both names."""

from __future__ import annotations

from celery import shared_task

from oms.core.attempts.services import attempt_run

QUEUED_AS = "fulfillment.notifications.tasks"


@shared_task(name=f"{QUEUED_AS}.send_notifications", ignore_result=True)
def send_notifications(runs: list[list[int]]) -> list[str]:
    """One try of each notification attempt, given as [attempt id, tries when queued]; the
    beat sweep of all attempts is `oms.core.tasks.requeue_due_attempts`."""
    return [attempt_run(attempt_id=attempt_id, tries=tries) for attempt_id, tries in runs]
