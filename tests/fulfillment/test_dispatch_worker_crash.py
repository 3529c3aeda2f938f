"""A Celery worker killed in the middle of a dispatch: the database knows the dispatch is
outstanding, the beat sweep queues it again once its lease has passed, and the restarted
worker sends it. The WMS sees the same message id twice and keeps one."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
import redis
from django.conf import settings
from django.db import connection

from oms.celery import app as celery_app
from tests.fulfillment.conftest import fulfillment_of
from tests.fulfillment.test_dispatch import dispatch_of

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.slow]
ROOT = Path(__file__).resolve().parents[2]
LEASE_SECONDS = 3


def wait_for(condition: Callable[[], bool], timeout: float, what: str) -> float:
    started = time.monotonic()
    while time.monotonic() - started < timeout:
        if condition():
            return time.monotonic() - started
        time.sleep(0.2)
    raise AssertionError(f"timed out after {timeout} s waiting for {what}")


@pytest.fixture
def processes(tmp_path: Path) -> Iterator[Callable[[str], subprocess.Popen]]:
    """Start `celery -A oms worker|beat` against the test database and broker."""
    db = connection.settings_dict
    env = {
        **os.environ,
        "DATABASE_URL": f"postgres://{db['USER']}@{db['HOST']}:{db['PORT']}/{db['NAME']}",
        "REDIS_URL": settings.CELERY_BROKER_URL,
        "CELERY_TASK_ALWAYS_EAGER": "false",
        "WMS_DISPATCH_LEASE_SECONDS": str(LEASE_SECONDS),
        "SECRET_KEY": "test",
        "LOG_LEVEL": "WARNING",
    }
    started: list[subprocess.Popen] = []

    def start(role: str) -> subprocess.Popen:
        extra = (["--pool=solo", "--without-gossip", "--without-mingle"] if role == "worker"
                 else ["--schedule", str(tmp_path / "beat-schedule")])
        proc = subprocess.Popen(
            [sys.executable, "-m", "celery", "-A", "oms", role, "--loglevel=WARNING", *extra],
            cwd=ROOT, env=env, start_new_session=True,
            stdout=open(tmp_path / f"{role}.log", "ab"), stderr=subprocess.STDOUT,  # noqa: SIM115
        )
        started.append(proc)
        return proc

    yield start
    for proc in started:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(timeout=10)


def test_a_dispatch_cut_off_by_a_killed_worker_is_sent_once_after_restart(
        network, place, webhook_receiver, processes, settings):
    # Given a real broker, a warehouse whose WMS hangs on the first request, and a worker
    redis.Redis.from_url(settings.CELERY_BROKER_URL).flushdb()
    celery_app.conf.task_always_eager = False  # the shared autouse fixture restores it
    network.kassel.wms_url = webhook_receiver.url
    network.kassel.wms_secret = "whsec_c2VjcmV0LXNlY3JldC1zZWNyZXQtc2VjcmV0LTEyMzQ="
    network.kassel.save()
    network.stock(network.kassel, "A", 5)
    webhook_receiver.script = [(200, 60.0)]
    worker = processes("worker")
    # When an order is placed, the worker starts the dispatch and is killed mid-request
    fo = fulfillment_of(place([("A", 1)]), "WH-KS")
    wait_for(lambda: len(webhook_receiver.requests) == 1, 30, "the first dispatch request")
    os.killpg(worker.pid, signal.SIGKILL)
    worker.wait(timeout=10)
    assert (dispatch_of(fo).status, dispatch_of(fo).tries) == ("in_flight", 1)
    # And the worker comes back, with beat running its sweeps
    processes("worker")
    processes("beat")
    restarted = time.monotonic()
    # Then within 60 s of the restart the dispatch is recorded as sent, after one more request
    wait_for(lambda: dispatch_of(fo).status == "succeeded", 60,
             "the dispatch to be re-queued and sent")
    assert time.monotonic() - restarted < 60
    assert dispatch_of(fo).tries == 2
    ids = [r.headers["webhook-id"] for r in webhook_receiver.requests]
    assert ids == [f"fo_{fo.pk}", f"fo_{fo.pk}"]  # one dispatch, as the WMS deduplicates it
