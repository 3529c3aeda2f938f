"""The payment service provider: a Protocol, the HTTP implementation and a fake for tests.

`settings.PSP_ADAPTER` names the implementation by dotted path: a class is instantiated for each
use, anything else (the module-level `fake` below) is used as it is.

Every operation (capture, refund, void: the release of an authorization that will not be
captured) carries an idempotency key the PSP must honour: asked twice with one key it captures
(refunds, voids) once and answers the first result again. That, and not our bookkeeping alone,
is what makes a capture or refund retried after a crash safe.
"""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from decimal import Decimal
from itertools import count
from typing import Any, Protocol

from django.conf import settings
from django.utils.module_loading import import_string

# HTTP answers after which the same request may succeed later: timeouts, conflicts with a
# request still running under the same key, rate limits, and every server error.
RETRYABLE_HTTP = frozenset({408, 409, 425, 429})


@dataclass(frozen=True)
class PspResult:
    """The outcome of one capture, refund or void call. `retryable` says whether asking again (with
    the same idempotency key) may succeed; a refusal such as an expired authorization is not."""

    ok: bool
    reference: str = ""  # the PSP's id of the capture or refund
    http_status: int | None = None
    error: str = ""
    retryable: bool = False

    @classmethod
    def failed(cls, error: str, *, http_status: int | None = None,
               retryable: bool = True) -> PspResult:
        return cls(ok=False, error=error[:1000], http_status=http_status, retryable=retryable)


CaptureResult = PspResult
RefundResult = PspResult
VoidResult = PspResult


class PaymentServiceProvider(Protocol):
    def capture(self, *, psp_reference: str, amount: Decimal, currency: str,
                idempotency_key: str) -> CaptureResult: ...

    def refund(self, *, psp_reference: str, amount: Decimal, currency: str,
               idempotency_key: str) -> RefundResult: ...

    def void(self, *, psp_reference: str, amount: Decimal, currency: str,
             idempotency_key: str) -> VoidResult: ...


def _check_arguments(psp_reference: str, amount: Decimal, currency: str,
                     idempotency_key: str) -> None:
    """Wrong arguments are a bug in the caller, not a PSP answer: they raise."""
    if not isinstance(amount, Decimal) or amount <= 0 or amount != amount.quantize(
            Decimal("0.01")):
        raise ValueError(f"amount must be a positive Decimal with at most 2 places: {amount!r}")
    if not psp_reference or not idempotency_key:
        raise ValueError("psp_reference and idempotency_key are required")
    if len(currency) != 3 or not currency.isupper():
        raise ValueError(f"currency must be an ISO code: {currency!r}")


class HttpPaymentServiceProvider:
    """POSTs JSON to ``{PSP_API_URL}/captures``, ``/refunds`` and ``/voids`` with
    ``Authorization: Bearer {PSP_API_KEY}`` and an ``Idempotency-Key`` header. Every HTTP or
    network failure comes back as a failed result with the reason; nothing raises except a
    wrong call."""

    def __init__(self, *, base_url: str | None = None, api_key: str | None = None,
                 timeout: float | None = None) -> None:
        self.base_url = (settings.PSP_API_URL if base_url is None else base_url).rstrip("/")
        self.api_key = settings.PSP_API_KEY if api_key is None else api_key
        self.timeout = timeout or settings.PSP_TIMEOUT_SECONDS

    def capture(self, *, psp_reference: str, amount: Decimal, currency: str,
                idempotency_key: str) -> CaptureResult:
        return self._post("captures", psp_reference, amount, currency, idempotency_key)

    def refund(self, *, psp_reference: str, amount: Decimal, currency: str,
               idempotency_key: str) -> RefundResult:
        return self._post("refunds", psp_reference, amount, currency, idempotency_key)

    def void(self, *, psp_reference: str, amount: Decimal, currency: str,
             idempotency_key: str) -> VoidResult:
        return self._post("voids", psp_reference, amount, currency, idempotency_key)

    def _post(self, operation: str, psp_reference: str, amount: Decimal, currency: str,
              idempotency_key: str) -> PspResult:
        _check_arguments(psp_reference, amount, currency, idempotency_key)
        if not self.base_url:
            # Not retryable: nothing changes until someone configures it (the cockpit can
            # retry the capture afterwards).
            return PspResult.failed("PSP_API_URL is not set", retryable=False)
        body = json.dumps({"psp_reference": psp_reference, "amount": str(amount),
                           "currency": currency}).encode()
        request = urllib.request.Request(
            f"{self.base_url}/{operation}", data=body, method="POST",
            headers={"Content-Type": "application/json", "Accept": "application/json",
                     "Authorization": f"Bearer {self.api_key}",
                     "Idempotency-Key": idempotency_key},
        )
        try:
            with urllib.request.urlopen(request, timeout=self.timeout) as response:
                answer = _json(response.read())
                return PspResult(ok=True, http_status=response.status,
                                 reference=str(answer.get("id") or answer.get("reference") or ""))
        except urllib.error.HTTPError as exc:
            status = exc.code
            reason = _reason(exc.read() if exc.fp else b"") or exc.reason or ""
            return PspResult.failed(f"HTTP {status}: {reason}".rstrip(": "), http_status=status,
                                    retryable=status >= 500 or status in RETRYABLE_HTTP)
        except TimeoutError:
            return PspResult.failed(f"no answer within {self.timeout:g} s")
        except (urllib.error.URLError, OSError) as exc:
            reason = getattr(exc, "reason", exc)
            if isinstance(reason, TimeoutError):
                return PspResult.failed(f"no answer within {self.timeout:g} s")
            return PspResult.failed(str(reason) or type(reason).__name__)


def _json(raw: bytes) -> dict[str, Any]:
    try:
        value = json.loads(raw or b"{}")
    except ValueError:
        return {}
    return value if isinstance(value, dict) else {}


def _reason(raw: bytes) -> str:
    answer = _json(raw)
    for key in ("error", "message", "detail"):
        value = answer.get(key)
        if isinstance(value, dict):
            value = value.get("message") or value.get("code")
        if value:
            return str(value)[:500]
    return raw.decode("utf-8", "replace").strip()[:500]


@dataclass(frozen=True)
class PspCall:
    operation: str  # "capture" | "refund" | "void"
    psp_reference: str
    amount: Decimal
    currency: str
    idempotency_key: str


@dataclass
class FakePaymentServiceProvider:
    """Behaves like an idempotent PSP and records what it was asked.

    `calls` has every call; `captures`, `refunds` and `voids` only the operations that moved
    money (or released it), keyed by idempotency key: a repeated key returns the first result
    and does nothing twice. Queue
    results in `fail_next` (e.g. ``PspResult.failed("HTTP 503")``) to answer the next calls
    with them; a retryable failure is not remembered, so the same key may succeed later."""

    fail_next: list[PspResult] = field(default_factory=list)
    calls: list[PspCall] = field(default_factory=list)
    captures: dict[str, PspCall] = field(default_factory=dict)
    refunds: dict[str, PspCall] = field(default_factory=dict)
    voids: dict[str, PspCall] = field(default_factory=dict)
    _results: dict[tuple[str, str], PspResult] = field(default_factory=dict)
    _ids: count = field(default_factory=lambda: count(1))

    def reset(self) -> None:
        self.fail_next.clear()
        self.calls.clear()
        self.captures.clear()
        self.refunds.clear()
        self.voids.clear()
        self._results.clear()

    def capture(self, *, psp_reference: str, amount: Decimal, currency: str,
                idempotency_key: str) -> CaptureResult:
        return self._call(PspCall("capture", psp_reference, amount, currency, idempotency_key),
                          self.captures)

    def refund(self, *, psp_reference: str, amount: Decimal, currency: str,
               idempotency_key: str) -> RefundResult:
        return self._call(PspCall("refund", psp_reference, amount, currency, idempotency_key),
                          self.refunds)

    def void(self, *, psp_reference: str, amount: Decimal, currency: str,
             idempotency_key: str) -> VoidResult:
        return self._call(PspCall("void", psp_reference, amount, currency, idempotency_key),
                          self.voids)

    def captured_total(self, psp_reference: str) -> Decimal:
        return sum((c.amount for c in self.captures.values()
                    if c.psp_reference == psp_reference), Decimal("0.00"))

    def _call(self, call: PspCall, ledger: dict[str, PspCall]) -> PspResult:
        _check_arguments(call.psp_reference, call.amount, call.currency, call.idempotency_key)
        self.calls.append(call)
        key = (call.operation, call.idempotency_key)
        if key in self._results:
            return self._results[key]
        if self.fail_next:
            result = self.fail_next.pop(0)
            if not result.retryable:
                self._results[key] = result
            return result
        prefix = {"capture": "cap", "refund": "ref", "void": "void"}[call.operation]
        result = PspResult(ok=True, http_status=201, reference=f"{prefix}_{next(self._ids)}")
        self._results[key] = result
        ledger[call.idempotency_key] = call
        return result


# The process-wide fake: tests set ``PSP_ADAPTER = "payments.adapters.psp.fake"`` and inspect it.
fake = FakePaymentServiceProvider()


def psp_adapter() -> PaymentServiceProvider:
    target = import_string(settings.PSP_ADAPTER)
    return target() if isinstance(target, type) else target
