"""Liveness, readiness and metrics endpoints for the platform, not for API clients."""

from __future__ import annotations

import os
from typing import Any, Protocol

from django.conf import settings
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.views.decorators.http import require_GET
from prometheus_client import CONTENT_TYPE_LATEST, REGISTRY, CollectorRegistry, generate_latest
from prometheus_client.core import GaugeMetricFamily

from oms.core.attempts.states import AttemptStatus
from oms.core.models import Attempt, OutboxEvent
from oms.core.sql import database_answers


@require_GET
def healthz(request: HttpRequest) -> JsonResponse:
    return JsonResponse({"status": "ok"})


def _database_ok() -> str | None:
    try:
        database_answers()
        return None
    except Exception as exc:
        return str(exc)[:200]


def _broker_ok() -> str | None:
    if settings.CELERY_TASK_ALWAYS_EAGER:
        return None  # embedded mode: tasks run in-process, there is no broker to reach
    from oms.celery import app

    try:
        with app.connection_for_write() as conn:
            conn.ensure_connection(max_retries=1, timeout=2)
        return None
    except Exception as exc:
        return str(exc)[:200]


@require_GET
def readyz(request: HttpRequest) -> JsonResponse:
    checks = {"database": _database_ok(), "broker": _broker_ok()}
    ready = all(v is None for v in checks.values())
    return JsonResponse(
        {"status": "ok" if ready else "unavailable",
         "checks": {k: "ok" if v is None else v for k, v in checks.items()}},
        status=200 if ready else 503,
    )


class BacklogCollector:
    """Business gauges read at scrape time: what is waiting to leave the service."""

    def collect(self):
        outbox = GaugeMetricFamily("oms_outbox_unpublished", "Outbox events not yet published")
        outbox.add_metric([], OutboxEvent.objects.filter(published_at__isnull=True).count())
        yield outbox
        webhooks = GaugeMetricFamily(
            "oms_webhook_deliveries", "Webhook deliveries by status", labels=["status"]
        )
        for status in (AttemptStatus.PENDING, AttemptStatus.DEAD):
            webhooks.add_metric([status], Attempt.objects.filter(kind="webhook",
                                                                 status=status).count())
        yield webhooks


class MetricsCollector(Protocol):
    """A prometheus_client custom collector: `collect()` yields metric families, read at
    scrape time."""

    def collect(self) -> Any: ...


# Gauges of the apps above the core (pickup offers, ...): oms.core may not import them
# (ARCHITECTURE.md rule 1), so each registers its collector in its `AppConfig.ready`.
_collectors: list[MetricsCollector] = []


def metrics_collector_register(collector: MetricsCollector) -> None:
    """Add `collector`'s gauges to /metrics. Registering the same object again changes nothing
    (`ready()` may run more than once)."""
    if not any(known is collector for known in _collectors):
        _collectors.append(collector)


@require_GET
def metrics(request: HttpRequest) -> HttpResponse:
    registry = CollectorRegistry()
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        from prometheus_client import multiprocess

        multiprocess.MultiProcessCollector(registry)
    else:
        registry = REGISTRY
    body = generate_latest(registry)
    body += generate_latest(_backlog_registry())
    return HttpResponse(body, content_type=CONTENT_TYPE_LATEST)


def _backlog_registry() -> CollectorRegistry:
    registry = CollectorRegistry(auto_describe=False)
    registry.register(BacklogCollector())
    for collector in _collectors:
        registry.register(collector)
    return registry
