"""A worker keeps its database connection from task to task, as gunicorn keeps one from request
to request, and drops it only when Django would (oms.celery, CELERY_DB_REUSE_MAX)."""

from __future__ import annotations

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
