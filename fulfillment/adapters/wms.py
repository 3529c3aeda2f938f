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

    def stop(self, stop: Dispatch) -> SendResult:
        """Ask the warehouse to stop a parcel (payload type ``fulfillment.stop``): 2xx means
        stopped, 409 that it was already picked or shipped."""
        ...


class HttpWarehouseGateway:
    def __init__(self, timeout: float | None = None) -> None:
        self.http = HttpWebhookSender(timeout=timeout or settings.WMS_TIMEOUT_SECONDS)

    def send(self, dispatch: Dispatch) -> SendResult:
        body = json.dumps(dispatch.payload, separators=(",", ":"), sort_keys=True).encode()
        headers = signed_headers(dispatch.secret, dispatch.message_id, int(time.time()), body)
        return self.http.post(dispatch.url, body, headers)

    def stop(self, stop: Dispatch) -> SendResult:
        # The same endpoint and signature as a dispatch; the payload's `type` tells them apart.
        return self.send(stop)


@dataclass
class FakeWarehouseGateway:
    """Records dispatches and stops; answers with queued statuses, then the default status
    (`stop_statuses` and `stop_status` for stops: 409 is "already picked or shipped")."""

    statuses: list[int] = field(default_factory=list)
    default_status: int = 200
    sent: list[Dispatch] = field(default_factory=list)
    stop_statuses: list[int] = field(default_factory=list)
    stop_status: int = 200
    stops: list[Dispatch] = field(default_factory=list)

    def send(self, dispatch: Dispatch) -> SendResult:
        self.sent.append(dispatch)
        return _answer(self.statuses.pop(0) if self.statuses else self.default_status)

    def stop(self, stop: Dispatch) -> SendResult:
        self.stops.append(stop)
        return _answer(self.stop_statuses.pop(0) if self.stop_statuses else self.stop_status)


def _answer(status: int) -> SendResult:
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
