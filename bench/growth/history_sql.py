"""The statements that write the order history (:mod:`bench.growth.history`): two plan tables
with one row per order and per line, then one ``INSERT ... SELECT`` per table from them. The
distributions are described in :mod:`bench.growth.history`; every random figure is a hash of the
order number (``pg_temp.r``), so reruns are identical."""

from __future__ import annotations

from collections.abc import Sequence

# (topic or "*", handler): the processed-event rows each outbox event leaves behind; handler
# names as stored (the notification handlers keep their old name: notifications/handlers.py)
HANDLERS = [
    ("*", "oms.core.webhooks.handlers.fan_out_to_webhooks"),
    ("order.confirmed", "fulfillment.notifications.handlers.notify_order_confirmed"),
]
# customer notifications are kept shorter than real ones (a 3 KB HTML mail): their size only
# matters to the heap, which intake does not scan
NOTE_TEXT = "Guten Tag, vielen Dank für Ihre Bestellung. " * 4
NOTE_HTML = "<p>Guten Tag, vielen Dank für Ihre Bestellung.</p>" * 8
FIRST_NUMBER = 1_000_000  # order numbers are FIRST_NUMBER + i, as the sequence hands them out
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


def _kinds_values(kinds: Sequence[tuple[str, str, str]]) -> str:
    return ", ".join(f"({n}, '{name}', '{agg}', '{statuses}'::text[])"
                     for n, (name, agg, statuses) in enumerate(kinds, start=1))


def plan_sql(n: int, customers: int, n_skus: int, locations: Sequence[int]) -> list[str]:
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


def load_sql(n: int, customers: int) -> list[tuple[str, str]]:
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
          dispatch_mode, created_at, updated_at)
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
          language, subject, body_text, body_html, url, created_at, order_id)
        SELECT md5('event-' || o.i || '-' || k.e)::uuid, k.topic, 'order_confirmation',
          c.channel, 'customer' || o.cust || '@bench.example', 'de',
          'Ihre Bestellung ' || ({FIRST_NUMBER} + o.i) || ' ist bestätigt', '{NOTE_TEXT}',
          CASE WHEN c.channel = 'email' THEN '{NOTE_HTML}' ELSE '' END, '',
          {_after('o.created_at', 'k.e')}, o.i
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
