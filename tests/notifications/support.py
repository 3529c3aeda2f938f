"""Test doubles at the edges: email backends that fail or dawdle, a webhook sender that records."""

from __future__ import annotations

import smtplib
import time
from typing import Any, ClassVar

from django.core.mail.backends.locmem import EmailBackend as LocmemBackend

from oms.core.webhooks.sender import SendResult


class FailingEmailBackend(LocmemBackend):
    """The SMTP server is down."""

    def send_messages(self, messages: Any) -> int:
        raise smtplib.SMTPConnectError(421, "service not available")


class SlowEmailBackend(LocmemBackend):
    """Accepts mail, slowly: a second worker arrives while the first is still sending."""

    def send_messages(self, messages: Any) -> int:
        time.sleep(0.5)
        return super().send_messages(messages)


class RecordingWebhookSender:
    """Answers 200 to every webhook and keeps what was posted (the class is instantiated per
    delivery, so the record is on the class)."""

    calls: ClassVar[list[tuple[str, bytes, dict[str, str]]]] = []

    def post(self, url: str, body: bytes, headers: dict[str, str]) -> SendResult:
        self.calls.append((url, body, headers))
        return SendResult(status=200)


class RejectingWebhookSender(RecordingWebhookSender):
    """The app backend is down: every webhook is answered 503 (and recorded)."""

    def post(self, url: str, body: bytes, headers: dict[str, str]) -> SendResult:
        self.calls.append((url, body, headers))
        return SendResult(status=503, error="HTTP 503")


def notifications() -> Any:
    """The notifications with their sending's status, tries and last error (their attempt's,
    kind ``notification``) as `status`, `attempts` and `error`."""
    from notifications.models import Notification
    from notifications.services import NOTIFICATION
    from oms.core.attempts.selectors import attempt_column

    return Notification.objects.annotate(
        status=attempt_column(NOTIFICATION, "status"),
        attempts=attempt_column(NOTIFICATION, "tries"),
        error=attempt_column(NOTIFICATION, "last_error"),
        next_attempt_at=attempt_column(NOTIFICATION, "next_attempt_at"),
        sent_at=attempt_column(NOTIFICATION, "finished_at")).order_by("pk")


def runs_of(*rows: Any) -> list[list[int]]:
    """What `send_notifications` takes for these notifications: [attempt id, tries]."""
    from notifications.services import NOTIFICATION
    from oms.core.attempts.selectors import attempt_of

    runs = []
    for row in rows:
        attempt = attempt_of(kind=NOTIFICATION, target_id=row.pk)
        assert attempt is not None
        runs.append([attempt.pk, attempt.tries])
    return runs
