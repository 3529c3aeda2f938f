"""Thin Celery tasks: each calls one service. Registered when `handlers` imports this module at
app start (this package is not an app, so Celery's autodiscovery does not look here)."""

from __future__ import annotations

from celery import shared_task

from fulfillment.notifications import services


@shared_task(ignore_result=True)
def send_notification(notification_id: int) -> str:
    return services.notification_send(notification_id=notification_id)


@shared_task(ignore_result=True)
def send_due_notifications() -> int:
    return services.notifications_requeue_due()
