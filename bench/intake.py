"""Order intake over HTTP: ``POST /api/v1/orders`` on a real gunicorn server (``-w 2``), 3-line
card orders, each with its own ``Idempotency-Key``, ``external_id`` and PSP reference, from a few
concurrent senders; next to a pgbench script that writes the same order by hand, in the same
run and with the same concurrency.

Network (setup, not timed): 3 SKUs with plenty of stock at the main warehouse ``WH-KS`` (ranked
first), and five other shipping locations (two warehouses, a supplier site, two ship-from-store
stores) holding a little of each, so sourcing has candidates to rank and explain. Customers are
drawn from a pool of 2,000 e-mail addresses, so most orders find their customer and some create
one. A ``webshop`` client on channel ``web`` sends everything.

Phases:

1. warm-up orders (not measured), then one *probe* order, with a count of every table's rows
   before and after: what one real intake writes;
2. ``http``: N orders from ``--senders`` concurrent senders (default 4); orders/s over the wall
   time, client-side latency per request (connect to last byte);
3. ``http_per_worker`` (when there are more senders than gunicorn workers): as many senders as
   workers, so every worker is busy and no request waits in the listen queue; for information:
   with more senders than workers, a request's latency is mostly its wait for a free worker;
4. ``http_sequential``: fewer orders from one sender, for the latency without queueing;
5. ``pgbench``: the same concurrency for a fixed time, each transaction one order written by
   hand (see :func:`bench.intake_baseline.baseline_script`), every row built from the
   probe order's row so it writes the same bytes. pgbench is first run once alone and its row counts
   are compared with the probe's, table by table.
"""

from __future__ import annotations

import json
import math
import random
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from bench.cpu import POSTGRES, CpuMonitor, gunicorn_pgid, ms_per_order
from bench.harness import (
    BenchConfig,
    Results,
    Server,
    Stopwatch,
    bench_database,
    gunicorn_server,
    http_call,
    latency_summary,
    print_table,
    raw_connection,
    scaled,
    step,
    thousands,
    verdict,
)
from bench.intake_baseline import (
    MIRRORED,
    UNITS,
    Probe,
    baseline_defines,
    baseline_script,
    count_delta,
    new_row_marks,
    table_counts,
)
from bench.pgbench import PgbenchResult, WaitSampler, pgbench_run
from bench.worker import (
    Queues,
    WorkerConfig,
    celery_queues,
    celery_worker,
    redis_client,
    redis_flush,
    wait_idle,
    worker_config,
)

NAME = "intake"
DEFAULT_SENDERS = 4
FULL_ORDERS = 2_000
FULL_SEQUENTIAL = 200
FULL_PER_WORKER = 400
FULL_WARM_UP = 40
FULL_PGBENCH_SECONDS = 10.0
CUSTOMER_POOL = 2_000
TARGET_RATIO = 0.1
TARGET_P95_MS = 50.0
WORKER_CONCURRENCY = 2
DRAIN_TIMEOUT_S = 120.0
CHANNEL = "web"
HOT_SKUS = {"BENCH-TEE-001": Decimal("19.99"), "BENCH-SOCK-002": Decimal("5.49"),
            "BENCH-CAP-003": Decimal("12.00")}
PLENTY = 1_000_000_000
# code, kind, city, lat, lon, capabilities, priority; the first one has plenty of the hot SKUs.
LOCATIONS = [
    ("WH-KS", "warehouse", "Kassel", 51.31, 9.48, ["ships"], 10),
    ("WH-HH", "warehouse", "Hamburg", 53.55, 9.99, ["ships"], 20),
    ("WH-MUC", "warehouse", "München", 48.14, 11.57, ["ships"], 30),
    ("SUP-01", "supplier", "Leipzig", 51.34, 12.37, ["ships"], 40),
    ("ST-BER", "store", "Berlin", 52.52, 13.40,
     ["click_and_collect", "ship_from_store", "accepts_returns"], 50),
    ("ST-KOE", "store", "Köln", 50.94, 6.96, ["ship_from_store"], 50),
]
ADDRESS = {"name": "Kim Weber", "line1": "Unter den Linden 1", "postal_code": "10117",
           "city": "Berlin", "country": "DE"}


# --- the network, shared with the growth benchmark ------------------------------------------


@dataclass(frozen=True)
class Network:
    token: str
    client_id: int
    client_name: str
    main_location_id: int
    level_ids: dict[str, int]  # hot SKU -> its stock row at the main warehouse
    location_ids: list[int]
    skus: list[str] = field(default_factory=list)  # the whole catalogue, hot SKUs first


def network_setup(config: BenchConfig, db: str, rng: random.Random,
                  catalogue: Sequence[str] = ()) -> Network:
    """Products via ``products_upsert``, locations via ``location_upsert``, a webshop client,
    stock by COPY: plenty of the hot SKUs at the main warehouse, a little everywhere else."""
    from django.utils import timezone

    from inventory.services import LocationData, location_upsert
    from oms.catalog.services import ProductData, products_upsert
    from oms.core.clients import api_client_create

    skus = list(HOT_SKUS) + [s for s in catalogue if s not in HOT_SKUS]
    for start in range(0, len(skus), 2000):
        products_upsert(products=[ProductData(sku=s, name=f"Bench product {s}")
                                  for s in skus[start:start + 2000]])
    locations = []
    for code, kind, city, lat, lon, capabilities, priority in LOCATIONS:
        location, _created = location_upsert(data=LocationData(
            code=code, name=f"Bench {city}", kind=kind,
            address={"city": city, "country": "DE"}, lat=lat, lon=lon,
            capabilities=capabilities, priority=priority,
        ))
        locations.append(location)
    name = "bench-webshop"
    client, token = api_client_create(name=name, kind="webshop", channel=CHANNEL)
    stamp = timezone.now().isoformat()
    main = locations[0]
    with raw_connection(config, db) as conn:
        with conn.cursor() as cursor, cursor.copy(
            "COPY inventory_stocklevel (sku, location_id, on_hand, reserved, safety_stock, "
            "updated_at) FROM STDIN"
        ) as copy:
            for location in locations:
                rows = []
                for sku in skus:
                    if location.pk == main.pk and sku in HOT_SKUS:
                        on_hand = PLENTY
                    else:
                        on_hand = 0 if rng.random() < 0.3 else rng.randint(1, 40)
                    rows.append(f"{sku}\t{location.pk}\t{on_hand}\t0\t"
                                f"{rng.randint(0, 2)}\t{stamp}\n")
                copy.write("".join(rows).encode())
        conn.commit()
        levels = dict(conn.execute(
            "SELECT sku, id FROM inventory_stocklevel WHERE location_id = %s AND sku = ANY(%s)",
            [main.pk, list(HOT_SKUS)]).fetchall())
    return Network(token=token, client_id=client.pk, client_name=name,
                   main_location_id=main.pk, level_ids=levels,
                   location_ids=[loc.pk for loc in locations], skus=skus)


def vacuum_analyze(config: BenchConfig, db: str) -> None:
    with raw_connection(config, db) as conn:
        conn.autocommit = True
        conn.execute("VACUUM (ANALYZE)")


# --- orders over HTTP ----------------------------------------------------------------------


@dataclass(frozen=True)
class Order:
    key: str
    body: bytes


def customer_email(n: int) -> str:
    return f"customer{n}@bench.example"


def make_order(rng: random.Random, tag: str, n: int, email: str, customer_name: str) -> Order:
    """A valid 3-line card order (1-3 units per line) with unique key, external id and PSP
    reference."""
    lines = [(sku, rng.randint(1, 3)) for sku in HOT_SKUS]
    total = sum((HOT_SKUS[sku] * q for sku, q in lines), Decimal("0.00"))
    body = {
        "external_id": f"{tag}-{n}",
        "customer": {"email": email, "name": customer_name},
        "currency": "EUR",
        "lines": [{"sku": sku, "quantity": q, "unit_price": str(HOT_SKUS[sku]),
                   "tax_rate": "19.00"} for sku, q in lines],
        "delivery": {"method": "ship", "address": ADDRESS},
        "payment": {"method": "card", "status": "authorized", "amount": str(total),
                    "psp_reference": f"{tag}-psp-{n}"},
    }
    return Order(key=f"{tag}-{n}", body=json.dumps(body).encode())


def pool_orders(rng: random.Random, tag: str, count: int) -> list[Order]:
    orders = []
    for n in range(count):
        c = rng.randint(1, CUSTOMER_POOL)
        orders.append(make_order(rng, tag, n, customer_email(c), f"Customer {c}"))
    return orders


@dataclass(frozen=True)
class Sent:
    status: int
    seconds: float
    body: bytes


def send_order(server: Server, token: str, order: Order) -> Sent:
    reply = http_call(server, "POST", "/api/v1/orders", body=order.body, headers={
        "Authorization": f"Bearer {token}",
        "Content-Type": "application/json",
        "Idempotency-Key": order.key,
    })
    return Sent(reply.status, reply.seconds, reply.body[:500])


@dataclass(frozen=True)
class HttpRun:
    orders: int
    senders: int
    seconds: float
    latencies: list[float]
    failures: list[str]

    @property
    def rate(self) -> float:
        return (self.orders - len(self.failures)) / self.seconds if self.seconds else math.nan


@dataclass(frozen=True)
class Relay:
    """Where the outbox relay and the event handlers an order triggers run."""

    redis: Any
    queues: Queues

    def drain(self) -> float:
        """Seconds until the worker has finished every task the orders queued."""
        waited, left = wait_idle(self.redis, self.queues, DRAIN_TIMEOUT_S)
        if left:
            raise RuntimeError(f"the worker did not drain its queues in {DRAIN_TIMEOUT_S:.0f} s "
                               f"({left} messages left)")
        return waited


def send_orders(server: Server, token: str, orders: Sequence[Order], senders: int,
                relay: Relay) -> HttpRun:
    """Send the orders, then wait for the worker to finish what they queued: the run lasts
    until then, so orders/s counts the relay's work too."""
    with Stopwatch() as watch, ThreadPoolExecutor(max_workers=senders) as pool:
        sent = list(pool.map(lambda o: send_order(server, token, o), orders))
    drained = relay.drain()
    failures = [f"{s.status} {s.body[:300].decode(errors='replace')}"
                for s in sent if s.status != 201]
    return HttpRun(len(orders), senders, watch.seconds + drained,
                   [s.seconds for s in sent if s.status == 201], failures)


# --- the probe order ----------------------------------------------------------------------


def probe_order(config: BenchConfig, db: str, server: Server, network: Network,
                relay: Relay) -> Probe:
    """Place one order over HTTP, count what it wrote, and keep those rows as templates."""
    from django.utils import timezone

    order = make_order(random.Random(1), "probe", 1, "probe@bench.example", "Probe Customer")
    before = table_counts(config, db)
    with raw_connection(config, db) as conn:
        marks = new_row_marks(conn)
    started = timezone.now()
    sent = send_order(server, network.token, order)
    if sent.status != 201:
        raise RuntimeError(f"the probe order failed: {sent.status} {sent.body!r}")
    relay.drain()  # what its event handlers write counts too
    delta = count_delta(before, table_counts(config, db))
    rows: dict[str, list[dict[str, Any]]] = {}
    timestamps: dict[str, set[str]] = {}
    numerics: dict[str, set[str]] = {}
    with raw_connection(config, db) as conn:
        for table, (column, mark) in marks.items():
            if table not in delta:
                continue
            found = [r[0] for r in conn.execute(
                f'SELECT to_jsonb(t) FROM "{table}" t WHERE {column} > %s ORDER BY {column}, '
                "to_jsonb(t)::text", [mark]).fetchall()]
            if found:
                rows[table] = found
        for table, column, data_type in conn.execute(
                "SELECT table_name, column_name, data_type FROM information_schema.columns "
                "WHERE table_schema = 'public' AND table_name = ANY(%s)", [list(rows)]):
            if data_type == "timestamp with time zone":
                timestamps.setdefault(table, set()).add(column)
            elif data_type == "numeric":
                numerics.setdefault(table, set()).add(column)
    placed = rows["orders_order"][0]
    return Probe(placed["number"], started, Decimal(str(placed["total"])), delta, rows,
                 timestamps, numerics)


# --- the benchmark -------------------------------------------------------------------------


def _stock_consistent(config: BenchConfig, db: str) -> tuple[int, int]:
    """(reserved on the hot stock rows, units on active reservation lines for them)."""
    with raw_connection(config, db) as conn:
        return conn.execute(
            "SELECT (SELECT sum(reserved) FROM inventory_stocklevel WHERE sku = ANY(%(s)s)), "
            "(SELECT coalesce(sum(l.quantity), 0) FROM inventory_reservationline l "
            " JOIN inventory_reservation r ON r.id = l.reservation_id "
            " WHERE r.state = 'active' AND l.sku = ANY(%(s)s))",
            {"s": list(HOT_SKUS)}).fetchone()


def run(config: BenchConfig) -> Results:
    config = config if isinstance(config, WorkerConfig) else worker_config(config)
    rng = random.Random(config.seed)
    senders = config.senders or DEFAULT_SENDERS
    n_orders = scaled(FULL_ORDERS, config.scale, 100)
    n_sequential = scaled(FULL_SEQUENTIAL, config.scale, 30)
    n_per_worker = scaled(FULL_PER_WORKER, config.scale, 40)
    n_warm_up = scaled(FULL_WARM_UP, config.scale, 8)
    pgbench_seconds = max(3.0, FULL_PGBENCH_SECONDS * config.scale)
    results = Results(NAME, config, parameters={
        "orders": n_orders, "sequential_orders": n_sequential, "warm_up_orders": n_warm_up,
        "per_worker_orders": n_per_worker if senders > config.gunicorn_workers else 0,
        "senders": senders, "gunicorn_workers": config.gunicorn_workers,
        "pgbench_clients": senders, "pgbench_seconds": pgbench_seconds,
        "lines_per_order": len(HOT_SKUS), "units_per_line": "1-3",
        "customer_pool": CUSTOMER_POOL, "locations": [loc[0] for loc in LOCATIONS],
        "payment": "card, authorized", "delivery": "ship",
        "celery_worker_concurrency": WORKER_CONCURRENCY,
    })
    print(f"\nintake: {n_orders} orders of {len(HOT_SKUS)} lines over HTTP from {senders} "
          f"senders (gunicorn -w {config.gunicorn_workers}), {n_sequential} from one sender; "
          f"pgbench baseline with {senders} clients for {pgbench_seconds:.0f} s")
    redis_flush(config.redis_url)
    with bench_database(config, NAME) as db:
        step(f"setup in database {db}: products, {len(LOCATIONS)} locations, a webshop client, "
             "stock")
        network = network_setup(config, db, rng)
        step(f"starting a celery worker (--concurrency={WORKER_CONCURRENCY}) and gunicorn "
             f"-w {config.gunicorn_workers}")
        with celery_worker(config, db, WORKER_CONCURRENCY, name=NAME) as worker, \
                gunicorn_server(config, db) as server:
            relay = Relay(redis_client(config.redis_url), celery_queues())
            warm = send_orders(server, network.token, pool_orders(rng, "warm", n_warm_up),
                               senders, relay)
            if warm.failures:
                raise RuntimeError(f"warm-up orders failed, first: {warm.failures[0]}")
            step("probe: one order, rows written per table")
            probe = probe_order(config, db, server, network, relay)
            vacuum_analyze(config, db)
            step(f"http: {n_orders} orders from {senders} concurrent senders")
            monitor = CpuMonitor({"celery worker": worker.proc.pid,
                                  "gunicorn": gunicorn_pgid(server)}, db).start()
            with WaitSampler(config, db) as http_waits:
                concurrent = send_orders(server, network.token,
                                         pool_orders(rng, "http", n_orders), senders, relay)
            http_cpu = monitor.stop()
            per_worker = None
            if senders > config.gunicorn_workers:
                step(f"http_per_worker: {n_per_worker} orders from "
                     f"{config.gunicorn_workers} senders, one per gunicorn worker")
                per_worker = send_orders(server, network.token,
                                         pool_orders(rng, "worker", n_per_worker),
                                         config.gunicorn_workers, relay)
            step(f"http_sequential: {n_sequential} orders from one sender")
            sequential = send_orders(server, network.token,
                                     pool_orders(rng, "seq", n_sequential), 1, relay)
        http_consistent = _stock_consistent(config, db)
        script = baseline_script(probe, HOT_SKUS, CUSTOMER_POOL)
        step("pgbench: one transaction alone, rows written per table compared with the probe")
        before = table_counts(config, db)
        pgbench_run(config, db, script, clients=1, threads=1, transactions=1,
                    defines=baseline_defines(new_customer=True))
        pgbench_delta = count_delta(before, table_counts(config, db))
        vacuum_analyze(config, db)
        step(f"pgbench: {senders} clients for {pgbench_seconds:.0f} s")
        with WaitSampler(config, db) as pgbench_waits:
            baseline = pgbench_run(config, db, script, clients=senders, threads=min(senders, 2),
                                   duration_s=pgbench_seconds, defines=baseline_defines())
        pgbench_consistent = _stock_consistent(config, db)
    results.parameters["pgbench_script"] = script
    results.metrics["backend_states"] = {"pgbench": pgbench_waits.fractions(),
                                         "http": http_waits.fractions()}
    results.metrics["http_cpu_seconds"] = http_cpu
    _report(results, concurrent, http_cpu, per_worker, sequential, baseline, probe,
            pgbench_delta,
            {"after_http": http_consistent, "after_pgbench": pgbench_consistent})
    return results


def http_row(name: str, run: HttpRun, target: str = "", ok: str = "",
             ratio: float | None = None) -> list[str]:
    lat = latency_summary(run.latencies)
    return [name, f"{run.rate:.1f} /s", "" if ratio is None else f"{ratio:.3f}",
            thousands(run.orders - len(run.failures)), str(len(run.failures)),
            f"{run.seconds:.1f}", f"{lat['p50_ms']:.1f} ms", f"{lat['p95_ms']:.1f} ms",
            f"{lat['p99_ms']:.1f} ms", target, ok]


def http_metrics(run: HttpRun) -> dict[str, Any]:
    lat = latency_summary(run.latencies)
    return {
        "orders": run.orders, "failed": len(run.failures), "senders": run.senders,
        "seconds": round(run.seconds, 3), "orders_per_second": round(run.rate, 2),
        "latency_ms": {k: round(v, 3) for k, v in lat.items() if k != "n"},
        "first_failure": run.failures[0] if run.failures else None,
    }


CPU_SHOWN = {"gunicorn": "gunicorn", "celery worker": "worker", POSTGRES: "PostgreSQL",
             "benchmark process": "senders", "other processes": "other"}


def _report_cpu(results: Results, concurrent: HttpRun, cpu: dict[str, Any]) -> None:
    """CPU per order in the HTTP phase, and the rate the web server and database alone would
    cap it at if the worker's share were free."""
    done = concurrent.orders - len(concurrent.failures)
    if not done or not cpu.get("machine capacity"):
        return
    per_order = ms_per_order(cpu, CPU_SHOWN, done)
    cores = cpu["machine capacity"] / concurrent.seconds
    web_and_db = per_order["gunicorn"] + per_order["PostgreSQL"]
    cap = cores * 1000 / web_and_db if web_and_db else math.nan
    results.metrics["http"]["cpu_ms_per_order"] = {k: round(v, 1) for k, v in per_order.items()}
    results.metrics["http"]["web_and_database_cap_orders_per_second"] = round(cap, 1)
    print("  CPU per order in the http phase: " + ", ".join(
        f"{label} {ms:.1f} ms" for label, ms in per_order.items())
        + f"; machine {cpu['machine busy'] / cpu['machine capacity']:.0%} busy on "
        f"{cores:.0f} cores. With the worker's share free, gunicorn and PostgreSQL alone "
        f"would cap the rate at {cap:.0f} orders/s")


def _report(results: Results, concurrent: HttpRun, http_cpu: dict[str, Any],
            per_worker: HttpRun | None,
            sequential: HttpRun, baseline: PgbenchResult,
            probe: Probe, pgbench_delta: dict[str, int],
            consistency: dict[str, tuple[int, int]]) -> None:
    ratio = concurrent.rate / baseline.tps if baseline.tps else math.nan
    p95 = latency_summary(concurrent.latencies)["p95_ms"]
    base = baseline.latency
    table = [["metric", "orders/s", "ratio to pgbench", "orders", "failed", "seconds", "p50",
              "p95", "p99", "target", ""]]
    table.append(["intake.pgbench_by_hand", f"{baseline.tps:.1f} /s", "1.000",
                  thousands(baseline.transactions), str(baseline.failed),
                  f"{baseline.duration_s:.1f}", f"{base.get('p50_ms', math.nan):.1f} ms",
                  f"{base.get('p95_ms', math.nan):.1f} ms",
                  f"{base.get('p99_ms', math.nan):.1f} ms", "", ""])
    table.append(http_row(
        "intake.http", concurrent,
        f">= {TARGET_RATIO} of pgbench, p95 < {TARGET_P95_MS:.0f} ms",
        verdict(ratio >= TARGET_RATIO and p95 < TARGET_P95_MS), ratio))
    extra = [("http_per_worker", per_worker)] if per_worker else []
    for name, run in [*extra, ("http_sequential", sequential)]:
        table.append(http_row(f"intake.{name}", run, "(information)",
                              ratio=run.rate / baseline.tps if baseline.tps else None))
        results.metrics[name] = http_metrics(run)
    results.metrics["pgbench_by_hand"] = baseline.as_json()
    results.metrics["http"] = {
        **http_metrics(concurrent), "ratio_to_pgbench": round(ratio, 4),
        "target": {"ratio_to_pgbench": TARGET_RATIO, "p95_ms_below": TARGET_P95_MS,
                   "ratio_met": ratio >= TARGET_RATIO, "p95_met": p95 < TARGET_P95_MS},
    }
    results.metrics["rows_per_order"] = {"http_probe": probe.delta, "pgbench": pgbench_delta}
    results.metrics["stock_reserved_vs_active_lines"] = consistency
    for name, run in [("http", concurrent), *extra, ("http_sequential", sequential)]:
        if run.failures:
            results.notes.append(f"{name}: {len(run.failures)} failed, first: {run.failures[0]}")
    copied = sorted(t for t in probe.rows if t not in MIRRORED)
    if copied:
        results.notes.append("the baseline copies the probe's rows of " + ", ".join(copied)
                             + " with references replaced (tables baseline_script does not "
                             "model)")
    mismatched = sorted(t for t in set(probe.delta) | set(pgbench_delta)
                        if probe.delta.get(t) != pgbench_delta.get(t) and t != UNITS)
    if mismatched:
        results.notes.append("pgbench writes differ from the probe order in: " + ", ".join(
            f"{t} ({pgbench_delta.get(t, 0)} vs {probe.delta.get(t, 0)})" for t in mismatched))
    for when, (reserved, held) in consistency.items():
        if reserved != held:
            results.notes.append(f"{when}: reserved {reserved} != units on active lines {held}")

    print()
    print_table(table, right=(1, 2, 3, 4, 5, 6, 7, 8))
    print("  rows per order (HTTP probe | pgbench): " + ", ".join(
        f"{t} {probe.delta.get(t, 0)}|{pgbench_delta.get(t, 0)}"
        for t in sorted(set(probe.delta) | set(pgbench_delta))))
    print(f"  baseline: pgbench -M prepared -c {baseline.clients} -j {baseline.threads} "
          f"-T {baseline.duration_s:.0f}: per order the intake transaction and the relay's, "
          "same JSON documents as the probe order; latency client-side (HTTP: connect to last "
          "byte); units reserved differ by the random quantities")
    if concurrent.latencies:
        # Little's law for closed-loop senders: mean latency = senders / rate, and p95 >= mean
        mean_ms = latency_summary(concurrent.latencies)["mean_ms"]
        needed = concurrent.senders / (TARGET_P95_MS / 1000)
        results.metrics["http"]["p95_needs_orders_per_second_above"] = round(needed, 1)
        print(f"  {concurrent.senders} senders in a closed loop: mean latency {mean_ms:.0f} ms "
              f"(= senders / rate while every sender waits); a p95 under "
              f"{TARGET_P95_MS:.0f} ms needs a mean under it, so more than {needed:.0f} "
              "orders/s through the HTTP phase")
    _report_cpu(results, concurrent, http_cpu)
    for name, states in results.metrics.get("backend_states", {}).items():
        print(f"  database connections during {name}: " + ", ".join(
            f"{share:.0%} {key}" for key, share in list(states.items())[:6]))
    for note in results.notes:
        print(f"  ! {note}")
