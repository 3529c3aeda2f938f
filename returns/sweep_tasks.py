"""The beat sweep of returns whose goods never came (ARCHITECTURE.md rule 8). A module of its
own: `returns.labels` enqueues from `returns.tasks`, and this sweep imports the services, which
import the labels; together they would make a cycle. Registered when the app is ready
(`ReturnsConfig`), since Celery's autodiscovery looks only for `tasks` modules."""

from __future__ import annotations

from celery import shared_task

from returns.services import returns_cancel_stale


@shared_task(ignore_result=True)
def cancel_stale_returns() -> int:
    return returns_cancel_stale()
