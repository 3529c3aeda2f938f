"""Thin Celery tasks: each calls one service. Found by Celery's autodiscovery (this is an app);
scheduled by beat (oms/settings.py, block "# Suppliers")."""

from __future__ import annotations

from celery import shared_task

from suppliers import notices


@shared_task(ignore_result=True)
def send_acknowledge_reminders() -> int:
    """Reminders and escalations for dropship orders not acknowledged in time."""
    return len(notices.reminders_send())


@shared_task(ignore_result=True)
def send_order_digests() -> int:
    """Yesterday's new dropship orders, one e-mail per supplier taking a digest."""
    return len(notices.digests_send())
