"""Sending an HTTP POST to a subscriber: a Protocol, the real urllib implementation, a fake.

The real sender goes through the outbound guard (oms/core/outbound.py): the URL is checked again
before sending (a row may predate the rule), the connected peer is checked after DNS resolution,
and redirects are not followed. A refusal is a failed attempt like an unreachable host."""

from __future__ import annotations

import urllib.error
import urllib.request
from dataclasses import dataclass, field
from typing import Protocol

from django.conf import settings
from django.utils import translation
from django.utils.module_loading import import_string

from oms.core.outbound import outbound_opener, outbound_url_refusal


@dataclass(frozen=True)
class SendResult:
    status: int | None
    error: str = ""

    @property
    def ok(self) -> bool:
        return self.status is not None and 200 <= self.status < 300


class WebhookSender(Protocol):
    def post(self, url: str, body: bytes, headers: dict[str, str]) -> SendResult: ...


class HttpWebhookSender:
    def __init__(self, timeout: float | None = None) -> None:
        self.timeout = timeout or settings.WEBHOOK_TIMEOUT_SECONDS
        self.opener = outbound_opener()

    def post(self, url: str, body: bytes, headers: dict[str, str]) -> SendResult:
        with translation.override(None):  # the attempt's log is for operators: English
            refusal = outbound_url_refusal(url)
        if refusal is not None:
            return SendResult(status=None, error=f"refused: {refusal.code}: {refusal.message}")
        request = urllib.request.Request(url, data=body, headers=headers, method="POST")
        try:
            with self.opener.open(request, timeout=self.timeout) as response:
                return SendResult(status=response.status)
        except urllib.error.HTTPError as exc:
            if 300 <= exc.code < 400:
                return SendResult(status=exc.code,
                                  error=f"HTTP {exc.code} (redirects are not followed)")
            return SendResult(status=exc.code, error=f"HTTP {exc.code}")
        except (urllib.error.URLError, OSError) as exc:
            return SendResult(status=None, error=str(getattr(exc, "reason", exc))[:500])


@dataclass
class FakeWebhookSender:
    """Records every call; answers with the queued statuses, then with `default_status`."""

    statuses: list[int] = field(default_factory=list)
    default_status: int = 200
    calls: list[tuple[str, bytes, dict[str, str]]] = field(default_factory=list)

    def post(self, url: str, body: bytes, headers: dict[str, str]) -> SendResult:
        self.calls.append((url, body, headers))
        status = self.statuses.pop(0) if self.statuses else self.default_status
        return SendResult(status=status, error="" if 200 <= status < 300 else f"HTTP {status}")


def default_sender() -> WebhookSender:
    return import_string(
        getattr(settings, "WEBHOOK_SENDER", "oms.core.webhooks.sender.HttpWebhookSender")
    )()
