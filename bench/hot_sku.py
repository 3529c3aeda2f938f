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

import contextlib
import math
import multiprocessing
import os
import queue
import time
from dataclasses import dataclass
from typing import Any

from bench.harness import (
    BenchConfig,
    Results,
    bench_database,
    latency_summary,
    print_table,
    raw_connection,
    scaled,
    step,
    thousands,
    verdict,
)
from bench.pgbench import PgbenchResult, WaitSampler, pgbench_run

NAME = "hot_sku"
PROCESSES = 16
FULL_SECONDS = 10.0
FULL_SHORTAGE_UNITS = 2_000
DEMAND_FACTOR = 2
PLENTY_ON_HAND = 1_000_000_000
SKU = "HOT-000001"
LOCATION = "WH-HOT"
CHANNEL = "web"
TARGET_RATIO = 0.5
WARM_UP_HOLDS = 3
FLOOR = "python_floor"
PGBENCH_SCRIPT = """\
UPDATE inventory_stocklevel SET reserved = reserved + 1
 WHERE id = :id AND on_hand - reserved - safety_stock >= 1;
"""


# --- the worker processes ------------------------------------------------------------------


class _Replay:
    """The two statements one real hold sent (sourcing's read, then the hold statement), sent
    again through psycopg directly with fresh ids: no Django, no sourcing logic, no model
    instances. The fastest any Python service making the same round trips could be here."""

    def __init__(self, statements: list[tuple[str, list[Any]]]) -> None:
        from inventory.hold_sql import hold_param_positions, hold_sql

        if len(statements) != 2 or statements[1][0] != hold_sql():
            raise RuntimeError("a hold did not send sourcing's read and then the hold statement")
        self.read, self.hold = statements
        self.fresh = hold_param_positions()

    @classmethod
    def recorded(cls, hold: Any) -> _Replay:
        from django.db import connection

        sent: list[tuple[str, list[Any]]] = []

        def record(execute: Any, sql: str, params: Any, many: bool, context: Any) -> Any:
            sent.append((sql, list(params or [])))
            return execute(sql, params, many, context)

        with connection.execute_wrapper(record):
            hold()
        return cls([(sql, params) for sql, params in sent if "webhooksubscription" not in sql])

    def run(self, connection: Any) -> None:
        import uuid

        from inventory.reservations import StockRaceLost

        params = list(self.hold[1])
        reservation_id = uuid.uuid4()
        params[self.fresh.reservation_id] = reservation_id
        params[self.fresh.event_id] = uuid.uuid4()
        params[self.fresh.event_aggregate_id] = str(reservation_id)
        with connection.connection.cursor() as cursor:
            cursor.execute(*self.read)
            cursor.fetchall()
            cursor.execute(self.hold[0], params)
            if cursor.rowcount != 1:
                raise StockRaceLost(SKU)


def _worker_main(db: str, worker: int, commands: Any, results: Any) -> None:
    """Entry point of one spawned worker: set Django up, connect, then run phases on request."""
    import django

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "oms.settings")
    django.setup()
    from bench.harness import django_use_database

    django_use_database(db)
    from django.db import connection

    from inventory.reservations import InsufficientStock, reservation_hold
    from inventory.sourcing import DeliveryRequest, LineRequest

    lines = [LineRequest(SKU, 1)]
    delivery = DeliveryRequest(method="ship")
    for n in range(WARM_UP_HOLDS):  # imports, connection, first-query caches: not measured
        reservation_hold(reference=f"warm-up-{worker}-{n}", channel=CHANNEL, lines=lines,
                         delivery=delivery)
    replay = _Replay.recorded(lambda: reservation_hold(
        reference=f"replayed-{worker}", channel=CHANNEL, lines=lines, delivery=delivery))
    results.put(("ready", worker, os.getpid()))
    while True:
        command = commands.get()
        if command is None:
            break
        phase, start_at, seconds, attempts = command
        granted = refused = 0
        errors: list[str] = []
        latencies: list[float] = []
        time.sleep(max(0.0, start_at - time.monotonic()))
        started, cpu_started = time.monotonic(), time.process_time()
        deadline = start_at + seconds if seconds else math.inf
        n = 0
        while (n < attempts) if attempts else (time.monotonic() < deadline):
            n += 1
            t0 = time.perf_counter()
            try:
                if phase == FLOOR:
                    replay.run(connection)
                else:
                    reservation_hold(reference=f"{phase}-{worker}-{n}", channel=CHANNEL,
                                     lines=lines, delivery=delivery)
                granted += 1
            except InsufficientStock:
                refused += 1
            except Exception as exc:
                errors.append(f"{type(exc).__name__}: {exc}"[:300])
                connection.close()
            latencies.append(time.perf_counter() - t0)
        results.put(("done", worker, {
            "pid": os.getpid(), "granted": granted, "refused": refused, "errors": errors,
            "latencies": latencies, "started": started, "finished": time.monotonic(),
            "cpu": time.process_time() - cpu_started,
        }))
    connection.close()


class Workers:
    """PROCESSES spawned workers, each with its own command queue; always stopped on exit."""

    def __init__(self, db: str, count: int) -> None:
        context = multiprocessing.get_context("spawn")
        self.results = context.Queue()
        self.commands = [context.Queue() for _ in range(count)]
        self.processes = [
            context.Process(target=_worker_main, args=(db, n, self.commands[n], self.results),
                            name=f"bench-hot-sku-{n}", daemon=True)
            for n in range(count)
        ]

    def __enter__(self) -> Workers:
        try:
            for process in self.processes:
                process.start()
            pids = set()
            deadline = time.monotonic() + 180
            while len(pids) < len(self.processes):
                pids.add(self._get(deadline, "ready")[2])
        except BaseException:
            self.__exit__()
            raise
        return self

    def _get(self, deadline: float, kind: str) -> tuple[Any, ...]:
        while True:
            dead = [p for p in self.processes if p.exitcode not in (None, 0)]
            if dead:
                raise RuntimeError(f"worker {dead[0].name} exited with {dead[0].exitcode}")
            try:
                message = self.results.get(timeout=1)
            except queue.Empty:
                if time.monotonic() > deadline:
                    raise RuntimeError(f"workers did not report {kind!r} in time") from None
                continue
            if message[0] != kind:
                raise RuntimeError(f"unexpected worker message {message[0]!r}")
            return message

    def run(self, phase: str, *, seconds: float = 0.0, attempts: int = 0,
            processes: int | None = None) -> list[dict]:
        """Run a phase in all workers (or the first `processes`); their reports."""
        chosen = self.commands[:processes or len(self.commands)]
        start_at = time.monotonic() + 0.5  # every worker has its command before the start
        for commands in chosen:
            commands.put((phase, start_at, seconds, attempts))
        deadline = start_at + seconds + 600
        return [self._get(deadline, "done")[2] for _ in chosen]

    def __exit__(self, *exc: object) -> None:
        for commands in self.commands:
            with contextlib.suppress(Exception):
                commands.put(None)
        for process in self.processes:
            if process.pid is not None:
                process.join(timeout=10)
        for process in self.processes:
            if process.pid is not None and process.is_alive():
                process.terminate()
                process.join(timeout=5)
        for q in (self.results, *self.commands):
            q.close()
            q.cancel_join_thread()


# --- the hold statement without the application ---------------------------------------------


def _hold_statement_script(config: BenchConfig, db: str) -> str:
    """The statement a one-row cart hold runs, with the values a real hold writes rendered as
    literals, except what must differ per transaction: the reservation's and the event's ids
    (``gen_random_uuid()``) and the event's aggregate id (the new reservation's)."""
    from psycopg import sql

    from inventory.hold_sql import hold_param_positions
    from inventory.reservations import cart_hold_statement
    from inventory.sourcing import DeliveryRequest, LineRequest, sourcing_decide

    delivery = DeliveryRequest(method="ship")
    decision = sourcing_decide(lines=[LineRequest(SKU, 1)], delivery=delivery)
    statement, params = cart_hold_statement(reference="pgbench-hold", channel=CHANNEL,
                                            delivery=delivery,
                                            allocation=decision.allocations[0])
    fresh = hold_param_positions()
    per_transaction = {fresh.reservation_id: "gen_random_uuid()",
                       fresh.event_id: "gen_random_uuid()",
                       fresh.event_aggregate_id: "id::text"}  # the reservation CTE's id
    parts = statement.split("%s")
    if len(parts) != len(params) + 1:
        raise RuntimeError("the hold statement's placeholders do not match its parameters")
    with raw_connection(config, db) as conn:
        values = [per_transaction.get(n) or sql.Literal(value).as_string(conn)
                  for n, value in enumerate(params)]
    return "".join(part + value for part, value in zip(parts, [*values, ""], strict=True)) + ";\n"


def _held_by_statement(config: BenchConfig, db: str, level_id: int) -> int:
    with raw_connection(config, db) as conn:
        return conn.execute(
            "SELECT count(*) FROM inventory_reservation r "
            "JOIN inventory_reservationline l ON l.reservation_id = r.id "
            "JOIN core_outboxevent e ON e.aggregate_id = r.id::text "
            "WHERE r.reference = 'pgbench-hold' AND l.stock_level_id = %s", [level_id],
        ).fetchone()[0]


# --- phases --------------------------------------------------------------------------------


@dataclass(frozen=True)
class Phase:
    name: str
    granted: int
    refused: int
    errors: list[str]
    seconds: float
    latencies: list[float]
    processes: int
    cpu_seconds: float  # CPU the worker processes spent in the phase (user + system)

    @property
    def rate(self) -> float:
        return self.granted / self.seconds if self.seconds else math.nan

    @property
    def cpu_ms_per_call(self) -> float:
        """Application CPU per reservation_hold call (granted or refused): on a machine with
        fewer cores than processes this, not the stock row, bounds the rate."""
        return self.cpu_seconds * 1000 / len(self.latencies) if self.latencies else math.nan


def _phase(name: str, reports: list[dict]) -> Phase:
    return Phase(
        name=name,
        granted=sum(r["granted"] for r in reports),
        refused=sum(r["refused"] for r in reports),
        errors=[e for r in reports for e in r["errors"]],
        seconds=max(r["finished"] for r in reports) - min(r["started"] for r in reports),
        latencies=[s for r in reports for s in r["latencies"]],
        processes=len({r["pid"] for r in reports}),
        cpu_seconds=sum(r["cpu"] for r in reports),
    )


def _setup() -> int:
    from django.utils import timezone

    from inventory.models import Capability, StockLevel
    from inventory.services import LocationData, location_upsert, stock_snapshot_apply
    from inventory.snapshot_sql import LevelRow
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
        conn.autocommit = True
        # Only the stock table: analyzing inventory_reservation while it holds a few dozen rows
        # would make every worker's backend plan the foreign-key check of the reservation lines
        # as a sequential scan and keep that plan while the table grows (bench/README.md).
        conn.execute("VACUUM (ANALYZE) inventory_stocklevel")


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
            after_pgbench = _stock(config, db, level_id)
            _reset(config, db, level_id)
            step(f"pgbench_hold_statement: {PROCESSES} clients, {seconds:.0f} s of the service's "
                 "hold statement")
            statement = pgbench_run(config, db, _hold_statement_script(config, db),
                                    clients=PROCESSES, threads=threads, duration_s=seconds)
            after_statement = {**_stock(config, db, level_id),
                               "holds_written": _held_by_statement(config, db, level_id)}
            _reset(config, db, level_id)
            step(f"plenty: reservation_hold in a loop for {seconds:.0f} s")
            with WaitSampler(config, db) as plenty_waits:
                plenty = _phase("plenty", workers.run("plenty", seconds=seconds))
            after_plenty = _stock(config, db, level_id)
            _reset(config, db, level_id)
            step(f"{FLOOR}: the same processes replay a hold's two statements through psycopg")
            floor = _phase(FLOOR, workers.run(FLOOR, seconds=seconds))
            after_floor = _stock(config, db, level_id)
            _reset(config, db, level_id)
            step(f"plenty_{cores}_processes: the same with as many processes as cores")
            few = _phase(f"plenty_{cores}_processes",
                         workers.run("few", seconds=seconds, processes=cores))
            after_few = _stock(config, db, level_id)
            _reset(config, db, level_id, on_hand=shortage_units)
            step(f"shortage: {attempts} attempts per process on {thousands(shortage_units)} "
                 "units")
            shortage = _phase("shortage", workers.run("shortage", attempts=attempts))
            after_shortage = _stock(config, db, level_id)
    results.metrics["backend_states"] = {"pgbench": pgbench_waits.fractions(),
                                         "plenty": plenty_waits.fractions()}

    _report(results, baseline, after_pgbench, plenty, after_plenty, shortage, after_shortage,
            few, after_few, statement, after_statement, floor, after_floor)
    return results


def _report(results: Results, baseline: PgbenchResult, after_pgbench: dict[str, int],
            plenty: Phase, after_plenty: dict[str, int], shortage: Phase,
            after_shortage: dict[str, int], few: Phase, after_few: dict[str, int],
            statement: PgbenchResult, after_statement: dict[str, int], floor: Phase,
            after_floor: dict[str, int]) -> None:
    ratio = plenty.rate / baseline.tps if baseline.tps else math.nan
    table = [["metric", "holds/s", "ratio to pgbench", "granted", "refused", "errors",
              "seconds", "p50", "p95", "p99", "CPU/call", "target", ""]]
    base_lat = baseline.latency
    table.append([
        "hot_sku.pgbench_update", f"{thousands(baseline.tps)} tps", "1.00",
        thousands(baseline.transactions), "", str(baseline.failed),
        f"{baseline.duration_s:.1f}", f"{base_lat.get('p50_ms', math.nan):.1f} ms",
        f"{base_lat.get('p95_ms', math.nan):.1f} ms", f"{base_lat.get('p99_ms', math.nan):.1f} ms",
        "", "", "",
    ])
    statement_lat = statement.latency
    table.append([
        "hot_sku.pgbench_hold_statement", f"{thousands(statement.tps)} tps",
        f"{statement.tps / baseline.tps:.2f}" if baseline.tps else "",
        thousands(statement.transactions), "", str(statement.failed),
        f"{statement.duration_s:.1f}", f"{statement_lat.get('p50_ms', math.nan):.1f} ms",
        f"{statement_lat.get('p95_ms', math.nan):.1f} ms",
        f"{statement_lat.get('p99_ms', math.nan):.1f} ms", "", "(information)", "",
    ])
    results.metrics["pgbench_hold_statement"] = {
        **statement.as_json(),
        "ratio_to_pgbench": round(statement.tps / baseline.tps, 4) if baseline.tps else None,
        "service_plenty_to_statement": (round(plenty.rate / statement.tps, 4)
                                        if statement.tps else None),
        "service_plenty_to_python_floor": (round(plenty.rate / floor.rate, 4)
                                           if floor.rate else None),
    }
    for phase in (plenty, floor, few, shortage):
        lat = latency_summary(phase.latencies)
        is_plenty = phase is plenty
        metric = phase.name if phase is floor else f"service_{phase.name}"
        table.append([
            f"hot_sku.{metric}", f"{thousands(phase.rate)} /s",
            f"{phase.rate / baseline.tps:.2f}" if baseline.tps else "",
            thousands(phase.granted), thousands(phase.refused), str(len(phase.errors)),
            f"{phase.seconds:.1f}", f"{lat['p50_ms']:.1f} ms", f"{lat['p95_ms']:.1f} ms",
            f"{lat['p99_ms']:.1f} ms", f"{phase.cpu_ms_per_call:.1f} ms",
            f">= {TARGET_RATIO} of pgbench" if is_plenty
            else "zero oversell" if phase is shortage else "(information)",
            verdict(ratio >= TARGET_RATIO) if is_plenty else "",
        ])
        results.metrics[metric] = {
            "holds_per_second": round(phase.rate, 1),
            "ratio_to_pgbench": round(phase.rate / baseline.tps, 4) if baseline.tps else None,
            "granted": phase.granted, "refused": phase.refused, "errors": len(phase.errors),
            "first_error": phase.errors[0] if phase.errors else None,
            "seconds": round(phase.seconds, 3), "processes": phase.processes,
            "latency_ms": {k: round(v, 3) for k, v in lat.items() if k != "n"},
            "cpu_ms_per_call": round(phase.cpu_ms_per_call, 3),
        }
    results.metrics["pgbench_update"] = baseline.as_json()
    results.metrics["service_plenty"]["target"] = {"ratio_to_pgbench": TARGET_RATIO,
                                                   "met": ratio >= TARGET_RATIO}

    available = after_shortage["on_hand"] - after_shortage["safety_stock"]
    checks = {
        "pgbench: reserved == transactions": after_pgbench["reserved"] == baseline.transactions,
        "pgbench_hold_statement: reserved == transactions == holds with line and event":
            after_statement["reserved"] == statement.transactions
            == after_statement["holds_written"] == after_statement["held_on_active_lines"],
        "plenty: reserved == holds granted": after_plenty["reserved"] == plenty.granted,
        "plenty: reserved == units on active reservation lines":
            after_plenty["reserved"] == after_plenty["held_on_active_lines"],
        f"{few.name}: reserved == holds granted": after_few["reserved"] == few.granted,
        f"{FLOOR}: reserved == holds granted": after_floor["reserved"] == floor.granted,
        "shortage: reserved <= on_hand - safety_stock (no oversell)":
            after_shortage["reserved"] <= available,
        "shortage: reserved == holds granted": after_shortage["reserved"] == shortage.granted,
        "shortage: reserved == units on active reservation lines":
            after_shortage["reserved"] == after_shortage["held_on_active_lines"],
        "shortage: granted + refused == attempts":
            shortage.granted + shortage.refused + len(shortage.errors)
            == results.parameters["shortage_demand"],
    }
    results.metrics["stock_after"] = {"pgbench": after_pgbench,
                                      "pgbench_hold_statement": after_statement,
                                      "plenty": after_plenty, FLOOR: after_floor,
                                      few.name: after_few, "shortage": after_shortage}
    results.metrics["checks"] = checks
    results.metrics["shortage_units_left_unsold"] = available - after_shortage["reserved"]
    for phase in (plenty, floor, few, shortage):
        if phase.errors:
            results.notes.append(f"{phase.name}: {len(phase.errors)} unexpected errors, first: "
                                 f"{phase.errors[0]}")
        if phase is not few and phase.processes != PROCESSES:
            results.notes.append(f"{phase.name}: ran in {phase.processes} distinct processes")
    if baseline.failed:
        results.notes.append(f"pgbench: {baseline.failed} failed transactions")

    print()
    print_table(table, right=(1, 2, 3, 4, 5, 6, 7, 8, 9, 10))
    print(f"  baseline: pgbench -M prepared -c {baseline.clients} -j {baseline.threads} "
          f"-T {baseline.duration_s:.0f}, one conditional UPDATE per transaction; service: "
          f"{PROCESSES} spawned processes in autocommit, each reservation_hold = the sourcing "
          "query + one statement (the conditional UPDATE, reservation, line and outbox rows) "
          "and its commit; the relay is kicked only for an event someone wants (none here); "
          "pgbench_hold_statement: that one statement driven by pgbench, no application")
    if statement.tps and baseline.tps and floor.rate:
        print(f"  the gap, split: the hold statement alone reaches "
              f"{statement.tps / baseline.tps:.2f} of the bare UPDATE inside the server; the "
              f"service reaches {plenty.rate / statement.tps:.2f} of the statement alone; "
              f"{FLOOR} (the same round trips from the same processes, no service code) "
              f"{floor.rate / statement.tps:.2f}: the service runs at "
              f"{plenty.rate / floor.rate:.2f} of its own round trips without its code")
    print(f"  shortage: on_hand {thousands(after_shortage['on_hand'])}, demand "
          f"{thousands(results.parameters['shortage_demand'])}: granted "
          f"{thousands(shortage.granted)}, refused {thousands(shortage.refused)}, reserved "
          f"{thousands(after_shortage['reserved'])}, on active lines "
          f"{thousands(after_shortage['held_on_active_lines'])}, left unsold "
          f"{thousands(available - after_shortage['reserved'])}")
    for name, states in results.metrics.get("backend_states", {}).items():
        print(f"  backend states during {name}: " + ", ".join(
            f"{share:.0%} {key}" for key, share in list(states.items())[:6]))
    for name, ok in checks.items():
        print(f"  {'ok ' if ok else 'FAILED'} {name}")
    for note in results.notes:
        print(f"  ! {note}")
