"""The return-label adapter: the HTTP implementation against a real local HTTP server, and the
setting that chooses it."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

from returns.adapters.carrier import (
    FakeReturnLabelCarrier,
    HttpReturnLabelCarrier,
    LabelRequest,
    carrier_adapter,
)

REQUEST = LabelRequest(reference="1000001-R1",
                       sender={"name": "Kim Weber", "line1": "Unter den Linden 1",
                               "postal_code": "10117", "city": "Berlin", "country": "DE"},
                       recipient={"name": "Zentrallager Kassel", "city": "Kassel"})


class Carrier:
    """A label service on 127.0.0.1 answering each request with `status` and `answer`."""

    def __init__(self) -> None:
        self.status = 201
        self.answer: dict[str, Any] = {"label_url": "https://labels.example.com/1.pdf",
                                       "tracking_number": "RT0000000001", "carrier": "dhl"}
        self.requests: list[tuple[dict[str, str], dict[str, Any]]] = []


@pytest.fixture
def carrier_server() -> Iterator[tuple[Carrier, str]]:
    carrier = Carrier()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
            carrier.requests.append(({k.lower(): v for k, v in self.headers.items()}, body))
            payload = json.dumps(carrier.answer).encode()
            self.send_response(carrier.status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield carrier, f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()


def test_a_label_is_asked_with_the_key_and_the_return_number_as_idempotency_key(
        carrier_server: tuple[Carrier, str]) -> None:
    # given a carrier's label service
    carrier, url = carrier_server
    adapter = HttpReturnLabelCarrier(base_url=url, api_key="ck_test", timeout=5)

    # when a label is asked for a return
    result = adapter.create_return_label(REQUEST)

    # then it is posted as JSON with the bearer key and the return number as idempotency key,
    # and the label comes back
    assert result.ok and result.label_url == "https://labels.example.com/1.pdf"
    assert (result.tracking_number, result.carrier) == ("RT0000000001", "dhl")
    [(headers, body)] = carrier.requests
    assert headers["authorization"] == "Bearer ck_test"
    assert headers["idempotency-key"] == "1000001-R1"
    assert body["reference"] == "1000001-R1" and body["sender"]["city"] == "Berlin"


@pytest.mark.parametrize(("status", "answer", "retryable"), [
    (503, {}, True),
    (429, {}, True),
    (422, {"error": "address unknown"}, False),
    (201, {"label_url": "http://insecure.example/label.pdf"}, False),
])
def test_a_refusal_or_an_outage_is_a_failed_result_never_an_exception(
        carrier_server: tuple[Carrier, str], status: int, answer: dict[str, Any],
        retryable: bool) -> None:
    # given a carrier that fails, refuses, or answers a label that is not https
    carrier, url = carrier_server
    carrier.status, carrier.answer = status, answer

    # when a label is asked
    result = HttpReturnLabelCarrier(base_url=url, api_key="k", timeout=5) \
        .create_return_label(REQUEST)

    # then the result says so, and whether trying again may help
    assert not result.ok
    assert result.retryable is retryable


def test_without_a_configured_carrier_labels_fail_visibly_and_are_not_retried() -> None:
    result = HttpReturnLabelCarrier(base_url="", api_key="").create_return_label(REQUEST)
    assert not result.ok and not result.retryable
    assert "CARRIER_API_URL" in result.error


def test_the_setting_chooses_the_fake_or_the_http_adapter(settings: Any) -> None:
    settings.RETURN_LABEL_ADAPTER = "returns.adapters.carrier.fake"
    assert isinstance(carrier_adapter(), FakeReturnLabelCarrier)
    settings.RETURN_LABEL_ADAPTER = "returns.adapters.carrier.HttpReturnLabelCarrier"
    assert isinstance(carrier_adapter(), HttpReturnLabelCarrier)
