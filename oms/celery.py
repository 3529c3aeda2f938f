"""The Celery application, started with ``celery -A oms worker`` / ``celery -A oms beat``."""

import os
from typing import Any

from celery import Celery
from celery.signals import task_postrun

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "oms.settings")

app = Celery("oms")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()


@task_postrun.connect
def _close_old_connections(task: Any = None, **_kwargs: Any) -> None:
    """After each task a worker ran, what Django does after each request: drop a connection that
    is older than CONN_MAX_AGE, was left in a transaction or failed and does not answer.
    Infrastructure, not business logic; it replaces Celery's close-after-every-task
    (`CELERY_DB_REUSE_MAX`). Not after a task run in-process (eager), which may be inside the
    caller's transaction."""
    if task is not None and getattr(task.request, "is_eager", False):
        return
    from django.db import close_old_connections

    close_old_connections()
