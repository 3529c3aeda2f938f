"""Customer notifications as the notification service leaves them."""

from __future__ import annotations

from typing import Any

from django.utils import timezone

from oms.orders.models import Order


def a_pending_notification(order: Order, *, channel: str = "email") -> Any:
    """A rendered notification whose send task has not run (or was lost)."""
    import uuid

    from notifications.models import Notification
    from notifications.services import NOTIFICATION
    from oms.core.models import Attempt

    now = timezone.now()
    notification = Notification.objects.create(
        event_id=uuid.uuid4(), topic="order.confirmed", kind="order_confirmation",
        channel=channel, order=order, recipient=order.customer.email, language="de",
        subject=f"Ihre Bestellung {order.number} ist bestätigt", body_text="Vielen Dank!\n",
        created_at=now)
    Attempt.objects.create(kind=NOTIFICATION.name, target_id=notification.pk, created_at=now,
                           next_attempt_at=now)
    return notification
