"""One measurement of the ledger export benchmark in a process of its own, so that its peak
resident memory is that measurement's: ``python -m bench.ledger_export.child MODE FROM TO``
with MODE ``csv`` or ``datev`` (``ledger.exports.ledger_export``, the code path of the API's
``GET /api/v1/ledger/export``) or ``copy`` (``COPY (<the export's query>) TO STDOUT``, the
baseline). The environment names the database (``DATABASE_URL``, ...); the file goes to
/dev/null. Prints one line of JSON: lines, bytes, seconds, resident memory before, peak
(``VmHWM``) and at the end, in kB."""

from __future__ import annotations

import json
import os
import sys
import time
from datetime import date
from pathlib import Path


def _status_kb(field: str) -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(f"{field}:"):
            return int(line.split()[1])
    return 0


def _copy(start: date, end: date, sink: int) -> tuple[int, int]:
    import psycopg
    from django.db import connection

    from ledger.selectors import Period, export_lines

    sql, params = export_lines(period=Period(start, end)).query.sql_with_params()
    connection.ensure_connection()
    raw = connection.connection
    literal = psycopg.ClientCursor(raw).mogrify(sql, params)
    lines = size = 0
    with raw.cursor() as cursor, cursor.copy(f"COPY ({literal}) TO STDOUT") as copy:
        for data in copy:
            os.write(sink, data)
            size += len(data)
            lines += bytes(data).count(b"\n")
    raw.rollback()
    return lines, size


def _export(mode: str, start: date, end: date, sink: int) -> tuple[int, int]:
    from ledger.exports import ledger_export

    lines = size = 0
    for chunk in ledger_export(fmt=mode, start=start, end=end).chunks:
        os.write(sink, chunk)
        size += len(chunk)
        lines += chunk.count(b"\n")
    return lines, size


def main(argv: list[str]) -> int:
    mode, start, end = argv[0], date.fromisoformat(argv[1]), date.fromisoformat(argv[2])
    import django

    django.setup()
    from django.db import connection

    connection.ensure_connection()
    before = _status_kb("VmRSS")
    sink = os.open(os.devnull, os.O_WRONLY)
    started = time.perf_counter()
    cpu_started = time.process_time()
    if mode == "copy":
        lines, size = _copy(start, end, sink)
    else:
        lines, size = _export(mode, start, end, sink)
    seconds = time.perf_counter() - started
    print(json.dumps({
        "mode": mode, "lines": lines, "bytes": size, "seconds": seconds,
        "cpu_seconds": time.process_time() - cpu_started,
        "rss_before_kb": before, "rss_end_kb": _status_kb("VmRSS"),
        # VmHWM, not getrusage's ru_maxrss: Linux carries ru_maxrss over from the process
        # that started this one (the benchmark, whose memory it shares until exec)
        "peak_rss_kb": _status_kb("VmHWM"),
    }))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
