"""A year of order history written straight into the tables by SQL, fast enough for a million
orders on 2 cores in a few minutes, for benchmarks that need big tables (``growth``).

Every order gets what intake and the later life of an order would have left behind: its
customer, lines, audit events, a fulfilment order with lines, a payment, an order reservation
with lines, outbox events and one processed-event row per outbox event (the webhook fan-out
handler); idempotency keys exist for the last 24 hours only (older ones are swept).

Distributions (all derived from a hash of the order number, so reruns are identical):

- ``created_at`` spread evenly over the 365 days before now, ids rising with time;
- customers: about one per 3 orders, a few with many orders (``customer = n * r^1.6``);
- 1-5 lines (40/30/15/10/5 %), 1 unit mostly, SKUs from the catalogue with popular ones
  ordered more often;
- channel web 70 %, app 15 %, pos 10 %, marketplace 5 % (pos orders have no ``external_id``);
- status by age: older than 14 days completed 85 %, cancelled 8 %, shipped 7 %; younger ones
  spread over placed, on_hold, confirmed, in_fulfillment, partially_shipped, shipped, cancelled;
- payment card 50 %, paypal 25 %, invoice 15 %, direct debit 5 %, gift card 5 %;
- fulfilment from the main warehouse 75 %, the other locations the rest.

How it stays fast: one ``INSERT ... SELECT`` per table from two temporary plan tables (orders
and lines); foreign-key triggers skipped for the session (``session_replication_role =
replica``: the rows are consistent by construction); secondary indexes and unique constraints of
the filled tables dropped before and rebuilt after by one sort each, and so are the random UUID
primary keys (outbox, reservations) with the foreign keys pointing at them (re-added and so
validated at the end); bigint primary keys stay, their inserts are appends. Two connections
share the tables, heaviest first, each table written, indexed and vacuumed in turn. Then every
sequence is moved past the rows, the rest vacuumed and a ``CHECKPOINT`` taken, so neither
autovacuum nor the checkpointer works through the load while the benchmark measures.
"""

from __future__ import annotations

import queue
import re
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

from bench.growth.history_sql import FIRST_NUMBER, load_sql, plan_sql
from bench.harness.config import BenchConfig
from bench.harness.database import raw_connection

TABLES = [
    "orders_customer", "orders_order", "orders_orderline", "orders_orderevent",
    "fulfillment_fulfillmentorder", "fulfillment_fulfillmentline", "payments_payment",
    "inventory_reservation", "inventory_reservationline", "core_outboxevent",
    "core_processedevent", "core_idempotencykey", "fulfillment_notification",
]
UUID_KEYED = ["core_outboxevent", "inventory_reservation"]
ORDERS_PER_CUSTOMER = 3


@dataclass(frozen=True)
class Loaded:
    orders: int
    customers: int
    rows: dict[str, int]
    seconds: dict[str, float]  # connection time per table written, its indexes, vacuum, ...
    index_seconds: dict[str, float]  # per index (re)built
    neutral: list[str]  # "table.column" filled with a neutral value: not modelled yet
    wall_seconds: float


# r(i, salt): a uniform number in [0, 1) from a hash of i, the same on every run; per session.
RANDOM_FUNCTION = (
    "CREATE FUNCTION pg_temp.r(i bigint, salt int) RETURNS double precision "
    "LANGUAGE sql IMMUTABLE PARALLEL SAFE AS "
    "$$ SELECT (hashint8extended(i, salt) & 2147483647)::double precision / 2147483648.0 $$"
)
PLAN_TABLES = "bench_h_order, bench_h_line, bench_h_total, bench_h_event_kind, bench_h_outbox_kind"
# Relative cost of each table's load, to hand the heaviest out first to the two connections.
WEIGHTS = {
    "core_outboxevent": 10, "orders_orderevent": 6, "core_processedevent": 5,
    "orders_orderline": 3, "inventory_reservationline": 3, "orders_order": 3,
    "fulfillment_fulfillmentline": 2, "inventory_reservation": 1.5, "payments_payment": 1,
    "fulfillment_fulfillmentorder": 1, "orders_customer": 0.5, "core_idempotencykey": 0.1,
    "fulfillment_notification": 3,
}
SESSION = ("session_replication_role = replica", "synchronous_commit = off",
           "maintenance_work_mem = '1GB'", "work_mem = '256MB'",
           "max_parallel_maintenance_workers = 1")


def _secondary_indexes(conn: Any, tables: Sequence[str]) -> dict[str, tuple[list[str],
                                                                              list[str]]]:
    """{table: (statements that drop, statements that recreate)} for every index and unique
    constraint of `tables` but the primary keys."""
    found: dict[str, tuple[list[str], list[str]]] = {t: ([], []) for t in tables}
    constraints = conn.execute(
        "SELECT c.conrelid::regclass::text, c.conname, pg_get_constraintdef(c.oid), "
        "c.conindid FROM pg_constraint c WHERE c.contype = 'u' "
        "AND c.conrelid::regclass::text = ANY(%s)", [list(tables)]).fetchall()
    backing = {row[3] for row in constraints}
    for table, name, definition, _index in constraints:
        found[table][0].append(f'ALTER TABLE "{table}" DROP CONSTRAINT "{name}"')
        found[table][1].append(f'ALTER TABLE "{table}" ADD CONSTRAINT "{name}" {definition}')
    indexes = conn.execute(
        "SELECT i.indexrelid, i.indrelid::regclass::text, i.indexrelid::regclass::text, "
        "pg_get_indexdef(i.indexrelid) FROM pg_index i WHERE NOT i.indisprimary "
        "AND i.indrelid::regclass::text = ANY(%s)", [list(tables)]).fetchall()
    for oid, table, name, definition in indexes:
        if oid not in backing:
            found[table][0].append(f'DROP INDEX "{name}"')
            found[table][1].append(definition)
    return found


NEUTRAL = {
    "integer": "0", "bigint": "0", "smallint": "0", "numeric": "0", "double precision": "0",
    "character varying": "''", "text": "''", "boolean": "false", "jsonb": "'{}'",
    "json": "'{}'", "timestamp with time zone": "now()", "date": "current_date",
    "uuid": "gen_random_uuid()",
}


def _neutral_defaults(conn: Any, statements: dict[str, str]) -> tuple[list[str], list[str],
                                                                      list[str]]:
    """Columns the schema gained that this module does not write yet (NOT NULL, no default)
    get a neutral default (0, '', now(), ...) for the load, so the history keeps up with the
    schema: (statements that set, statements that drop, "table.column" names)."""
    sets, drops, names = [], [], []
    for table, statement in statements.items():
        match = re.search(r"INSERT INTO \w+ \(([^)]*)\)", statement)
        written = {c.strip().strip('"') for c in match.group(1).split(",")} if match else set()
        for column, data_type in conn.execute(
                "SELECT column_name, data_type FROM information_schema.columns "
                "WHERE table_schema = 'public' AND table_name = %s AND is_nullable = 'NO' "
                "AND column_default IS NULL AND is_identity = 'NO'", [table]).fetchall():
            if column in written:
                continue
            if data_type not in NEUTRAL:
                raise RuntimeError(f"history: no neutral value for {table}.{column} "
                                   f"({data_type}); write it in bench/growth/history_sql.py")
            sets.append(f'ALTER TABLE "{table}" ALTER COLUMN "{column}" '
                        f"SET DEFAULT {NEUTRAL[data_type]}")
            drops.append(f'ALTER TABLE "{table}" ALTER COLUMN "{column}" DROP DEFAULT')
            names.append(f"{table}.{column}")
    return sets, drops, names


def _random_keys(conn: Any, tables: Sequence[str]) -> dict[str, tuple[list[str], list[str]]]:
    """{table: (statements that drop, statements that recreate)} for the primary keys of
    `tables` and the foreign keys that point at them: random UUID keys are far cheaper to build
    by one sort afterwards than to insert into row by row."""
    found: dict[str, tuple[list[str], list[str]]] = {}
    for table in tables:
        drops, creates = [], []
        references = conn.execute(
            "SELECT conrelid::regclass::text, conname, pg_get_constraintdef(oid) "
            "FROM pg_constraint WHERE contype = 'f' AND confrelid = %s::regclass",
            [table]).fetchall()
        for referencing, name, definition in references:
            drops.append(f'ALTER TABLE "{referencing}" DROP CONSTRAINT "{name}"')
            creates.append(f'ALTER TABLE "{referencing}" ADD CONSTRAINT "{name}" {definition}')
        name, definition = conn.execute(
            "SELECT conname, pg_get_constraintdef(oid) FROM pg_constraint "
            "WHERE contype = 'p' AND conrelid = %s::regclass", [table]).fetchone()
        drops.append(f'ALTER TABLE "{table}" DROP CONSTRAINT "{name}"')
        creates.insert(0, f'ALTER TABLE "{table}" ADD CONSTRAINT "{name}" {definition}')
        found[table] = (drops, creates)
    return found


def history_load(config: BenchConfig, db: str, *, orders: int, n_skus: int,
                 locations: Sequence[int],
                 progress: Callable[[str], None] = lambda _m: None) -> Loaded:
    """Write `orders` orders of history (and everything around them) into `db`. The catalogue
    must hold HIST-000001 .. HIST-<n_skus> with stock rows at every location in `locations`
    (the first being the main warehouse)."""
    customers = max(10, orders // ORDERS_PER_CUSTOMER)
    seconds: dict[str, float] = {}
    index_seconds: dict[str, float] = {}
    load_started = time.perf_counter()

    def connect() -> Any:
        conn = raw_connection(config, db)
        conn.autocommit = True
        for setting in SESSION:
            conn.execute(f"SET {setting}")
        conn.execute(RANDOM_FUNCTION)
        return conn

    def timed(conn: Any, label: str, statements: Sequence[str]) -> None:
        started = time.perf_counter()
        for statement in statements:
            conn.execute(statement)
        seconds[label] = seconds.get(label, 0.0) + time.perf_counter() - started

    with connect() as conn:
        present = {r[0] for r in conn.execute(
            "SELECT tablename FROM pg_tables WHERE schemaname = 'public'").fetchall()}
        tables = [t for t in TABLES if t in present]
        statements = {t: sql for t, sql in load_sql(orders, customers) if t in present}
        progress(f"plan: {orders:,} orders, {customers:,} customers")
        timed(conn, "plan", plan_sql(orders, customers, n_skus, locations))
        indexes = _secondary_indexes(conn, tables)
        keys = _random_keys(conn, [t for t in UUID_KEYED if t in present])
        set_defaults, drop_defaults, neutral = _neutral_defaults(conn, statements)
        timed(conn, "drop indexes", [d for drops, _c in indexes.values() for d in drops]
              + [d for drops, _c in keys.values() for d in drops] + set_defaults)

    # Two connections (one per core) take tables heaviest first; each writes a table's rows,
    # rebuilds its indexes and vacuums it before taking the next.
    work: queue.Queue[str] = queue.Queue()
    for table in sorted(tables, key=lambda t: -WEIGHTS[t]):
        work.put(table)

    def worker() -> None:
        with connect() as conn:
            while True:
                try:
                    table = work.get_nowait()
                except queue.Empty:
                    return
                timed(conn, table, [statements[table]])
                if table in keys:
                    timed(conn, f"indexes {table}", keys[table][1][:1])  # the primary key
                for statement in indexes[table][1]:
                    started = time.perf_counter()
                    timed(conn, f"indexes {table}", [statement])
                    index_seconds[statement] = time.perf_counter() - started
                timed(conn, "vacuum analyze", [f"VACUUM (ANALYZE) {table}"])

    progress(f"writing rows, rebuilding {sum(len(c) for _d, c in indexes.values())} indexes "
             "and unique constraints, vacuuming; 2 connections")
    started = time.perf_counter()
    with ThreadPoolExecutor(max_workers=2) as pool:
        for future in [pool.submit(worker) for _ in range(2)]:
            future.result()
    seconds["wall: rows + indexes + vacuum"] = time.perf_counter() - started

    with connect() as conn:
        timed(conn, "foreign keys", [c for _d, creates in keys.values() for c in creates[1:]]
              + drop_defaults)
        timed(conn, "sequences", [
            f"SELECT setval(pg_get_serial_sequence('{t}', 'id'), "
            f"(SELECT coalesce(max(id), 0) + 1 FROM {t}), false)"
            for t in tables if t not in UUID_KEYED
        ] + [f"SELECT setval('orders_order_number_seq', {FIRST_NUMBER + orders + 1}, false)"])
        rows = {t: conn.execute(
            "SELECT reltuples::bigint FROM pg_class WHERE oid = %s::regclass", [t]).fetchone()[0]
            for t in tables}
        conn.execute(f"DROP TABLE {PLAN_TABLES}")
        # the rest (the network's own tables), and a checkpoint so the load's dirty pages are
        # not written out while the benchmark measures
        timed(conn, "vacuum analyze", ["VACUUM (ANALYZE)", "CHECKPOINT"])
    return Loaded(orders, customers, rows, seconds, index_seconds, neutral,
                  time.perf_counter() - load_started)
