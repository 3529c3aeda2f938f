"""The command line shared by ``python -m bench`` and ``python -m bench.e2e``, and the
configuration every benchmark gets from it."""

from __future__ import annotations

import argparse
import dataclasses
import os
import re
import secrets
import signal
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit, urlunsplit

DEFAULT_SERVER_URL = "postgres://postgres@127.0.0.1:5432/postgres"
DEFAULT_REDIS_URL = "redis://127.0.0.1:6379/15"
# e2e flushes its Redis database before and after: by default not the test suite's (15).
E2E_REDIS_URL = "redis://127.0.0.1:6379/13"
_DB_NAME = re.compile(r"^[a-z_][a-z0-9_]{0,62}$")


@dataclass(frozen=True)
class BenchConfig:
    scale: float
    keep: bool
    seed: int
    db_prefix: str
    server_url: str  # any database URL on the server; only host, port and credentials are used
    redis_url: str
    secret_key: str
    senders: int | None  # None: each benchmark's own default
    gunicorn_workers: int
    celery_concurrency: int
    env: Mapping[str, str] = field(default_factory=dict)  # a benchmark's own additions

    def with_env(self, extra: Mapping[str, str]) -> BenchConfig:
        """This configuration, its servers started with `extra` in their environment too."""
        return dataclasses.replace(self, env={**self.env, **extra})

    def db_name(self, benchmark: str) -> str:
        name = f"{self.db_prefix}_{benchmark}"
        if not _DB_NAME.match(name) or "bench" not in name:
            raise SystemExit(f"refusing to use database {name!r}: the name must contain 'bench' "
                             "and be a plain lower-case identifier")
        return name

    def database_url(self, db_name: str) -> str:
        parts = urlsplit(self.server_url)
        return urlunsplit((parts.scheme, parts.netloc, "/" + db_name, parts.query, ""))

    def server_env(self, db_name: str) -> dict[str, str]:
        """The environment of the benchmark process and of every server it starts."""
        return {
            "DJANGO_SETTINGS_MODULE": "oms.settings",
            "DATABASE_URL": self.database_url(db_name),
            "REDIS_URL": self.redis_url,
            "SECRET_KEY": self.secret_key,
            # Tasks (the outbox relay kicked after each commit) run in-process, so no worker is
            # needed and nothing is left queued in Redis; benchmarks with a worker override it.
            "CELERY_TASK_ALWAYS_EAGER": "true",
            # Customer e-mails (order confirmations, ...) are sent from those tasks: accepted and
            # dropped, so no SMTP server is needed and none on this machine is ever written to.
            "EMAIL_BACKEND": "django.core.mail.backends.dummy.EmailBackend",
            "DEBUG": "false",
            # Every receiver a benchmark pushes to (the e2e WMS) listens on 127.0.0.1.
            "OUTBOUND_ALLOW_PRIVATE_NETWORKS": "true",
            "LOG_LEVEL": os.environ.get("BENCH_LOG_LEVEL", "WARNING"),
            **self.env,
        }


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--scale", type=float, default=1.0,
                        help="fraction of the full data set and request count, e.g. 0.05 for a "
                             "smoke run (default 1.0)")
    parser.add_argument("--keep", action="store_true",
                        help="keep each benchmark database (oms_bench_<name>) after the run")
    parser.add_argument("--seed", type=int, default=20240601, help="random seed for the data")
    parser.add_argument("--db-prefix", default="oms_bench",
                        help="database name prefix; the name must contain 'bench'")
    parser.add_argument("--senders", type=int, default=None,
                        help="concurrent HTTP senders (default: 2 for snapshots, 4 for intake; "
                             "growth always sends one at a time)")
    parser.add_argument("--workers", type=int, default=2, help="gunicorn workers (default 2)")
    parser.add_argument("--concurrency", type=int, default=2,
                        help="Celery worker processes, for intake and e2e (default 2)")


def config_from(args: Any, names: list[str]) -> BenchConfig:
    redis_default = E2E_REDIS_URL if "e2e" in names else DEFAULT_REDIS_URL
    return BenchConfig(
        scale=args.scale,
        keep=args.keep,
        seed=args.seed,
        db_prefix=args.db_prefix,
        server_url=os.environ.get("DATABASE_URL") or DEFAULT_SERVER_URL,
        redis_url=os.environ.get("REDIS_URL") or redis_default,
        secret_key="bench-" + secrets.token_urlsafe(32),
        senders=args.senders,
        gunicorn_workers=args.workers,
        celery_concurrency=args.concurrency,
    )


def terminate_on_sigterm() -> None:
    """SIGTERM unwinds like Ctrl-C, so servers are stopped and databases dropped."""

    def handler(signum: int, frame: Any) -> None:
        raise SystemExit(128 + signum)

    signal.signal(signal.SIGTERM, handler)
