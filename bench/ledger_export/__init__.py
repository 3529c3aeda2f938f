"""The ledger export (issue 21): a year of 1,000,000 journal lines exported as CSV and as a
DATEV Buchungsstapel through ``ledger.exports.ledger_export``, the code path of ``GET
/api/v1/ledger/export``, next to a raw ``COPY (<the same query>) TO STDOUT`` of the same rows
in the same run; lines/s and peak resident memory. Target: at least 0.3 of COPY's lines/s and
at most 200 MB resident.

Setup (not timed): a database of its own, migrated, the journal written by SQL with the
ledger's balance triggers on (:mod:`bench.ledger_export.data`), then ``VACUUM (ANALYZE)`` and a
``CHECKPOINT``. ``--scale`` scales the lines (1,000,000 at 1.0).

Measured, each in a fresh process (:mod:`bench.ledger_export.child`) so that its peak
resident memory (``VmHWM``) is the measurement's own, the file written to /dev/null:

1. ``copy``: the export's query (``ledger.selectors.export_lines``) as ``COPY ... TO STDOUT``
   (text format), the baseline;
2. ``csv`` and ``datev``: the export in-process, as the API streams it;
3. ``http csv`` and ``http datev``: ``GET /api/v1/ledger/export`` from gunicorn (``-w``
   ``--workers``, sync workers, as deployed), read by a client that counts and drops the
   bytes; the peak resident memory is the serving worker's ``VmHWM``;

Every measurement runs twice, interleaved (copy, csv, datev, copy, csv, datev; then http csv,
http datev twice): the machine may be shared, so the faster of the two runs counts, for the
COPY baseline as for the exports; the peak memory is the higher of the two.

Lines/s counts journal lines (the rows read) for every row of the table, so the rates
compare; the DATEV file has fewer lines (a sale's three journal lines are two bookings).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

from bench.harness.config import BenchConfig
from bench.harness.cpu import gunicorn_pgid
from bench.harness.database import bench_database
from bench.harness.processes import REPO_ROOT, Server, gunicorn_server
from bench.harness.report import Results, print_table, scaled, step, thousands, verdict
from bench.ledger_export.data import YEAR_END, YEAR_START, journal_load

NAME = "ledger_export"
FULL_LINES = 1_000_000
TARGET_RATIO = 0.3  # of COPY's lines/s
TARGET_RSS_MB = 200
ROUNDS = 2  # every measurement twice, interleaved; the faster run counts (a shared machine)
PATH = f"/api/v1/ledger/export?from={YEAR_START}&to={YEAR_END}&format="


def run(config: BenchConfig) -> Results:
    lines = scaled(FULL_LINES, config.scale, 1_000)
    results = Results(NAME, config, parameters={
        "journal_lines": lines, "period": f"{YEAR_START}..{YEAR_END}",
        "gunicorn_workers": config.gunicorn_workers})
    print(f"\nledger_export: {thousands(lines)} journal lines as CSV and DATEV, next to COPY")
    with bench_database(config, NAME) as db:
        step(f"{db}: writing {thousands(lines)} journal lines by SQL (balance checked at "
             "every commit)")
        loaded = journal_load(config, db, lines=lines, progress=lambda m: step(f"{db}: {m}"))
        step(f"journal ready in {loaded.seconds:.0f} s: {thousands(loaded.entries)} entries")
        env = {**os.environ, **config.server_env(db)}
        runs: dict[str, list[dict[str, Any]]] = {}
        for round_ in range(1, ROUNDS + 1):
            for mode in ("copy", "csv", "datev"):
                step(f"round {round_}: {mode} in a process of its own")
                runs.setdefault(mode, []).append(_child(mode, env))
        step(f"starting gunicorn -w {config.gunicorn_workers}")
        from oms.core.clients import api_client_create

        _client, token = api_client_create(name="bench-finance", kind="finance")
        with gunicorn_server(config, db) as server:
            for round_ in range(1, ROUNDS + 1):
                for fmt in ("csv", "datev"):
                    step(f"round {round_}: http {fmt}")
                    runs.setdefault(f"http {fmt}", []).append(_http(server, token, fmt))
    measured = {mode: min(tries, key=lambda m: m["seconds"]) for mode, tries in runs.items()}
    for mode, tries in runs.items():
        measured[mode]["all_seconds"] = [round(m["seconds"], 3) for m in tries]
        measured[mode]["peak_rss_kb"] = max(m["peak_rss_kb"] for m in tries)
    _report(results, measured, loaded.lines)
    return results


def _child(mode: str, env: dict[str, str]) -> dict[str, Any]:
    done = subprocess.run(
        [sys.executable, "-m", "bench.ledger_export.child", mode, str(YEAR_START),
         str(YEAR_END)], cwd=REPO_ROOT, env=env, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise RuntimeError(f"{mode} failed:\n{done.stderr[-3000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def _status_kb(pid: int, field: str) -> int:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith(f"{field}:"):
                return int(line.split()[1])
    except OSError:
        pass
    return 0


def _cpu_seconds(pid: int) -> float:
    """User and system CPU seconds of a process so far."""
    try:
        raw = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return 0.0
    rest = raw[raw.rindex(")") + 2:].split()
    return (int(rest[11]) + int(rest[12])) / os.sysconf("SC_CLK_TCK")


def _workers(server: Server) -> list[int]:
    """The gunicorn workers: the processes of the master's group but the master."""
    pgid = gunicorn_pgid(server)
    pids = []
    for entry in os.scandir("/proc"):
        if entry.name.isdigit() and int(entry.name) != pgid:
            try:
                if os.getpgid(int(entry.name)) == pgid:
                    pids.append(int(entry.name))
            except OSError:
                continue
    return pids


def _http(server: Server, token: str, fmt: str) -> dict[str, Any]:
    import http.client

    headers = {"Authorization": f"Bearer {token}"}
    workers = _workers(server)
    for _ in range(server.workers * 2):  # every worker imports and connects first
        conn = http.client.HTTPConnection(server.host, server.port, timeout=60)
        conn.request("GET", f"/api/v1/ledger/export?from={YEAR_START}&to={YEAR_START}"
                            f"&format={fmt}", headers=headers)
        conn.getresponse().read()
        conn.close()
    before = {pid: _status_kb(pid, "VmRSS") for pid in workers}
    peak = {pid: 0 for pid in workers}
    sampling = threading.Event()

    def sample() -> None:  # VmHWM says the same at the end; the samples show it was the export
        while not sampling.is_set():
            for pid in workers:
                peak[pid] = max(peak[pid], _status_kb(pid, "VmRSS"))
            time.sleep(0.05)

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    cpu_before = {pid: _cpu_seconds(pid) for pid in workers}
    client_cpu = time.process_time()
    started = time.perf_counter()
    conn = http.client.HTTPConnection(server.host, server.port, timeout=300)
    conn.request("GET", PATH + fmt, headers=headers)
    response = conn.getresponse()
    size = lines = 0
    first_byte = None
    while data := response.read(1 << 16):
        if first_byte is None:
            first_byte = time.perf_counter() - started
        size += len(data)
        lines += data.count(b"\n")
    seconds = time.perf_counter() - started
    client_cpu = time.process_time() - client_cpu
    conn.close()
    sampling.set()
    sampler.join()
    if response.status != 200:
        raise RuntimeError(f"http {fmt}: {response.status}")
    serving = max(workers, key=lambda pid: _cpu_seconds(pid) - cpu_before[pid])
    return {"mode": f"http {fmt}", "lines": lines, "bytes": size, "seconds": seconds,
            "worker_cpu_seconds": round(_cpu_seconds(serving) - cpu_before[serving], 2),
            "client_cpu_seconds": round(client_cpu, 2),
            "first_byte_seconds": first_byte, "transfer_encoding":
                response.getheader("Transfer-Encoding"),
            "rss_before_kb": before[serving], "rss_sampled_peak_kb": peak[serving],
            "peak_rss_kb": _status_kb(serving, "VmHWM")}


def _report(results: Results, measured: dict[str, dict[str, Any]], journal_lines: int) -> None:
    copy_rate = journal_lines / measured["copy"]["seconds"]
    table = [["export", "file lines", "MB", "seconds", "CPU s", "lines/s", "x COPY",
              "peak RSS", "target", ""]]
    met = True
    for mode, m in measured.items():
        rate = journal_lines / m["seconds"]
        ratio = rate / copy_rate
        rss_mb = m["peak_rss_kb"] / 1024
        is_export = not mode.startswith("copy")
        ok = ratio >= TARGET_RATIO and rss_mb <= TARGET_RSS_MB
        met = met and (ok or not is_export)
        cpu = m.get("cpu_seconds", m.get("worker_cpu_seconds", 0.0))
        table.append([mode, thousands(m["lines"]), f"{m['bytes'] / 1e6:.1f}",
                      f"{m['seconds']:.2f}", f"{cpu:.2f}", thousands(rate), f"{ratio:.2f}",
                      f"{rss_mb:.0f} MB",
                      f">= {TARGET_RATIO} x, <= {TARGET_RSS_MB} MB" if is_export else "",
                      verdict(ok) if is_export else ""])
        results.metrics[mode.replace(" ", "_")] = {
            **{k: v for k, v in m.items() if k != "mode"},
            "lines_per_second": round(rate), "ratio_to_copy": round(ratio, 3),
            "peak_rss_mb": round(rss_mb, 1)}
    results.metrics["journal_lines"] = journal_lines
    results.metrics["copy_lines_per_second"] = round(copy_rate)
    results.metrics["target"] = {"ratio_at_least": TARGET_RATIO,
                                 "peak_rss_mb_at_most": TARGET_RSS_MB, "met": met}
    print()
    print_table(table, right=(1, 2, 3, 4, 5, 6, 7))
    every = ", ".join(f"{mode} " + " / ".join(f"{s:.2f}" for s in m["all_seconds"])
                      for mode, m in measured.items())
    print(f"  lines/s: journal lines read ({thousands(journal_lines)}) per second, the faster "
          f"of {ROUNDS} runs (seconds of every run: {every}); CPU s: of the exporting "
          "process (the gunicorn worker for http; the rest is PostgreSQL and, for http, the "
          "client); peak RSS: its VmHWM, the higher of the runs")
    results.print_notes()
