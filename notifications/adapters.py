"""Channels behind one `Protocol` (ARCHITECTURE.md rule 9): email through Django's email backend,
app push as a webhook, and a fake that records for tests.

A notifier either delivers the message or raises; the caller (`notification_send`) turns an
exception into a retry. Which class serves which channel is the `NOTIFICATION_NOTIFIERS` setting.

A message may carry a pickup pass (the code and its QR image). It exists only in memory while the
message is sent: the email gets the QR as an inline image, the app push gets code and image in
its payload, and neither is written to a table (see `AppPushNotifier`).
"""

from __future__ import annotations

import base64
import json
import time
import uuid
from dataclasses import dataclass, field
from datetime import datetime
from email.mime.image import MIMEImage
from typing import Any, Protocol

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.utils import timezone
from django.utils.module_loading import import_string

from oms.core.events import event_emit
from oms.core.models import WebhookSubscription
from oms.core.webhooks.sender import default_sender
from oms.core.webhooks.signing import signed_headers
from oms.core.webhooks.topics import topic_named

PUSH_TOPIC = "notification.push"
# Webhook ids of pushes sent directly (below) are derived from the notification, so a retry
# repeats the id and the app backend can drop the duplicate (Standard Webhooks `webhook-id`).
DIRECT_PUSH_NAMESPACE = uuid.UUID("6f1c9a52-3d4e-4b7a-9a55-2f0e6a1c8d31")


@dataclass(frozen=True)
class PickupPass:
    """What the customer shows at the counter. Built at send time, never stored or logged
    (hence `repr=False` on the secret parts)."""

    fulfillment_id: int
    code: str = field(repr=False)
    qr_png: bytes = field(repr=False)
    qr_content_id: str  # the HTML body shows the QR as <img src="cid:...">
    store: dict[str, Any]  # {"code", "name", "address"}
    deadline: datetime | None


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
    pickup: PickupPass | None = None


class Notifier(Protocol):
    # Whether `send` may write to the database (an outbox event): then the caller sends inside
    # a savepoint, so that a send failing halfway leaves nothing behind.
    writes_to_database: bool

    def send(self, message: OutgoingMessage) -> None:
        """Deliver the message or raise."""


class NotificationNotSent(Exception):
    pass


class EmailNotifier:
    """A multipart email (text and HTML) through the configured Django email backend."""

    writes_to_database = False

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
            if message.pickup is not None:
                _attach_inline_qr(email, message.pickup)
        if email.send(fail_silently=False) != 1:
            raise NotificationNotSent("the email backend accepted no message")


def _attach_inline_qr(email: EmailMultiAlternatives, pickup: PickupPass) -> None:
    """The QR image as a related part of the HTML (`cid:`), not a data URI: many mail clients
    (Outlook, Gmail's web client) do not show data URIs. With `mixed_subtype = "related"` the
    message is multipart/related around the text/HTML alternative and the image."""
    image = MIMEImage(pickup.qr_png, "png")
    image.add_header("Content-ID", f"<{pickup.qr_content_id}>")
    image.add_header("Content-Disposition", "inline", filename="pickup-code.png")
    email.attach(image)
    email.mixed_subtype = "related"


def _pickup_payload(pickup: PickupPass) -> dict[str, Any]:
    return {
        "fulfillment": pickup.fulfillment_id,
        "code": pickup.code,
        "qr_png_base64": base64.b64encode(pickup.qr_png).decode(),
        "store": pickup.store,
        "deadline": pickup.deadline.isoformat() if pickup.deadline else None,
    }


class AppPushNotifier:
    """App push as a webhook: a `notification.push` domain event, written in the caller's
    transaction, which the webhook fan-out delivers (signed, retried) to every subscription of
    that topic; the app backend subscribes and pushes to the customer's devices. Because the
    event commits together with the notification's `sent` status, a push goes out exactly once.

    A push carrying a pickup pass is the exception: the fan-out builds the webhook body from the
    stored event, and the outbox (shown in the cockpit) must never hold a pickup code. So it is
    posted here, signed like every webhook, only to subscriptions naming `notification.push`
    explicitly (a catch-all "*" subscriber, e.g. a data warehouse, gets no codes). Like an
    email, it may then arrive twice if we crash between the post and our commit; the repeated
    `webhook-id` lets the app backend drop the duplicate. A failed post raises, and the
    notification is retried like a failed email."""

    writes_to_database = True

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
        if message.pickup is not None:
            payload["pickup"] = _pickup_payload(message.pickup)
            self._post_directly(message.notification_id, payload)
            return
        event_emit(topic=PUSH_TOPIC, aggregate_type="notification",
                   aggregate_id=message.notification_id, payload=payload)

    def _post_directly(self, notification_id: int, payload: dict[str, Any]) -> None:
        webhook_id = str(uuid.uuid5(DIRECT_PUSH_NAMESPACE, f"notification:{notification_id}"))
        # The same envelope as the fan-out's (oms.core.webhooks.services), so the app backend
        # parses and verifies both alike.
        body = json.dumps({"id": webhook_id, "type": PUSH_TOPIC,
                           "timestamp": timezone.now().isoformat(), "data": payload},
                          separators=(",", ":"), sort_keys=True).encode()
        sender = default_sender()
        failures = []
        for subscription in WebhookSubscription.objects.filter(is_active=True).order_by("pk"):
            if PUSH_TOPIC not in subscription.topics:
                continue
            headers = signed_headers(subscription.secret, f"msg_{webhook_id}", int(time.time()),
                                     body)
            result = sender.post(subscription.url, body, headers)
            if not result.ok:
                failures.append(f"{subscription.url}: {result.error or result.status}")
        if failures:
            raise NotificationNotSent("push not accepted by " + "; ".join(failures))


@dataclass
class FakeNotifier:
    """Records what it is given; raises `fail_with` (if set) instead of recording."""

    fail_with: Exception | None = None
    sent: list[OutgoingMessage] = field(default_factory=list)
    writes_to_database: bool = True

    def send(self, message: OutgoingMessage) -> None:
        if self.fail_with is not None:
            raise self.fail_with
        self.sent.append(message)


def channel_reaches_anyone(channel: str) -> bool:
    """App push reaches customers only through an app backend subscribed to `notification.push`
    by name (as `_post_directly` requires); without one, a push row would be marked sent with
    nobody to deliver it to. Email always has its recipient."""
    return channel != "push" or topic_named(PUSH_TOPIC)


def notifier_for(channel: str) -> Notifier:
    return import_string(settings.NOTIFICATION_NOTIFIERS[channel])()
