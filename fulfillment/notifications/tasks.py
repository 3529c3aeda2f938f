"""Thin Celery tasks: each calls one service. Registered when `handlers` imports this module at
app start (this package is not an app, so Celery's autodiscovery does not look here)."""

from __future__ import annotations

from celery import shared_task

from fulfillment.notifications import services


@shared_task(ignore_result=True)
def send_notifications(notification_ids: list[int]) -> list[str]:
    return [services.notification_send(notification_id=n) for n in notification_ids]


@shared_task(ignore_result=True)
def send_due_notifications() -> int:
    return services.notifications_requeue_due()
