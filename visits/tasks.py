"""Thin Celery tasks for store visits: the beat sweep of pickup offers past their time
(ARCHITECTURE.md rule 8)."""

from __future__ import annotations

from celery import shared_task

from visits.services import offers_expire_due


@shared_task(ignore_result=True)
def expire_pickup_offers() -> int:
    return offers_expire_due()
