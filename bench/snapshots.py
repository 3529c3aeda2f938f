"""Snapshot ingestion: absolute stock counts for N locations x 2,000 SKUs (200,000 rows at full
scale), applied (a) through ``inventory.services.stock_snapshot_apply``, (b) through
``POST /api/v1/stock/snapshots`` on a real gunicorn server, and (c) as a raw ``COPY`` into the same
table, the baseline. Payloads are built before the clock starts in every case.

Phases, all in the one benchmark database:

1. setup (not timed): products via ``products_upsert``, locations via ``location_upsert``, a
   ``wms`` API client;
2. ``copy_baseline``: TRUNCATE ``inventory_stocklevel``, then one ``COPY ... FROM STDIN`` of every
   row into it (unique and secondary indexes and foreign keys all in force), one commit;
3. TRUNCATE again; ``service_fresh``: one ``stock_snapshot_apply`` per location (rows inserted);
4. ``service_update``: a second snapshot per location, later ``as_of``, every count changed;
5. TRUNCATE stock levels and movements; ``service_fresh_x2`` and ``service_update_x2``: the same
   two snapshots applied by 2 concurrent callers (``--senders``), as feeds from several locations
   arrive at once in production; one caller leaves one of the two cores idle;
6. TRUNCATE stock levels and movements; ``http_fresh`` and ``http_update``: the same two
   snapshots POSTed by a few concurrent senders, each with an ``Idempotency-Key`` as a real feed
   sends it.
"""

from __future__ import annotations

import json
import random
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from bench.harness.config import BenchConfig
from bench.harness.database import (
    STOCK_COLUMNS,
    bench_database,
    products_create,
    raw_connection,
)
from bench.harness.processes import Server, gunicorn_server, http_call, warm_up_workers
from bench.harness.report import (
    Results,
    Stopwatch,
    latency_summary,
    print_table,
    scaled,
    step,
    thousands,
    verdict,
)

NAME = "snapshots"
SKUS_PER_LOCATION = 2_000
FULL_LOCATIONS = 100
DEFAULT_SENDERS = 2
TARGET_ROWS_PER_SECOND = 50_000
TARGET_RATIO_TO_COPY = 0.3


@dataclass(frozen=True)
class Plan:
    skus: list[str]
    location_codes: list[str]
    fresh: list[list[int]]  # on_hand per location, per SKU
    update: list[list[int]]  # the second snapshot: every count differs from `fresh`

    @property
    def rows(self) -> int:
        return len(self.skus) * len(self.location_codes)


@dataclass(frozen=True)
class Measured:
    rows: int
    seconds: float
    call_seconds: list[float]
    applied: int
    movements: int

    @property
    def rows_per_second(self) -> float:
        return self.rows / self.seconds


def _plan(config: BenchConfig) -> Plan:
    rng = random.Random(config.seed)
    n_locations = scaled(FULL_LOCATIONS, config.scale, 2)
    skus = [f"BENCH-{n:06d}" for n in range(1, SKUS_PER_LOCATION + 1)]
    codes = [f"LOC-{n:03d}" for n in range(1, n_locations + 1)]
    fresh = [[rng.randint(0, 500) for _ in skus] for _ in codes]

    def changed(count: int) -> int:
        delta = rng.choice((-3, -2, -1, 1, 2, 3))
        return count + delta if count + delta >= 0 else count - delta

    update = [[changed(c) for c in counts] for counts in fresh]
    return Plan(skus, codes, fresh, update)


def _setup(plan: Plan) -> tuple[list[Any], str]:
    from inventory.models import Capability
    from inventory.services import LocationData, location_upsert
    from oms.core.clients import api_client_create

    products_create(plan.skus)
    locations = []
    for n, code in enumerate(plan.location_codes):
        warehouse = n % 10 == 0
        location, _created = location_upsert(data=LocationData(
            code=code, name=f"Bench {code}", kind="warehouse" if warehouse else "store",
            address={"country": "DE"}, lat=47.5 + (n % 70) * 0.1, lon=6.0 + (n % 90) * 0.1,
            capabilities=[Capability.SHIPS] if warehouse else [Capability.CLICK_AND_COLLECT],
            priority=10 if warehouse else 50,
        ))
        locations.append(location)
    _client, token = api_client_create(name="bench-wms", kind="wms")
    return locations, token


def _truncate(config: BenchConfig, db: str, tables: str) -> None:
    with raw_connection(config, db) as conn:
        # CASCADE: tables that may reference these (reservations, ...) are empty here anyway.
        conn.execute(f"TRUNCATE {tables} CASCADE")


def _measure_copy(config: BenchConfig, db: str, plan: Plan, location_ids: Sequence[int],
                  now: datetime) -> Measured:
    stamp = now.isoformat()
    chunks = [
        "".join(f"{sku}\t{location_id}\t{count}\t0\t0\t{stamp}\n"
                for sku, count in zip(plan.skus, counts, strict=True)).encode()
        for location_id, counts in zip(location_ids, plan.fresh, strict=True)
    ]
    with raw_connection(config, db) as conn:
        conn.execute("TRUNCATE inventory_stocklevel CASCADE")
        conn.commit()
        with Stopwatch() as watch:
            with conn.cursor() as cursor, cursor.copy(
                f"COPY inventory_stocklevel ({STOCK_COLUMNS}) FROM STDIN"
            ) as copy:
                for chunk in chunks:
                    copy.write(chunk)
            conn.commit()
        loaded = conn.execute("SELECT count(*) FROM inventory_stocklevel").fetchone()[0]
    return Measured(plan.rows, watch.seconds, [watch.seconds], loaded, 0)


def _measure_service(plan: Plan, locations: Sequence[Any], counts: Sequence[Sequence[int]],
                     first_as_of: datetime, callers: int = 1) -> Measured:
    """One ``stock_snapshot_apply`` per location, from `callers` threads at once (each with its
    own database connection), as feeds from several locations arrive at the same time."""
    from django.db import connection

    from inventory.services import stock_snapshot_apply
    from inventory.sql.snapshot import LevelRow

    batches = [[LevelRow(sku, n) for sku, n in zip(plan.skus, per_location, strict=True)]
               for per_location in counts]

    def apply(n: int) -> tuple[float, int, int]:
        with Stopwatch() as call:
            result = stock_snapshot_apply(
                location=locations[n], as_of=first_as_of + timedelta(seconds=n),
                levels=batches[n], actor="bench",
            )
        return call.seconds, result.applied, result.movements

    def apply_then_close(n: int) -> tuple[float, int, int]:
        try:
            return apply(n)
        finally:
            connection.close()

    with Stopwatch() as total:
        if callers == 1:
            calls = [apply(n) for n in range(len(batches))]
        else:
            with ThreadPoolExecutor(max_workers=callers) as pool:
                calls = list(pool.map(apply_then_close, range(len(batches))))
    return Measured(plan.rows, total.seconds, [c[0] for c in calls],
                    sum(c[1] for c in calls), sum(c[2] for c in calls))


def _measure_http(server: Server, token: str, plan: Plan, counts: Sequence[Sequence[int]],
                  first_as_of: datetime, senders: int, phase: str) -> Measured:
    bodies = [
        json.dumps({
            "location": code,
            "as_of": (first_as_of + timedelta(seconds=n)).isoformat(),
            "levels": [{"sku": sku, "on_hand": c}
                       for sku, c in zip(plan.skus, per_location, strict=True)],
        }).encode()
        for n, (code, per_location) in enumerate(zip(plan.location_codes, counts, strict=True))
    ]

    def send(n: int) -> tuple[int, dict[str, Any], float]:
        reply = http_call(server, "POST", "/api/v1/stock/snapshots", body=bodies[n], headers={
            "Authorization": f"Bearer {token}",
            "Content-Type": "application/json",
            "Idempotency-Key": f"bench-{phase}-{n}",
        })
        try:
            payload = json.loads(reply.body)
        except ValueError:
            payload = {"raw": reply.body[:300].decode(errors="replace")}
        return reply.status, payload, reply.seconds

    with Stopwatch() as total, ThreadPoolExecutor(max_workers=senders) as pool:
        replies = list(pool.map(send, range(len(bodies))))
    failures = [(status, payload) for status, payload, _s in replies if status != 200]
    if failures:
        print(f"  ! {len(failures)} of {len(replies)} {phase} requests failed, first: "
              f"{failures[0]}")
    ok = [payload for status, payload, _s in replies if status == 200]
    return Measured(plan.rows, total.seconds, [s for _st, _p, s in replies],
                    sum(p.get("applied", 0) for p in ok), sum(p.get("movements", 0) for p in ok))


def run(config: BenchConfig) -> Results:
    from django.utils import timezone

    plan = _plan(config)
    senders = config.senders or DEFAULT_SENDERS
    results = Results(NAME, config, parameters={
        "skus": len(plan.skus),
        "locations": len(plan.location_codes),
        "rows_per_snapshot": len(plan.skus),
        "rows": plan.rows,
        "http_senders": senders,
        "gunicorn_workers": config.gunicorn_workers,
        "update_changes_every_count": True,
        "copy_baseline": "TRUNCATE inventory_stocklevel, then one COPY of all rows into it "
                         "(indexes, constraints and foreign keys in force), one commit",
    })
    print(f"\nsnapshots: {thousands(plan.rows)} stock levels = {thousands(len(plan.skus))} SKUs x "
          f"{len(plan.location_codes)} locations, one snapshot of {thousands(len(plan.skus))} "
          "rows per location")
    with bench_database(config, NAME) as db:
        step(f"setup in database {db}: products_upsert, location_upsert, a wms client")
        locations, token = _setup(plan)
        location_ids = [loc.pk for loc in locations]
        base = timezone.now() - timedelta(days=1)

        step("copy_baseline: TRUNCATE inventory_stocklevel; COPY every row into it")
        measured = {"copy_baseline": _measure_copy(config, db, plan, location_ids,
                                                   timezone.now())}
        _truncate(config, db, "inventory_stocklevel")

        step("service_fresh: stock_snapshot_apply per location into the empty table")
        measured["service_fresh"] = _measure_service(plan, locations, plan.fresh, base)
        step("service_update: second snapshot per location, every count changed")
        measured["service_update"] = _measure_service(plan, locations, plan.update,
                                                      base + timedelta(hours=1))
        _truncate(config, db, "inventory_stocklevel, inventory_stockmovement")
        step(f"service_fresh_x{senders} and service_update_x{senders}: the same from {senders} "
             "concurrent callers")
        measured[f"service_fresh_x{senders}"] = _measure_service(
            plan, locations, plan.fresh, base + timedelta(hours=2), senders)
        measured[f"service_update_x{senders}"] = _measure_service(
            plan, locations, plan.update, base + timedelta(hours=3), senders)

        _truncate(config, db, "inventory_stocklevel, inventory_stockmovement")
        step(f"starting gunicorn -w {config.gunicorn_workers}")
        with gunicorn_server(config, db) as server:
            warm_up_workers(server, "/api/v1/locations",
                            {"Authorization": f"Bearer {token}"})
            step(f"http_fresh: POST /api/v1/stock/snapshots, {senders} concurrent senders")
            measured["http_fresh"] = _measure_http(
                server, token, plan, plan.fresh, base + timedelta(hours=4), senders,
                "fresh")
            step("http_update: second snapshot per location over HTTP")
            measured["http_update"] = _measure_http(
                server, token, plan, plan.update, base + timedelta(hours=5), senders,
                "update")

    _report(results, plan, measured)
    return results


def _report(results: Results, plan: Plan, measured: dict[str, Measured]) -> None:
    copy_rate = measured["copy_baseline"].rows_per_second
    table = [["metric", "rows/s", "ratio to COPY", "seconds", "per call p50", "per call p95",
              "target", ""]]
    for name, m in measured.items():
        ratio = m.rows_per_second / copy_rate
        latency = latency_summary(m.call_seconds)
        target, ok = "", ""
        if name.startswith("service_"):
            target = (f">= {thousands(TARGET_ROWS_PER_SECOND)} rows/s, "
                      f">= {TARGET_RATIO_TO_COPY} of COPY")
            ok = verdict(m.rows_per_second >= TARGET_ROWS_PER_SECOND
                         and ratio >= TARGET_RATIO_TO_COPY)
        per_call = "" if name == "copy_baseline" else f"{latency['p50_ms']:.1f} ms"
        per_call95 = "" if name == "copy_baseline" else f"{latency['p95_ms']:.1f} ms"
        table.append([f"snapshot.{name}", f"{thousands(m.rows_per_second)} rows/s",
                      f"{ratio:.2f}", f"{m.seconds:.2f}", per_call, per_call95, target, ok])
        results.metrics[name] = {
            "rows": m.rows,
            "seconds": round(m.seconds, 4),
            "rows_per_second": round(m.rows_per_second, 1),
            "ratio_to_copy": round(ratio, 4),
            "calls": len(m.call_seconds),
            "per_call_ms": {k: round(v, 2) for k, v in latency.items() if k != "n"},
            "applied": m.applied,
            "movements": m.movements,
        }
        if name.startswith("service_"):
            results.metrics[name]["target"] = {
                "rows_per_second": TARGET_ROWS_PER_SECOND,
                "ratio_to_copy": TARGET_RATIO_TO_COPY,
                "met": ok == "meets",
            }
        expected_applied = plan.rows
        if name != "copy_baseline" and m.applied != expected_applied:
            results.notes.append(f"{name}: applied {m.applied} of {expected_applied} rows")
    print()
    print_table(table, right=(1, 2, 3, 4, 5))
    print("  baseline: TRUNCATE inventory_stocklevel, then one COPY of every row "
          "(sku, location_id, on_hand, reserved, safety_stock, updated_at) into that same table")
    print(f"  http: {results.parameters['http_senders']} concurrent senders, "
          f"gunicorn -w {results.parameters['gunicorn_workers']}, one request per location, "
          "each with an Idempotency-Key; the stock tables are truncated before http_fresh")
    results.print_notes()
