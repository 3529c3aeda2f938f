"""A dunning sweep over 100,000 overdue items (issue 21): the beat task's service,
``finance.services.dunning_sweep``, called in process once, timed, and a second time (which must
find nothing to do). Target: **under 60 s**.

Setup (not timed): 100 products and a store, then 100,000 invoice and direct-debit orders of
50,000 customers, each with its open item due for a step of the sweep (``--scale`` scales the
count), written by SQL (:mod:`bench.dunning.data_sql`: a plan table, one ``INSERT ... SELECT``
per table, foreign-key triggers skipped for the session, then the sequences, ``VACUUM (ANALYZE)``
and a ``CHECKPOINT``). The mix (:data:`bench.dunning.data_sql.MIX`): 30 % fall due (no notice
yet), 25 % get the reminder, 20 % the first notice (fee 2.50, booked), 12 % the second (fee
5.00, booked), 8 % go on the collection list, 5 % are paused by a return still on its way.

The sweep writes what production writes: per item its history row and ``open_item.overdue`` /
``dunning.notice`` outbox events (one INSERT per batch), per level a `DunningNotice`, per fee a
journal entry (whose balance PostgreSQL checks at commit), the items updated in one statement
per batch of 500. The outbox relay and the notices' e-mails are not in the figure: they are the
workers' job after the sweep's commits (the relay kicks wait in Redis, no worker runs).
Afterwards every item is checked against its kind (:data:`CHECKS`), and the ledger must hold
exactly the fees charged.
"""

from __future__ import annotations

import time
from decimal import Decimal
from typing import Any

from bench.dunning.data_sql import (
    MIX,
    N_SKUS,
    OUTCOME_SQL,
    PLAN_TABLES,
    SKU_PREFIX,
    load_sql,
    plan_sql,
    sequences_sql,
)
from bench.growth.history import RANDOM_FUNCTION
from bench.growth.history import _neutral_defaults as neutral_defaults
from bench.harness.config import BenchConfig
from bench.harness.cpu import POSTGRES, CpuMonitor
from bench.harness.database import (
    bench_database,
    products_create,
    raw_connection,
)
from bench.harness.report import Results, Stopwatch, print_table, scaled, step, thousands, verdict
from bench.harness.worker import redis_flush

NAME = "dunning"
FULL_ITEMS = 100_000
TARGET_SECONDS = 60.0
SESSION = ("session_replication_role = replica", "synchronous_commit = off",
           "work_mem = '256MB'", "maintenance_work_mem = '512MB'", "TIME ZONE 'Europe/Berlin'")
# kind -> (overdue after the sweep, notices, fee per notice, on the collection list)
CHECKS = {"falls_due": (True, 0, Decimal("0"), False),
          "reminder": (True, 1, Decimal("0"), False),
          "first_notice": (True, 1, Decimal("2.50"), False),
          "second_notice": (True, 1, Decimal("5.00"), False),
          "collection": (True, 1, Decimal("0"), True),
          "paused": (True, 0, Decimal("0"), False)}


def run(config: BenchConfig) -> Results:
    items = scaled(FULL_ITEMS, config.scale, 1_000)
    results = Results(NAME, config, parameters={
        "items": items, "customers": max(items // 2, 1),
        "mix": {kind: row[0] for kind, row in MIX.items()}, "batch_size": _batch_size()})
    print(f"\ndunning: one sweep over {thousands(items)} open items due for a step "
          f"(in process, as the beat task calls it)")
    redis_flush(config.redis_url)
    with bench_database(config, NAME) as db:
        step(f"setup in database {db}: {N_SKUS} products, a store")
        store_id = _setup()
        step(f"writing {thousands(items)} orders with their open items by SQL")
        load_seconds, rows, neutral = _load(config, db, items, store_id)
        step(f"  loaded in {load_seconds:.1f} s: "
             + ", ".join(f"{t} {thousands(n)}" for t, n in rows.items()))
        if neutral:
            results.notes.append("columns the loader does not write yet got a neutral value: "
                                 + ", ".join(neutral))
        step("sweep (timed), then a second sweep that must find nothing to do")
        first, first_seconds, second, second_seconds, cpu = _sweeps(db)
        findings, figures = _check(config, db, first)
    redis_flush(config.redis_url)
    results.metrics = {
        "load_seconds": round(load_seconds, 1), "rows": rows,
        "sweep": {"seconds": round(first_seconds, 2),
                  "items_per_second": round(first.looked_at / first_seconds, 1),
                  "looked_at": first.looked_at, "overdue": first.overdue,
                  "notices": first.notices, "fees": str(first.fees), "paused": first.paused,
                  "for_collection": first.for_collection, "batches": first.batches,
                  "target_seconds": TARGET_SECONDS, "met": first_seconds < TARGET_SECONDS,
                  "cpu_seconds": cpu},
        "second_sweep": {"seconds": round(second_seconds, 3), "looked_at": second.looked_at,
                         "notices": second.notices},
        "checks": {"findings": findings, **figures},
    }
    results.notes.extend(f"check: {f}" for f in findings)
    _report(results, first, first_seconds, second, second_seconds)
    return results


def _batch_size() -> int:
    from finance.services.dunning import BATCH_SIZE

    return BATCH_SIZE


def _setup() -> int:
    from inventory.models import Capability
    from inventory.services import LocationData, location_upsert

    products_create([f"{SKU_PREFIX}{n:04d}" for n in range(1, N_SKUS + 1)],
                    name="Bench dunning product")
    store, *_rest = location_upsert(data=LocationData(
        code="ST-DUN", name="Bench store", kind="store",
        address={"city": "Kassel", "country": "DE"}, lat=51.31, lon=9.48,
        capabilities=[Capability.ACCEPTS_RETURNS], priority=50))
    return int(store.pk)


def _load(config: BenchConfig, db: str, items: int,
          store_id: int) -> tuple[float, dict[str, int], list[str]]:
    started = time.perf_counter()
    with raw_connection(config, db) as conn:
        conn.autocommit = True
        for setting in SESSION:
            conn.execute(f"SET {setting}")
        conn.execute(RANDOM_FUNCTION)
        for statement in plan_sql(items):
            conn.execute(statement)
        statements = dict(load_sql(max(items // 2, 1), store_id))
        set_defaults, drop_defaults, neutral = neutral_defaults(conn, statements)
        for statement in set_defaults:
            conn.execute(statement)
        for table, statement in statements.items():
            step(f"  {table}")
            conn.execute(statement)
        for statement in [*drop_defaults, *sequences_sql(items)]:
            conn.execute(statement)
        rows = {t: conn.execute(f'SELECT count(*) FROM "{t}"').fetchone()[0]
                for t in statements}
        step("  VACUUM (ANALYZE), CHECKPOINT")
        conn.execute("VACUUM (ANALYZE)")
        conn.execute("CHECKPOINT")
    return time.perf_counter() - started, rows, neutral


def _sweeps(db: str) -> tuple[Any, float, Any, float, dict[str, Any]]:
    from django.utils import timezone

    from finance.services import dunning_sweep
    from oms.celery import app as celery_app

    # The relay kicks after each batch's commit go to Redis and wait there (no worker): the
    # figure is the sweep's own work, as the beat task does it.
    eager = celery_app.conf.task_always_eager
    celery_app.conf.task_always_eager = False
    try:
        now = timezone.now()
        monitor = CpuMonitor({}, db).start()
        with Stopwatch() as first_watch:
            first = dunning_sweep(now=now)
        cpu = monitor.stop()
        with Stopwatch() as second_watch:
            second = dunning_sweep(now=now)
    finally:
        celery_app.conf.task_always_eager = eager
    return first, first_watch.seconds, second, second_watch.seconds, cpu


def _check(config: BenchConfig, db: str, report: Any) -> tuple[list[str], dict[str, Any]]:
    """Every item as its kind expects; the ledger holds the fees; events per notice."""
    from django.db.models import Sum

    from finance.models import DunningNotice
    from ledger.models import JournalLine
    from oms.core.models import OutboxEvent

    findings: list[str] = []
    by_kind: dict[str, dict[str, Any]] = {}
    with raw_connection(config, db) as conn:
        for kind, count, overdue, moved_on, notices, fees, collection in conn.execute(
                OUTCOME_SQL).fetchall():
            want_overdue, want_notices, want_fee, want_collection = CHECKS[kind]
            by_kind[kind] = {"items": count, "notices": notices, "fees": str(fees)}
            if (overdue == count) != want_overdue:
                findings.append(f"{kind}: {count - overdue} of {count} not overdue")
            if moved_on != count:
                findings.append(f"{kind}: {count - moved_on} items still due")
            if notices != want_notices * count:
                findings.append(f"{kind}: {notices} notices for {count} items")
            if Decimal(fees) != want_fee * count:
                findings.append(f"{kind}: fees {fees}, expected {want_fee * count}")
            if (collection == count) != want_collection:
                findings.append(f"{kind}: {collection} of {count} on the collection list")
        conn.execute(f"DROP TABLE {PLAN_TABLES}")
    booked = JournalLine.objects.filter(entry__source__startswith="dunning:",
                                        account__role="dunning_fees").aggregate(
        total=Sum("credit"))["total"] or Decimal("0")
    if booked != report.fees:
        findings.append(f"fees booked {booked}, charged {report.fees}")
    events = OutboxEvent.objects.filter(topic="dunning.notice").count()
    notices = DunningNotice.objects.count()
    if events != notices or notices != report.notices:
        findings.append(f"{notices} notices, {events} dunning.notice events, "
                        f"{report.notices} reported")
    return findings, {"by_kind": by_kind, "fees_booked": str(booked),
                      "dunning_notice_events": events}


def _report(results: Results, first: Any, seconds: float, second: Any,
            second_seconds: float) -> None:
    met = seconds < TARGET_SECONDS
    print()
    print_table([
        ["metric", "items", "seconds", "items/s", "overdue", "notices", "fees", "paused",
         "collection", "target", ""],
        ["dunning.sweep", thousands(first.looked_at), f"{seconds:.1f}",
         f"{first.looked_at / seconds:,.0f}", thousands(first.overdue),
         thousands(first.notices), f"{first.fees:,.2f}", thousands(first.paused),
         thousands(first.for_collection), f"< {TARGET_SECONDS:.0f} s", verdict(met)],
        ["dunning.sweep_again", thousands(second.looked_at), f"{second_seconds:.3f}", "",
         "0", thousands(second.notices), "", "", "", "(nothing)",
         "correct" if second.looked_at == 0 else "WRONG"],
    ], right=(1, 2, 3, 4, 5, 6, 7, 8))
    cpu = results.metrics["sweep"]["cpu_seconds"]
    if cpu.get("machine capacity"):
        print("  CPU during the sweep: the sweep's process "
              f"{cpu.get('benchmark process', 0):.1f} s, PostgreSQL "
              f"{cpu.get(POSTGRES, 0):.1f} s, other processes "
              f"{cpu.get('other processes', 0):.1f} s; machine "
              f"{cpu['machine busy'] / cpu['machine capacity']:.0%} busy"
              + ("; busiest others: " + ", ".join(
                  f"{name} {s:.1f} s" for name, s in cpu["busiest other processes"].items())
                 if cpu.get("busiest other processes") else ""))
    findings = results.metrics["checks"]["findings"]
    print(f"  {first.batches} batches of up to {_batch_size()}; check of every item by kind, "
          "the fees in the ledger and one event per notice: "
          + ("correct" if not findings else f"{len(findings)} FINDINGS (see notes)"))
    results.print_notes()
