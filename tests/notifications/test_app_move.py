"""Notifications became a Django app of its own (they lived in `fulfillment`). What a database
or a broker already holds keeps working: the table, the handler names processed events are
recorded under, and the task name queued messages carry."""

from __future__ import annotations

from notifications import handlers
from notifications.models import Notification
from notifications.tasks import send_notifications
from oms.core.events import handler_by_name, handlers_for


def test_the_model_belongs_to_the_notifications_app_and_keeps_its_table() -> None:
    assert Notification._meta.app_label == "notifications"
    assert Notification._meta.db_table == "fulfillment_notification"


def test_the_handlers_keep_the_names_their_processed_events_are_recorded_under() -> None:
    old = "fulfillment.notifications.handlers.notify_order_confirmed"
    assert handler_by_name(old) is handlers.notify_order_confirmed
    assert old in handlers_for("order.confirmed")
    assert not any(name.startswith("notifications.") for name in handlers_for("order.confirmed"))


def test_the_send_task_keeps_the_name_queued_messages_carry() -> None:
    assert send_notifications.name == "fulfillment.notifications.tasks.send_notifications"
