"""What one order intake writes, and the pgbench script that writes the same by hand: the
baseline of the ``intake`` benchmark (see :func:`baseline_script`)."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any

from bench.harness.config import BenchConfig
from bench.harness.database import raw_connection
from bench.harness.pgbench import sql_jsonb

UNITS = "(units reserved)"  # in table_counts: the sum of reserved over all stock rows


def table_counts(config: BenchConfig, db: str) -> dict[str, int]:
    """Exact row counts of every application table (not Django's own bookkeeping)."""
    with raw_connection(config, db) as conn:
        tables = [r[0] for r in conn.execute(
            "SELECT tablename FROM pg_tables WHERE schemaname = 'public' "
            "AND tablename NOT LIKE 'django\\_%' AND tablename NOT LIKE 'auth\\_%' "
            "ORDER BY 1").fetchall()]
        counts = {t: conn.execute(f'SELECT count(*) FROM "{t}"').fetchone()[0] for t in tables}
        counts[UNITS] = conn.execute(
            "SELECT coalesce(sum(reserved), 0) FROM inventory_stocklevel").fetchone()[0]
    return counts


def count_delta(before: dict[str, int], after: dict[str, int]) -> dict[str, int]:
    return {t: after[t] - before.get(t, 0) for t in after if after[t] != before.get(t, 0)}


@dataclass(frozen=True)
class Probe:
    """One real order and everything it wrote: per table, the new rows as JSON documents."""

    number: str
    started: datetime  # when the request was sent: timestamps are kept relative to it
    total: Decimal
    delta: dict[str, int]
    rows: dict[str, list[dict[str, Any]]]
    timestamp_columns: dict[str, set[str]]
    numeric_columns: dict[str, set[str]]


def new_row_marks(conn: Any) -> dict[str, tuple[str, Any]]:
    """Per table, how to find rows written later: ("id", max id) for bigint keys, else
    ("created_at", max created_at); tables with neither are left out."""
    columns: dict[str, dict[str, str]] = {}
    for table, column, data_type in conn.execute(
            "SELECT table_name, column_name, data_type FROM information_schema.columns "
            "WHERE table_schema = 'public'").fetchall():
        columns.setdefault(table, {})[column] = data_type
    marks = {}
    for table, cols in columns.items():
        if table.startswith(("django_", "auth_")):
            continue
        if cols.get("id") == "bigint":
            marks[table] = ("id", conn.execute(
                f'SELECT coalesce(max(id), 0) FROM "{table}"').fetchone()[0])
        elif "created_at" in cols:
            marks[table] = ("created_at", conn.execute(
                f"SELECT coalesce(max(created_at), '-infinity') FROM \"{table}\"").fetchone()[0])
    return marks


# Tables the script writes itself, in this order; anything else the probe wrote is reported.
MIRRORED = [
    "orders_customer", "orders_order", "orders_orderline", "fulfillment_fulfillmentorder",
    "fulfillment_fulfillmentline", "orders_orderevent", "payments_payment", "core_outboxevent",
    "inventory_reservation", "inventory_reservationline", "core_idempotencykey",
    "core_processedevent",
]


def baseline_script(probe: Probe, skus: dict[str, Decimal], customer_pool: int) -> str:
    """One order by hand, as a pgbench script (``-M prepared``): what a lean client that knows
    the answer in advance sends. Transaction 1 is the intake: order number, customer (inserted
    or updated), order with its final status, lines, fulfilment order + lines, audit events,
    payment, outbox rows, reservation + lines, the conditional stock UPDATEs (last, in id order)
    and the idempotency row. Transaction 2 is what the eager outbox relay writes after the
    commit: the events marked published, the processed-event rows.

    Every row is the probe order's row (``jsonb_populate_record`` of its JSON document, so
    columns added to the schema later come along) with the keys, references, quantities, money
    and timestamps that differ per order replaced: timestamps keep their distance from the
    moment the probe was sent."""
    k_of = {sku: k for k, sku in enumerate(skus, start=1)}
    total = " + ".join(f":q{k}::int * {price}" for k, price in enumerate(skus.values(), start=1))

    def doc(table: str, row: dict[str, Any], **overrides: str) -> str:
        """`row` with `overrides` (SQL expressions) and moved timestamps, as a jsonb expression."""
        changes = dict(overrides)
        for column in probe.timestamp_columns.get(table, ()):
            value = row.get(column)
            if value is not None and column not in changes:
                offset = (datetime.fromisoformat(value) - probe.started).total_seconds()
                changes[column] = f"now() + interval '{offset:.3f} seconds'"
        for column in probe.numeric_columns.get(table, ()):
            value = row.get(column)
            if value is not None and column not in changes and Decimal(str(value)) == probe.total:
                changes[column] = f"({total})"
        pairs = ", ".join(f"'{k}', {v}" for k, v in sorted(changes.items()))
        return f"({sql_jsonb(json.dumps(row))} || jsonb_build_object({pairs}))"

    def columns(row: dict[str, Any], keep_id: bool = False, of: str = "") -> str:
        return ", ".join(f'{of}"{c}"' for c in row if keep_id or c != "id")

    def insert(table: str, row: dict[str, Any], source: str, keep_id: bool = False) -> str:
        """INSERT one row of `table` with `row`'s columns from the jsonb expression `source`."""
        return (f"INSERT INTO {table} ({columns(row, keep_id)})\n"
                f"SELECT {columns(row, keep_id, 'p.')}\n"
                f"  FROM jsonb_populate_record(NULL::{table}, {source}) p")

    def insert_many(table: str, rows: list[str], template: dict[str, Any],
                    keep_id: bool = False) -> str:
        """INSERT several rows of `table`, one per jsonb expression in `rows`."""
        return (f"INSERT INTO {table} ({columns(template, keep_id)})\n"
                f"SELECT {columns(template, keep_id, 'p.')}\n"
                f"  FROM jsonb_array_elements(jsonb_build_array(\n    "
                + ",\n    ".join(rows)
                + f")) a (d),\n    jsonb_populate_record(NULL::{table}, a.d) p")

    def only(table: str, rows: list[dict[str, Any]]) -> dict[str, Any]:
        if len(rows) != 1:
            raise RuntimeError(f"the probe order wrote {len(rows)} rows to {table}; the baseline "
                               "script handles exactly one")
        return rows[0]

    r = probe.rows
    customer = only("orders_customer", r.get("orders_customer", []))
    order = only("orders_order", r["orders_order"])
    lines = sorted(r["orders_orderline"], key=lambda ln: ln["position"])
    fo = only("fulfillment_fulfillmentorder", r.get("fulfillment_fulfillmentorder", []))
    fl_rows = r["fulfillment_fulfillmentline"]
    reservation = only("inventory_reservation", r.get("inventory_reservation", []))
    held = r["inventory_reservationline"]
    outbox = r["core_outboxevent"]
    position_of = {ln["id"]: ln["position"] for ln in lines}
    statements = ["BEGIN;", "SELECT nextval('orders_order_number_seq') AS num \\gset"]

    statements.append(insert("orders_customer", customer, doc(
        "orders_customer", customer, email="'customer' || :c::text || '@bench.example'",
        name="'Customer ' || :c::text",
        # Each customer's random public id (API.md, Customers), as the service draws one.
        **({"public_id": "gen_random_uuid()"} if "public_id" in customer else {})))
        + "\nON CONFLICT (email) DO UPDATE SET name = excluded.name, "
          "updated_at = excluded.updated_at\nRETURNING id AS cust \\gset")
    statements.append(insert("orders_order", order, doc(
        "orders_order", order, number=":num::text", external_id="'pgbench-' || :num::text",
        customer_id=":cust::bigint")) + "\nRETURNING id AS oid \\gset")

    # the lines, the fulfilment order and its lines in one statement
    line_docs = []
    for ln in lines:
        q = f":q{k_of[ln['sku']]}::int"
        extra = {"allocated": q} if ln.get("allocated") == ln["quantity"] else {}
        line_docs.append(doc("orders_orderline", ln, order_id=":oid::bigint", quantity=q,
                             **extra))
    fl_values = ", ".join(f"({position_of[fl['order_line_id']]}, {sql_jsonb(json.dumps(fl))})"
                          for fl in fl_rows)
    fl_cols, fl_values_cols = columns(fl_rows[0]), columns(fl_rows[0], of="p.")
    fo_doc = doc("fulfillment_fulfillmentorder", fo, order_id=":oid::bigint")
    statements.append(
        f"WITH ol AS (\n{insert_many('orders_orderline', line_docs, lines[0])}\n"
        "  RETURNING id, position, quantity),\n"
        f"fo AS (\n{insert('fulfillment_fulfillmentorder', fo, fo_doc)}\n  RETURNING id)\n"
        f"INSERT INTO fulfillment_fulfillmentline ({fl_cols})\nSELECT {fl_values_cols}\n"
        f"  FROM fo, ol JOIN (VALUES {fl_values}) v (position, d) USING (position),\n"
        "    jsonb_populate_record(NULL::fulfillment_fulfillmentline, v.d || jsonb_build_object("
        "'fulfillment_id', fo.id, 'order_line_id', ol.id, 'quantity', ol.quantity)) p;")

    events = r.get("orders_orderevent", [])
    if events:
        statements.append(insert_many(
            "orders_orderevent",
            [doc("orders_orderevent", e, order_id=":oid::bigint") for e in events],
            events[0]) + ";")
    payment = only("payments_payment", r.get("payments_payment", []))
    statements.append(insert("payments_payment", payment, doc(
        "payments_payment", payment, order_id=":oid::bigint",
        psp_reference="'pgbench-psp-' || :num::text")) + "\nRETURNING id AS pay \\gset")
    outbox_docs = [
        doc("core_outboxevent", e, id="gen_random_uuid()", published_at="NULL",
            **({"aggregate_id": ":num::text"} if e["aggregate_type"] == "order" else {}))
        for e in outbox]
    statements.append(
        f"WITH o AS (\n{insert_many('core_outboxevent', outbox_docs, outbox[0], keep_id=True)}"
        "\n  RETURNING id)\nSELECT string_agg(id::text, ',') AS events FROM o \\gset")

    held_values = ", ".join(f"({sql_jsonb(json.dumps(h))}, :q{k_of[h['sku']]}::int)"
                            for h in held)
    held_cols = columns(held[0])
    reservation_doc = doc("inventory_reservation", reservation, id="gen_random_uuid()",
                          reference=":num::text")
    statements.append(
        "WITH r AS (\n"
        + insert("inventory_reservation", reservation, reservation_doc, keep_id=True)
        + "\n  RETURNING id)\n"
        f"INSERT INTO inventory_reservationline ({held_cols})\n"
        f"SELECT {columns(held[0], of='p.')}\n"
        f"  FROM r, (VALUES {held_values}) v (d, quantity),\n"
        "    jsonb_populate_record(NULL::inventory_reservationline, v.d || jsonb_build_object("
        "'reservation_id', r.id, 'quantity', v.quantity)) p;")
    for h in sorted(held, key=lambda h: h["stock_level_id"]):  # the fixed lock order
        q = f":q{k_of[h['sku']]}::int"
        statements.append(
            f"UPDATE inventory_stocklevel SET reserved = reserved + {q}, updated_at = now()\n"
            f" WHERE id = {h['stock_level_id']} AND on_hand - reserved - safety_stock >= {q};")
    # rows of tables this script does not know, written by the intake itself (in the order's
    # transaction) or by an event handler (after the commit, with the relay): copied, with the
    # references to this order, its fulfilment order, payment and events replaced
    topic_of = {e["id"]: e["topic"] for e in outbox}
    later: list[str] = []
    for table in sorted(set(r) - set(MIRRORED)):
        for row in r[table]:
            changes = {"order_id": ":oid::bigint", "payment_id": ":pay::bigint",
                       "fulfillment_id": "(SELECT id FROM fulfillment_fulfillmentorder "
                                         "WHERE order_id = :oid::bigint LIMIT 1)"}
            changes = {k: v for k, v in changes.items() if k in row}
            if row.get("event_id") in topic_of:
                changes["event_id"] = (
                    "(SELECT id FROM core_outboxevent WHERE id = ANY (string_to_array("
                    f":events::text, ',')::uuid[]) AND topic = '{topic_of[row['event_id']]}' "
                    "LIMIT 1)")
            if "target_id" in row:
                # An attempt (oms.core.attempts) is unique per kind and target; the row the
                # script copies points at the probe's target, so each copy gets a random one:
                # the same bytes and index entries, no collision between clients.
                changes["target_id"] = "(random() * 9e15)::bigint"
            uuid_key = isinstance(row.get("id"), str)
            if uuid_key:
                changes["id"] = "gen_random_uuid()"
            statement = insert(table, row, doc(table, row, **changes), keep_id=uuid_key) + ";"
            (later if "event_id" in changes else statements).append(statement)
    for key in r.get("core_idempotencykey", []):
        statements.append(insert("core_idempotencykey", key, doc(
            "core_idempotencykey", key, key="'pgbench-' || :num::text")) + ";")
    statements.append("COMMIT;")

    statements += ["BEGIN;", "UPDATE core_outboxevent SET published_at = now()\n"
                             " WHERE id = ANY (string_to_array(:events::text, ',')::uuid[]);"]
    processed = r.get("core_processedevent", [])
    if processed:  # one row per event and handler: which handlers ran is a matter of the topic
        values = ", ".join(f"('{topic_of[row['event_id']]}', {sql_jsonb(json.dumps(row))})"
                           for row in processed if row["event_id"] in topic_of)
        statements.append(
            f"INSERT INTO core_processedevent ({columns(processed[0])})\n"
            f"SELECT {columns(processed[0], of='p.')}\n"
            f"  FROM core_outboxevent e JOIN (VALUES {values}) v (topic, d) USING (topic),\n"
            "    jsonb_populate_record(NULL::core_processedevent, v.d || jsonb_build_object("
            "'event_id', e.id, 'processed_at', now())) p\n"
            " WHERE e.id = ANY (string_to_array(:events::text, ',')::uuid[]);")
    statements += later
    statements.append("COMMIT;")
    head = "\n".join([f"\\set c :cbase + random(1, {customer_pool})"]
                     + [f"\\set q{k} random(1, 3)" for k in range(1, len(skus) + 1)])
    return head + "\n" + "\n".join(statements) + "\n"


def baseline_defines(*, new_customer: bool = False) -> dict[str, object]:
    """pgbench -D values: `cbase`, an offset to the customer number (past the pool, every order
    has a new customer, as the probe order had)."""
    return {"cbase": 10_000_000 if new_customer else 0}
