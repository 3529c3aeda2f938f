"""Channels behind one `Protocol` (ARCHITECTURE.md rule 9): email through Django's email backend,
app push as a webhook, and a fake that records for tests.

A notifier either delivers the message or raises; the caller (`notification_send`) turns an
exception into a retry. Which class serves which channel is the `NOTIFICATION_NOTIFIERS` setting.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Protocol

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.utils.module_loading import import_string

from oms.core.events import event_emit

PUSH_TOPIC = "notification.push"


@dataclass(frozen=True)
class OutgoingMessage:
    notification_id: int
    kind: str
    channel: str
    order_number: str
    language: str
    recipient: str  # the customer's email address
    customer_external_id: str
    subject: str  # the email subject, or the push title
    text: str  # the plain-text email body, or the push body
    html: str = ""
    url: str = ""  # the one link that matters (tracking, the order page), if any


class Notifier(Protocol):
    def send(self, message: OutgoingMessage) -> None:
        """Deliver the message or raise."""


class NotificationNotSent(Exception):
    pass


class EmailNotifier:
    """A multipart email (text and HTML) through the configured Django email backend."""

    def __init__(self, connection: Any = None) -> None:
        self.connection = connection

    def send(self, message: OutgoingMessage) -> None:
        email = EmailMultiAlternatives(
            subject=message.subject,
            body=message.text,
            from_email=settings.DEFAULT_FROM_EMAIL,
            to=[message.recipient],
            reply_to=[settings.NOTIFICATION_REPLY_TO] if settings.NOTIFICATION_REPLY_TO else None,
            connection=self.connection,
            # RFC 3834: out-of-office replies and other auto-responders should stay quiet.
            headers={"Auto-Submitted": "auto-generated", "Content-Language": message.language},
        )
        if message.html:
            email.attach_alternative(message.html, "text/html")
        if email.send(fail_silently=False) != 1:
            raise NotificationNotSent("the email backend accepted no message")


class AppPushNotifier:
    """App push as a webhook: a `notification.push` domain event, written in the caller's
    transaction, which the webhook fan-out delivers (signed, retried) to every subscription of
    that topic; the app backend subscribes and pushes to the customer's devices. Because the
    event commits together with the notification's `sent` status, a push goes out exactly once."""

    def send(self, message: OutgoingMessage) -> None:
        payload: dict[str, Any] = {
            "order": message.order_number,
            "customer": {"email": message.recipient,
                         "external_id": message.customer_external_id},
            "kind": message.kind,
            "title": message.subject,
            "body": message.text,
            "language": message.language,
        }
        if message.url:
            payload["url"] = message.url
        event_emit(topic=PUSH_TOPIC, aggregate_type="notification",
                   aggregate_id=message.notification_id, payload=payload)


@dataclass
class FakeNotifier:
    """Records what it is given; raises `fail_with` (if set) instead of recording."""

    fail_with: Exception | None = None
    sent: list[OutgoingMessage] = field(default_factory=list)

    def send(self, message: OutgoingMessage) -> None:
        if self.fail_with is not None:
            raise self.fail_with
        self.sent.append(message)


def notifier_for(channel: str) -> Notifier:
    return import_string(settings.NOTIFICATION_NOTIFIERS[channel])()
