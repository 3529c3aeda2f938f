"""The PSP adapter: the HTTP implementation against a real local HTTP server, the fake, and the
setting that chooses between them."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from decimal import Decimal
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

from payments.adapters.psp import (
    FakePaymentServiceProvider,
    HttpPaymentServiceProvider,
    PspResult,
    fake,
    psp_adapter,
)

API_KEY = "sk_test_4711"


@dataclass
class PspServer:
    """A PSP on 127.0.0.1: checks the bearer key and the Idempotency-Key header, answers each
    key's first result again for a repeated key, and can be told to fail or stall."""

    port: int = 0
    status: int = 201
    answer: dict[str, Any] = field(default_factory=dict)
    delay: float = 0.0
    requests: list[dict[str, Any]] = field(default_factory=list)
    by_key: dict[str, dict[str, Any]] = field(default_factory=dict)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/v1"


@pytest.fixture
def psp_server() -> Iterator[PspServer]:
    state = PspServer()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = json.loads(self.rfile.read(int(self.headers.get("Content-Length", "0"))))
            key = self.headers.get("Idempotency-Key")
            state.requests.append({"path": self.path, "headers": dict(self.headers),
                                   "body": body})
            if state.delay:
                threading.Event().wait(state.delay)
            if self.headers.get("Authorization") != f"Bearer {API_KEY}":
                return self.reply(401, {"error": {"message": "invalid API key"}})
            if not key:
                return self.reply(400, {"error": "Idempotency-Key header missing"})
            if key not in state.by_key:
                state.by_key[key] = {"id": f"op_{len(state.by_key) + 1}", **state.answer}
            return self.reply(state.status, state.by_key[key])

        def reply(self, status: int, payload: dict[str, Any]) -> None:
            raw = json.dumps(payload).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(raw)))
            self.end_headers()
            self.wfile.write(raw)

        def log_message(self, format: str, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    state.port = server.server_address[1]
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield state
    server.shutdown()
    server.server_close()
    thread.join(timeout=5)


def adapter(server: PspServer, *, api_key: str = API_KEY, timeout: float = 5) -> Any:
    return HttpPaymentServiceProvider(base_url=server.url, api_key=api_key, timeout=timeout)


def capture(provider: Any, key: str = "capture:evt-1:7", amount: str = "12.34") -> PspResult:
    return provider.capture(psp_reference="psp_42", amount=Decimal(amount), currency="EUR",
                            idempotency_key=key)


# --- HTTP -------------------------------------------------------------------------------------


def test_a_capture_is_posted_as_json_with_the_bearer_key_and_the_idempotency_key(psp_server):
    # When the adapter captures 12.34 EUR
    result = capture(adapter(psp_server))

    # Then the PSP got one JSON POST to /captures, authenticated, carrying the key
    assert result == PspResult(ok=True, reference="op_1", http_status=201)
    [request] = psp_server.requests
    assert request["path"] == "/v1/captures"
    assert request["headers"]["Authorization"] == f"Bearer {API_KEY}"
    assert request["headers"]["Idempotency-Key"] == "capture:evt-1:7"
    assert request["headers"]["Content-Type"] == "application/json"
    assert request["body"] == {"psp_reference": "psp_42", "amount": "12.34", "currency": "EUR"}


def test_the_same_key_twice_gets_the_first_capture_back(psp_server):
    provider = adapter(psp_server)
    first, second = capture(provider), capture(provider)
    assert first.reference == second.reference == "op_1"
    assert len(psp_server.by_key) == 1


def test_a_refund_goes_to_the_refunds_endpoint(psp_server):
    result = adapter(psp_server).refund(psp_reference="psp_42", amount=Decimal("5.00"),
                                        currency="EUR", idempotency_key="refund:r-1")
    assert result.ok
    assert psp_server.requests[0]["path"] == "/v1/refunds"
    assert psp_server.requests[0]["headers"]["Idempotency-Key"] == "refund:r-1"


def test_a_void_goes_to_the_voids_endpoint_with_the_same_body(psp_server):
    # When the adapter releases 5.00 of an authorization
    result = adapter(psp_server).void(psp_reference="psp_42", amount=Decimal("5.00"),
                                      currency="EUR", idempotency_key="void:evt-1:7")

    # Then it POSTed to /voids with the key, like a capture or refund
    assert result == PspResult(ok=True, reference="op_1", http_status=201)
    [request] = psp_server.requests
    assert request["path"] == "/v1/voids"
    assert request["headers"]["Idempotency-Key"] == "void:evt-1:7"
    assert request["body"] == {"psp_reference": "psp_42", "amount": "5.00", "currency": "EUR"}


def test_a_wrong_key_is_a_failed_result_with_the_psps_reason_not_an_exception(psp_server):
    result = capture(adapter(psp_server, api_key="sk_wrong"))
    assert result == PspResult(ok=False, http_status=401, error="HTTP 401: invalid API key",
                               retryable=False)


@pytest.mark.parametrize(("status", "retryable"), [
    (402, False), (422, False), (409, True), (429, True), (500, True), (503, True)])
def test_http_errors_are_failed_results_retryable_when_asking_again_may_help(
        psp_server, status, retryable):
    psp_server.status = status
    psp_server.answer = {"error": {"message": "nope"}}
    result = capture(adapter(psp_server))
    assert (result.ok, result.http_status, result.retryable) == (False, status, retryable)
    assert result.error == f"HTTP {status}: nope"


def test_no_answer_within_the_timeout_is_a_retryable_failure(psp_server):
    psp_server.delay = 1.0
    result = capture(adapter(psp_server, timeout=0.2))
    assert (result.ok, result.retryable) == (False, True)
    assert "no answer within 0.2 s" in result.error


def test_a_psp_nobody_listens_on_is_a_retryable_failure(psp_server):
    provider = HttpPaymentServiceProvider(base_url="http://127.0.0.1:9/v1", api_key=API_KEY)
    result = capture(provider)
    assert (result.ok, result.retryable, result.http_status) == (False, True, None)
    assert result.error


def test_without_a_configured_url_nothing_is_sent_and_it_says_why(settings):
    settings.PSP_API_URL = ""
    result = capture(HttpPaymentServiceProvider())
    assert result == PspResult(ok=False, error="PSP_API_URL is not set", retryable=False)


def test_the_adapter_reads_url_key_and_timeout_from_the_settings(settings, psp_server):
    settings.PSP_API_URL = psp_server.url + "/"
    settings.PSP_API_KEY = API_KEY
    settings.PSP_TIMEOUT_SECONDS = 3
    provider = HttpPaymentServiceProvider()
    assert (provider.base_url, provider.timeout) == (psp_server.url, 3)
    assert capture(provider).ok


@pytest.mark.parametrize("amount", [12.34, Decimal("0"), Decimal("-1"), Decimal("1.001")])
def test_a_wrong_amount_is_a_programming_error_and_raises(psp_server, amount):
    with pytest.raises(ValueError):
        adapter(psp_server).capture(psp_reference="psp_42", amount=amount, currency="EUR",
                                    idempotency_key="k")
    assert psp_server.requests == []


# --- The fake and the setting -------------------------------------------------------------


def test_the_fake_takes_money_once_per_key_and_records_every_call():
    psp = FakePaymentServiceProvider()
    first = capture(psp, key="k1")
    again = capture(psp, key="k1")
    other = capture(psp, key="k2", amount="1.00")
    assert first == again != other
    assert len(psp.calls) == 3
    assert list(psp.captures) == ["k1", "k2"]
    assert psp.captured_total("psp_42") == Decimal("13.34")


def test_the_fake_voids_and_refunds_once_per_key():
    psp = FakePaymentServiceProvider()
    void = [psp.void(psp_reference="psp_42", amount=Decimal("5.00"), currency="EUR",
                     idempotency_key="v1") for _ in range(2)]
    refund = [psp.refund(psp_reference="psp_42", amount=Decimal("5.00"), currency="EUR",
                         idempotency_key="r1") for _ in range(2)]
    assert void[0] == void[1] and void[0].reference.startswith("void_")
    assert refund[0] == refund[1] and refund[0].reference.startswith("ref_")
    assert (list(psp.voids), list(psp.refunds), len(psp.calls)) == (["v1"], ["r1"], 4)


def test_the_fake_forgets_a_retryable_failure_but_not_a_refusal():
    psp = FakePaymentServiceProvider()
    psp.fail_next.append(PspResult.failed("HTTP 503", http_status=503))
    assert not capture(psp, key="k1").ok
    assert capture(psp, key="k1").ok  # 503 not remembered: the retry succeeds
    psp.fail_next.append(PspResult.failed("HTTP 422", http_status=422, retryable=False))
    assert not capture(psp, key="k2").ok
    assert capture(psp, key="k2").error == "HTTP 422"  # the refusal is what k2 gets now
    assert list(psp.captures) == ["k1"]


def test_the_setting_names_a_class_to_build_or_an_instance_to_use(settings):
    settings.PSP_ADAPTER = "payments.adapters.psp.HttpPaymentServiceProvider"
    assert isinstance(psp_adapter(), HttpPaymentServiceProvider)
    settings.PSP_ADAPTER = "payments.adapters.psp.fake"
    assert psp_adapter() is fake
