"""Thin Celery tasks for store visits: the beat sweeps of pickup offers past their time and of
browsing signals past their age (ARCHITECTURE.md rule 8)."""

from __future__ import annotations

from celery import shared_task

from visits.browsing import signals_sweep
from visits.services import offers_expire_due


@shared_task(ignore_result=True)
def expire_pickup_offers() -> int:
    return offers_expire_due()


@shared_task(ignore_result=True)
def sweep_browsing_signals() -> int:
    return signals_sweep()
