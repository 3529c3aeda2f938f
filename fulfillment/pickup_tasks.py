"""Thin Celery tasks for the pickup timers (ARCHITECTURE.md rule 8), run by beat every minute.

They keep the names they had in `fulfillment.tasks` (the beat schedule in settings and any
message already queued use them). Registered when the app is ready (`FulfillmentConfig`), since
Celery's autodiscovery looks only for `tasks` modules."""

from __future__ import annotations

from celery import shared_task

from fulfillment.pickup import pickup_reminders_due, pickups_expire_due


@shared_task(name="fulfillment.tasks.expire_due_pickups", ignore_result=True)
def expire_due_pickups() -> int:
    return pickups_expire_due()


@shared_task(name="fulfillment.tasks.remind_due_pickups", ignore_result=True)
def remind_due_pickups() -> int:
    return pickup_reminders_due()
