"""What one return in store writes, and the pgbench script that writes the same by hand: the
baseline of the ``returns`` benchmark (see :func:`baseline_script`).

pgbench takes back the second unit of the two lines the HTTP phases returned one unit of (the
same order's second visit, ``-R2``), so it needs no orders of its own: a pool table lists those
orders, their two lines and the store's stock rows of their SKUs, and a sequence hands each
transaction the next one (:func:`pool_create`). The pool is fixture work, not the return."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from bench.harness.config import BenchConfig
from bench.harness.database import raw_connection
from bench.harness.pgbench import sql_jsonb, sql_text

# Tables the script writes, in the order the service writes them; any other table the probe
# return wrote is reported (the script does not know it).
MIRRORED = [
    "returns_return", "returns_returnline", "orders_orderevent", "core_outboxevent",
    "inventory_stockmovement", "payments_storecredit", "payments_storecreditentry",
    "payments_refund", "core_processedevent", "fulfillment_notification", "core_attempt",
    "core_attempttry",
]


@dataclass(frozen=True)
class ProbeRows:
    """The rows one real return (store credit) wrote, per table, as JSON documents, and the
    timestamp columns of those tables."""

    rows: dict[str, list[dict[str, Any]]]
    timestamp_columns: dict[str, set[str]]


def probe_rows(config: BenchConfig, db: str, marks: dict[str, tuple[str, Any]],
               delta: dict[str, int]) -> ProbeRows:
    """The rows written since `marks` (:func:`bench.intake.baseline.new_row_marks`) in the
    tables `delta` names."""
    rows: dict[str, list[dict[str, Any]]] = {}
    timestamps: dict[str, set[str]] = {}
    with raw_connection(config, db) as conn:
        for table, (column, mark) in marks.items():
            if table not in delta:
                continue
            found = [r[0] for r in conn.execute(
                f'SELECT to_jsonb(t) FROM "{table}" t WHERE {column} > %s ORDER BY {column}, '
                "to_jsonb(t)::text", [mark]).fetchall()]
            if found:
                rows[table] = found
        for table, column in conn.execute(
                "SELECT table_name, column_name FROM information_schema.columns "
                "WHERE table_schema = 'public' AND table_name = ANY(%s) "
                "AND data_type = 'timestamp with time zone'", [list(rows)]).fetchall():
            timestamps.setdefault(table, set()).add(column)
    return ProbeRows(rows, timestamps)


def pool_create(config: BenchConfig, db: str) -> int:
    """The orders pgbench takes back a second time: every order whose return (one unit of two
    lines) is closed, with those lines, their prices and the store's stock rows of their SKUs;
    returns how many."""
    with raw_connection(config, db) as conn:
        conn.execute("DROP TABLE IF EXISTS bench_return_pool")
        conn.execute("DROP SEQUENCE IF EXISTS bench_return_pick")
        conn.execute("""
            CREATE TABLE bench_return_pool AS
            SELECT row_number() OVER (ORDER BY r.id)::int AS k, o.id AS oid,
                   o.number AS onum, o.customer_id AS cust,
                   (array_agg(ol.id ORDER BY ol.id))[1] AS l1,
                   (array_agg(ol.id ORDER BY ol.id))[2] AS l2,
                   (array_agg(ol.unit_price ORDER BY ol.id))[1] AS p1,
                   (array_agg(ol.unit_price ORDER BY ol.id))[2] AS p2,
                   sum(ol.unit_price) AS amount,
                   (array_agg(sl.id ORDER BY ol.id))[1] AS sl1,
                   (array_agg(sl.id ORDER BY ol.id))[2] AS sl2
              FROM returns_return r
              JOIN orders_order o ON o.id = r.order_id
              JOIN returns_returnline rl ON rl.return_id = r.id
              JOIN orders_orderline ol ON ol.id = rl.order_line_id
              JOIN inventory_stocklevel sl ON sl.sku = ol.sku AND sl.location_id = r.location_id
             WHERE r.status = 'closed' AND rl.received = 1 AND ol.returned < ol.fulfilled
             GROUP BY r.id, o.id
            HAVING count(*) = 2""")
        conn.execute("CREATE UNIQUE INDEX ON bench_return_pool (k)")
        conn.execute("CREATE SEQUENCE bench_return_pick")
        conn.execute("ANALYZE bench_return_pool")
        return conn.execute("SELECT count(*) FROM bench_return_pool").fetchone()[0]


def pool_drop(config: BenchConfig, db: str) -> None:
    with raw_connection(config, db) as conn:
        conn.execute("DROP TABLE IF EXISTS bench_return_pool")
        conn.execute("DROP SEQUENCE IF EXISTS bench_return_pick")


def baseline_script(probe: ProbeRows) -> str:
    """One return in store refunded as store credit, by hand, as a pgbench script (``-M
    prepared``): what a lean client that knows the answer in advance sends, with the locks
    the service takes on the order. Transaction 1 registers (order lock, return, its lines,
    audit entry, outbox row); transaction 2 receives (order lock, lines received, the two
    store stock rows up with their movement rows in one statement, order lines counted back,
    order status, store credit + entry + refund in one statement, return closed, audit
    entries, outbox rows); transaction 3 is what the worker's relay writes after the commit
    (events published, processed-event rows, the customer's e-mails with their attempt and
    try rows, written in their final state).

    Every row is the probe return's row (``jsonb_populate_record`` of its JSON document, so
    columns added to the schema later come along) with keys, references, amounts and
    timestamps replaced."""
    r = probe.rows

    def stamps(table: str, row: dict[str, Any]) -> dict[str, str]:
        return {c: "now()" for c in probe.timestamp_columns.get(table, ())
                if row.get(c) is not None}

    def doc(table: str, row: dict[str, Any], **overrides: str) -> str:
        changes = {**stamps(table, row), **overrides}
        pairs = ", ".join(f"'{k}', {v}" for k, v in sorted(changes.items()))
        return f"({sql_jsonb(json.dumps(row))} || jsonb_build_object({pairs}))"

    def columns(row: dict[str, Any], of: str = "", keep_id: bool = False) -> str:
        return ", ".join(f'{of}"{c}"' for c in row if keep_id or c != "id")

    def insert(table: str, docs: list[str], template: dict[str, Any],
               keep_id: bool = False) -> str:
        source = (f"jsonb_populate_record(NULL::{table}, {docs[0]}) p" if len(docs) == 1 else
                  "jsonb_array_elements(jsonb_build_array(\n    " + ",\n    ".join(docs)
                  + f")) a (d),\n    jsonb_populate_record(NULL::{table}, a.d) p")
        return (f"INSERT INTO {table} ({columns(template, keep_id=keep_id)})\n"
                f"SELECT {columns(template, 'p.', keep_id)}\n  FROM {source}")

    def only(table: str) -> dict[str, Any]:
        rows = r.get(table, [])
        if len(rows) != 1:
            raise RuntimeError(f"the probe return wrote {len(rows)} rows to {table}; the "
                               "baseline script handles exactly one")
        return rows[0]

    def by(table: str, key: str) -> dict[str, list[dict[str, Any]]]:
        grouped: dict[str, list[dict[str, Any]]] = {}
        for row in r.get(table, []):
            grouped.setdefault(row[key], []).append(row)
        return grouped

    number = ":onum::text || '-R2'"
    # pgbench would read ":credit" in a literal as a variable: the colons go in escaped
    credit_key = f"{sql_text('return:')} || :rid::text || {sql_text(':credit')}"
    ret = only("returns_return")
    lines = sorted(r["returns_returnline"], key=lambda ln: ln["id"])
    if len(lines) != 2:
        raise RuntimeError(f"the probe return has {len(lines)} lines; the script handles 2")
    events = by("orders_orderevent", "type")
    outbox = by("core_outboxevent", "topic")
    movement = r["inventory_stockmovement"][0]
    credit, entry, refund = (only("payments_storecredit"), only("payments_storecreditentry"),
                             only("payments_refund"))
    statements = [
        "BEGIN;",
        "WITH n AS (SELECT nextval('bench_return_pick')::int AS k)\n"
        "SELECT p.oid, p.onum, p.cust, p.l1, p.l2, p.p1, p.p2, p.amount, p.sl1, p.sl2\n"
        "  FROM bench_return_pool p JOIN n USING (k) \\gset",
        "SELECT id FROM orders_order WHERE id = :oid::bigint FOR NO KEY UPDATE;",
        insert("returns_return", [doc(
            "returns_return", ret, number=number, order_id=":oid::bigint",
            status="'requested'", refund_amount=":amount::numeric", received_at="NULL",
            refunded_at="NULL", closed_at="NULL", received_by="''")], ret)
        + "\nRETURNING id AS rid \\gset",
        insert("returns_returnline", [
            doc("returns_returnline", ln, return_id=":rid::bigint",
                order_line_id=f":l{k}::bigint", refund_amount=f":p{k}::numeric",
                status="'announced'", received="0", disposition="''")
            for k, ln in enumerate(lines, start=1)], lines[0]) + ";",
        insert("orders_orderevent", [doc("orders_orderevent", e, order_id=":oid::bigint")
                                     for e in events.get("return.requested", [])],
               r["orders_orderevent"][0]) + ";",
        insert("core_outboxevent", [doc("core_outboxevent", e, id="gen_random_uuid()",
                                        aggregate_id=":rid::text", published_at="NULL")
                                    for e in outbox.get("return.requested", [])],
               r["core_outboxevent"][0], keep_id=True) + "\nRETURNING id AS requested \\gset",
        "COMMIT;",
        "BEGIN;",
        "SELECT id FROM orders_order WHERE id = :oid::bigint FOR NO KEY UPDATE;",
        "UPDATE returns_returnline SET received = quantity, status = 'received', "
        "disposition = 'restock'\n WHERE return_id = :rid::bigint;",
        # both stock rows in one statement: locked in id order
        "WITH u AS (\nUPDATE inventory_stocklevel SET on_hand = on_hand + 1, updated_at = now()"
        "\n WHERE id IN (:sl1::bigint, :sl2::bigint)\n RETURNING sku, on_hand)\n"
        f"INSERT INTO inventory_stockmovement ({columns(movement)})\n"
        f"SELECT {columns(movement, 'p.')}\n  FROM u, jsonb_populate_record("
        "NULL::inventory_stockmovement, "
        + doc("inventory_stockmovement", movement, sku="u.sku", on_hand_after="u.on_hand",
              reference=number) + ") p;",
        "UPDATE orders_orderline SET returned = returned + 1 "
        "WHERE id IN (:l1::bigint, :l2::bigint);",
        "UPDATE orders_order SET status = 'partially_returned', updated_at = now() "
        "WHERE id = :oid::bigint;",
        "WITH c AS (\n" + insert("payments_storecredit", [doc(
            "payments_storecredit", credit,
            code="'SC-' || upper(substr(md5(random()::text), 1, 14))",
            balance=":amount::numeric", customer_id=":cust::bigint")], credit)
        + "\n  RETURNING id),\ne AS (\n" + insert("payments_storecreditentry", [doc(
            "payments_storecreditentry", entry, store_credit_id="(SELECT id FROM c)",
            amount=":amount::numeric", balance_after=":amount::numeric",
            order_id=":oid::bigint", reference=credit_key)], entry)
        + ")\n" + insert("payments_refund", [doc(
            "payments_refund", refund, store_credit_id="(SELECT id FROM c)",
            order_id=":oid::bigint", amount=":amount::numeric", reference=number,
            idempotency_key=credit_key)], refund)
        + "\nRETURNING id AS fid \\gset",
        "UPDATE returns_return SET status = 'closed', received_at = now(), received_by = "
        f"{sql_text(ret['received_by'])}, refunded_at = now(), closed_at = now(), "
        "updated_at = now()\n WHERE id = :rid::bigint;",
        insert("orders_orderevent", [doc("orders_orderevent", e, order_id=":oid::bigint")
                                     for topic, rows in events.items()
                                     if topic != "return.requested" for e in rows],
               r["orders_orderevent"][0]) + ";",
        "WITH o AS (\n" + insert("core_outboxevent", [
            doc("core_outboxevent", e, id="gen_random_uuid()", published_at="NULL",
                **({"aggregate_id": ":rid::text"} if e["aggregate_type"] == "return" else {}))
            for topic, rows in outbox.items() if topic != "return.requested" for e in rows],
            r["core_outboxevent"][0], keep_id=True)
        + "\n  RETURNING id)\nSELECT string_agg(id::text, ',') AS received FROM o \\gset",
        "COMMIT;",
    ]
    statements += _relay(r, doc, insert, columns)
    return "\n".join(statements) + "\n"


def _relay(r: dict[str, list[dict[str, Any]]], doc: Any, insert: Any, columns: Any) -> list[str]:
    """Transaction 3: what the worker's relay and notification tasks write, in their final
    state: every event published, a processed-event row per handler that ran, and per e-mail
    the notification, its attempt and its one try."""
    all_events = "string_to_array(:received::text || ',' || :requested::text, ',')::uuid[]"
    topic_of = {e["id"]: e["topic"] for e in r["core_outboxevent"]}
    statements = ["BEGIN;", "UPDATE core_outboxevent SET published_at = now()\n"
                            f" WHERE id = ANY ({all_events});"]

    def event_of(row: dict[str, Any]) -> str:
        return (f"(SELECT id FROM core_outboxevent WHERE id = ANY ({all_events}) "
                f"AND topic = '{topic_of[row['event_id']]}' LIMIT 1)")

    processed = [p for p in r.get("core_processedevent", []) if p["event_id"] in topic_of]
    if processed:
        statements.append(insert("core_processedevent", [
            doc("core_processedevent", p, event_id=event_of(p)) for p in processed],
            processed[0]) + ";")
    notes = [n for n in r.get("fulfillment_notification", []) if n["event_id"] in topic_of]
    attempts = {a["target_id"]: a for a in r.get("core_attempt", [])
                if a["kind"] == "notification"}
    tries = {t["attempt_id"]: t for t in r.get("core_attempttry", [])}
    for note in notes:
        attempt = attempts.get(note["id"])
        tried = tries.get(attempt["id"]) if attempt else None
        statement = "WITH n AS (\n" + insert("fulfillment_notification", [doc(
            "fulfillment_notification", note, order_id=":oid::bigint", event_id=event_of(note),
            **({"refund_id": ":fid::bigint"} if note.get("refund_id") else {}))], note) \
            + "\n  RETURNING id)"
        if attempt is not None and tried is not None:
            statement += (",\na AS (\n" + insert("core_attempt", [doc(
                "core_attempt", attempt, target_id="(SELECT id FROM n)")], attempt)
                + "\n  RETURNING id)\n" + insert("core_attempttry", [doc(
                    "core_attempttry", tried, attempt_id="(SELECT id FROM a)")], tried))
        else:
            statement += "\nSELECT 1"
        statements.append(statement + ";")
    statements.append("COMMIT;")
    return statements
