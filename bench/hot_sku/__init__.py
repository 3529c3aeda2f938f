"""One hot SKU: cart holds (``inventory.reservations.reservation_hold``, one unit each, default
TTL) from 16 OS processes at once, all on the same stock row, next to pgbench running the bare
conditional UPDATE on that row with 16 clients in the same run.

Each worker is a process of its own (``multiprocessing`` with the *spawn* start method): it sets
Django up itself and opens its own database connection, so the figure is what 16 independent
application processes get out of one row, not what the GIL lets threads do.

Phases, all in the one benchmark database:

1. setup (not timed): one product via ``products_upsert``, one warehouse via ``location_upsert``,
   its stock via ``stock_snapshot_apply`` with more units than any run can hold;
2. ``pgbench``: 16 clients for a fixed time, each transaction ``UPDATE inventory_stocklevel SET
   reserved = reserved + 1 WHERE id = :id AND on_hand - reserved - safety_stock >= 1``; then
   ``reserved`` is reset to 0 and the table vacuumed;
   then, for information, ``pgbench_hold_statement``: pgbench running the service's own hold
   statement (:func:`inventory.reservations.cart_hold_statement`: the UPDATE, the reservation,
   its line and the outbox event, with the values a real hold writes and fresh ids per
   transaction) with the same clients. It splits the gap to the bare UPDATE in two: what the
   statement costs inside the server, and what the application around it costs;
3. ``plenty``: the 16 workers call ``reservation_hold`` in a loop for the same time;
   then, for information, ``python_floor``: the same 16 processes send the two statements one
   real hold sent (sourcing's read and the hold statement, recorded once per process) again and
   again through psycopg directly, with fresh ids: the fastest any Python service making those
   round trips could be on this machine;
   then, for information, ``plenty_<cores>_processes``: the same with only as many workers as
   the machine has cores, which shows what the 16-way oversubscription itself costs;
4. reset: the holds are marked released, ``reserved`` set to 0, ``on_hand`` cut to fewer units
   than the workers will ask for (raw SQL: this is fixture work, not the code under test);
5. ``shortage``: each worker makes a fixed number of attempts; together they ask for twice the
   units there are. Verified: no oversell (``reserved <= on_hand - safety_stock``), ``reserved``
   equals the holds the workers were granted and the units on active reservation lines.
"""

from __future__ import annotations

import math
import os

from bench.harness.config import BenchConfig
from bench.harness.database import bench_database, raw_connection, vacuum_analyze
from bench.harness.pgbench import PgbenchResult, WaitSampler, pgbench_run, print_backend_states
from bench.harness.report import Results, latency_ms, print_table, scaled, step, thousands, verdict
from bench.hot_sku.processes import (
    FLOOR,
    SKU,
    WARM_UP_HOLDS,
    Phase,
    Workers,
    held_by_statement,
    hold_statement_script,
)

NAME = "hot_sku"
PROCESSES = 16
FULL_SECONDS = 10.0
FULL_SHORTAGE_UNITS = 2_000
DEMAND_FACTOR = 2
PLENTY_ON_HAND = 1_000_000_000
LOCATION = "WH-HOT"
TARGET_RATIO = 0.5
PGBENCH_SCRIPT = """\
UPDATE inventory_stocklevel SET reserved = reserved + 1
 WHERE id = :id AND on_hand - reserved - safety_stock >= 1;
"""


def _setup() -> int:
    """The product, the warehouse and its stock through their services; the stock row's id."""
    from django.utils import timezone

    from inventory.models import Capability, StockLevel
    from inventory.services import LocationData, location_upsert, stock_snapshot_apply
    from inventory.sql.snapshot import LevelRow
    from oms.catalog.services import ProductData, products_upsert

    products_upsert(products=[ProductData(sku=SKU, name="Bench hot product")])
    location, _created = location_upsert(data=LocationData(
        code=LOCATION, name="Bench hot warehouse", kind="warehouse",
        address={"city": "Kassel", "country": "DE"}, lat=51.31, lon=9.48,
        capabilities=[Capability.SHIPS], priority=10,
    ))
    stock_snapshot_apply(location=location, as_of=timezone.now(),
                         levels=[LevelRow(SKU, PLENTY_ON_HAND)], actor="bench")
    return StockLevel.objects.get(product_id=SKU, location=location).pk


def _stock(config: BenchConfig, db: str, level_id: int) -> dict[str, int]:
    with raw_connection(config, db) as conn:
        on_hand, reserved, safety = conn.execute(
            "SELECT on_hand, reserved, safety_stock FROM inventory_stocklevel WHERE id = %s",
            [level_id]).fetchone()
        held = conn.execute(
            "SELECT coalesce(sum(l.quantity), 0) FROM inventory_reservationline l "
            "JOIN inventory_reservation r ON r.id = l.reservation_id "
            "WHERE l.stock_level_id = %s AND r.state = 'active'", [level_id]).fetchone()[0]
    return {"on_hand": on_hand, "reserved": reserved, "safety_stock": safety,
            "held_on_active_lines": int(held)}


def _reset(config: BenchConfig, db: str, level_id: int, on_hand: int | None = None) -> None:
    """Give every unit back (holds released, reserved = 0), optionally set on_hand, vacuum the
    stock table."""
    with raw_connection(config, db) as conn:
        conn.execute("UPDATE inventory_reservation SET state = 'released', updated_at = now() "
                     "WHERE state = 'active'")
        conn.execute("UPDATE inventory_stocklevel SET reserved = 0, "
                     "on_hand = coalesce(%s, on_hand), updated_at = now() WHERE id = %s",
                     [on_hand, level_id])
        conn.commit()
    # Only the stock table: analyzing inventory_reservation while it holds a few dozen rows
    # would make every worker's backend plan the foreign-key check of the reservation lines
    # as a sequential scan and keep that plan while the table grows (bench/README.md).
    vacuum_analyze(config, db, "inventory_stocklevel")


def run(config: BenchConfig) -> Results:
    seconds = max(2.0, FULL_SECONDS * config.scale)
    shortage_units = scaled(FULL_SHORTAGE_UNITS, config.scale, PROCESSES * 5)
    attempts = math.ceil(shortage_units * DEMAND_FACTOR / PROCESSES)
    cores = max(1, os.cpu_count() or 1)
    threads = min(PROCESSES, cores)
    results = Results(NAME, config, parameters={
        "processes": PROCESSES, "pgbench_clients": PROCESSES, "pgbench_threads": threads,
        "seconds": seconds, "sku": SKU, "location": LOCATION, "units_per_hold": 1,
        "ttl": "default", "shortage_on_hand": shortage_units,
        "shortage_attempts_per_process": attempts,
        "shortage_demand": attempts * PROCESSES, "pgbench_script": PGBENCH_SCRIPT.strip(),
    })
    print(f"\nhot_sku: {PROCESSES} processes holding 1 unit of {SKU} at {LOCATION} for "
          f"{seconds:.0f} s; then {thousands(attempts * PROCESSES)} attempts on "
          f"{thousands(shortage_units)} units; pgbench baseline with {PROCESSES} clients")
    after: dict[str, dict[str, int]] = {}  # phase -> the stock row (and holds) after it
    with bench_database(config, NAME) as db:
        step(f"setup in database {db}: products_upsert, location_upsert, stock_snapshot_apply")
        level_id = _setup()
        step(f"starting {PROCESSES} worker processes (spawn, own Django setup and connection, "
             f"{WARM_UP_HOLDS} warm-up holds each)")
        with Workers(db, PROCESSES) as workers:
            _reset(config, db, level_id)
            step(f"pgbench: {PROCESSES} clients, {seconds:.0f} s of the conditional UPDATE on "
                 f"stock row {level_id}")
            with WaitSampler(config, db) as pgbench_waits:
                baseline = pgbench_run(config, db, PGBENCH_SCRIPT, clients=PROCESSES,
                                       threads=threads, duration_s=seconds,
                                       defines={"id": level_id})
            after["pgbench"] = _stock(config, db, level_id)
            _reset(config, db, level_id)
            step(f"pgbench_hold_statement: {PROCESSES} clients, {seconds:.0f} s of the service's "
                 "hold statement")
            statement = pgbench_run(config, db, hold_statement_script(config, db),
                                    clients=PROCESSES, threads=threads, duration_s=seconds)
            after["pgbench_hold_statement"] = {
                **_stock(config, db, level_id),
                "holds_written": held_by_statement(config, db, level_id)}
            _reset(config, db, level_id)
            step(f"plenty: reservation_hold in a loop for {seconds:.0f} s")
            with WaitSampler(config, db) as plenty_waits:
                plenty = workers.run("plenty", seconds=seconds)
            after[plenty.name] = _stock(config, db, level_id)
            _reset(config, db, level_id)
            step(f"{FLOOR}: the same processes replay a hold's two statements through psycopg")
            floor = workers.run(FLOOR, seconds=seconds)
            after[floor.name] = _stock(config, db, level_id)
            _reset(config, db, level_id)
            step(f"plenty_{cores}_processes: the same with as many processes as cores")
            few = workers.run(f"plenty_{cores}_processes", seconds=seconds, processes=cores)
            after[few.name] = _stock(config, db, level_id)
            _reset(config, db, level_id, on_hand=shortage_units)
            step(f"shortage: {attempts} attempts per process on {thousands(shortage_units)} "
                 "units")
            shortage = workers.run("shortage", attempts=attempts)
            after[shortage.name] = _stock(config, db, level_id)
    results.metrics["backend_states"] = {"pgbench": pgbench_waits.fractions(),
                                         "plenty": plenty_waits.fractions()}
    _report(results, baseline, statement, [plenty, floor, few, shortage], after)
    return results


def _report(results: Results, baseline: PgbenchResult, statement: PgbenchResult,
            phases: list[Phase], after: dict[str, dict[str, int]]) -> None:
    plenty, floor, few, shortage = phases
    tps = baseline.tps or math.nan
    ratio = plenty.rate / tps
    table = [["metric", "holds/s", "ratio to pgbench", "granted", "refused", "errors",
              "seconds", "p50", "p95", "p99", "CPU/call", "target", ""]]
    for name, run, note in (("pgbench_update", baseline, ""),
                            ("pgbench_hold_statement", statement, "(information)")):
        table.append([f"hot_sku.{name}", f"{thousands(run.tps)} tps", f"{run.tps / tps:.2f}",
                      thousands(run.transactions), "", str(run.failed),
                      f"{run.duration_s:.1f}", *run.latency_cells(), "", note, ""])
    results.metrics["pgbench_update"] = baseline.as_json()
    results.metrics["pgbench_hold_statement"] = {
        **statement.as_json(), "ratio_to_pgbench": round(statement.tps / tps, 4),
        "service_plenty_to_statement": (round(plenty.rate / statement.tps, 4)
                                        if statement.tps else None),
        "service_plenty_to_python_floor": (round(plenty.rate / floor.rate, 4)
                                           if floor.rate else None),
    }
    for phase in phases:
        lat = latency_ms(phase.latencies)
        metric = phase.name if phase is floor else f"service_{phase.name}"
        target = (f">= {TARGET_RATIO} of pgbench" if phase is plenty
                  else "zero oversell" if phase is shortage else "(information)")
        table.append([
            f"hot_sku.{metric}", f"{thousands(phase.rate)} /s", f"{phase.rate / tps:.2f}",
            thousands(phase.granted), thousands(phase.refused), str(len(phase.errors)),
            f"{phase.seconds:.1f}", *(f"{lat[f'p{p}_ms']:.1f} ms" for p in (50, 95, 99)),
            f"{phase.cpu_ms_per_call:.1f} ms", target,
            verdict(ratio >= TARGET_RATIO) if phase is plenty else "",
        ])
        results.metrics[metric] = {
            "holds_per_second": round(phase.rate, 1),
            "ratio_to_pgbench": round(phase.rate / tps, 4),
            "granted": phase.granted, "refused": phase.refused, "errors": len(phase.errors),
            "first_error": phase.errors[0] if phase.errors else None,
            "seconds": round(phase.seconds, 3), "processes": phase.processes,
            "latency_ms": lat, "cpu_ms_per_call": round(phase.cpu_ms_per_call, 3),
        }
        if phase.errors:
            results.notes.append(f"{phase.name}: {len(phase.errors)} unexpected errors, first: "
                                 f"{phase.errors[0]}")
        if phase is not few and phase.processes != PROCESSES:
            results.notes.append(f"{phase.name}: ran in {phase.processes} distinct processes")
    results.metrics["service_plenty"]["target"] = {"ratio_to_pgbench": TARGET_RATIO,
                                                   "met": ratio >= TARGET_RATIO}
    if baseline.failed:
        results.notes.append(f"pgbench: {baseline.failed} failed transactions")

    held = after["pgbench_hold_statement"]
    short = after[shortage.name]
    available = short["on_hand"] - short["safety_stock"]
    checks = {
        "pgbench: reserved == transactions": after["pgbench"]["reserved"] == baseline.transactions,
        "pgbench_hold_statement: reserved == transactions == holds with line and event":
            held["reserved"] == statement.transactions == held["holds_written"]
            == held["held_on_active_lines"],
        **{f"{phase.name}: reserved == holds granted": after[phase.name]["reserved"]
           == phase.granted for phase in phases},
        **{f"{phase.name}: reserved == units on active reservation lines":
           after[phase.name]["reserved"] == after[phase.name]["held_on_active_lines"]
           for phase in (plenty, shortage)},
        "shortage: reserved <= on_hand - safety_stock (no oversell)":
            short["reserved"] <= available,
        "shortage: granted + refused == attempts":
            shortage.granted + shortage.refused + len(shortage.errors)
            == results.parameters["shortage_demand"],
    }
    results.metrics["stock_after"] = after
    results.metrics["checks"] = checks
    results.metrics["shortage_units_left_unsold"] = available - short["reserved"]

    print()
    print_table(table, right=(1, 2, 3, 4, 5, 6, 7, 8, 9, 10))
    print(f"  baseline: pgbench -M prepared -c {baseline.clients} -j {baseline.threads} "
          f"-T {baseline.duration_s:.0f}, one conditional UPDATE per transaction; service: "
          f"{PROCESSES} spawned processes in autocommit, each reservation_hold = the sourcing "
          "query + one statement (the conditional UPDATE, reservation, line and outbox rows) "
          "and its commit, then the relay's kick through Redis (its run is a worker's, not "
          "measured); "
          "pgbench_hold_statement: that one statement driven by pgbench, no application")
    if statement.tps and baseline.tps and floor.rate:
        print(f"  the gap, split: the hold statement alone reaches "
              f"{statement.tps / baseline.tps:.2f} of the bare UPDATE inside the server; the "
              f"service reaches {plenty.rate / statement.tps:.2f} of the statement alone; "
              f"{FLOOR} (the same round trips from the same processes, no service code) "
              f"{floor.rate / statement.tps:.2f}: the service runs at "
              f"{plenty.rate / floor.rate:.2f} of its own round trips without its code")
    print(f"  shortage: on_hand {thousands(short['on_hand'])}, demand "
          f"{thousands(results.parameters['shortage_demand'])}: granted "
          f"{thousands(shortage.granted)}, refused {thousands(shortage.refused)}, reserved "
          f"{thousands(short['reserved'])}, on active lines "
          f"{thousands(short['held_on_active_lines'])}, left unsold "
          f"{thousands(available - short['reserved'])}")
    print_backend_states(results.metrics["backend_states"])
    for name, ok in checks.items():
        print(f"  {'ok ' if ok else 'FAILED'} {name}")
    results.print_notes()
