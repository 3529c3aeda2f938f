"""CPU accounting for benchmarks that run the service as real processes: CPU seconds per
process group (gunicorn, the Celery worker), the PostgreSQL backends of the benchmark database,
the benchmark process itself and everything else, over one phase (:class:`CpuMonitor`)."""

from __future__ import annotations

import contextlib
import os
import threading
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from bench.harness.processes import Server

_TICKS = os.sysconf("SC_CLK_TCK")
POSTGRES = "postgres (benchmark db)"


def _proc_stats() -> Iterator[tuple[int, int, str, float]]:
    """(pid, process group, command name, CPU seconds) of every process we may read."""
    for entry in os.scandir("/proc"):
        if not entry.name.isdigit():
            continue
        try:
            raw = Path(entry.path, "stat").read_text()
        except OSError:
            continue
        name = raw[raw.index("(") + 1:raw.rindex(")")]
        rest = raw[raw.rindex(")") + 2:].split()
        # rest[0] is field 3 (state): pgrp is field 5, utime 14, stime 15
        yield int(entry.name), int(rest[2]), name, (int(rest[11]) + int(rest[12])) / _TICKS


def _machine_cpu() -> tuple[float, float]:
    """(busy, total) CPU seconds of the whole machine since boot."""
    values = [int(v) for v in Path("/proc/stat").read_text().splitlines()[0].split()[1:]]
    idle = values[3] + (values[4] if len(values) > 4 else 0)
    return (sum(values[:8]) - idle) / _TICKS, sum(values[:8]) / _TICKS


def gunicorn_pgid(server: Server) -> int | None:
    needle = f"127.0.0.1:{server.port}".encode()
    for entry in os.scandir("/proc"):
        if entry.name.isdigit():
            with contextlib.suppress(OSError):
                if needle in Path(entry.path, "cmdline").read_bytes():
                    return os.getpgid(int(entry.name))
    return None


def ms_per_order(cpu: dict[str, Any], categories: dict[str, str],
                 orders: int) -> dict[str, float]:
    """CPU milliseconds per order of each category of a `CpuMonitor.stop()` result, under the
    label `categories` maps it to."""
    return {label: cpu.get(key, 0.0) / orders * 1000 for key, label in categories.items()}


class CpuMonitor:
    """CPU seconds per category over a phase: our process groups (by name), this process, the
    PostgreSQL backends of the benchmark database, every other process by command name, and the
    machine's busy and total CPU (``/proc/stat``). ``/proc`` is sampled every second, so a
    process that starts and ends within the phase is counted too (all but its last second)."""

    def __init__(self, groups: dict[str, int | None], db_name: str) -> None:
        self._groups = {pgid: name for name, pgid in groups.items() if pgid}
        self._db = f" {db_name} ".encode()
        self._used: Counter[str] = Counter({name: 0.0 for name in groups})
        self._used[POSTGRES] = 0.0
        self._last: dict[int, float] = {}
        self._categories: dict[int, str] = {}
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, name="cpu-monitor", daemon=True)
        self._machine = (0.0, 0.0)

    def _category(self, pid: int, pgrp: int, name: str) -> str:
        category = self._categories.get(pid)
        if category is None:
            category = f"other: {name}"
            if pgrp in self._groups:
                category = self._groups[pgrp]
            elif pid == os.getpid():
                category = "benchmark process"
            elif name == "postgres":
                with contextlib.suppress(OSError):
                    if self._db in Path(f"/proc/{pid}/cmdline").read_bytes():
                        category = POSTGRES
                if category != POSTGRES:
                    return category  # a backend's title names its database once it started
            self._categories[pid] = category
        return category

    def _sample(self, *, first: bool = False) -> None:
        for pid, pgrp, name, seconds in _proc_stats():
            last = self._last.get(pid)
            self._last[pid] = seconds
            if last is not None:
                self._used[self._category(pid, pgrp, name)] += seconds - last
            elif not first:  # started since the last sample: all of its time is ours to count
                self._used[self._category(pid, pgrp, name)] += seconds

    def _loop(self) -> None:
        while not self._stop.wait(1.0):
            self._sample()

    def start(self) -> CpuMonitor:
        self._machine = _machine_cpu()
        self._sample(first=True)
        self._thread.start()
        return self

    def stop(self) -> dict[str, Any]:
        self._stop.set()
        self._thread.join()
        self._sample()
        busy, total = (after - before for after, before in zip(_machine_cpu(), self._machine,
                                                              strict=True))
        ours = {k: v for k, v in self._used.items() if not k.startswith("other: ")}
        others = Counter({k.removeprefix("other: "): v for k, v in self._used.items()
                          if k.startswith("other: ")})
        result: dict[str, Any] = {k: round(v, 1) for k, v in ours.items()}
        result["other processes"] = round(sum(others.values()), 1)
        # /proc/stat is tick-sampled: it includes kernel work no process is charged for and
        # over-counts many short timer-aligned wake-ups, so "busy" exceeds the per-process sum.
        result["not attributed to a process"] = round(max(0.0, busy - sum(self._used.values())),
                                                      1)
        result["machine busy"], result["machine capacity"] = round(busy, 1), round(total, 1)
        result["busiest other processes"] = {k: round(v, 1) for k, v in others.most_common(4)
                                             if v >= 0.5}
        return result
