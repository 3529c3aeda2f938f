"""A real Celery worker for the benchmarks that run one, and the Redis queues it works from.

The worker is started as ``celery -A oms worker`` in a process group of its own, against the
benchmark's database and Redis database, and always stopped (SIGTERM, then SIGKILL) on the way
out; its log is printed if it failed.
"""

from __future__ import annotations

import contextlib
import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from bench.harness.config import BenchConfig
from bench.harness.processes import dispose_log, start_logged, stop_process_group

DISPATCH_TASK = "fulfillment.tasks.dispatch_fulfillment"
# Tasks go through Redis to the worker instead of running in the process that sends them.
WORKER_ENV = {"CELERY_TASK_ALWAYS_EAGER": "false"}


def redis_client(url: str) -> Any:
    import redis

    return redis.Redis.from_url(url)


def redis_flush(url: str) -> int:
    """Empty the benchmark's Redis database; refuses database 0 (usually someone's real one)."""
    path = urlsplit(url).path.strip("/")
    if not path.isdigit() or int(path) == 0:
        raise SystemExit(f"refusing to flush Redis {url!r}: give a dedicated database, "
                         "e.g. redis://127.0.0.1:6379/15")
    client = redis_client(url)
    keys = client.dbsize()
    client.flushdb()
    return keys


@dataclass(frozen=True)
class Queues:
    names: list[str]  # every queue the worker consumes (with the "priority" strategy: in order)
    dispatch: str  # where fulfilment dispatches are routed
    default: str


def celery_queues() -> Queues:
    """The queues as the settings declare them (one "celery" queue when none are declared)."""
    from django.conf import settings

    default = getattr(settings, "CELERY_TASK_DEFAULT_QUEUE", None) or "celery"
    names = [q.name for q in getattr(settings, "CELERY_TASK_QUEUES", None) or []] or [default]
    routes = getattr(settings, "CELERY_TASK_ROUTES", None)
    route = routes.get(DISPATCH_TASK, {}) if isinstance(routes, dict) else {}
    return Queues(names, route.get("queue", default), default)


def queue_depth(client: Any, queues: Queues) -> tuple[dict[str, int], int]:
    """(messages waiting per queue, messages a worker holds unacknowledged)."""
    with client.pipeline() as pipe:
        for name in queues.names:
            pipe.llen(name)
        pipe.hlen("unacked")
        *waiting, unacked = pipe.execute()
    return dict(zip(queues.names, waiting, strict=True)), unacked


def wait_idle(client: Any, queues: Queues, timeout: float) -> tuple[float, int]:
    """Wait until every queue is empty and nothing is unacknowledged for 1 s; returns (seconds
    until the queues went quiet, messages left)."""
    started = time.perf_counter()
    quiet_since = None
    while True:
        depths, unacked = queue_depth(client, queues)
        waiting = sum(depths.values())
        now = time.perf_counter()
        if waiting + unacked == 0:
            quiet_since = quiet_since or now
            if now - quiet_since >= 1.0:
                return quiet_since - started, 0
        else:
            quiet_since = None
        if now - started > timeout:
            return now - started, waiting + unacked
        time.sleep(0.1)


@dataclass(frozen=True)
class Worker:
    proc: subprocess.Popen
    hostname: str
    log_path: str
    concurrency: int


@contextlib.contextmanager
def celery_worker(config: BenchConfig, db_name: str, *, name: str,
                  imports: Sequence[str] = ()) -> Iterator[Worker]:
    """``celery -A oms worker --pool=prefork --concurrency=N`` (``--concurrency``) against
    `db_name`, its tasks sent by the servers the benchmark starts (:data:`WORKER_ENV`), in a
    session of its own, also importing the modules `imports` (tasks of the benchmark's own);
    always stopped on the way out."""
    concurrency = config.celery_concurrency
    hostname = f"bench-{name}-{os.getpid()}@{socket.gethostname()}"
    level = os.environ.get("BENCH_LOG_LEVEL", "WARNING")
    command = [sys.executable, "-m", "celery", "-A", "oms", "worker", "--pool=prefork",
               f"--concurrency={concurrency}", f"--loglevel={level}", "-n", hostname,
               "--without-mingle", *(arg for module in imports for arg in ("-I", module))]
    env = {**os.environ, **config.with_env(WORKER_ENV).server_env(db_name)}
    proc, log_path = start_logged(command, env, "bench-celery-")
    try:
        yield Worker(proc, hostname, log_path, concurrency)
    finally:
        stop_process_group(proc, grace=20.0)
        dispose_log(log_path, "the worker")


def worker_totals(worker: Worker) -> dict[str, int]:
    """Tasks the worker has accepted since it started, per task name (``inspect stats``)."""
    from oms.celery import app

    try:
        stats = app.control.inspect(destination=[worker.hostname], timeout=5).stats() or {}
    except Exception:  # a missing figure, not a failed benchmark
        return {}
    return dict((stats.get(worker.hostname) or {}).get("total") or {})
