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
   hand (see :func:`bench.intake.baseline.baseline_script`), every row built from the
   probe order's row so it writes the same bytes. pgbench is first run once alone and its row counts
   are compared with the probe's, table by table.
"""


from __future__ import annotations

import math
import random
from typing import Any

from bench.harness.config import BenchConfig
from bench.harness.cpu import POSTGRES, CpuMonitor, gunicorn_pgid, ms_per_order
from bench.harness.database import bench_database, raw_connection, vacuum_analyze
from bench.harness.pgbench import PgbenchResult, WaitSampler, pgbench_run, print_backend_states
from bench.harness.processes import gunicorn_server
from bench.harness.report import (
    Results,
    latency_ms,
    latency_summary,
    print_table,
    scaled,
    step,
    thousands,
    verdict,
)
from bench.harness.worker import WORKER_ENV, celery_queues, celery_worker, redis_client, redis_flush
from bench.intake.baseline import (
    MIRRORED,
    UNITS,
    Probe,
    baseline_defines,
    baseline_script,
    count_delta,
    table_counts,
)
from bench.intake.network import (
    CUSTOMER_POOL,
    HOT_SKUS,
    LOCATIONS,
    HttpRun,
    Relay,
    network_setup,
    pool_orders,
    probe_order,
    send_orders,
)

NAME = "intake"
DEFAULT_SENDERS = 4
FULL_ORDERS = 2_000
FULL_SEQUENTIAL = 200
FULL_PER_WORKER = 400
FULL_WARM_UP = 40
FULL_PGBENCH_SECONDS = 10.0
TARGET_RATIO = 0.1
TARGET_P95_MS = 50.0



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
    config = config.with_env(WORKER_ENV)
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
        "celery_worker_concurrency": config.celery_concurrency,
    })
    print(f"\nintake: {n_orders} orders of {len(HOT_SKUS)} lines over HTTP from {senders} "
          f"senders (gunicorn -w {config.gunicorn_workers}), {n_sequential} from one sender; "
          f"pgbench baseline with {senders} clients for {pgbench_seconds:.0f} s")
    redis_flush(config.redis_url)
    with bench_database(config, NAME) as db:
        step(f"setup in database {db}: products, {len(LOCATIONS)} locations, a webshop client, "
             "stock")
        network = network_setup(config, db, rng)
        step(f"starting a celery worker (--concurrency={config.celery_concurrency}) and "
             f"gunicorn -w {config.gunicorn_workers}")
        with celery_worker(config, db, name=NAME) as worker, \
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
    return {
        "orders": run.orders, "failed": len(run.failures), "senders": run.senders,
        "seconds": round(run.seconds, 3), "orders_per_second": round(run.rate, 2),
        "latency_ms": latency_ms(run.latencies),
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
    table = [["metric", "orders/s", "ratio to pgbench", "orders", "failed", "seconds", "p50",
              "p95", "p99", "target", ""]]
    table.append(["intake.pgbench_by_hand", f"{baseline.tps:.1f} /s", "1.000",
                  thousands(baseline.transactions), str(baseline.failed),
                  f"{baseline.duration_s:.1f}", *baseline.latency_cells(), "", ""])
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
    print_backend_states(results.metrics["backend_states"])
    results.print_notes()
