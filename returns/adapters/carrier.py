"""Return labels from a carrier: a Protocol, the HTTP implementation and a fake for tests.

`settings.RETURN_LABEL_ADAPTER` names the implementation by dotted path: a class is instantiated
for each use, anything else (the module-level `fake`) is used as it is. Every request carries an
idempotency key (the return's number): asked twice, the carrier answers the first label.
"""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from itertools import count
from typing import Any, Protocol

from django.conf import settings
from django.utils.module_loading import import_string

from oms.core.outbound import outbound_opener

RETRYABLE_HTTP = frozenset({408, 409, 425, 429})


@dataclass(frozen=True)
class LabelRequest:
    reference: str  # the return's number; also the idempotency key
    sender: dict[str, Any]  # the customer's address
    recipient: dict[str, Any]  # the site taking the parcel back
    weight_grams: int | None = None


@dataclass(frozen=True)
class LabelResult:
    ok: bool
    label_url: str = ""
    tracking_number: str = ""
    carrier: str = ""
    http_status: int | None = None
    error: str = ""
    retryable: bool = False

    @classmethod
    def failed(cls, error: str, *, http_status: int | None = None,
               retryable: bool = True) -> LabelResult:
        return cls(ok=False, error=error[:1000], http_status=http_status, retryable=retryable)


class ReturnLabelCarrier(Protocol):
    def create_return_label(self, request: LabelRequest) -> LabelResult: ...


class HttpReturnLabelCarrier:
    """POSTs JSON to ``{CARRIER_API_URL}/return-labels`` with ``Authorization: Bearer
    {CARRIER_API_KEY}`` and ``Idempotency-Key: <return number>``; expects ``{"label_url",
    "tracking_number", "carrier"}``. Failures come back as results, never raise."""

    def __init__(self, *, base_url: str | None = None, api_key: str | None = None,
                 timeout: float | None = None) -> None:
        self.base_url = (settings.CARRIER_API_URL if base_url is None else base_url).rstrip("/")
        self.api_key = settings.CARRIER_API_KEY if api_key is None else api_key
        self.timeout = timeout or settings.CARRIER_TIMEOUT_SECONDS

    def create_return_label(self, request: LabelRequest) -> LabelResult:
        if not self.base_url:
            return LabelResult.failed("CARRIER_API_URL is not set", retryable=False)
        body = json.dumps({"reference": request.reference, "sender": request.sender,
                           "recipient": request.recipient,
                           "weight_grams": request.weight_grams}).encode()
        http_request = urllib.request.Request(
            f"{self.base_url}/return-labels", data=body, method="POST",
            headers={"Content-Type": "application/json", "Accept": "application/json",
                     "Authorization": f"Bearer {self.api_key}",
                     "Idempotency-Key": request.reference})
        try:
            with outbound_opener().open(http_request, timeout=self.timeout) as response:
                answer = _json(response.read())
        except urllib.error.HTTPError as exc:
            status = exc.code
            return LabelResult.failed(f"HTTP {status}", http_status=status,
                                      retryable=status >= 500 or status in RETRYABLE_HTTP)
        except (urllib.error.URLError, OSError) as exc:
            return LabelResult.failed(str(getattr(exc, "reason", exc)) or type(exc).__name__)
        label_url = str(answer.get("label_url") or "")
        if not label_url.startswith("https://"):
            return LabelResult.failed("the carrier answered without an https label_url",
                                      http_status=response.status, retryable=False)
        return LabelResult(ok=True, label_url=label_url[:500],
                           tracking_number=str(answer.get("tracking_number") or "")[:100],
                           carrier=str(answer.get("carrier") or "")[:50],
                           http_status=response.status)


def _json(raw: bytes) -> dict[str, Any]:
    try:
        value = json.loads(raw or b"{}")
    except ValueError:
        return {}
    return value if isinstance(value, dict) else {}


@dataclass
class FakeReturnLabelCarrier:
    """Answers every request with a label URL and a tracking number (the same again for a
    reference it saw); queue failures in `fail_next`."""

    fail_next: list[LabelResult] = field(default_factory=list)
    requests: list[LabelRequest] = field(default_factory=list)
    _labels: dict[str, LabelResult] = field(default_factory=dict)
    _ids: count = field(default_factory=lambda: count(1))

    def reset(self) -> None:
        self.fail_next.clear()
        self.requests.clear()
        self._labels.clear()

    def create_return_label(self, request: LabelRequest) -> LabelResult:
        self.requests.append(request)
        if request.reference in self._labels:
            return self._labels[request.reference]
        if self.fail_next:
            return self.fail_next.pop(0)
        number = f"RT{next(self._ids):010d}"
        result = LabelResult(ok=True, carrier="dhl", tracking_number=number, http_status=201,
                             label_url=f"https://labels.example.com/{request.reference}.pdf")
        self._labels[request.reference] = result
        return result


# The process-wide fake: tests and the demo set RETURN_LABEL_ADAPTER to it.
fake = FakeReturnLabelCarrier()


def carrier_adapter() -> ReturnLabelCarrier:
    target = import_string(settings.RETURN_LABEL_ADAPTER)
    return target() if isinstance(target, type) else target
