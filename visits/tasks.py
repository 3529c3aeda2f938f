"""Thin Celery tasks for store visits: the beat sweeps of pickup offers past their time and of
browsing signals past their age (ARCHITECTURE.md rule 8), and one try of telling a warehouse
to stop a parcel (`visits.stop`)."""

from __future__ import annotations

from celery import shared_task

from oms.core.attempts.services import attempt_run
from visits.browsing import signals_sweep
from visits.services import offers_expire_due


@shared_task(ignore_result=True)
def expire_pickup_offers() -> int:
    return offers_expire_due()


@shared_task(ignore_result=True)
def sweep_browsing_signals() -> int:
    return signals_sweep()


@shared_task(ignore_result=True)
def stop_shipment(attempt_id: int, tries: int) -> str:
    return attempt_run(attempt_id=attempt_id, tries=tries)
