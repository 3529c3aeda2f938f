"""Handing a fulfilment order to a location's system: a Protocol, the HTTP implementation
(a signed JSON POST, exactly like our webhooks) and a fake for tests."""

from __future__ import annotations

import json
import time
from dataclasses import dataclass, field
from typing import Any, Protocol

from django.conf import settings
from django.utils.module_loading import import_string

from oms.core.webhooks.sender import HttpWebhookSender, SendResult
from oms.core.webhooks.signing import signed_headers


@dataclass(frozen=True)
class Dispatch:
    url: str
    secret: str
    message_id: str  # stable across retries: the receiver drops duplicates by it
    payload: dict[str, Any]


class WarehouseGateway(Protocol):
    def send(self, dispatch: Dispatch) -> SendResult: ...


class HttpWarehouseGateway:
    def __init__(self, timeout: float | None = None) -> None:
        self.http = HttpWebhookSender(timeout=timeout or settings.WMS_TIMEOUT_SECONDS)

    def send(self, dispatch: Dispatch) -> SendResult:
        body = json.dumps(dispatch.payload, separators=(",", ":"), sort_keys=True).encode()
        headers = signed_headers(dispatch.secret, dispatch.message_id, int(time.time()), body)
        return self.http.post(dispatch.url, body, headers)


@dataclass
class FakeWarehouseGateway:
    """Records dispatches; answers with queued statuses, then `default_status`."""

    statuses: list[int] = field(default_factory=list)
    default_status: int = 200
    sent: list[Dispatch] = field(default_factory=list)

    def send(self, dispatch: Dispatch) -> SendResult:
        self.sent.append(dispatch)
        status = self.statuses.pop(0) if self.statuses else self.default_status
        return SendResult(status=status, error="" if status < 300 else f"HTTP {status}")


_fake = FakeWarehouseGateway()


def fake_gateway() -> FakeWarehouseGateway:
    """The process-wide fake, for tests and benchmarks that set WMS_GATEWAY to it."""
    return _fake


def default_gateway() -> WarehouseGateway:
    path = settings.WMS_GATEWAY
    if path == "fake":
        return _fake
    return import_string(path)()
