"""A worker keeps its database connection from task to task, as gunicorn keeps one from request
to request, and drops it only when Django would (oms.celery, CELERY_DB_REUSE_MAX)."""

from __future__ import annotations

import time

import psycopg
import pytest
from celery.fixups.django import DjangoWorkerFixup
from django.db import connection

from oms.celery import _close_old_connections
from oms.celery import app as celery_app
from oms.core.tasks import relay_outbox

pytestmark = pytest.mark.django_db(transaction=True)


def between_two_tasks() -> None:
    """What a worker does after one task and before the next."""
    fixup = DjangoWorkerFixup(celery_app)  # installed by every worker
    task = relay_outbox
    fixup.on_task_postrun(sender=task)
    _close_old_connections(task=task)
    fixup.on_task_prerun(sender=task)


def test_the_next_task_uses_the_connection_of_the_last_one():
    # Given a connection a task used
    connection.ensure_connection()
    used = connection.connection
    # When the task ends and the next one starts
    between_two_tasks()
    # Then the next task needs no new PostgreSQL backend
    assert connection.connection is used


def test_a_connection_that_broke_during_a_task_is_dropped_after_it():
    # Given a task whose connection failed: its backend was terminated
    connection.ensure_connection()
    pid = connection.connection.info.backend_pid
    settings = connection.get_connection_params()
    with psycopg.connect(**settings, autocommit=True) as admin:
        admin.execute("SELECT pg_terminate_backend(%s)", [pid])
    connection.errors_occurred = True
    # When the task ends
    between_two_tasks()
    # Then the broken connection is gone, and the next query opens a fresh one
    assert connection.connection is None
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        assert cursor.fetchone()[0] != pid


# --- the same through a real worker ----------------------------------------------------------

backend_pids: list[int] = []


@celery_app.task(name="tests.core.record_backend_pid")
def record_backend_pid() -> None:
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        backend_pids.append(cursor.fetchone()[0])


def run_on_worker(expected: int) -> None:
    record_backend_pid.delay()
    deadline = time.monotonic() + 10
    while len(backend_pids) < expected and time.monotonic() < deadline:
        time.sleep(0.02)
    assert len(backend_pids) == expected, "the worker did not run the task within 10 s"


@pytest.mark.slow
def test_a_real_worker_runs_its_tasks_on_one_connection_and_replaces_a_broken_one(
        celery_worker):
    # Given a real worker consuming the Redis broker
    backend_pids.clear()
    # When it runs two tasks
    run_on_worker(1)
    run_on_worker(2)
    # Then both ran on the same PostgreSQL backend
    assert backend_pids[0] == backend_pids[1]
    # When that backend is terminated between tasks
    with psycopg.connect(**connection.get_connection_params(), autocommit=True) as admin:
        admin.execute("SELECT pg_terminate_backend(%s)", [backend_pids[1]])
    run_on_worker(3)
    # Then the next task still runs, on a new backend (Django's health check before its query)
    assert backend_pids[2] != backend_pids[1]
