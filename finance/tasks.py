"""Thin Celery tasks of the finance app: the beat sweep of dunning steps that are due
(ARCHITECTURE.md rule 8)."""

from __future__ import annotations

from celery import shared_task

from finance.services import dunning_sweep


@shared_task(ignore_result=True)
def sweep_dunning() -> int:
    return dunning_sweep().notices
