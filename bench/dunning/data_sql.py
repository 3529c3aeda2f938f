"""The statements that write the dunning benchmark's overdue items (:mod:`bench.dunning`): a plan
table with one row per order, then one ``INSERT ... SELECT`` per table from it. Every random
figure is a hash of the row's number (``pg_temp.r``, :data:`bench.growth.history.RANDOM_FUNCTION`),
so reruns write the same rows.

Per order (``N`` of them, each with its customer drawn from ``N / 2``): one line of 29.90 to
299.90 (19 % VAT), paid by invoice (90 %) or direct debit, and its open item, every one due for a
step of the sweep run at the benchmark's moment (:data:`MIX`, shares of the items):

- ``falls_due``: due 1-6 days ago, still `open` (a tenth `partially_paid`): becomes `overdue`,
  no notice yet (the reminder's day is still to come);
- ``reminder``: `overdue`, no level yet, due 7-13 days ago: the reminder (no fee);
- ``first_notice``: level 1, due 14-20 days ago: the first notice, fee 2.50 booked;
- ``second_notice``: level 2 (2.50 fees), due 21-27 days ago: the second, fee 5.00 booked;
- ``collection``: level 3 (7.50 fees), due 28-40 days ago: the collection list;
- ``paused``: `overdue`, no level yet, due 7-13 days ago, its order with a return still
  `requested`: looked at again tomorrow.

A tenth of the overdue items had a partial payment (20.00). `next_dunning_at` is the step's
day (its time passed), as the service would have set it.
"""

from __future__ import annotations

FIRST_NUMBER = 7_000_000  # order numbers are FIRST_NUMBER + i
SKU_PREFIX = "DUN-"
N_SKUS = 100
PLAN_TABLES = "bench_d_order"
ADDRESS = ('{"name": "Bench Customer", "line1": "Hauptstraße 1", "postal_code": "34117", '
           '"city": "Kassel", "country": "DE"}')

# kind -> (share, status, dunning level reached, fees so far, due from .. to days ago)
MIX: dict[str, tuple[float, str, int, str, int, int]] = {
    "falls_due": (0.30, "open", 0, "0.00", 1, 6),
    "reminder": (0.25, "overdue", 0, "0.00", 7, 13),
    "first_notice": (0.20, "overdue", 1, "0.00", 14, 20),
    "second_notice": (0.12, "overdue", 2, "2.50", 21, 27),
    "collection": (0.08, "overdue", 3, "7.50", 28, 40),
    "paused": (0.05, "overdue", 0, "0.00", 7, 13),
}
# the day (after the due date) each kind's step falls on: the day after the due date, then the
# levels' days (finance.services.schedule.DEFAULT_LEVELS)
STEP_DAY = {"falls_due": 1, "reminder": 7, "first_notice": 14, "second_notice": 21,
            "collection": 28, "paused": 7}


def _kind_case() -> str:
    """The kind of order i from its hash, by the shares of :data:`MIX`."""
    whens, bound = [], 0.0
    for kind, (share, *_rest) in MIX.items():
        bound += share
        whens.append(f"WHEN pg_temp.r(i, 1) < {bound:.4f} THEN '{kind}'")
    whens[-1] = f"ELSE '{list(MIX)[-1]}'"
    return "CASE " + " ".join(whens) + " END"


def _per_kind(column: int) -> str:
    """A CASE over the kind giving one column of :data:`MIX` (status, level, fees, ...)."""
    whens = []
    for kind, row in MIX.items():
        value = row[column]
        whens.append(f"WHEN '{kind}' THEN " + (f"'{value}'" if isinstance(value, str)
                                                 else str(value)))
    return "CASE kind " + " ".join(whens) + " END"


def plan_sql(orders: int) -> list[str]:
    customers = max(orders // 2, 1)
    return [
        f"""CREATE UNLOGGED TABLE bench_d_order AS
        SELECT i, kind, 1 + floor({customers} * pg_temp.r(i, 2))::int AS cust,
          (29.90 + floor(pg_temp.r(i, 3) * 28) * 10)::numeric(12,2) AS total,
          CASE WHEN pg_temp.r(i, 4) < 0.9 THEN 'invoice' ELSE 'direct_debit' END AS method,
          CASE WHEN pg_temp.r(i, 5) < 0.9 THEN 'de' ELSE 'en' END AS language,
          {_per_kind(1)} AS status0, {_per_kind(2)} AS level, {_per_kind(3)}::numeric AS fees,
          current_date - ({_per_kind(4)} + floor(pg_temp.r(i, 6)
            * ({_per_kind(5)} - {_per_kind(4)} + 1))::int) AS due,
          pg_temp.r(i, 7) < 0.10 AS part_paid
        FROM (SELECT i, {_kind_case()} AS kind FROM generate_series(1, {orders}) i) k""",
        "CREATE UNIQUE INDEX ON bench_d_order (i)",
        f"ANALYZE {PLAN_TABLES}",
    ]


def load_sql(customers: int, store_id: int) -> list[tuple[str, str]]:
    """(table, statement) in load order; foreign keys hold by construction."""
    step_day = "CASE o.kind " + " ".join(
        f"WHEN '{kind}' THEN {day}" for kind, day in STEP_DAY.items()) + " END"
    return [
        ("orders_customer", f"""
        INSERT INTO orders_customer (id, email, name, phone, external_id, created_at,
          updated_at, public_id)
        SELECT c, 'debtor' || c || '@bench.example', 'Debtor ' || c, '', '',
          now() - interval '200 days', now() - interval '200 days', md5('debtor-' || c)::uuid
        FROM generate_series(1, {customers}) c"""),
        ("orders_order", f"""
        INSERT INTO orders_order (id, number, channel, external_id, customer_id, currency, total,
          discount_total, shipping_total, status, language, delivery_method, delivery_address,
          pickup_location, sourcing, placed_by, created_at, updated_at)
        SELECT o.i, ({FIRST_NUMBER} + o.i)::text, 'web', 'WEB-' || o.i, o.cust, 'EUR', o.total,
          0, 0, 'completed', o.language, 'ship', '{ADDRESS}'::jsonb, '', '{{}}'::jsonb,
          'bench-web', o.due - 16, o.due - 14
        FROM bench_d_order o ORDER BY o.i"""),
        ("orders_orderline", f"""
        INSERT INTO orders_orderline (id, order_id, position, sku, quantity, unit_price,
          tax_rate, allocated, fulfilled, cancelled, returned)
        SELECT o.i, o.i, 1, '{SKU_PREFIX}' || lpad((1 + o.i % {N_SKUS})::text, 4, '0'), 1,
          o.total, 19.00, 0, 1, 0, 0
        FROM bench_d_order o ORDER BY o.i"""),
        ("payments_payment", """
        INSERT INTO payments_payment (id, order_id, method, status, amount, captured_amount,
          refunded_amount, voided_amount, currency, psp_reference, created_at, updated_at)
        SELECT o.i, o.i, o.method, 'pending', o.total, 0, 0, 0, 'EUR', NULL, o.due - 16,
          o.due - 16
        FROM bench_d_order o ORDER BY o.i"""),
        ("finance_openitem", f"""
        INSERT INTO finance_openitem (id, order_id, customer_id, event_id, kind, currency,
          amount, paid, credited, fees, written_off, invoiced_on, due_date, status,
          dunning_level, next_dunning_at, for_collection, note, created_at, updated_at)
        SELECT o.i, o.i, o.cust, md5('bench-goods-left-' || o.i)::uuid, o.method, 'EUR',
          o.total, CASE WHEN o.part_paid THEN 20.00 ELSE 0 END, 0, o.fees, 0, o.due - 14, o.due,
          CASE WHEN o.status0 = 'open' AND o.part_paid THEN 'partially_paid' ELSE o.status0 END,
          o.level, (o.due + {step_day})::timestamp AT TIME ZONE 'Europe/Berlin', false, '',
          o.due - 14, o.due - 14
        FROM bench_d_order o ORDER BY o.i"""),
        ("returns_return", f"""
        INSERT INTO returns_return (number, order_id, mode, location_id, status, refund_method,
          refund_amount, exchange_credit, shipping_refund, currency, override_reason, label_url,
          carrier, tracking_number, placed_by, received_by, created_at, updated_at)
        SELECT 'R-BENCH-' || o.i, o.i, 'in_store', {store_id}, 'requested', 'original',
          o.total, 0, 0, 'EUR', '', '', '', '', 'bench-till', '', now() - interval '2 days',
          now() - interval '2 days'
        FROM bench_d_order o WHERE o.kind = 'paused' ORDER BY o.i"""),
    ]


def sequences_sql(orders: int) -> list[str]:
    """Move the sequences past the rows written with explicit ids."""
    return [
        *(f"SELECT setval(pg_get_serial_sequence('{t}', 'id'), "
          f"(SELECT coalesce(max(id), 0) + 1 FROM {t}), false)"
          for t in ("orders_customer", "orders_order", "orders_orderline", "payments_payment",
                    "finance_openitem")),
        f"SELECT setval('orders_order_number_seq', {FIRST_NUMBER + orders + 1}, false)",
    ]


# What the sweep must have left behind, per kind of item (read after the run).
OUTCOME_SQL = """
SELECT o.kind, count(*), count(*) FILTER (WHERE i.status = 'overdue'),
       count(*) FILTER (WHERE i.next_dunning_at > now() OR i.next_dunning_at IS NULL),
       count(n.id), coalesce(sum(n.fee), 0), count(*) FILTER (WHERE i.for_collection)
  FROM bench_d_order o
  JOIN finance_openitem i ON i.id = o.i
  LEFT JOIN finance_dunningnotice n ON n.open_item_id = i.id
 GROUP BY o.kind ORDER BY o.kind"""
