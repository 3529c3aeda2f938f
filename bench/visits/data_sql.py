"""The statements that write the store-visit benchmark's customers and open orders
(:mod:`bench.visits.data`): plan tables with one row per customer, order and line, then one
``INSERT ... SELECT`` per table from them, and the query that finds which customer to send to
which store. Every random figure is a hash of the row's number (``pg_temp.r``, defined in
:data:`bench.growth.history.RANDOM_FUNCTION`), so reruns write the same rows.

Distributions (customers ``C``, orders ``N``):

- customers: e-mail ``customer<c>@bench.example``; 60 % with an ``external_id`` (``CRM-...``);
  consent to ``in_store_offers`` granted by 45 %, granted and later withdrawn by 10 % (two
  records), never asked the rest; 50 % also granted ``email_marketing``; 25 % looked at 1-4
  products online in the last 20 days (browsing signals); one in four has an older store visit;
- orders: each to a customer drawn uniformly, so about 39 % of the customers have an open order
  and some two or three; placed in the last 10 days; web 70 %, app 22 %, marketplace 8 %;
  1-3 lines (50/35/15 %), 1 unit mostly, popular SKUs ordered more often;
- status: on hold 4 % (its parcel pending, dispatch held), confirmed 60 % (the parcel pending
  35 % or accepted by the warehouse 65 %), in fulfilment 31 % (being picked), partially shipped
  5 % (its first line shipped: half of the last 10 %, the orders of one line are in fulfilment
  instead);
- 15 % of the orders of two or more lines are split over two warehouses (lines 2.. in a second
  parcel, which is not started when the first is being picked or has shipped), the rest ship
  from one warehouse: the first 60 %, the second 25 %, the third 15 %.
"""

from __future__ import annotations

from collections.abc import Sequence

FIRST_NUMBER = 5_000_000  # order numbers are FIRST_NUMBER + i
LINE_ID_STRIDE = 4  # line k (1..3) of order i has id i * 4 + k; its fulfilment line the same id
PARCEL_ID_STRIDE = 2  # parcel f (0, 1) of order i has id i * 2 + f
SKU_PREFIX = "VIS-"
PLAN_TABLES = "bench_v_customer, bench_v_order, bench_v_line"
ADDRESS = ('{"name": "Bench Customer", "line1": "Hauptstraße 1", "postal_code": "34117", '
           '"city": "Kassel", "country": "DE"}')

# order status -> (status of parcel 0, status of parcel 1 when the order is split)
UNSHIPPED = ("confirmed", "in_fulfillment", "partially_shipped")  # visits.services.UNSHIPPED
NOT_STARTED = ("pending", "accepted")  # visits.services.NOT_STARTED


def sku(n: int) -> str:
    return f"{SKU_PREFIX}{n:06d}"


def _array(values: Sequence[int]) -> str:
    return "ARRAY[" + ",".join(str(v) for v in values) + "]::bigint[]"


def plan_sql(customers: int, orders: int, n_skus: int, warehouses: Sequence[int]) -> list[str]:
    """The plan tables: one row per customer, order and order line, every figure drawn."""
    if len(warehouses) != 3:
        raise ValueError("the plan spreads parcels over exactly three warehouses")
    wh = _array(warehouses)
    return [
        f"""CREATE UNLOGGED TABLE bench_v_customer AS
        SELECT c,
          CASE WHEN pg_temp.r(c, 1) < 0.45 THEN 'granted'
               WHEN pg_temp.r(c, 1) < 0.55 THEN 'withdrawn' ELSE 'none' END AS consent,
          pg_temp.r(c, 2) < 0.60 AS external,
          pg_temp.r(c, 3) < 0.50 AS marketing,
          CASE WHEN pg_temp.r(c, 4) < 0.25 THEN 1 + floor(pg_temp.r(c, 5) * 4)::int ELSE 0 END
            AS signals,
          pg_temp.r(c, 6) < 0.25 AS visited,
          now() - interval '400 days' + pg_temp.r(c, 7) * interval '380 days' AS created_at
        FROM generate_series(1, {customers}) c""",
        f"""CREATE UNLOGGED TABLE bench_v_order AS
        SELECT i, cust, nlines, channel, created_at, wh0, wh1,
          split AND nlines >= 2 AS split,
          CASE WHEN rs < 0.04 THEN 'on_hold' WHEN rs < 0.64 THEN 'confirmed'
               WHEN rs < 0.90 OR nlines = 1 THEN 'in_fulfillment'
               ELSE 'partially_shipped' END AS status,
          CASE WHEN pg_temp.r(i, 14) < 0.35 THEN 'pending' ELSE 'accepted' END AS confirmed_as
        FROM (
          SELECT i,
            1 + floor({customers} * pg_temp.r(i, 11))::int AS cust,
            CASE WHEN pg_temp.r(i, 12) < 0.50 THEN 1 WHEN pg_temp.r(i, 12) < 0.85 THEN 2
                 ELSE 3 END AS nlines,
            CASE WHEN pg_temp.r(i, 16) < 0.70 THEN 'web' WHEN pg_temp.r(i, 16) < 0.92
                 THEN 'app' ELSE 'marketplace' END AS channel,
            now() - pg_temp.r(i, 17) * interval '10 days' - interval '1 hour' AS created_at,
            ({wh})[w] AS wh0, ({wh})[1 + w % 3] AS wh1,
            pg_temp.r(i, 15) < 0.15 AS split,
            pg_temp.r(i, 13) AS rs
          FROM (SELECT i, CASE WHEN pg_temp.r(i, 18) < 0.60 THEN 1
                               WHEN pg_temp.r(i, 18) < 0.85 THEN 2 ELSE 3 END AS w
                  FROM generate_series(1, {orders}) i) n) s""",
        f"""CREATE UNLOGGED TABLE bench_v_line AS
        SELECT i, k, status, parcel, parcel_status, '{SKU_PREFIX}' || lpad(sku_n::text, 6, '0')
            AS sku, quantity, (9.99 + sku_n % 90)::numeric(12,2) AS unit_price,
          -- the first line of a partially shipped order has left; parcels being picked (or
          -- shipped) have their first line picked, their other lines not yet
          CASE WHEN status = 'partially_shipped' AND k = 1 THEN quantity ELSE 0 END AS shipped,
          CASE WHEN parcel_status IN ('pending', 'accepted') THEN NULL
               WHEN k = 1 THEN quantity ELSE 0 END AS picked
        FROM (
          SELECT o.i, k, o.status,
            o.i * {PARCEL_ID_STRIDE} + CASE WHEN o.split AND k >= 2 THEN 1 ELSE 0 END AS parcel,
            CASE WHEN o.status = 'on_hold' THEN 'pending'
                 WHEN o.status = 'confirmed' THEN o.confirmed_as
                 WHEN o.split AND k >= 2 THEN 'accepted'
                 WHEN o.status = 'in_fulfillment' THEN 'picking'
                 WHEN o.split THEN 'shipped'
                 ELSE 'partially_shipped' END AS parcel_status,
            1 + (floor({n_skus} * power(pg_temp.r(o.i, 19), 2))::int + k * 997) % {n_skus}
              AS sku_n,
            CASE WHEN pg_temp.r(o.i * 8 + k, 20) < 0.80 THEN 1
                 WHEN pg_temp.r(o.i * 8 + k, 20) < 0.97 THEN 2 ELSE 3 END AS quantity
          FROM bench_v_order o, generate_series(1, o.nlines) k) s""",
        "CREATE UNIQUE INDEX ON bench_v_customer (c)",
        "CREATE UNIQUE INDEX ON bench_v_order (i)",
        f"ANALYZE {PLAN_TABLES}",
    ]


def load_sql(stores: Sequence[int]) -> list[tuple[str, str]]:
    """(table, statement) in load order; foreign keys hold by construction."""
    line_id = f"(l.i * {LINE_ID_STRIDE} + l.k)"
    store_ids = _array(stores)
    return [
        ("orders_customer", """
        INSERT INTO orders_customer (id, email, name, phone, external_id, created_at, updated_at,
          public_id)
        SELECT c, 'customer' || c || '@bench.example', 'Customer ' || c, '',
          CASE WHEN external THEN 'CRM-' || lpad(c::text, 7, '0') ELSE '' END,
          created_at, created_at, md5('customer-' || c)::uuid
        FROM bench_v_customer"""),
        ("orders_consent", """
        INSERT INTO orders_consent (customer_id, purpose, granted, source, at, recorded_at,
          recorded_by)
        SELECT c, purpose, granted, 'app', at, at + interval '2 seconds', 'bench-app'
        FROM (
          SELECT c, 'in_store_offers' AS purpose, true AS granted,
                 created_at + interval '1 day' AS at
            FROM bench_v_customer WHERE consent IN ('granted', 'withdrawn')
          UNION ALL
          SELECT c, 'in_store_offers', false, created_at + interval '9 days'
            FROM bench_v_customer WHERE consent = 'withdrawn'
          UNION ALL
          SELECT c, 'email_marketing', true, created_at + interval '1 hour'
            FROM bench_v_customer WHERE marketing) s
        ORDER BY c, at"""),
        ("visits_browsingsignal", f"""
        INSERT INTO visits_browsingsignal (customer_id, kind, sku, channel, at)
        SELECT v.c, (ARRAY['cart', 'wishlist', 'viewed', 'viewed'])[k],
          '{SKU_PREFIX}' || lpad((1 + (floor(p.n * pg_temp.r(v.c, 21))::int + k * 331)
                                  % p.n)::text, 6, '0'),
          CASE WHEN pg_temp.r(v.c * 4 + k, 22) < 0.7 THEN 'web' ELSE 'app' END,
          now() - pg_temp.r(v.c * 4 + k, 23) * interval '20 days'
        FROM bench_v_customer v, generate_series(1, v.signals) k,
          (SELECT count(*)::int AS n FROM catalog_product
            WHERE sku LIKE '{SKU_PREFIX}%') p"""),
        ("visits_storevisit", f"""
        INSERT INTO visits_storevisit (customer_id, location_id, source, registered_by,
          started_at, last_seen_at)
        SELECT c, ({store_ids})[1 + floor(pg_temp.r(c, 24) * {len(stores)})::int],
          (ARRAY['geofence', 'wallet', 'nfc', 'pos'])[1 + floor(pg_temp.r(c, 25) * 4)::int],
          'bench-app', t, t + interval '12 minutes'
        FROM (SELECT c, now() - interval '1 day' - pg_temp.r(c, 26) * interval '60 days' AS t
                FROM bench_v_customer WHERE visited) s
        ORDER BY t"""),
        ("orders_order", f"""
        INSERT INTO orders_order (id, number, channel, external_id, customer_id, currency, total,
          discount_total, shipping_total, status, language, delivery_method, delivery_address,
          pickup_location, sourcing, placed_by, created_at, updated_at)
        SELECT o.i, ({FIRST_NUMBER} + o.i)::text, o.channel, upper(o.channel) || '-' || o.i,
          o.cust, 'EUR', t.total, 0, 0, o.status,
          CASE WHEN pg_temp.r(o.i, 27) < 0.9 THEN 'de' ELSE 'en' END, 'ship',
          '{ADDRESS}'::jsonb, '',
          jsonb_build_object('method', 'ship', 'strategy',
            CASE WHEN o.split THEN 'split' ELSE 'single_location' END),
          'bench-' || o.channel, o.created_at, o.created_at + interval '30 minutes'
        FROM bench_v_order o
          JOIN (SELECT i, sum(quantity * unit_price) AS total FROM bench_v_line GROUP BY i) t
            USING (i)
        ORDER BY o.i"""),
        ("orders_orderline", f"""
        INSERT INTO orders_orderline (id, order_id, position, sku, quantity, unit_price,
          tax_rate, allocated, fulfilled, cancelled, returned)
        SELECT {line_id}, l.i, l.k, l.sku, l.quantity, l.unit_price, 19.00,
          l.quantity - l.shipped, l.shipped, 0, 0
        FROM bench_v_line l ORDER BY 1"""),
        ("orders_orderevent", """
        INSERT INTO orders_orderevent (order_id, type, at, actor, data)
        SELECT o.i, e.type, o.created_at + e.n * interval '1 second', 'bench-' || o.channel,
          e.data::jsonb
        FROM bench_v_order o, (VALUES
            (1, 'sourcing.decided', '{"method": "ship"}'), (2, 'order.placed', '{}'),
            (3, 'order.confirmed', '{"from": "placed", "to": "confirmed"}'),
            (4, 'order.on_hold', '{"from": "placed", "to": "on_hold"}')) e (n, type, data)
        WHERE e.n <= 2 OR (e.n = 3 AND o.status <> 'on_hold')
           OR (e.n = 4 AND o.status = 'on_hold')
        ORDER BY o.i, e.n"""),
        ("fulfillment_fulfillmentorder", """
        INSERT INTO fulfillment_fulfillmentorder (id, order_id, location_id, kind, status,
          dispatch_mode, reason, pickup_code_hash, pickup_code_salt, pickup_failed_attempts,
          created_at, updated_at)
        SELECT DISTINCT ON (l.parcel) l.parcel, o.i,
          CASE WHEN l.parcel % 2 = 0 THEN o.wh0 ELSE o.wh1 END, 'ship', l.parcel_status,
          CASE WHEN o.status = 'on_hold' THEN 'held' ELSE 'polled' END, '', '', '', 0,
          o.created_at, o.created_at + interval '30 minutes'
        FROM bench_v_line l JOIN bench_v_order o USING (i)
        ORDER BY l.parcel"""),
        ("fulfillment_fulfillmentline", f"""
        INSERT INTO fulfillment_fulfillmentline (id, fulfillment_id, order_line_id, quantity,
          picked, shipped, cancelled)
        SELECT {line_id}, l.parcel, {line_id}, l.quantity, l.picked, l.shipped, 0
        FROM bench_v_line l ORDER BY 1"""),
    ]


def sequences_sql(orders: int) -> list[str]:
    """Move the sequences past the rows written with explicit ids."""
    return [
        *(f"SELECT setval(pg_get_serial_sequence('{t}', 'id'), "
          f"(SELECT coalesce(max(id), 0) + 1 FROM {t}), false)"
          for t in ("orders_customer", "orders_order", "orders_orderline",
                    "fulfillment_fulfillmentorder", "fulfillment_fulfillmentline")),
        f"SELECT setval('orders_order_number_seq', {FIRST_NUMBER + orders + 1}, false)",
    ]


# Per customer with an open parcel the store could be asked for (what visits.services
# _candidates and _decide look at, store aside): the stores where at least one of its lines
# is available (on hand less reserved less safety stock covers what is still open: an offer
# is made, whole or partial) and the stores where none is. Customers whose open orders are
# all on hold or being picked are not listed: they have nothing to offer anywhere.
SERVABLE_SQL = """
WITH open_lines AS (
  SELECT o.customer_id AS cust, ol.sku, fl.quantity - fl.shipped - fl.cancelled AS wanted
    FROM fulfillment_fulfillmentorder fo
    JOIN orders_order o ON o.id = fo.order_id
    JOIN fulfillment_fulfillmentline fl ON fl.fulfillment_id = fo.id
    JOIN orders_orderline ol ON ol.id = fl.order_line_id
   WHERE fo.kind = 'ship' AND fo.status = ANY(%(not_started)s)
     AND o.status = ANY(%(unshipped)s)
     AND NOT EXISTS (SELECT 1 FROM fulfillment_fulfillmentline x
                      WHERE x.fulfillment_id = fo.id AND (x.picked > 0 OR x.shipped > 0))),
per_store AS (
  SELECT l.cust, s.id AS store,
         bool_or(coalesce(st.on_hand - st.reserved - st.safety_stock, 0) >= l.wanted
                 AND l.wanted > 0) AS servable
    FROM open_lines l
    CROSS JOIN unnest(%(stores)s::bigint[]) s (id)
    LEFT JOIN inventory_stocklevel st ON st.sku = l.sku AND st.location_id = s.id
   GROUP BY l.cust, s.id)
SELECT cust, array_agg(store ORDER BY store) FILTER (WHERE servable),
       array_agg(store ORDER BY store) FILTER (WHERE NOT servable)
  FROM per_store GROUP BY cust ORDER BY cust"""

# Every customer with the current state of their consent to offers in the store (the latest
# record by `at`, as oms.orders.consents reads it: None when never asked) and external id.
CUSTOMERS_SQL = """
SELECT c.id, c.email, c.external_id,
       (SELECT x.granted FROM orders_consent x
         WHERE x.customer_id = c.id AND x.purpose = 'in_store_offers'
         ORDER BY x.at DESC, x.id DESC LIMIT 1)
  FROM orders_customer c ORDER BY c.id"""
