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

from bench.harness import BenchConfig, raw_connection

TABLES = [
    "orders_customer", "orders_order", "orders_orderline", "orders_orderevent",
    "fulfillment_fulfillmentorder", "fulfillment_fulfillmentline", "payments_payment",
    "inventory_reservation", "inventory_reservationline", "core_outboxevent",
    "core_processedevent", "core_idempotencykey", "fulfillment_notification",
]
UUID_KEYED = ["core_outboxevent", "inventory_reservation"]
# (topic or "*", handler): the processed-event rows each outbox event leaves behind
HANDLERS = [
    ("*", "oms.core.webhooks.handlers.fan_out_to_webhooks"),
    ("order.confirmed", "fulfillment.notifications.handlers.notify_order_confirmed"),
]
# customer notifications are kept shorter than real ones (a 3 KB HTML mail): their size only
# matters to the heap, which intake does not scan
NOTE_TEXT = "Guten Tag, vielen Dank für Ihre Bestellung. " * 4
NOTE_HTML = "<p>Guten Tag, vielen Dank für Ihre Bestellung.</p>" * 8
FIRST_NUMBER = 1_000_000  # order numbers are FIRST_NUMBER + i, as the sequence hands them out
ORDERS_PER_CUSTOMER = 3
LINE_ID_STRIDE = 8  # line k of order i has id i * 8 + k (at most 5 lines)
EVENT_ID_STRIDE = 16

SOURCING = (
    '{"method": "ship", "strategy": "single_location", "allocations": [], "shortages": {}, '
    '"candidates": [{"location": "WH-KS", "kind": "warehouse", "priority": 10, "distance_km": '
    'null, "chosen": true, "lines": [], "reason": "serves the whole order"}, {"location": '
    '"WH-HH", "kind": "warehouse", "priority": 20, "distance_km": null, "chosen": false, '
    '"lines": [], "reason": "could serve the whole order but ranks lower"}, {"location": '
    '"WH-MUC", "kind": "warehouse", "priority": 30, "distance_km": null, "chosen": false, '
    '"lines": [], "reason": "could serve the whole order but ranks lower"}]}'
)
ADDRESS = ('{"name": "Bench Customer", "line1": "Hauptstraße 1", "postal_code": "34117", '
           '"city": "Kassel", "country": "DE"}')
RESPONSE_BODY = "x" * 1100  # a stored response of about the size an order's 201 has

# (event type or outbox topic, aggregate type, the order statuses that have it)
ALL = "{placed,on_hold,confirmed,in_fulfillment,partially_shipped,shipped,completed,cancelled}"
PAST_PLACED = "{confirmed,in_fulfillment,partially_shipped,shipped,completed,cancelled}"
SHIPPED = "{shipped,completed}"
EVENTS = [
    ("sourcing.decided", "order", ALL), ("order.placed", "order", ALL),
    ("order.confirmed", "order", PAST_PLACED), ("order.on_hold", "order", "{on_hold}"),
    ("order.in_fulfillment", "order", "{in_fulfillment,partially_shipped}"),
    ("order.partially_shipped", "order", "{partially_shipped}"),
    ("order.shipped", "order", SHIPPED), ("order.completed", "order", "{completed}"),
    ("order.cancelled", "order", "{cancelled}"),
]
OUTBOX = [
    ("order.placed", "order", ALL), ("fulfillment.created", "fulfillment", ALL),
    ("payment.recorded", "payment", ALL), ("order.confirmed", "order", PAST_PLACED),
    ("order.on_hold", "order", "{on_hold}"), ("order.shipped", "order", SHIPPED),
    ("order.completed", "order", "{completed}"),
    ("order.cancelled", "order", "{cancelled}"),
    ("notification.push", "notification", PAST_PLACED),
]


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


def _kinds_values(kinds: Sequence[tuple[str, str, str]]) -> str:
    return ", ".join(f"({n}, '{name}', '{agg}', '{statuses}'::text[])"
                     for n, (name, agg, statuses) in enumerate(kinds, start=1))


def _plan_sql(n: int, customers: int, n_skus: int, locations: Sequence[int]) -> list[str]:
    main, others = locations[0], list(locations[1:]) or [locations[0]]
    other_ids = "ARRAY[" + ",".join(str(x) for x in others) + "]::bigint[]"
    return [
        f"""CREATE UNLOGGED TABLE bench_h_order AS
        SELECT i, created_at, cust, nlines, channel, method, location_id,
          CASE WHEN created_at < now() - interval '14 days' THEN
                 CASE WHEN rs < 0.85 THEN 'completed' WHEN rs < 0.93 THEN 'cancelled'
                      ELSE 'shipped' END
               ELSE CASE WHEN rs < 0.03 THEN 'placed' WHEN rs < 0.07 THEN 'on_hold'
                         WHEN rs < 0.30 THEN 'confirmed' WHEN rs < 0.55 THEN 'in_fulfillment'
                         WHEN rs < 0.60 THEN 'partially_shipped' WHEN rs < 0.92 THEN 'shipped'
                         ELSE 'cancelled' END END AS status
        FROM (
          SELECT i,
            now() - interval '365 days' + (i - 1 + pg_temp.r(i, 1)) * (interval '365 days' / {n})
              - interval '1 minute' AS created_at,
            1 + least({customers} - 1, floor({customers} * power(pg_temp.r(i, 2), 1.6)))::int
              AS cust,
            CASE WHEN pg_temp.r(i, 3) < 0.40 THEN 1 WHEN pg_temp.r(i, 3) < 0.70 THEN 2
                 WHEN pg_temp.r(i, 3) < 0.85 THEN 3 WHEN pg_temp.r(i, 3) < 0.95 THEN 4
                 ELSE 5 END AS nlines,
            CASE WHEN pg_temp.r(i, 4) < 0.70 THEN 'web' WHEN pg_temp.r(i, 4) < 0.85 THEN 'app'
                 WHEN pg_temp.r(i, 4) < 0.95 THEN 'pos' ELSE 'marketplace' END AS channel,
            CASE WHEN pg_temp.r(i, 6) < 0.50 THEN 'card' WHEN pg_temp.r(i, 6) < 0.75 THEN 'paypal'
                 WHEN pg_temp.r(i, 6) < 0.90 THEN 'invoice'
                 WHEN pg_temp.r(i, 6) < 0.95 THEN 'direct_debit' ELSE 'gift_card' END AS method,
            CASE WHEN pg_temp.r(i, 7) < 0.75 THEN {main}::bigint
                 ELSE ({other_ids})[1 + floor(pg_temp.r(i, 8) * {len(others)})::int] END
              AS location_id,
            pg_temp.r(i, 5) AS rs
          FROM generate_series(1, {n}) i) s""",
        f"""CREATE UNLOGGED TABLE bench_h_line AS
        SELECT i, k, status, location_id, 'HIST-' || lpad(sku_n::text, 6, '0') AS sku, quantity,
          (4.99 + sku_n % 128)::numeric(12,2) AS unit_price
        FROM (
          SELECT o.i, k, o.status, o.location_id,
            1 + (floor({n_skus} * power(pg_temp.r(o.i, 9), 2))::int + k * 997) % {n_skus}
              AS sku_n,
            1 + floor(power(pg_temp.r(o.i * 8 + k, 10), 4) * 4)::int AS quantity
          FROM bench_h_order o, generate_series(1, o.nlines) k) s""",
        "CREATE UNLOGGED TABLE bench_h_total AS SELECT i, sum(quantity * unit_price) AS total "
        "FROM bench_h_line GROUP BY i",
        "CREATE UNIQUE INDEX ON bench_h_total (i)",
        "CREATE UNLOGGED TABLE bench_h_event_kind (e int, type text, agg text, statuses text[])",
        f"INSERT INTO bench_h_event_kind VALUES {_kinds_values(EVENTS)}",
        "CREATE UNLOGGED TABLE bench_h_outbox_kind (e int, topic text, agg text, statuses text[])",
        f"INSERT INTO bench_h_outbox_kind VALUES {_kinds_values(OUTBOX)}",
        "ANALYZE bench_h_order, bench_h_line, bench_h_total",
    ]


def _handler_values() -> str:
    return ", ".join(f"('{topic}', '{handler}')" for topic, handler in HANDLERS)


def _after(created_at: str, hours: str) -> str:
    """`hours` hours after `created_at`, but never later than a minute ago."""
    return (f"least({created_at} + {hours} * interval '1 hour', "
            "now() - interval '1 minute')")


def _load_sql(n: int, customers: int) -> list[tuple[str, str]]:
    """(table, statement) in load order."""
    line_id = f"(l.i * {LINE_ID_STRIDE} + l.k)"
    return [
        ("orders_customer", f"""
        INSERT INTO orders_customer (id, email, name, phone, external_id, created_at, updated_at)
        SELECT c, 'customer' || c || '@bench.example', 'Customer ' || c, '', '',
               now() - interval '366 days' + c * (interval '365 days' / {customers}),
               now() - interval '366 days' + c * (interval '365 days' / {customers})
        FROM generate_series(1, {customers}) c"""),
        ("orders_order", f"""
        INSERT INTO orders_order (id, number, channel, external_id, customer_id, currency, total,
          status, language, delivery_method, delivery_address, pickup_location, sourcing,
          placed_by, created_at, updated_at)
        SELECT o.i, ({FIRST_NUMBER} + o.i)::text, o.channel,
          CASE WHEN o.channel = 'pos' THEN NULL ELSE upper(o.channel) || '-' || o.i END,
          o.cust, 'EUR', t.total, o.status, 'de', 'ship', '{ADDRESS}'::jsonb, '',
          '{SOURCING}'::jsonb, 'bench-' || o.channel, o.created_at,
          o.created_at + CASE WHEN o.status IN ('completed', 'shipped', 'cancelled')
                              THEN interval '3 days' ELSE interval '1 hour' END
        FROM bench_h_order o JOIN bench_h_total t USING (i)"""),
        ("orders_orderline", f"""
        INSERT INTO orders_orderline (id, order_id, position, sku, quantity, unit_price, tax_rate,
          allocated, fulfilled, cancelled, returned)
        SELECT {line_id}, l.i, l.k, l.sku, l.quantity, l.unit_price, 19.00,
          CASE WHEN l.status IN ('completed', 'shipped', 'cancelled') THEN 0
               WHEN l.status = 'partially_shipped' AND l.k = 1 THEN 0 ELSE l.quantity END,
          CASE WHEN l.status IN ('completed', 'shipped') THEN l.quantity
               WHEN l.status = 'partially_shipped' AND l.k = 1 THEN l.quantity ELSE 0 END,
          CASE WHEN l.status = 'cancelled' THEN l.quantity ELSE 0 END,
          CASE WHEN l.status = 'completed' AND pg_temp.r({line_id}, 11) < 0.05 THEN 1 ELSE 0 END
        FROM bench_h_line l"""),
        ("orders_orderevent", f"""
        INSERT INTO orders_orderevent (id, order_id, type, at, actor, data)
        SELECT o.i * {EVENT_ID_STRIDE} + k.e, o.i, k.type, {_after('o.created_at', 'k.e')},
          'bench-' || o.channel,
          CASE WHEN k.e = 1 THEN '{SOURCING}'::jsonb WHEN k.e = 2 THEN '{{}}'::jsonb
               ELSE jsonb_build_object('from', 'placed', 'to', o.status,
                                       'reason', 'payment ' || o.method) END
        FROM bench_h_order o JOIN bench_h_event_kind k ON o.status = ANY (k.statuses)"""),
        ("fulfillment_fulfillmentorder", """
        INSERT INTO fulfillment_fulfillmentorder (id, order_id, location_id, kind, status,
          dispatch_status, created_at, updated_at)
        SELECT o.i, o.i, o.location_id, 'ship',
          CASE o.status WHEN 'completed' THEN 'delivered' WHEN 'shipped' THEN 'shipped'
                        WHEN 'partially_shipped' THEN 'picking' WHEN 'cancelled' THEN 'cancelled'
                        WHEN 'in_fulfillment' THEN 'picking' WHEN 'confirmed' THEN 'accepted'
                        ELSE 'pending' END,
          'polled', o.created_at, o.created_at + interval '1 day'
        FROM bench_h_order o"""),
        ("fulfillment_fulfillmentline", f"""
        INSERT INTO fulfillment_fulfillmentline (id, fulfillment_id, order_line_id, quantity,
          shipped, cancelled)
        SELECT {line_id}, l.i, {line_id}, l.quantity,
          CASE WHEN l.status IN ('completed', 'shipped') THEN l.quantity
               WHEN l.status = 'partially_shipped' AND l.k = 1 THEN l.quantity ELSE 0 END,
          CASE WHEN l.status = 'cancelled' THEN l.quantity ELSE 0 END
        FROM bench_h_line l"""),
        ("payments_payment", """
        INSERT INTO payments_payment (id, order_id, method, status, amount, captured_amount,
          refunded_amount, status_at, currency, psp_reference, created_at, updated_at)
        SELECT o.i, o.i, o.method,
          CASE WHEN o.status = 'cancelled' THEN 'refunded' WHEN o.status = 'on_hold' THEN 'pending'
               WHEN o.status IN ('completed', 'shipped', 'partially_shipped') THEN 'captured'
               ELSE 'authorized' END,
          t.total,
          CASE WHEN o.status IN ('completed', 'shipped', 'partially_shipped', 'cancelled')
               THEN t.total ELSE 0 END,
          CASE WHEN o.status = 'cancelled' THEN t.total ELSE 0 END,
          o.created_at + interval '2 days', 'EUR',
          CASE WHEN o.method IN ('card', 'paypal', 'direct_debit') THEN 'hist-psp-' || o.i END,
          o.created_at, o.created_at + interval '2 days'
        FROM bench_h_order o JOIN bench_h_total t USING (i)"""),
        ("inventory_reservation", f"""
        INSERT INTO inventory_reservation (id, kind, state, reference, channel, delivery_method,
          pickup_location, expires_at, consumed_by, created_at, updated_at)
        SELECT md5('reservation-' || o.i)::uuid, 'order',
          CASE WHEN o.status IN ('completed', 'shipped') THEN 'consumed'
               WHEN o.status = 'cancelled' THEN 'released' ELSE 'active' END,
          ({FIRST_NUMBER} + o.i)::text, o.channel, 'ship', '', NULL, '', o.created_at,
          o.created_at + interval '2 days'
        FROM bench_h_order o"""),
        ("inventory_reservationline", f"""
        INSERT INTO inventory_reservationline (id, reservation_id, stock_level_id, sku,
          location_id, quantity)
        SELECT {line_id}, md5('reservation-' || l.i)::uuid, s.id, l.sku, l.location_id,
          l.quantity
        FROM bench_h_line l JOIN inventory_stocklevel s
          ON s.sku = l.sku AND s.location_id = l.location_id"""),
        ("core_outboxevent", f"""
        INSERT INTO core_outboxevent (id, topic, aggregate_type, aggregate_id, payload,
          created_at, published_at)
        SELECT md5('event-' || o.i || '-' || k.e)::uuid, k.topic, k.agg,
          CASE WHEN k.agg = 'order' THEN ({FIRST_NUMBER} + o.i)::text ELSE o.i::text END,
          jsonb_build_object('number', ({FIRST_NUMBER} + o.i)::text, 'channel', o.channel,
            'status', o.status, 'currency', 'EUR', 'total', t.total::text),
          {_after('o.created_at', 'k.e')},
          {_after('o.created_at', 'k.e')} + interval '1 second'
        FROM bench_h_order o JOIN bench_h_total t USING (i)
          JOIN bench_h_outbox_kind k ON o.status = ANY (k.statuses)"""),
        ("core_processedevent", f"""
        INSERT INTO core_processedevent (event_id, handler, processed_at)
        SELECT md5('event-' || o.i || '-' || k.e)::uuid, h.handler,
          {_after('o.created_at', 'k.e')} + interval '1 second'
        FROM bench_h_order o JOIN bench_h_outbox_kind k ON o.status = ANY (k.statuses)
          JOIN (VALUES {_handler_values()}) h (topic, handler)
            ON h.topic = k.topic OR h.topic = '*'"""),
        ("fulfillment_notification", f"""
        INSERT INTO fulfillment_notification (event_id, topic, kind, channel, recipient,
          language, subject, body_text, body_html, url, status, attempts, next_attempt_at,
          created_at, sent_at, error, order_id)
        SELECT md5('event-' || o.i || '-' || k.e)::uuid, k.topic, 'order_confirmation',
          c.channel, 'customer' || o.cust || '@bench.example', 'de',
          'Ihre Bestellung ' || ({FIRST_NUMBER} + o.i) || ' ist bestätigt', '{NOTE_TEXT}',
          CASE WHEN c.channel = 'email' THEN '{NOTE_HTML}' ELSE '' END, '', 'sent', 1, NULL,
          {_after('o.created_at', 'k.e')}, {_after('o.created_at', 'k.e')} + interval '2 seconds',
          '', o.i
        FROM bench_h_order o JOIN bench_h_outbox_kind k
            ON k.topic = 'order.confirmed' AND o.status = ANY (k.statuses),
          (VALUES ('email'), ('push')) c (channel)"""),
        ("core_idempotencykey", f"""
        INSERT INTO core_idempotencykey (client_id, key, fingerprint, response_status,
          response_body, response_content_type, created_at, expires_at)
        SELECT (SELECT min(id) FROM core_apiclient), 'hist-' || o.i, md5(o.i::text)
            || md5(o.i::text), 201, '{RESPONSE_BODY}', 'application/json', o.created_at,
          o.created_at + interval '24 hours'
        FROM bench_h_order o WHERE o.created_at > now() - interval '24 hours'"""),
    ]


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
                                   f"({data_type}); write it in bench/history.py")
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
        statements = {t: sql for t, sql in _load_sql(orders, customers) if t in present}
        progress(f"plan: {orders:,} orders, {customers:,} customers")
        timed(conn, "plan", _plan_sql(orders, customers, n_skus, locations))
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
