"""The lag phase of the end-to-end benchmark: orders offered open loop at RATE, the lag from
each order's ``order.placed`` outbox row to its dispatch's arrival at the fake WMS, split at the
worker's claim, with the queues sampled and probe tasks sent meanwhile."""

from __future__ import annotations

import random
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass

from bench.e2e.common import (
    LAG_MAX_STRETCH,
    LAG_SENDERS,
    LOAD_PROBE_INTERVAL,
    NOT_SENT,
    RATE,
    Placed,
    Rig,
    order_body,
    probe_latencies,
    say,
    send_orders,
    send_probe,
    tasks_since,
    wait_for,
    wait_progress,
)
from bench.harness.config import BenchConfig
from bench.harness.cpu import CpuMonitor
from bench.harness.database import raw_connection
from bench.harness.worker import queue_depth, redis_client, wait_idle, worker_totals


@dataclass
class LagRun:
    planned: int  # orders scheduled at RATE; those not started in time are not in `placed`
    placed: list[Placed]
    lags: dict[int, float]  # fulfilment id -> seconds from order.placed written to arrival
    expected: set[int]
    order_of: dict[int, int]  # fulfilment id -> placement index
    tail: list[float]  # order reservation written - order.placed written, per order
    # order.placed written -> dispatch claimed by a worker, claimed -> arrival at the WMS
    to_claim: list[float]
    claim_to_arrival: list[float]
    # (t, waiting in all queues, waiting in the dispatch queue, unacked, dispatches arrived)
    samples: list[tuple[float, int, int, int, int]]
    probes: dict[str, dict[str, list[float]]]  # queue -> latencies of probes sent meanwhile
    send_seconds: float
    wait_seconds: float  # after the last order was sent, until the last dispatch arrived
    drain_seconds: float  # after the last order was sent, until the queue was empty
    left_in_queue: int
    tasks: dict[str, int]
    cpu: dict[str, float]


def claim_times(config: BenchConfig, db: str, fulfillments: Sequence[int]) -> dict[int, float]:
    """fulfilment id -> when a worker claimed its (last) dispatch, epoch seconds: the try that
    succeeded was logged at `at` after `duration_ms` of calling (oms.core.attempts)."""
    with raw_connection(config, db) as conn:
        rows = conn.execute(
            "SELECT a.target_id, extract(epoch FROM t.at)::float8 - t.duration_ms / 1000.0 "
            "FROM core_attempt a JOIN core_attempttry t "
            "  ON t.attempt_id = a.id AND t.number = a.tries AND t.ok "
            "WHERE a.kind = 'wms_dispatch' AND a.status = 'succeeded' "
            "  AND a.target_id = ANY(%s)",
            [list(fulfillments)]).fetchall()
    return {fo: claimed for fo, claimed in rows if claimed is not None}


def placed_times(config: BenchConfig, db: str, numbers: Sequence[str]) -> dict[str, tuple]:
    """order number -> (order.placed created_at, order reservation created_at), epoch seconds."""
    with raw_connection(config, db) as conn:
        rows = conn.execute(
            "SELECT o.number, extract(epoch FROM e.created_at)::float8, "
            "       extract(epoch FROM r.created_at)::float8 "
            "FROM orders_order o "
            "JOIN core_outboxevent e ON e.topic = 'order.placed' AND e.aggregate_type = 'order' "
            "     AND e.aggregate_id = o.number "
            "LEFT JOIN inventory_reservation r ON r.reference = o.number AND r.kind = 'order' "
            "WHERE o.number = ANY(%s)", [list(numbers)]).fetchall()
    return {number: (placed, reserved) for number, placed, reserved in rows}


def lag_phase(rig: Rig, rng: random.Random, seconds: float) -> LagRun:
    receiver = rig.receiver
    orders = [order_body(rng, "lag", n) for n in range(round(RATE * seconds))]
    samples: list[tuple[float, int, int, int, int]] = []
    probe_queues = list(dict.fromkeys([rig.queues.dispatch, rig.queues.default]))
    probe_tokens: dict[str, list[str]] = {q: [] for q in probe_queues}
    done = threading.Event()
    t0 = time.perf_counter()

    def sample() -> None:
        client = redis_client(rig.config.redis_url)
        while not done.is_set():
            depths, unacked = queue_depth(client, rig.queues)
            samples.append((time.perf_counter() - t0, sum(depths.values()),
                            depths.get(rig.queues.dispatch, 0), unacked,
                            receiver.dispatch_count()))
            done.wait(0.25)

    def probe_under_load() -> None:
        n = 0
        while not done.is_set():
            queue_name = probe_queues[n % len(probe_queues)]
            token = f"load-{queue_name}-{n}"
            send_probe(receiver, token, queue_name)
            probe_tokens[queue_name].append(token)
            n += 1
            done.wait(LOAD_PROBE_INTERVAL)

    tasks_before = worker_totals(rig.worker)
    monitor = CpuMonitor(rig.cpu_groups, rig.db).start()
    helpers = [threading.Thread(target=sample, daemon=True),
               threading.Thread(target=probe_under_load, daemon=True)]
    for thread in helpers:
        thread.start()
    try:
        placed = send_orders(rig.server, rig.network.shop_token, orders, senders=LAG_SENDERS,
                             rate=RATE, max_seconds=seconds * LAG_MAX_STRETCH)
        placed = [p for p in placed if p.error != NOT_SENT]
        send_seconds = time.perf_counter() - t0
        sent_done = time.monotonic()
        done.set()  # probes and samples only while orders are sent
        for thread in helpers:
            thread.join()
        expected = {fo for p in placed for fo in p.fulfillments}
        order_of = {fo: p.index for p in placed for fo in p.fulfillments}
        cap = rig.cap()
        say(f"lag: {len(placed)} orders sent in {send_seconds:.1f} s; waiting for "
            f"{len(expected)} dispatches (at most {cap:.0f} s)")
        wait_progress(lambda: len(expected & receiver.dispatched()), len(expected), cap,
                      rig.alive)
        wait_seconds = time.monotonic() - sent_done
        _waited, left = wait_idle(rig.redis, rig.queues, max(10.0, cap - wait_seconds))
        drain_seconds = time.monotonic() - sent_done
    finally:
        done.set()
    tasks_after, cpu = worker_totals(rig.worker), monitor.stop()
    every_probe = [t for tokens in probe_tokens.values() for t in tokens]
    wait_for(lambda: all(t in receiver.probes for t in every_probe), 10, alive=rig.alive)
    times = placed_times(rig.config, rig.db, [p.number for p in placed if p.number])
    claims = claim_times(rig.config, rig.db, sorted(expected))
    lags: dict[int, float] = {}
    tail: list[float] = []
    to_claim: list[float] = []
    claim_to_arrival: list[float] = []
    for p in placed:
        if p.number not in times:
            continue
        written, reserved = times[p.number]
        if reserved is not None:
            tail.append(reserved - written)
        for fo in p.fulfillments:
            arrival = receiver.arrivals.get(f"fo_{fo}")
            if arrival is not None:
                lags[fo] = arrival.at - written
                if fo in claims:
                    to_claim.append(claims[fo] - written)
                    claim_to_arrival.append(arrival.at - claims[fo])
    return LagRun(len(orders), placed, lags, expected, order_of, tail, to_claim,
                  claim_to_arrival, samples,
                  {q: probe_latencies(receiver, t) for q, t in probe_tokens.items()},
                  send_seconds, wait_seconds, drain_seconds, left,
                  tasks_since(tasks_before, tasks_after), cpu)
