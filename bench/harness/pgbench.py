"""Running ``pgbench`` with a custom script against a benchmark database, as the raw baseline that
a service figure is divided by.

The script is written to a temporary file and run with ``-n`` (there are no pgbench tables to
vacuum) and ``-M prepared`` by default: the baseline is the best a hand-written client can do, so
it pays for parsing and planning each statement once per connection. Every transaction's latency
is logged (``--log``) so the baseline gets percentiles like the service does.

pgbench replaces ``:name`` anywhere in a statement, also inside quoted literals, so literals that
may contain a colon go through :func:`sql_text` or :func:`sql_jsonb`.
"""

from __future__ import annotations

import contextlib
import math
import os
import re
import shutil
import subprocess
import tempfile
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import unquote, urlsplit

from bench.harness.config import BenchConfig
from bench.harness.database import raw_connection
from bench.harness.report import latency_summary


@dataclass(frozen=True)
class PgbenchResult:
    clients: int
    threads: int
    duration_s: float | None  # -T, if the run was timed
    transactions: int
    failed: int
    tps: float  # pgbench's own figure, without the initial connection time
    latency_avg_ms: float
    latency: dict[str, float] = field(default_factory=dict)  # from the per-transaction log
    output: str = ""

    def as_json(self) -> dict[str, object]:
        return {
            "clients": self.clients,
            "threads": self.threads,
            "duration_s": self.duration_s,
            "transactions": self.transactions,
            "failed": self.failed,
            "tps": round(self.tps, 1),
            "latency_avg_ms": round(self.latency_avg_ms, 3),
            "latency_ms": {k: round(v, 3) for k, v in self.latency.items()},
        }

    def latency_cells(self) -> list[str]:
        """p50, p95 and p99 per transaction, for a benchmark's table."""
        return [f"{self.latency.get(f'p{p}_ms', math.nan):.1f} ms" for p in (50, 95, 99)]


def _env(config: BenchConfig) -> dict[str, str]:
    parts = urlsplit(config.server_url)
    env = dict(os.environ)
    if parts.hostname:
        env["PGHOST"] = parts.hostname
    if parts.port:
        env["PGPORT"] = str(parts.port)
    if parts.username:
        env["PGUSER"] = unquote(parts.username)
    if parts.password:
        env["PGPASSWORD"] = unquote(parts.password)
    return env


def sql_text(value: str) -> str:
    """`value` as an ``E'...'`` literal in which no colon appears (``\\x3a`` instead)."""
    escaped = value.replace("\\", "\\\\").replace("'", "''").replace(":", "\\x3a")
    return f"E'{escaped}'"


def sql_jsonb(value: str) -> str:
    return f"{sql_text(value)}::jsonb"


def _number(pattern: str, text: str, default: float = 0.0) -> float:
    match = re.search(pattern, text, re.MULTILINE)
    return float(match.group(1)) if match else default


@contextlib.contextmanager
def _workdir() -> Iterator[Path]:
    path = Path(tempfile.mkdtemp(prefix="bench-pgbench-"))
    try:
        yield path
    finally:
        shutil.rmtree(path, ignore_errors=True)


def pgbench_run(config: BenchConfig, db: str, script: str, *, clients: int, threads: int,
                duration_s: float | None = None, transactions: int | None = None,
                defines: Mapping[str, object] | None = None,
                protocol: str = "prepared") -> PgbenchResult:
    """Run `script` with `clients` connections for `duration_s` seconds (or `transactions` per
    client). Raises RuntimeError with pgbench's output if it fails."""
    if (duration_s is None) == (transactions is None):
        raise ValueError("give exactly one of duration_s and transactions")
    with _workdir() as work:
        script_path = work / "script.sql"
        script_path.write_text(script)
        command = ["pgbench", "-n", "-M", protocol, "-c", str(clients), "-j", str(threads),
                   "-f", str(script_path), "--log", "--log-prefix", str(work / "tx")]
        if duration_s is not None:
            command += ["-T", str(max(1, round(duration_s)))]
        else:
            command += ["-t", str(transactions)]
        for name, value in (defines or {}).items():
            command += ["-D", f"{name}={value}"]
        command.append(db)
        proc = subprocess.run(command, env=_env(config), capture_output=True, text=True,
                              timeout=(duration_s or 0) + 600, check=False)
        output = proc.stdout + proc.stderr
        if proc.returncode != 0:
            raise RuntimeError(f"pgbench exited with {proc.returncode}:\n{output[-3000:]}")
        seconds: list[float] = []
        for log in work.glob("tx*"):
            for line in log.read_text().splitlines():
                fields = line.split()
                if len(fields) >= 3 and fields[2].isdigit():
                    seconds.append(int(fields[2]) / 1e6)
    return PgbenchResult(
        clients=clients,
        threads=threads,
        duration_s=duration_s,
        transactions=int(_number(r"number of transactions actually processed: (\d+)", output)),
        failed=int(_number(r"number of failed transactions: (\d+)", output)),
        tps=_number(r"^tps = ([\d.]+)", output),
        latency_avg_ms=_number(r"latency average = ([\d.]+) ms", output),
        latency=latency_summary(seconds) if seconds else {},
        output=output,
    )


class WaitSampler:
    """Samples ``pg_stat_activity`` for the client backends of `db` every `interval` seconds
    while the block runs, to show where a phase's database connections spend their time:
    running (``cpu``), waiting on a lock or I/O (``Lock:tuple``, ``IO:WALSync``, ...), ``idle in
    transaction`` (waiting for the application inside a transaction) or ``idle`` (the application
    is busy between transactions)."""

    def __init__(self, config: BenchConfig, db: str, interval: float = 0.02) -> None:
        self.config, self.db, self.interval = config, db, interval
        self.counts: dict[str, int] = {}
        self.samples = 0

    def __enter__(self) -> WaitSampler:
        import threading

        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, name="bench-wait-sampler",
                                        daemon=True)
        self._thread.start()
        return self

    def _loop(self) -> None:
        with raw_connection(self.config, self.db) as conn:
            conn.autocommit = True
            while not self._stop.wait(self.interval):
                rows = conn.execute(
                    "SELECT state, wait_event_type, wait_event FROM pg_stat_activity "
                    "WHERE datname = %s AND pid <> pg_backend_pid() "
                    "AND backend_type = 'client backend'", [self.db]).fetchall()
                self.samples += 1
                for state, wait_type, wait_event in rows:
                    if state == "active":
                        key = f"{wait_type}:{wait_event}" if wait_type else "cpu"
                    else:
                        key = state or "unknown"
                    self.counts[key] = self.counts.get(key, 0) + 1

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join(timeout=10)

    def fractions(self) -> dict[str, float]:
        total = sum(self.counts.values())
        return {k: round(v / total, 3)
                for k, v in sorted(self.counts.items(), key=lambda kv: -kv[1])} if total else {}


def print_backend_states(states: dict[str, dict[str, float]]) -> None:
    """One line per phase of :meth:`WaitSampler.fractions`, the six commonest states."""
    for name, fractions in states.items():
        print(f"  database connections during {name}: " + ", ".join(
            f"{share:.0%} {key}" for key, share in list(fractions.items())[:6]))
