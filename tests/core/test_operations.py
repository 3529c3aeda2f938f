"""Probes, metrics and request ids for the platform (API.md Operations)."""

from __future__ import annotations

import re
import socket
from typing import Any

import pytest
from django.test import Client
from django.utils import timezone
from prometheus_client.parser import text_string_to_metric_families

from oms.celery import app as celery_app
from tests.factories import OutboxEventFactory

pytestmark = pytest.mark.django_db


def metric_value(text: str, name: str, **labels: str) -> float | None:
    """The value of the sample `name` with exactly these labels in a Prometheus text body."""
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            if sample.name == name and sample.labels == labels:
                return sample.value
    return None


def scrape() -> str:
    response = Client().get("/metrics")
    assert response.status_code == 200
    return response.content.decode()


def test_healthz_answers_while_the_process_is_up() -> None:
    # when the platform probes liveness
    response = Client().get("/healthz")

    # then the process answers ok
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}


def test_readyz_is_ok_when_database_and_broker_are_reachable(settings: Any) -> None:
    # given a deployment with a real broker (not the in-process demo mode)
    settings.CELERY_TASK_ALWAYS_EAGER = False

    # when the platform probes readiness
    response = Client().get("/readyz")

    # then both dependencies were reached
    assert response.status_code == 200
    assert response.json() == {"status": "ok", "checks": {"database": "ok", "broker": "ok"}}


def test_readyz_is_503_when_the_broker_is_unreachable(
    settings: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    # given the broker URL points at a port nobody listens on
    settings.CELERY_TASK_ALWAYS_EAGER = False
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    monkeypatch.setattr(celery_app.conf, "broker_url", f"redis://127.0.0.1:{port}/15")

    # when the platform probes readiness
    response = Client().get("/readyz")

    # then the instance reports itself not ready, naming the broker
    assert response.status_code == 503
    body = response.json()
    assert body["status"] == "unavailable"
    assert body["checks"]["database"] == "ok"
    assert body["checks"]["broker"] != "ok"


def test_metrics_count_requests_by_route_and_status() -> None:
    # given the current count of healthz probes
    before = metric_value(scrape(), "oms_http_requests_total",
                          method="GET", route="healthz", status="200") or 0

    # when healthz is probed twice
    Client().get("/healthz")
    Client().get("/healthz")

    # then the counter went up by two, in Prometheus text format
    response = Client().get("/metrics")
    assert response.headers["Content-Type"].startswith("text/plain")
    after = metric_value(response.content.decode(), "oms_http_requests_total",
                         method="GET", route="healthz", status="200")
    assert after == before + 2


def test_metrics_label_unknown_paths_as_one_route() -> None:
    # when scanners probe many made-up paths
    for n in range(3):
        Client().get(f"/made-up-{n}")

    # then they share one label value instead of one time series each
    text = scrape()
    assert "made-up" not in text
    assert metric_value(text, "oms_http_requests_total",
                        method="GET", route="unmatched", status="404") is not None


def test_metrics_show_the_outbox_backlog() -> None:
    # given two unpublished events and one published
    OutboxEventFactory.create_batch(2)
    OutboxEventFactory(published_at=timezone.now())

    # when metrics are scraped
    text = scrape()

    # then the backlog gauge shows what is waiting to leave
    assert metric_value(text, "oms_outbox_unpublished") == 2


def test_a_response_carries_a_generated_request_id() -> None:
    # when a request comes without an id
    response = Client().get("/healthz")

    # then the response carries a fresh one
    assert re.fullmatch(r"[0-9a-f]{32}", response.headers["X-Request-ID"])
    assert Client().get("/healthz").headers["X-Request-ID"] != response.headers["X-Request-ID"]


def test_a_sane_incoming_request_id_is_echoed(api: Any) -> None:
    # when a caller sends its own request id (also on an API error)
    response = Client().get("/api/v1/locations", HTTP_X_REQUEST_ID="lb-7f3a.42:ab_CD")

    # then the response carries the same id, so logs on both sides line up
    assert response.status_code == 401
    assert response.headers["X-Request-ID"] == "lb-7f3a.42:ab_CD"


@pytest.mark.parametrize("incoming", ["has spaces", "x" * 101, "<script>", "a\tb"])
def test_an_insane_incoming_request_id_is_replaced(incoming: str) -> None:
    # when a caller sends an id that could forge or flood log lines
    response = Client().get("/healthz", HTTP_X_REQUEST_ID=incoming)

    # then a fresh id is used instead
    assert re.fullmatch(r"[0-9a-f]{32}", response.headers["X-Request-ID"])
