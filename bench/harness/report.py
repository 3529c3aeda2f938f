"""Numbers and output: percentiles, the printed table, and the JSON results file each benchmark
writes to bench/results/<name>.json."""

from __future__ import annotations

import json
import math
import os
import platform
import subprocess
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from bench.harness.config import BenchConfig
from bench.harness.database import postgres_version
from bench.harness.processes import REPO_ROOT

RESULTS_DIR = REPO_ROOT / "bench" / "results"


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


def latency_ms(seconds: Sequence[float], digits: int = 3) -> dict[str, float]:
    """:func:`latency_summary` without the count, rounded: the results file's latency."""
    return {k: round(v, digits) for k, v in latency_summary(seconds).items() if k != "n"}


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

    def print_notes(self) -> None:
        for note in self.notes:
            print(f"  ! {note}")


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
