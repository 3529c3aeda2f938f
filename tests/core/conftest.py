"""Fixtures for the core kernel's tests: the real Redis broker (inspected or consumed by an
in-process worker), a real HTTP server receiving webhooks, and real threads with their own
database connections."""

from __future__ import annotations

import socket
from collections.abc import Iterator
from typing import Any, TypeVar

import pytest
from celery.contrib.testing.worker import start_worker
from django.conf import settings as django_settings

from oms.celery import app as celery_app
from tests.core import handlers  # noqa: F401  (registers the test event handlers)
from tests.core.support import BrokerQueues

T = TypeVar("T")


@pytest.fixture(autouse=True, scope="session")
def _real_postgres_and_redis() -> None:
    """These tests exercise row locks, advisory locks and the broker: they need the PostgreSQL
    and Redis given to the suite, not the demo's embedded server and in-process tasks."""
    if django_settings.DEMO_MODE or not django_settings.REDIS_URL:
        pytest.fail("tests/core need DATABASE_URL (PostgreSQL) and REDIS_URL (a Redis db used "
                    "only by tests, e.g. redis://127.0.0.1:6379/15)", pytrace=False)


# --- The broker -----------------------------------------------------------------------------


@pytest.fixture
def unreachable_broker(monkeypatch: pytest.MonkeyPatch) -> None:
    """A broker outage: publishing goes to a port nobody listens on, so every `.delay()` fails
    (after kombu's short publish retries) as it would with Redis down."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    monkeypatch.setattr(celery_app.conf, "broker_url", f"redis://127.0.0.1:{port}/0")
    # Celery caches its connection and producer pools per app; new ones pick up the dead URL.
    monkeypatch.setattr(celery_app, "_pool", None)
    monkeypatch.setattr(celery_app.amqp, "_producer_pool", None)
    celery_app.conf.task_always_eager = False  # the shared autouse fixture restores it


@pytest.fixture
def celery_worker(broker: BrokerQueues, transactional_db: None) -> Iterator[Any]:
    """An in-process Celery worker (solo pool, in a thread) consuming the real Redis broker.
    Needs committed data, hence `transactional_db`; like a deployed worker it keeps its
    database connection from task to task (`oms.celery`, `CELERY_DB_REUSE_MAX`)."""
    hijack = celery_app.conf.worker_hijack_root_logger
    celery_app.conf.worker_hijack_root_logger = False  # keep the project's logging config
    try:
        with start_worker(celery_app, pool="solo", perform_ping_check=False,
                          shutdown_timeout=20) as worker:
            yield worker
    finally:
        celery_app.conf.worker_hijack_root_logger = hijack




