"""Store visits over HTTP (issue 20): the app or a store's till says a customer walked in,
``POST /api/v1/store-visits``, and the answer carries the pickup offers of their parcels not yet
started in the warehouse that the store can hand over now; with 100,000 open orders and 200,000
customers in the database (``--scale`` scales both and the request counts), from 4 concurrent
senders, printed next to bare ``GET /healthz`` from the same senders in the same run.

Setup (not timed): the network through the services and the customers and orders by SQL
(:mod:`bench.visits.data`), gunicorn ``-w 2`` and a real Celery worker (``--concurrency=2``)
that relays the events a visit writes, as in production.

Each visit is a customer of its own, so every one is a new visit (``201``) and computes its
offers; who walks in where is drawn from what the database holds (:data:`bench.visits.data.MIX`):
half of them have consent and a parcel the store has lines of (offers are made, with their
audit entries and ``pickup_offer.made`` events), the rest have no consent, nothing the store
has, nothing open, or are unknown. A quarter are reported by the store's till, the rest by the
app; 30 % of the known customers with an external id are named by it.

Phases:

1. warm-up visits (not measured), then one *probe* visit (an offer), with a count of every
   table's rows before and after: what one visit writes;
2. ``http``: N visits and N ``/healthz`` calls from ``--senders`` concurrent senders (default
   4) in 4 rounds (healthz calls, then visits, then the worker drained), so drift hits both;
   visits/s over the visits' wall time until the worker drained, client-side latency
   (connect to last byte) of both;
3. ``http_per_worker`` (when there are more senders than gunicorn workers): fewer visits and
   ``/healthz`` calls from as many senders as workers, for information: every worker busy, no
   request waiting in the listen queue;
4. ``http_sequential``: fewer visits from one sender, each after a ``/healthz`` call: the
   latency without queueing.

Afterwards the database is checked (:mod:`bench.visits.checks`).
"""

from __future__ import annotations

import math
import os
import random
from collections.abc import Sequence
from typing import Any

from bench.harness.config import BenchConfig
from bench.harness.cpu import POSTGRES, CpuMonitor, gunicorn_pgid, ms_per_order
from bench.harness.database import bench_database, vacuum_analyze
from bench.harness.processes import Server, gunicorn_server, warm_up_workers
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
from bench.intake.baseline import UNITS, count_delta, table_counts
from bench.intake.network import Relay
from bench.visits.checks import marks_take, visits_check
from bench.visits.data import (
    MIX,
    N_SKUS,
    PlannedVisit,
    data_load,
    network_setup,
    visit_plan,
    visit_pools,
)
from bench.visits.senders import (
    Visited,
    VisitRun,
    in_parallel,
    rounds_send,
    sequential_send,
    split,
    visit,
)

NAME = "visits"
DEFAULT_SENDERS = 4
FULL_CUSTOMERS = 200_000
FULL_ORDERS = 100_000
FULL_VISITS = 2_000
FULL_SEQUENTIAL = 200
FULL_PER_WORKER = 400
FULL_WARM_UP = 40
ROUNDS = 4
TARGET_P95_MS = 50.0
CPU_SHOWN = {"gunicorn": "gunicorn", "celery worker": "worker", POSTGRES: "PostgreSQL",
             "benchmark process": "senders", "other processes": "other"}


def run(config: BenchConfig) -> Results:
    config = config.with_env(WORKER_ENV)
    rng = random.Random(config.seed)
    senders = config.senders or DEFAULT_SENDERS
    customers = scaled(FULL_CUSTOMERS, config.scale, 2_000)
    orders = scaled(FULL_ORDERS, config.scale, 1_000)
    counts = {"warm": scaled(FULL_WARM_UP, config.scale, 8), "probe": 1,
              "http": scaled(FULL_VISITS, config.scale, 100),
              "http_per_worker": (scaled(FULL_PER_WORKER, config.scale, 40)
                                  if senders > config.gunicorn_workers else 0),
              "http_sequential": scaled(FULL_SEQUENTIAL, config.scale, 30)}
    results = Results(NAME, config, parameters={
        "customers": customers, "open_orders": orders, "skus": N_SKUS,
        "visits": counts["http"], "healthz_calls": counts["http"],
        "sequential_visits": counts["http_sequential"], "warm_up_visits": counts["warm"],
        "per_worker_visits": counts["http_per_worker"],
        "rounds": ROUNDS, "senders": senders, "gunicorn_workers": config.gunicorn_workers,
        "celery_worker_concurrency": config.celery_concurrency, "mix": MIX,
    })
    print(f"\nvisits: {counts['http']} store visits and as many GET /healthz over HTTP from "
          f"{senders} senders (gunicorn -w {config.gunicorn_workers}, a celery worker), "
          f"{counts['http_sequential']} from one sender; {thousands(orders)} open orders, "
          f"{thousands(customers)} customers")
    redis_flush(config.redis_url)
    with bench_database(config, NAME) as db:
        step(f"setup in database {db}: {N_SKUS} products, locations, app and till clients, "
             "stock")
        network = network_setup(config, db, rng)
        step(f"writing {thousands(customers)} customers and {thousands(orders)} open orders "
             "by SQL")
        loaded = data_load(config, db, network, customers=customers, orders=orders,
                           progress=lambda m: step(f"  {m}"))
        step(f"  loaded in {loaded.wall_seconds:.1f} s: " + ", ".join(
            f"{t} {thousands(n)}" for t, n in loaded.rows.items()))
        pools = visit_pools(config, db, network, rng)
        step("customers by the visit they can make: " + ", ".join(
            f"{k} {thousands(n)}" for k, n in pools.sizes().items()))
        plan = visit_plan(network, pools, rng, counts, first_offer=["probe"])
        marks = marks_take(config, db)
        step(f"starting a celery worker (--concurrency={config.celery_concurrency}) and "
             f"gunicorn -w {config.gunicorn_workers}")
        with celery_worker(config, db, name=NAME) as worker, \
                gunicorn_server(config, db) as server:
            relay = Relay(redis_client(config.redis_url), celery_queues())
            warm_up_workers(server, "/healthz", {})
            warm, _s = in_parallel(split(plan["warm"], senders), lambda v: visit(server, v))
            relay.drain()
            if any(v.failure for v in warm):
                raise RuntimeError("warm-up visits failed, first: "
                                   + next(v.failure for v in warm if v.failure))
            step("probe: one visit with an offer, rows written per table")
            probe, probe_delta = _probe(config, db, server, plan["probe"][0], relay)
            vacuum_analyze(config, db)
            n = counts["http"]
            step(f"http: {n} visits and {n} GET /healthz from {senders} senders, in "
                 f"{ROUNDS} rounds")
            rounds = [(len(chunk), chunk) for chunk in _rounds(plan["http"], ROUNDS)]
            pgid = gunicorn_pgid(server)
            concurrent, cpu = rounds_send(
                server, rounds, senders, relay.drain,
                cpu=lambda: CpuMonitor({"celery worker": worker.proc.pid, "gunicorn": pgid},
                                       db).start())
            per_worker = None
            if counts["http_per_worker"]:
                workers = config.gunicorn_workers
                step(f"http_per_worker: {counts['http_per_worker']} visits and as many GET "
                     f"/healthz from {workers} senders, one per gunicorn worker")
                per_worker, _cpu = rounds_send(
                    server, [(counts["http_per_worker"], plan["http_per_worker"])], workers,
                    relay.drain)
            step(f"http_sequential: {counts['http_sequential']} visits from one sender, each "
                 "after a GET /healthz")
            sequential = sequential_send(server, plan["http_sequential"], relay.drain)
        answered = [*warm, probe, *concurrent.visits, *(per_worker.visits if per_worker else []),
                    *sequential.visits]
        findings, figures = visits_check(config, db, marks, answered)
    results.metrics["load"] = {"seconds": round(loaded.wall_seconds, 1),
                               "rows": loaded.rows,
                               "seconds_per_step": {k: round(v, 2)
                                                    for k, v in loaded.seconds.items()}}
    if loaded.neutral:
        results.notes.append("columns the loader does not write yet got a neutral value: "
                             + ", ".join(loaded.neutral))
    results.metrics["pools"] = pools.sizes()
    results.metrics["rows_per_visit_probe"] = probe_delta
    results.metrics["checks"] = {"findings": findings, **figures}
    results.notes.extend(f"check: {f}" for f in findings)
    _report(results, concurrent, cpu, per_worker, sequential, probe_delta, figures)
    return results


def _rounds(visits: Sequence[PlannedVisit], rounds: int) -> list[list[PlannedVisit]]:
    size = math.ceil(len(visits) / rounds)
    return [list(visits[k:k + size]) for k in range(0, len(visits), size)]


def _probe(config: BenchConfig, db: str, server: Server, planned: PlannedVisit,
           relay: Relay) -> tuple[Visited, dict[str, int]]:
    before = table_counts(config, db)
    done = visit(server, planned)
    if done.failure or not done.offers:
        raise RuntimeError(f"the probe visit ({planned.kind}) failed or made no offer: "
                           f"{done.failure or done}")
    relay.drain()  # what the worker writes for it counts too
    return done, count_delta(before, table_counts(config, db))


def _lat(seconds: Sequence[float]) -> dict[str, float]:
    return latency_summary(seconds)


def _row(name: str, run: VisitRun, target: str = "", ok: str = "") -> list[str]:
    lat = _lat([v.seconds for v in run.done])
    base = _lat(run.healthz)
    done = run.done
    per_visit = sum(v.offers for v in done) / len(done) if done else math.nan
    return [name, f"{run.rate:.1f} /s", thousands(len(done)), str(len(run.failures)),
            f"{run.visit_seconds:.1f}", f"{lat['p50_ms']:.1f} ms", f"{lat['p95_ms']:.1f} ms",
            f"{lat['p99_ms']:.1f} ms", f"{base['p95_ms']:.1f} ms",
            f"{lat['p95_ms'] / base['p95_ms']:.1f}" if base["p95_ms"] else "",
            f"{per_visit:.2f}", target, ok]


def _healthz_row(name: str, run: VisitRun) -> list[str]:
    lat = _lat(run.healthz)
    return [name, "", thousands(len(run.healthz)), str(len(run.healthz_failures)), "",
            f"{lat['p50_ms']:.1f} ms", f"{lat['p95_ms']:.1f} ms", f"{lat['p99_ms']:.1f} ms",
            f"{lat['p95_ms']:.1f} ms", "1.0", "", "", ""]


def _metrics(run: VisitRun) -> dict[str, Any]:
    done = run.done
    lat = _lat([v.seconds for v in done])
    base = _lat(run.healthz)
    by_kind: dict[str, list[Visited]] = {}
    for v in done:
        by_kind.setdefault(v.kind, []).append(v)
    return {
        "visits": len(run.visits), "failed": len(run.failures), "senders": run.senders,
        "seconds": round(run.visit_seconds, 3), "drained_seconds": round(run.drained_seconds, 3),
        "visits_per_second": round(run.rate, 2),
        "latency_ms": latency_ms([v.seconds for v in done]),
        "healthz_latency_ms": latency_ms(run.healthz),
        "healthz_failed": len(run.healthz_failures),
        "p95_ratio_to_healthz": round(lat["p95_ms"] / base["p95_ms"], 2)
        if base["p95_ms"] else None,
        "offers_per_visit": round(sum(v.offers for v in done) / len(done), 3) if done else None,
        "offer_lines_per_visit": round(sum(v.offer_lines for v in done) / len(done), 3)
        if done else None,
        "in_store_items_per_visit": round(sum(v.in_store for v in done) / len(done), 3)
        if done else None,
        "by_kind": {kind: {"visits": len(vs), "offers": sum(v.offers for v in vs),
                           "latency_ms": latency_ms([v.seconds for v in vs])}
                    for kind, vs in sorted(by_kind.items())},
        "first_failure": run.failures[0] if run.failures else None,
    }


def _report(results: Results, concurrent: VisitRun, cpu: dict[str, Any],
            per_worker: VisitRun | None, sequential: VisitRun, probe_delta: dict[str, int],
            figures: dict[str, Any]) -> None:
    p95 = _lat([v.seconds for v in concurrent.done])["p95_ms"]
    met = p95 < TARGET_P95_MS
    table = [["metric", "visits/s", "calls", "failed", "seconds", "p50", "p95", "p99",
              "healthz p95", "p95/healthz", "offers/visit", "target", ""]]
    table.append(_healthz_row("visits.healthz", concurrent))
    table.append(_row("visits.http", concurrent, f"p95 < {TARGET_P95_MS:.0f} ms",
                      verdict(met)))
    phases = [("http", concurrent)]
    if per_worker is not None:
        table.append(_healthz_row("visits.healthz_per_worker", per_worker))
        table.append(_row("visits.http_per_worker", per_worker, "(information)"))
        phases.append(("http_per_worker", per_worker))
    table.append(_healthz_row("visits.healthz_sequential", sequential))
    table.append(_row("visits.http_sequential", sequential, "(information)"))
    phases.append(("http_sequential", sequential))
    for name, run in phases:
        results.metrics[name] = _metrics(run)
        if run.failures:
            results.notes.append(f"{name}: {len(run.failures)} failed, first: "
                                 f"{run.failures[0]}")
        if run.healthz_failures:
            results.notes.append(f"{name}: {len(run.healthz_failures)} /healthz calls failed, "
                                 f"first: {run.healthz_failures[0]}")
    results.metrics["http"]["target"] = {"p95_ms_below": TARGET_P95_MS, "p95_met": met}
    done = len(concurrent.done)
    if done and cpu.get("machine capacity"):
        per = ms_per_order(cpu, CPU_SHOWN, done)
        results.metrics["http"]["cpu_ms_per_visit"] = {k: round(v, 1) for k, v in per.items()}
        results.metrics["http"]["cpu_seconds"] = cpu

    print()
    print_table(table, right=(1, 2, 3, 4, 5, 6, 7, 8, 9, 10))
    print(f"  one visit = POST /api/v1/store-visits on a new connection, latency client-side "
          f"(connect to last byte); visits/s until the worker drained; baseline: GET /healthz "
          f"from the same {concurrent.senders} senders in the same rounds (sequential: one "
          "before each visit)")
    by_kind = results.metrics["http"]["by_kind"]
    print("  http by kind (visits, offers, p50/p95): " + "; ".join(
        f"{kind} {m['visits']}, {m['offers']}, {m['latency_ms']['p50_ms']:.1f}/"
        f"{m['latency_ms']['p95_ms']:.1f} ms" for kind, m in by_kind.items()))
    print("  rows one visit with an offer writes (probe): " + ", ".join(
        f"{t} {n}" for t, n in sorted(probe_delta.items()) if t != UNITS))
    if results.metrics["http"].get("cpu_ms_per_visit"):
        per = results.metrics["http"]["cpu_ms_per_visit"]
        print("  CPU per visit in the http phase: " + ", ".join(
            f"{label} {ms:.1f} ms" for label, ms in per.items())
            + f"; machine {cpu['machine busy'] / cpu['machine capacity']:.0%} busy"
            + ("; busiest other processes: " + ", ".join(
                f"{name} {s:.1f} s" for name, s in cpu["busiest other processes"].items())
               if cpu.get("busiest other processes") else ""))
    if concurrent.done:
        # Little's law for closed-loop senders: mean latency = senders / rate, and p95 >= mean
        mean_ms = _lat([v.seconds for v in concurrent.done])["mean_ms"]
        needed = concurrent.senders / (TARGET_P95_MS / 1000)
        cores = os.cpu_count() or 1
        results.metrics["http"]["p95_needs_visits_per_second_above"] = round(needed, 1)
        results.metrics["http"]["cpu_ms_per_visit_budget"] = round(cores * 1000 / needed, 1)
        print(f"  {concurrent.senders} senders in a closed loop: mean latency {mean_ms:.0f} ms "
              f"(= senders / rate while every sender waits); a p95 under "
              f"{TARGET_P95_MS:.0f} ms needs a mean under it, so more than {needed:.0f} "
              f"visits/s: at most {cores * 1000 / needed:.0f} ms of CPU per visit on {cores} "
              "cores")
    decisions = ", ".join(f"{d} {n}" for d, n in figures["decisions"].items())
    print(f"  check: {figures['visits']} visits, {figures['offers']} offers with "
          f"{figures['offer_lines']} lines, {figures['pickup_offer_made_events']} "
          f"pickup_offer.made events; decisions in the audit trail: {decisions}: "
          + ("correct" if not results.metrics["checks"]["findings"]
             else f"{len(results.metrics['checks']['findings'])} FINDINGS (see notes)"))
    results.print_notes()
