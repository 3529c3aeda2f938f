"""Intake latency as the order tables grow: ``POST /api/v1/orders`` (the intake benchmark's
3-line card orders, gunicorn ``-w 2``, one sender) against a database holding 10,000 orders of
history and one holding 1,000,000, measured in the same run with the requests interleaved
(small, large, small, ...) so that drift on the machine hits both alike.

Setup (not timed): two databases, ``<prefix>_growth_small`` and ``<prefix>_growth_large``, each
migrated, with the intake network (6 locations, a webshop client) and a catalogue of 5,000 SKUs
with stock at every location, then the history written by SQL (:mod:`bench.growth.history`:
customers, orders, lines, events, fulfilment orders and lines, payments, reservations and lines,
outbox and processed events, the last day's idempotency keys), then ``VACUUM (ANALYZE)``.
``--scale`` scales the large history (1,000,000 at 1.0); the small one is 10,000 or a tenth of
the large, whichever is less.

Measured: each server gets warm-up orders, then N orders each, one request at a time. 60 % of
the orders come from customers already in the history, the rest from new ones.
"""

from __future__ import annotations

import math
import random
import time
from typing import Any

from bench.growth.history import Loaded, history_load
from bench.harness.config import BenchConfig
from bench.harness.database import bench_database
from bench.harness.orders import Order, failure, order_post
from bench.harness.processes import Server, gunicorn_server
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
from bench.intake.network import Network, customer_email, make_order, network_setup

NAME = "growth"
FULL_LARGE = 1_000_000
SMALL = 10_000
CATALOGUE = 5_000
FULL_REQUESTS = 400
FULL_WARM_UP = 40
RETURNING_SHARE = 0.6
TARGET_RATIO = 1.2  # p95 with the large history within 20 % of p95 with the small one


def _orders(seed: int, tag: str, count: int, customers: int) -> list[Order]:
    rng = random.Random(seed)
    orders, new = [], customers
    for n in range(count):
        if rng.random() < RETURNING_SHARE:
            c = rng.randint(1, customers)
        else:
            new += 1
            c = new
        orders.append(make_order(rng, tag, n, customer_email(c), f"Customer {c}"))
    return orders


def _prepare(config: BenchConfig, db: str, orders: int, catalogue: list[str]) -> tuple[Network,
                                                                                      Loaded]:
    network = network_setup(config, db, random.Random(config.seed), catalogue)
    step(f"{db}: writing {thousands(orders)} orders of history by SQL")
    started = time.perf_counter()
    loaded = history_load(config, db, orders=orders, n_skus=len(catalogue),
                          locations=network.location_ids,
                          progress=lambda m: step(f"{db}: {m}"))
    step(f"{db}: history ready in {time.perf_counter() - started:.0f} s")
    return network, loaded


def run(config: BenchConfig) -> Results:
    large = scaled(FULL_LARGE, config.scale, 1_000)
    small = min(SMALL, max(100, large // 10))
    # below 0.1 a smoke run: fewer requests; from 0.1 on all of them (the p95 needs them)
    requests = scaled(FULL_REQUESTS, config.scale, 40) if config.scale < 0.1 else FULL_REQUESTS
    warm_up = scaled(FULL_WARM_UP, config.scale, 6) if config.scale < 0.1 else FULL_WARM_UP
    catalogue = [f"HIST-{n:06d}" for n in range(1, CATALOGUE + 1)]
    results = Results(NAME, config, parameters={
        "small_orders": small, "large_orders": large, "catalogue_skus": CATALOGUE,
        "requests_per_database": requests, "warm_up_per_database": warm_up, "senders": 1,
        "gunicorn_workers": config.gunicorn_workers, "returning_customers": RETURNING_SHARE,
        "interleaved": True,
    })
    print(f"\ngrowth: intake p95 with {thousands(small)} vs {thousands(large)} orders of history, "
          f"{requests} sequential orders each after {warm_up} warm-up, interleaved")
    with bench_database(config, f"{NAME}_small") as db_small:
        net_small, loaded_small = _prepare(config, db_small, small, catalogue)
        with bench_database(config, f"{NAME}_large") as db_large:
            net_large, loaded_large = _prepare(config, db_large, large, catalogue)
            step(f"starting two gunicorn -w {config.gunicorn_workers} servers")
            with gunicorn_server(config, db_small) as srv_small, \
                    gunicorn_server(config, db_large) as srv_large:
                plan = {
                    "small": (srv_small, net_small,
                              _orders(config.seed, "small", warm_up + requests,
                                      loaded_small.customers)),
                    "large": (srv_large, net_large,
                              _orders(config.seed, "large", warm_up + requests,
                                      loaded_large.customers)),
                }
                step(f"measuring: {warm_up} + {requests} orders per database, alternating")
                measured = _measure(plan, warm_up)
    _report(results, measured, {"small": loaded_small, "large": loaded_large})
    return results


def _measure(plan: dict[str, tuple[Server, Network, list[Order]]],
             warm_up: int) -> dict[str, dict[str, Any]]:
    samples: dict[str, list[float]] = {k: [] for k in plan}
    failures: dict[str, list[str]] = {k: [] for k in plan}
    count = len(next(iter(plan.values()))[2])
    for n in range(count):
        for kind, (server, network, orders) in plan.items():
            sent = order_post(server, network.token, orders[n])
            if sent.status != 201:
                failures[kind].append(failure(sent))
            elif n >= warm_up:
                samples[kind].append(sent.seconds)
    return {k: {"latency": latency_summary(samples[k]), "samples": samples[k],
                "failures": failures[k]} for k in plan}


def _report(results: Results, measured: dict[str, dict[str, Any]],
            loaded: dict[str, Loaded]) -> None:
    small, large = measured["small"]["latency"], measured["large"]["latency"]
    ratio = large["p95_ms"] / small["p95_ms"] if small["p95_ms"] else math.nan
    table = [["metric", "orders in history", "p50", "p95", "p99", "mean", "p95 ratio", "failed",
              "target", ""]]
    for kind in ("small", "large"):
        lat = measured[kind]["latency"]
        is_large = kind == "large"
        table.append([
            f"growth.intake_{kind}", thousands(loaded[kind].orders), f"{lat['p50_ms']:.1f} ms",
            f"{lat['p95_ms']:.1f} ms", f"{lat['p99_ms']:.1f} ms", f"{lat['mean_ms']:.1f} ms",
            f"{ratio:.2f}" if is_large else "1.00", str(len(measured[kind]["failures"])),
            f"p95 <= {TARGET_RATIO:.2f} x small" if is_large else "",
            verdict(ratio <= TARGET_RATIO) if is_large else "",
        ])
        results.metrics[f"intake_{kind}"] = {
            "history_orders": loaded[kind].orders,
            "history_customers": loaded[kind].customers,
            "history_rows": loaded[kind].rows,
            "history_seconds": {k: round(v, 2) for k, v in loaded[kind].seconds.items()},
            "history_wall_seconds": round(loaded[kind].wall_seconds, 1),
            "latency_ms": latency_ms(measured[kind]["samples"]),
            "requests": lat["n"],
            "failed": len(measured[kind]["failures"]),
            "first_failure": (measured[kind]["failures"] or [None])[0],
        }
        if measured[kind]["failures"]:
            results.notes.append(f"{kind}: {len(measured[kind]['failures'])} failed, first: "
                                 f"{measured[kind]['failures'][0]}")
    if loaded["large"].neutral:
        results.notes.append("history columns not modelled, filled with neutral values: "
                             + ", ".join(loaded["large"].neutral))
    results.metrics["p95_ratio_large_to_small"] = round(ratio, 4)
    results.metrics["p50_ratio_large_to_small"] = round(large["p50_ms"] / small["p50_ms"], 4)
    results.metrics["target"] = {"p95_ratio_at_most": TARGET_RATIO, "met": ratio <= TARGET_RATIO}
    print()
    print_table(table, right=(1, 2, 3, 4, 5, 6, 7))
    rows = loaded["large"].rows
    print("  large history: " + ", ".join(f"{t} {thousands(n)}" for t, n in rows.items()))
    spent = {k: v for k, v in loaded["large"].seconds.items() if not k.startswith("wall")}
    print(f"  large history written in {loaded['large'].wall_seconds:.0f} s on 2 connections; "
          "the largest parts: " + ", ".join(
              f"{k} {v:.0f} s" for k, v in sorted(spent.items(), key=lambda kv: -kv[1])[:6]))
    print("  latency measured by the client, one request at a time, small and large alternating")
    results.print_notes()
