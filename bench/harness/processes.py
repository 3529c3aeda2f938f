"""Child processes of a benchmark (gunicorn here, the Celery worker in ``worker``), each in a
session of its own and always stopped, also on Ctrl-C or SIGTERM; and a plain HTTP client."""

from __future__ import annotations

import contextlib
import http.client
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

from bench.harness.config import BenchConfig

REPO_ROOT = Path(__file__).resolve().parent.parent.parent


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
