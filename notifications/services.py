"""Every write to customer notifications.

Why a notification goes out once even when its task runs twice:

1. `notifications_create` runs inside the handler's transaction (the relay's, or
   `event_handle`'s; at most once per event and handler). It writes one row per channel and
   its attempt (kind ``notification``, `oms.core.attempts`); the unique (event, kind, channel)
   constraint and the one attempt per row make a second call a no-op even outside
   `event_handle`. Nothing is sent here: a send inside this transaction could reach the
   customer and then roll back, and the redelivered event would send again.
2. After commit a task (`tasks.send_notifications`, up to `SEND_BATCH` rows) runs each attempt:
   claimed with a lease (a second run finds it claimed or finished and does nothing), sent,
   recorded. An email is sent with no transaction open; the one gap left is a crash between
   the SMTP server accepting the message and our record, after which the sweep sends it again:
   the customer may get the email twice, never zero times. An app push without a pickup code
   is an outbox event, which the attempt mechanism writes inside the recording transaction
   (`Notifier.writes_to_database`): it commits with `succeeded`, exactly once. (A push
   carrying a pickup code is posted directly, like an email, so the code never lands in the
   outbox; `adapters.py`.)
3. A failed send is tried again after a backoff until `NOTIFICATION_MAX_ATTEMPTS`, then it is
   dead and waits in the cockpit for a retry by hand; the beat sweep of all attempts also
   sends rows whose task was lost between commit and broker.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from django.conf import settings
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext_lazy as _

from fulfillment.models import FulfillmentOrder
from notifications import pickup, return_notices
from notifications.adapters import (
    Notifier,
    OutgoingMessage,
    channel_reaches_anyone,
    notifier_for,
)
from notifications.content import render
from notifications.models import Notification
from oms.core.attempts.kinds import AttemptKind, Outcome, Run, kind_register
from oms.core.attempts.models import Attempt
from oms.core.attempts.selectors import attempt_of
from oms.core.attempts.services import attempt_retry, attempt_run_for, attempts_create
from oms.core.commit_hooks import CommitHook, commit_hook
from oms.core.models import OutboxEvent
from oms.orders.models import Order
from payments.models import Refund


def notification_language(order: Order) -> str:
    """The order's language if there are templates for it, else `NOTIFICATION_FALLBACK_LANGUAGE`."""
    language = (order.language or "").strip().lower().split("-")[0]
    if language in settings.NOTIFICATION_LANGUAGES:
        return language
    return settings.NOTIFICATION_FALLBACK_LANGUAGE


# One task sends up to this many rows: the notices of all the orders a relay run handled share
# tasks, while a sweep re-queueing hundreds still spreads them over the workers.
SEND_BATCH = 20


class _Sends(CommitHook):
    """The notifications one transaction created or re-queued, sent after its commit."""

    label = "notification sends"

    def __init__(self, transaction_block: object) -> None:
        super().__init__(transaction_block)
        self.runs: list[Run] = []

    def run(self) -> None:
        NOTIFICATION.queue(self.runs)


class NotificationSendKind(AttemptKind):
    name = "notification"
    label = _("Customer notification")
    max_attempts_setting = "NOTIFICATION_MAX_ATTEMPTS"
    backoff_base_setting = "NOTIFICATION_BACKOFF_BASE_SECONDS"

    def queue(self, runs: list[Run]) -> None:
        from notifications import tasks  # the task module imports this one

        for start in range(0, len(runs), SEND_BATCH):
            tasks.send_notifications.delay(runs=[list(r) for r in runs[start:start + SEND_BATCH]])

    def queue_after_commit(self, runs: list[Run]) -> None:
        """Together with the transaction's other notifications (a relay run notifies for many
        orders): one task for up to `SEND_BATCH` of them."""
        if runs:
            commit_hook(_Sends, _Sends).runs.extend(runs)

    def prepare(self, attempt: Attempt) -> Notification | None:
        # With its order and customer, which the message needs; the fulfilment and its
        # location are read lazily, for the few pickup notices.
        return (Notification.objects.select_related("order__customer")
                .filter(pk=attempt.target_id).first())

    def _notifier(self, notification: Notification, adapter: Notifier | None) -> Notifier:
        return adapter or notifier_for(notification.channel)

    def in_transaction(self, call: Notification, adapter: Notifier | None = None) -> bool:
        # a notifier named in settings may not say: then it gets the transaction
        return getattr(self._notifier(call, adapter), "writes_to_database", True)

    def perform(self, call: Notification, adapter: Notifier | None = None) -> Outcome:
        # The message is built here: a pickup code that cannot be derived is a failed try
        # like any other. A notifier delivers or raises; the engine records what it raised.
        self._notifier(call, adapter).send(_message(call))
        return Outcome.succeeded()

    def describe(self, target_id: int) -> str:
        return str(_("notification %(id)s") % {"id": target_id})

    def admin_url(self, target_id: int) -> str | None:
        return reverse("admin:notifications_notification_change", args=[target_id])


NOTIFICATION = kind_register(NotificationSendKind())


def notifications_create(*, event: OutboxEvent, order: Order, kind: str,
                         context: Callable[[], dict[str, Any]],
                         fulfillment: FulfillmentOrder | None = None,
                         refund: Refund | None = None,
                         only: Sequence[str] | None = None) -> list[Notification]:
    """One pending notification per channel in `NOTIFICATION_CHANNELS` that reaches anyone
    (`channel_reaches_anyone`), rendered in the order's language from `context()`, sent after
    commit. Again for the same event: nothing new. `fulfillment` is the pickup whose code a
    pickup notice gets when it is sent; `refund` the refund whose store credit's code a refund
    notice gets when it is sent. `only`: the channels that make sense for this notice (an
    offer in the store goes to the app, not to the mailbox)."""
    channels = [channel for channel in dict.fromkeys(settings.NOTIFICATION_CHANNELS)
                if (only is None or channel in only) and channel_reaches_anyone(channel)]
    # No read of what exists first: a handler's work commits once per event (ProcessedEvent),
    # so rows are almost never there already, and when they are the unique constraint drops
    # ours (the rendering is then wasted, which is rare enough).
    if channels:
        language = notification_language(order)
        with translation.override(language):
            message = render(kind, language, context())
        now = timezone.now()
        Notification.objects.bulk_create(
            [
                Notification(
                    event_id=event.id, topic=event.topic, kind=kind, channel=channel,
                    order=order, fulfillment=fulfillment, refund=refund,
                    recipient=order.customer.email,
                    language=language,
                    subject=message.subject,
                    body_text=message.text if channel == "email" else message.push,
                    body_html=message.html if channel == "email" else "",
                    url=message.url, created_at=now,
                )
                for channel in channels
            ],
            ignore_conflicts=True,
        )
    notifications = list(Notification.objects.filter(event_id=event.id, kind=kind)
                         .order_by("pk"))
    attempts_create(kind=NOTIFICATION, target_ids=[n.pk for n in notifications])
    return notifications


def _message(notification: Notification) -> OutgoingMessage:
    message = OutgoingMessage(
        notification_id=notification.pk,
        kind=notification.kind,
        channel=notification.channel,
        order_number=notification.order.number,
        language=notification.language,
        recipient=notification.recipient,
        customer_external_id=notification.order.customer.external_id,
        subject=notification.subject,
        text=notification.body_text,
        html=notification.body_html,
        url=notification.url,
    )
    if notification.kind in pickup.CODE_KINDS:
        return pickup.with_pickup_pass(message, notification.fulfillment)
    if notification.kind in return_notices.CODE_KINDS:
        return return_notices.with_store_credit_code(message, notification.refund)
    return message


def notification_send(*, notification_id: int, notifier: Notifier | None = None) -> str:
    """Send one notification now, whatever its number of tries (a shell, a test); returns its
    attempt's status afterwards, or "skipped" when it is being sent elsewhere or is done."""
    return attempt_run_for(kind=NOTIFICATION, target_id=notification_id, adapter=notifier)


def notification_retry(*, notification: Notification) -> bool:
    """Give a dead (or waiting) notification one more attempt now, e.g. from the cockpit; one
    that fails again is dead again."""
    attempt = attempt_of(kind=NOTIFICATION, target_id=notification.pk)
    return attempt is not None and attempt_retry(attempt=attempt)
