"""The hot SKU benchmark's worker processes, spawned so each sets Django up and connects by
itself (processes, not threads: threads would measure the GIL), and the hold statement run
without the application."""

from __future__ import annotations

import contextlib
import math
import multiprocessing
import os
import queue
import time
from dataclasses import dataclass
from typing import Any

from bench.harness.config import BenchConfig
from bench.harness.database import raw_connection

SKU = "HOT-000001"
CHANNEL = "web"
WARM_UP_HOLDS = 3
FLOOR = "python_floor"


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

    @classmethod
    def of(cls, name: str, reports: list[dict]) -> Phase:
        """The phase as the workers' `reports` tell it."""
        return cls(
            name=name,
            granted=sum(r["granted"] for r in reports),
            refused=sum(r["refused"] for r in reports),
            errors=[e for r in reports for e in r["errors"]],
            seconds=max(r["finished"] for r in reports) - min(r["started"] for r in reports),
            latencies=[s for r in reports for s in r["latencies"]],
            processes=len({r["pid"] for r in reports}),
            cpu_seconds=sum(r["cpu"] for r in reports),
        )


class _Replay:
    """The two statements one real hold sent (sourcing's read, then the hold statement), sent
    again through psycopg directly with fresh ids: no Django, no sourcing logic, no model
    instances. The fastest any Python service making the same round trips could be here."""

    def __init__(self, statements: list[tuple[str, list[Any]]]) -> None:
        from inventory.sql.hold import hold_param_positions, hold_sql

        if len(statements) != 2 or statements[1][0] != hold_sql():
            heads = [sql.strip()[:60] for sql, _params in statements]
            raise RuntimeError("a hold did not send sourcing's read and then the hold "
                               f"statement: {heads}")
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
    # As in production, the outbox relay a hold's commit kicks runs in a Celery worker, not in
    # the process serving the hold: the kick is one message through Redis (coalesced while
    # one waits), and no worker runs here, so the relay's own work is not measured.
    os.environ["CELERY_TASK_ALWAYS_EAGER"] = "false"
    django.setup()
    from bench.harness.database import django_use_database

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

    def run(self, name: str, *, seconds: float = 0.0, attempts: int = 0,
            processes: int | None = None) -> Phase:
        """Run a phase in all workers (or the first `processes`): the loop of holds for
        `seconds`, or `attempts` holds each; the replay of a hold's statements for FLOOR."""
        chosen = self.commands[:processes or len(self.commands)]
        start_at = time.monotonic() + 0.5  # every worker has its command before the start
        for commands in chosen:
            commands.put((name, start_at, seconds, attempts))
        deadline = start_at + seconds + 600
        return Phase.of(name, [self._get(deadline, "done")[2] for _ in chosen])

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


def hold_statement_script(config: BenchConfig, db: str) -> str:
    """The statement a one-row cart hold runs, with the values a real hold writes rendered as
    literals, except what must differ per transaction: the reservation's and the event's ids
    (``gen_random_uuid()``) and the event's aggregate id (the new reservation's)."""
    from psycopg import sql

    from inventory.reservations import cart_hold_statement
    from inventory.sourcing import DeliveryRequest, LineRequest, sourcing_decide
    from inventory.sql.hold import hold_param_positions

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


def held_by_statement(config: BenchConfig, db: str, level_id: int) -> int:
    with raw_connection(config, db) as conn:
        return conn.execute(
            "SELECT count(*) FROM inventory_reservation r "
            "JOIN inventory_reservationline l ON l.reservation_id = r.id "
            "JOIN core_outboxevent e ON e.aggregate_id = r.id::text "
            "WHERE r.reference = 'pgbench-hold' AND l.stock_level_id = %s", [level_id],
        ).fetchone()[0]
