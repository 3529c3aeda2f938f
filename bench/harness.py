"""What every benchmark needs: a database of its own, Django pointed at it, a real gunicorn
server, a plain HTTP client, percentiles, a printed table and a JSON results file.

Nothing here imports Django at module level: the environment (DATABASE_URL, SECRET_KEY, ...)
must be in place before ``django.setup()``, which :func:`bootstrap_django` calls.
"""

from __future__ import annotations

import contextlib
import http.client
import json
import math
import os
import platform
import re
import secrets
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

REPO_ROOT = Path(__file__).resolve().parent.parent
RESULTS_DIR = Path(__file__).resolve().parent / "results"
DEFAULT_SERVER_URL = "postgres://postgres@127.0.0.1:5432/postgres"
DEFAULT_REDIS_URL = "redis://127.0.0.1:6379/15"
MAINTENANCE_DB = "postgres"
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
            # needed and nothing is left queued in Redis.
            "CELERY_TASK_ALWAYS_EAGER": "true",
            # Customer e-mails (order confirmations, ...) are sent from those tasks: accepted and
            # dropped, so no SMTP server is needed and none on this machine is ever written to.
            "EMAIL_BACKEND": "django.core.mail.backends.dummy.EmailBackend",
            "DEBUG": "false",
            # Every receiver a benchmark pushes to (the e2e WMS) listens on 127.0.0.1.
            "OUTBOUND_ALLOW_PRIVATE_NETWORKS": "true",
            "LOG_LEVEL": os.environ.get("BENCH_LOG_LEVEL", "WARNING"),
        }


def config_from(args: Any) -> BenchConfig:
    return BenchConfig(
        scale=args.scale,
        keep=args.keep,
        seed=args.seed,
        db_prefix=args.db_prefix,
        server_url=os.environ.get("DATABASE_URL") or DEFAULT_SERVER_URL,
        redis_url=os.environ.get("REDIS_URL") or DEFAULT_REDIS_URL,
        secret_key="bench-" + secrets.token_urlsafe(32),
        senders=args.senders,
        gunicorn_workers=args.workers,
    )


# --- the benchmark database -----------------------------------------------------------------


def _maintenance_conninfo(config: BenchConfig) -> str:
    return config.database_url(MAINTENANCE_DB)


def database_create(config: BenchConfig, name: str) -> None:
    """(Re)create `name`; a database left over by an earlier ``--keep`` run is dropped first."""
    import psycopg
    from psycopg import sql

    with psycopg.connect(_maintenance_conninfo(config), autocommit=True) as conn:
        conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(
            sql.Identifier(name)))
        conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))


def database_drop(config: BenchConfig, name: str) -> None:
    import psycopg
    from psycopg import sql

    with psycopg.connect(_maintenance_conninfo(config), autocommit=True) as conn:
        conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(
            sql.Identifier(name)))


def bootstrap_django(config: BenchConfig, db_name: str) -> None:
    """Put the benchmark environment in place and set Django up against `db_name`."""
    os.environ.update(config.server_env(db_name))
    import django

    django.setup()


def django_use_database(name: str) -> None:
    """Point the already set-up Django at another database (as Django's test runner does)."""
    from django.db import connections

    connections.close_all()
    connections["default"].settings_dict["NAME"] = name


def django_migrate() -> None:
    from django.core.management import call_command

    call_command("migrate", interactive=False, verbosity=0)


@contextlib.contextmanager
def bench_database(config: BenchConfig, benchmark: str) -> Iterator[str]:
    """A fresh, migrated database for one benchmark, dropped afterwards unless ``--keep``."""
    from django.db import connections

    name = config.db_name(benchmark)
    database_create(config, name)
    try:
        django_use_database(name)
        django_migrate()
        yield name
    finally:
        connections.close_all()
        if config.keep:
            print(f"  kept database {name} ({config.database_url(name)})")
        else:
            database_drop(config, name)


def raw_connection(config: BenchConfig, db_name: str) -> Any:
    """A psycopg connection of its own (for COPY and maintenance statements)."""
    import psycopg

    return psycopg.connect(config.database_url(db_name))


def postgres_version(config: BenchConfig) -> str:
    import psycopg

    with psycopg.connect(_maintenance_conninfo(config)) as conn:
        return conn.execute("SHOW server_version").fetchone()[0]


# --- a real HTTP server ------------------------------------------------------------------------


@dataclass(frozen=True)
class Server:
    host: str
    port: int
    workers: int
    log_path: str


@dataclass(frozen=True)
class Reply:
    status: int
    body: bytes
    seconds: float


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def http_call(server: Server, method: str, path: str, *, body: bytes | None = None,
              headers: dict[str, str] | None = None, timeout: float = 300.0) -> Reply:
    """One request on a new connection (gunicorn's sync workers close after every response),
    timed from connect to the last byte read."""
    started = time.perf_counter()
    conn = http.client.HTTPConnection(server.host, server.port, timeout=timeout)
    try:
        conn.request(method, path, body=body, headers=headers or {})
        response = conn.getresponse()
        data = response.read()
    finally:
        conn.close()
    return Reply(response.status, data, time.perf_counter() - started)


def log_tail(path: str, lines: int = 40) -> str:
    try:
        return "\n".join(Path(path).read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return ""


def start_logged(command: Sequence[str], env: dict[str, str],
                 prefix: str) -> tuple[subprocess.Popen, str]:
    """Start `command` from the repository root in a session (process group) of its own, its
    output going to a new temporary log; returns the process and the log's path."""
    fd, log_path = tempfile.mkstemp(prefix=prefix, suffix=".log")
    with open(fd, "wb") as log:  # the child keeps its own copy of the descriptor
        proc = subprocess.Popen(command, cwd=REPO_ROOT, env=env, stdout=log,
                                stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                start_new_session=True)
    return proc, log_path


def dispose_log(log_path: str, what: str) -> None:
    """Call in the `finally` that stopped a `start_logged` process: delete its log if all went
    well, else print the log's last lines."""
    if sys.exc_info()[0] is None:
        with contextlib.suppress(OSError):
            os.unlink(log_path)
    else:
        print(f"  {what} failed or the run was interrupted; last lines of its log "
              f"({log_path}):\n{log_tail(log_path, 15)}", file=sys.stderr)


def stop_process_group(proc: subprocess.Popen, grace: float = 15.0) -> None:
    """SIGTERM the leader (the gunicorn master stops its workers; a celery worker shuts down
    warm, letting running tasks finish), wait up to `grace` seconds, then make sure nothing of
    the process group it leads (it was started in a session of its own) is left running."""
    if proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(timeout=grace)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(timeout=15)
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(proc.pid, signal.SIGKILL)  # orphaned workers, if the master died abruptly


def _gunicorn_has_setting(name: str) -> bool:
    try:
        from gunicorn import config as gunicorn_config
    except ImportError:
        return False
    return any(getattr(setting, "name", None) == name
               for setting in getattr(gunicorn_config, "KNOWN_SETTINGS", ()))


@contextlib.contextmanager
def gunicorn_server(config: BenchConfig, db_name: str) -> Iterator[Server]:
    """``gunicorn oms.wsgi:application -w N`` on a free local port, against `db_name`; always
    terminated on the way out."""
    port = free_port()
    env = {**os.environ, **config.server_env(db_name)}
    command = [
        sys.executable, "-m", "gunicorn", "oms.wsgi:application",
        "-w", str(config.gunicorn_workers), "-b", f"127.0.0.1:{port}",
        "--timeout", "300", "--graceful-timeout", "10",
    ]
    if _gunicorn_has_setting("control_socket_disable"):
        # gunicorn >= 25 opens ~/.gunicorn/gunicorn.ctl by default, shared with any other
        # gunicorn on the machine; a benchmark server needs none.
        command.append("--no-control-socket")
    proc, log_path = start_logged(command, env, "bench-gunicorn-")
    server = Server("127.0.0.1", port, config.gunicorn_workers, log_path)
    try:
        deadline = time.monotonic() + 60
        while True:
            if proc.poll() is not None:
                raise RuntimeError(f"gunicorn exited with {proc.returncode}:\n"
                                   f"{log_tail(log_path)}")
            try:
                if http_call(server, "GET", "/healthz", timeout=5).status == 200:
                    break
            except OSError:
                pass
            if time.monotonic() > deadline:
                raise RuntimeError(f"gunicorn did not answer /healthz:\n{log_tail(log_path)}")
            time.sleep(0.1)
        yield server
    finally:
        stop_process_group(proc)
        dispose_log(log_path, "gunicorn")


def warm_up_workers(server: Server, path: str, headers: dict[str, str], rounds: int = 6) -> None:
    """Concurrent requests so every worker has imported everything and opened its database
    connection before the clock starts."""
    from concurrent.futures import ThreadPoolExecutor

    with ThreadPoolExecutor(max_workers=server.workers * 2) as pool:
        for _ in range(rounds):
            list(pool.map(lambda _i: http_call(server, "GET", path, headers=headers),
                          range(server.workers * 2)))


# --- numbers and output -------------------------------------------------------------------------


def percentile(values: Sequence[float], p: float) -> float:
    """Nearest-rank percentile of `values` (p in 0..100)."""
    ordered = sorted(values)
    if not ordered:
        return math.nan
    rank = max(1, math.ceil(p / 100 * len(ordered)))
    return ordered[rank - 1]


def latency_summary(seconds: Sequence[float]) -> dict[str, float]:
    return {
        "n": len(seconds),
        "p50_ms": percentile(seconds, 50) * 1000,
        "p95_ms": percentile(seconds, 95) * 1000,
        "p99_ms": percentile(seconds, 99) * 1000,
        "mean_ms": (sum(seconds) / len(seconds) * 1000) if seconds else math.nan,
        "max_ms": max(seconds) * 1000 if seconds else math.nan,
    }


def thousands(value: float) -> str:
    return f"{value:,.0f}"


def scaled(full: int, scale: float, minimum: int) -> int:
    return max(minimum, round(full * scale))


def print_table(rows: Sequence[Sequence[str]], *, right: Sequence[int] = ()) -> None:
    """Rows of strings, the first being the header; columns in `right` are right-aligned."""
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    for n, row in enumerate(rows):
        cells = [
            cell.rjust(widths[i]) if i in right else cell.ljust(widths[i])
            for i, cell in enumerate(row)
        ]
        print("  " + "  ".join(cells).rstrip())
        if n == 0:
            print("  " + "  ".join("-" * w for w in widths))


def verdict(ok: bool) -> str:
    return "meets" if ok else "MISSES"


def _git_commit() -> str:
    try:
        out = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=REPO_ROOT,
                             capture_output=True, text=True, timeout=5, check=False)
        dirty = subprocess.run(["git", "status", "--porcelain", "--untracked-files=no"],
                               cwd=REPO_ROOT, capture_output=True, text=True, timeout=5,
                               check=False)
        if not out.stdout.strip():
            return "unknown"
        return out.stdout.strip() + ("+dirty" if dirty.stdout.strip() else "")
    except (OSError, subprocess.SubprocessError):
        return "unknown"


@dataclass
class Results:
    """Everything one benchmark measured, written to bench/results/<name>.json."""

    name: str
    config: BenchConfig
    parameters: dict[str, Any] = field(default_factory=dict)
    metrics: dict[str, Any] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)

    def write(self) -> Path:
        RESULTS_DIR.mkdir(exist_ok=True)
        path = RESULTS_DIR / f"{self.name}.json"
        document = {
            "benchmark": self.name,
            "finished_at": datetime.now(UTC).isoformat(timespec="seconds"),
            "scale": self.config.scale,
            "seed": self.config.seed,
            "environment": {
                "git_commit": _git_commit(),
                "python": platform.python_version(),
                "postgresql": postgres_version(self.config),
                "cpus": os.cpu_count(),
                "gunicorn_workers": self.config.gunicorn_workers,
            },
            "parameters": self.parameters,
            "metrics": self.metrics,
            "notes": self.notes,
        }
        path.write_text(json.dumps(document, indent=2, default=str) + "\n")
        return path


class Stopwatch:
    """``with Stopwatch() as sw: ...; sw.seconds``"""

    seconds: float = 0.0

    def __enter__(self) -> Stopwatch:
        self._started = time.perf_counter()
        return self

    def __exit__(self, *exc: object) -> None:
        self.seconds = time.perf_counter() - self._started


def step(message: str) -> None:
    print(f"  · {message}", flush=True)
