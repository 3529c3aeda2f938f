"""Thin Celery tasks for inventory."""

from __future__ import annotations

from celery import shared_task

from inventory.reservations import reservations_expire_due


@shared_task(ignore_result=True)
def expire_cart_holds() -> int:
    return reservations_expire_due()
