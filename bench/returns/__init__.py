"""Returns in store over HTTP: a `pos` till at the Berlin store takes back online orders that
were shipped from the Kassel warehouse and delivered: ``POST /api/v1/returns`` then ``POST
/api/v1/returns/{id}/receive`` (restock), the refund issued; from a few concurrent senders,
each with its own orders; next to a pgbench script that writes the same return by hand, in
the same run and with the same concurrency.

Setup (not timed): 24 products, the warehouse and the store (which accepts returns) through
``location_upsert``, stock by COPY, a webshop client and a `pos` client confined to the store.
Then the orders: 3 lines of 2 units each, paid by card (authorized at intake), placed, shipped
and delivered through the real services in the benchmark process while the benchmark's Celery
worker relays their events and captures the payments at the fake PSP
(:mod:`bench.returns.network`). The run starts when every payment is captured.

One *return* is one customer at the till: one unit each of two of the order's lines comes back
resellable and goes back on the store's shelf, both calls on new connections, timed by the
client from the first connect to the last byte of the receipt.

Phases:

1. warm-up returns (not measured), then one *probe* return, with a count of every table's
   rows before and after: what one return writes;
2. ``http``: N returns refunded as **store credit** from ``--senders`` concurrent senders
   (default 4); the receipt answers with the return closed and the credit issued. returns/s
   over the wall time until the worker has drained what they queued; p50/p95 of the whole
   return and of each call;
3. ``http_cash``: the same with cash paid out at the till, for comparison;
4. ``http_original``: the same refunded to the original card payment. The refund is a PSP call
   through the attempt mechanism, which runs in the worker after the receipt's commit (the
   receipt answers ``pending``); the phase lasts until the worker has issued every refund and
   closed every return, and the time from the first call to the refund issued is reported;
5. ``http_sequential``: store credit from one sender, for the latency without queueing;
6. ``pgbench``: the same concurrency, each transaction one return written by hand
   (:mod:`bench.returns.baseline`), the rows built from the probe return's rows: the second
   unit of the lines the HTTP phases took back, one order each, as many as there are. pgbench
   is first run once alone and its row counts are compared with the probe's, table by table.

After each phase the database is checked (:mod:`bench.returns.checks`): every return closed,
refunds issued equal to what the units were worth, the store's on-hand grown by the units
returned, with a movement row each, and the order lines counting them.
"""

from __future__ import annotations

import math
import os
import random
from dataclasses import dataclass
from typing import Any

from bench.harness.config import BenchConfig
from bench.harness.cpu import POSTGRES, CpuMonitor, gunicorn_pgid, ms_per_order
from bench.harness.database import bench_database, raw_connection, vacuum_analyze
from bench.harness.pgbench import PgbenchResult, WaitSampler, pgbench_run, print_backend_states
from bench.harness.processes import Server, gunicorn_server
from bench.harness.report import (
    Results,
    Stopwatch,
    latency_ms,
    latency_summary,
    print_table,
    scaled,
    step,
    thousands,
    verdict,
)
from bench.harness.worker import (
    WORKER_ENV,
    Worker,
    celery_queues,
    celery_worker,
    redis_client,
    redis_flush,
)
from bench.intake.baseline import UNITS, count_delta, new_row_marks, table_counts
from bench.intake.network import Relay
from bench.returns.baseline import (
    MIRRORED,
    ProbeRows,
    baseline_script,
    pool_create,
    pool_drop,
    probe_rows,
)
from bench.returns.checks import issued_at, payments_captured, returns_check, store_stock
from bench.returns.network import (
    LINES_PER_ORDER,
    LOCATIONS,
    RETURNED_LINES,
    SKUS,
    UNITS_PER_LINE,
    Delivered,
    Network,
    network_setup,
    orders_deliver,
    split,
    tasks_to_the_worker,
)
from bench.returns.visits import ReturnRun, visits_send

NAME = "returns"
DEFAULT_SENDERS = 4
FULL_RETURNS = 800
FULL_CASH = 200
FULL_ORIGINAL = 200
FULL_SEQUENTIAL = 100
FULL_WARM_UP = 40
TARGET_P95_MS = 150.0
# The instant refunds of a return in store: store credit is the heavier one (a credit row
# with a fresh code and its first history entry besides the refund), so the target is
# measured on it; cash is measured beside it.
METHOD = "store_credit"
FAKES = {"PSP_ADAPTER": "payments.adapters.psp.fake",
         "RETURN_LABEL_ADAPTER": "returns.adapters.carrier.fake"}


def run(config: BenchConfig) -> Results:
    config = config.with_env({**WORKER_ENV, **FAKES})
    rng = random.Random(config.seed)
    senders = config.senders or DEFAULT_SENDERS
    counts = {
        "warm": scaled(FULL_WARM_UP, config.scale, 8), "probe": 1,
        "http": scaled(FULL_RETURNS, config.scale, 40),
        "http_cash": scaled(FULL_CASH, config.scale, 20),
        "http_original": scaled(FULL_ORIGINAL, config.scale, 20),
        "http_sequential": scaled(FULL_SEQUENTIAL, config.scale, 20),
    }
    results = Results(NAME, config, parameters={
        "returns": counts["http"], "cash_returns": counts["http_cash"],
        "original_returns": counts["http_original"],
        "sequential_returns": counts["http_sequential"], "warm_up_returns": counts["warm"],
        "senders": senders, "gunicorn_workers": config.gunicorn_workers,
        "celery_worker_concurrency": config.celery_concurrency, "pgbench_clients": senders,
        "refund_method": METHOD, "skus": len(SKUS), "lines_per_order": LINES_PER_ORDER,
        "units_per_line": UNITS_PER_LINE, "returned": f"1 unit of {RETURNED_LINES} lines",
        "locations": [loc[0] for loc in LOCATIONS], "payment": "card, captured on shipment",
    })
    total = sum(counts.values())
    print(f"\nreturns: {counts['http']} returns in store over HTTP from {senders} senders "
          f"(gunicorn -w {config.gunicorn_workers}, a celery worker), refunded as {METHOD}; "
          f"{counts['http_cash']} in cash, {counts['http_original']} to the card, "
          f"{counts['http_sequential']} from one sender; pgbench baseline with {senders} "
          "clients, the same returns by hand")
    redis_flush(config.redis_url)
    with bench_database(config, NAME) as db:
        step(f"setup in database {db}: products, {len(LOCATIONS)} locations, a webshop and a "
             "pos client, stock")
        network = network_setup(config, db, rng)
        with celery_worker(config, db, name=NAME) as worker:
            relay = Relay(redis_client(config.redis_url), celery_queues())
            step(f"setup: {total} orders placed, shipped and delivered through the services, "
                 "the worker relaying and capturing")
            with Stopwatch() as setup, tasks_to_the_worker():
                orders = orders_deliver(rng, "ret", total)
            drained = relay.drain()
            results.parameters["setup_orders_seconds"] = round(setup.seconds + drained, 1)
            step(f"  {total} orders in {setup.seconds:.1f} s, the worker done "
                 f"{drained:.1f} s later")
            card, captured = payments_captured(config, db, [o.number for o in orders])
            if captured != card or card != total:
                raise RuntimeError(f"setup: {captured} of {card} card payments captured, "
                                   f"{total} orders")
            vacuum_analyze(config, db)
            phases = _portions(orders, counts)
            step(f"starting gunicorn -w {config.gunicorn_workers}")
            with gunicorn_server(config, db) as server:
                measured = _http_phases(config, db, server, worker, relay, network, phases,
                                        senders)
        step("pgbench: one return alone, rows written per table compared with the probe")
        pool = pool_create(config, db)
        script = baseline_script(measured.probe)
        before = table_counts(config, db)
        pgbench_run(config, db, script, clients=1, threads=1, transactions=1)
        pgbench_delta = count_delta(before, table_counts(config, db))
        vacuum_analyze(config, db)
        per_client = (pool - 1) // senders
        step(f"pgbench: {senders} clients, {per_client} returns each (the second unit of the "
             "orders the HTTP phases took back)")
        with WaitSampler(config, db) as pgbench_waits:
            baseline = pgbench_run(config, db, script, clients=senders,
                                   threads=min(senders, 2), transactions=per_client)
        pgbench_findings = _pgbench_check(config, db, pool, 1 + senders * per_client)
        pool_drop(config, db)
    results.parameters["pgbench_script"] = script
    results.metrics["rows_per_return"] = {"http_probe": measured.probe_delta,
                                          "pgbench": pgbench_delta}
    measured.waits["pgbench"] = pgbench_waits.fractions()
    results.metrics["backend_states"] = measured.waits
    results.metrics["checks"] = measured.checks
    results.notes.extend(f"pgbench: {f}" for f in pgbench_findings)
    _report(results, measured, baseline)
    return results


@dataclass
class Measured:
    """What the HTTP phases measured and found, by phase name."""

    runs: dict[str, ReturnRun]
    checks: dict[str, Any]
    waits: dict[str, dict[str, float]]
    cpu: dict[str, Any]
    to_refund_issued: list[float]  # card refunds: first call sent → refund issued, seconds
    probe: ProbeRows
    probe_delta: dict[str, int]


PHASES = [("http", METHOD, None), ("http_cash", "cash", None),
          ("http_original", "original", None), ("http_sequential", METHOD, 1)]


def _http_phases(config: BenchConfig, db: str, server: Server, worker: Worker, relay: Relay,
                 network: Network, phases: dict[str, list[Delivered]],
                 senders: int) -> Measured:
    """Warm-up, the probe return (its rows are the pgbench script's templates), then each
    phase of `PHASES` with its CPU, its database connections' states and its checks."""
    token = network.pos_token
    warm = visits_send(server, token, split(phases["warm"], senders), METHOD, relay.drain)
    if warm.failures:
        raise RuntimeError(f"warm-up returns failed, first: {warm.failures[0]}")
    step("probe: one return, rows written per table")
    before = table_counts(config, db)
    with raw_connection(config, db) as conn:
        marks = new_row_marks(conn)
    probe = visits_send(server, token, [phases["probe"]], METHOD, relay.drain)
    if probe.failures:
        raise RuntimeError(f"the probe return failed: {probe.failures[0]}")
    probe_delta = count_delta(before, table_counts(config, db))
    rows = probe_rows(config, db, marks, probe_delta)
    vacuum_analyze(config, db)
    measured = Measured({}, {}, {}, {}, [], rows, probe_delta)
    for name, method, n_senders in PHASES:
        n_senders = n_senders or senders
        step(f"{name}: {len(phases[name])} returns ({method}) from {n_senders} "
             f"sender{'s' if n_senders > 1 else ''}")
        stock_before = store_stock(config, db, network.store_id)
        monitor = CpuMonitor({"celery worker": worker.proc.pid,
                              "gunicorn": gunicorn_pgid(server)}, db).start()
        with WaitSampler(config, db) as sampler:
            run = visits_send(server, token, split(phases[name], n_senders), method,
                              relay.drain)
        measured.cpu[name] = monitor.stop()
        measured.waits[name] = sampler.fractions()
        measured.runs[name] = run
        findings, figures = returns_check(config, db, orders=phases[name], method=method,
                                          store_id=network.store_id, stock_before=stock_before)
        measured.checks[name] = {"findings": findings, **figures}
        if method == "original":
            issued = issued_at(config, db, [v.number for v in run.done])
            measured.to_refund_issued = [issued[v.number] - v.started_at for v in run.done
                                         if v.number in issued]
    return measured


def _pgbench_check(config: BenchConfig, db: str, pool: int, transactions: int) -> list[str]:
    """The pgbench returns are consistent too: every one closed with its refund and credit,
    and no order line counts more back than was delivered (the table's check constraint)."""
    with raw_connection(config, db) as conn:
        closed, refunded = conn.execute(
            "SELECT count(*) FILTER (WHERE r.status = 'closed'), "
            "count(*) FILTER (WHERE f.amount = r.refund_amount) FROM returns_return r "
            "LEFT JOIN payments_refund f ON f.reference = r.number WHERE r.number LIKE '%-R2'"
        ).fetchone()
    findings = []
    if closed != transactions or refunded != transactions:
        findings.append(f"{closed} returns closed and {refunded} refunded of {transactions} "
                        f"transactions (pool {pool})")
    return findings


def _portions(orders: list[Delivered], counts: dict[str, int]) -> dict[str, list[Delivered]]:
    portions, start = {}, 0
    for name, n in counts.items():
        portions[name] = orders[start:start + n]
        start += n
    return portions


CPU_SHOWN = {"gunicorn": "gunicorn", "celery worker": "worker", POSTGRES: "PostgreSQL",
             "benchmark process": "senders", "other processes": "other"}


def _calls(run: ReturnRun) -> dict[str, list[float]]:
    done = run.done
    return {"return": [v.total_s for v in done], "register": [v.register_s for v in done],
            "receive": [v.receive_s for v in done]}


def _row(name: str, run: ReturnRun, baseline: PgbenchResult | None, target: str = "",
         ok: str = "") -> list[str]:
    lat = {k: latency_summary(v) for k, v in _calls(run).items()}
    ratio = run.rate / baseline.tps if baseline and baseline.tps else math.nan
    return [name, f"{run.rate:.1f} /s", "" if math.isnan(ratio) else f"{ratio:.3f}",
            thousands(len(run.done)), str(len(run.failures)), f"{run.seconds:.1f}",
            f"{lat['return']['p50_ms']:.1f} ms", f"{lat['return']['p95_ms']:.1f} ms",
            f"{lat['register']['p50_ms']:.1f} / {lat['register']['p95_ms']:.1f}",
            f"{lat['receive']['p50_ms']:.1f} / {lat['receive']['p95_ms']:.1f}", target, ok]


def _metrics(run: ReturnRun) -> dict[str, Any]:
    return {
        "returns": len(run.visits), "failed": len(run.failures), "senders": run.senders,
        "seconds": round(run.seconds, 3), "drained_seconds": round(run.drained_s, 3),
        "returns_per_second": round(run.rate, 2),
        "latency_ms": {k: latency_ms(v) for k, v in _calls(run).items()},
        "first_failure": run.failures[0] if run.failures else None,
    }


def _report(results: Results, measured: Measured, baseline: PgbenchResult) -> None:
    runs = measured.runs
    main = runs["http"]
    p95 = latency_summary(_calls(main)["return"])["p95_ms"]
    seconds = baseline.transactions / baseline.tps if baseline.tps else math.nan
    table = [["metric", "returns/s", "ratio to pgbench", "returns", "failed", "seconds",
              "p50", "p95", "register p50/p95", "receive p50/p95", "target", ""]]
    table.append(["returns.pgbench_by_hand", f"{baseline.tps:.1f} /s", "1.000",
                  thousands(baseline.transactions), str(baseline.failed), f"{seconds:.1f}",
                  *baseline.latency_cells()[:2], "", "", "", ""])
    results.metrics["pgbench_by_hand"] = baseline.as_json()
    table.append(_row("returns.http", main, baseline, f"p95 < {TARGET_P95_MS:.0f} ms",
                      verdict(p95 < TARGET_P95_MS)))
    for name in ("http_cash", "http_original", "http_sequential"):
        table.append(_row(f"returns.{name}", runs[name], baseline, "(information)"))
    for name, run in runs.items():
        results.metrics[name] = _metrics(run)
        if baseline.tps:
            results.metrics[name]["ratio_to_pgbench"] = round(run.rate / baseline.tps, 4)
        cpu = measured.cpu[name]
        if run.done and cpu.get("machine capacity"):
            results.metrics[name]["cpu_ms_per_return"] = {
                k: round(v, 1) for k, v in ms_per_order(cpu, CPU_SHOWN, len(run.done)).items()}
        results.metrics[name]["cpu_seconds"] = cpu
        if run.failures:
            results.notes.append(f"{name}: {len(run.failures)} failed, first: "
                                 f"{run.failures[0]}")
        for finding in measured.checks[name]["findings"]:
            results.notes.append(f"{name}: {finding}")
    results.metrics["http"]["target"] = {"p95_ms_below": TARGET_P95_MS,
                                         "p95_met": p95 < TARGET_P95_MS}
    if measured.to_refund_issued:
        results.metrics["http_original"]["to_refund_issued_ms"] = latency_ms(
            measured.to_refund_issued)
    probe, by_hand = results.metrics["rows_per_return"].values()
    unknown = sorted(t for t in probe if t not in MIRRORED)
    if unknown:
        results.notes.append("the baseline does not write the probe's rows of "
                             + ", ".join(unknown))
    differ = sorted(t for t in set(probe) | set(by_hand)
                    if probe.get(t) != by_hand.get(t) and t != UNITS and t not in unknown)
    if differ:
        results.notes.append("pgbench writes differ from the probe return in: " + ", ".join(
            f"{t} ({by_hand.get(t, 0)} vs {probe.get(t, 0)})" for t in differ))

    print()
    print_table(table, right=(1, 2, 3, 4, 5, 6, 7, 8, 9))
    print(f"  one return = POST /returns + POST /returns/{{id}}/receive, latency client-side "
          f"(connect to last byte of each call, summed); returns/s until the worker drained; "
          f"baseline: pgbench -M prepared -c {baseline.clients} -j {baseline.threads}, the "
          "same return by hand (register, receive, the relay's writes)")
    print("  rows per return (HTTP probe | pgbench): " + ", ".join(
        f"{t} {probe.get(t, 0)}|{by_hand.get(t, 0)}"
        for t in sorted(set(probe) | set(by_hand)) if t != UNITS))
    if measured.to_refund_issued:
        lag = latency_summary(measured.to_refund_issued)
        print(f"  card refunds (http_original): the receipt answers `pending`; first call sent "
              f"-> refund issued by the worker's PSP call p50 {lag['p50_ms']:.0f} ms, p95 "
              f"{lag['p95_ms']:.0f} ms")
    for name in runs:
        per = results.metrics[name].get("cpu_ms_per_return")
        if per:
            print(f"  CPU per return in {name}: " + ", ".join(
                f"{label} {ms:.1f} ms" for label, ms in per.items()))
    _little(results, main)
    print_backend_states(results.metrics["backend_states"])
    for name, check in measured.checks.items():
        print(f"  check {name}: {check['closed']}/{check['returns']} closed, refunded "
              f"{check['refunded_total']} of {check['expected_total']} EUR, store on hand "
              f"+{check['store_on_hand_increase']} for {check['units_returned']} units "
              f"returned ({check['return_movement_units']} in return movements): "
              + ("correct" if not check["findings"] else
                 f"{len(check['findings'])} FINDINGS (see notes)"))
    results.print_notes()


def _little(results: Results, main: ReturnRun) -> None:
    """Little's law for closed-loop senders: mean latency = senders / rate, and the p95 is
    above the mean; so the target needs a rate, and the rate a CPU budget per return."""
    if not main.done:
        return
    mean_ms = latency_summary(_calls(main)["return"])["mean_ms"]
    needed = main.senders / (TARGET_P95_MS / 1000)
    cores = os.cpu_count() or 1
    budget = cores * 1000 / needed
    used = sum(v for k, v in results.metrics["http"].get("cpu_ms_per_return", {}).items()
               if k != "other")
    results.metrics["http"]["p95_needs_returns_per_second_above"] = round(needed, 1)
    results.metrics["http"]["cpu_ms_per_return_budget"] = round(budget, 1)
    print(f"  {main.senders} senders in a closed loop: mean latency {mean_ms:.0f} ms (= senders "
          f"/ rate); a p95 under {TARGET_P95_MS:.0f} ms needs a mean under it, so more than "
          f"{needed:.0f} returns/s: at most {budget:.0f} ms of CPU per return on {cores:.0f} "
          f"cores, against {used:.0f} ms (gunicorn, worker, PostgreSQL, senders) now")


def side_by_side(intake: Results, returns: Results) -> None:
    """The headline figures of ``python -m bench intake returns``, one above the other: each
    against its own pgbench baseline and against the intake's, all measured in this run."""
    order_tps = intake.metrics["pgbench_by_hand"]["tps"]
    rows = [["metric", "rate", "p50", "p95", "own pgbench baseline", "ratio",
             "ratio to intake's pgbench"]]
    for label, unit, results, rate_key, latency in [
            ("intake.http (POST /orders)", "orders/s", intake, "orders_per_second",
             intake.metrics["http"]["latency_ms"]),
            ("returns.http (register + receive)", "returns/s", returns, "returns_per_second",
             returns.metrics["http"]["latency_ms"]["return"])]:
        http, tps = results.metrics["http"], results.metrics["pgbench_by_hand"]["tps"]
        rows.append([label, f"{http[rate_key]:.1f} {unit}", f"{latency['p50_ms']:.1f} ms",
                     f"{latency['p95_ms']:.1f} ms", f"{tps:.1f}/s",
                     f"{http[rate_key] / tps:.3f}" if tps else "",
                     f"{http[rate_key] / order_tps:.3f}" if order_tps else ""])
    print("\nintake and returns, same run, "
          f"{intake.parameters['senders']} and {returns.parameters['senders']} senders:")
    print_table(rows, right=(1, 2, 3, 4, 5, 6))
