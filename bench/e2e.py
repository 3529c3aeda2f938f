"""End to end with a real Celery worker: orders placed over HTTP, pushed to a fake WMS that
acknowledges instantly, accepted and shipped by it over HTTP.

``.venv/bin/python -m bench.e2e [--scale F] [--keep] [--concurrency N]`` from the repository
root, with ``DATABASE_URL`` (the PostgreSQL server to use; its database is never opened) and
``REDIS_URL`` (a dedicated Redis database, default ``redis://127.0.0.1:6379/13``; it is flushed
before and after the run, and database 0 is refused).

Setup (not timed): a database of its own, migrated; 20 products; one warehouse ``WH-E2E`` with
plenty of each and ``wms_url`` pointing at :class:`bench.e2e_wms.WmsReceiver`, a
ThreadingHTTPServer in this process that answers every push ``200`` at once and records its
arrival time and ``webhook-id`` (``fo_<id>``); a ``webshop`` client on channel ``web`` and a
``wms`` client confined to ``WH-E2E``. Then ``gunicorn -w 2`` and ``celery -A oms worker
--pool=prefork --concurrency=2`` (plus ``-I bench.e2e_wms`` for the probe task; it consumes every
queue the settings declare), both with ``CELERY_TASK_ALWAYS_EAGER=false``, the real HTTP WMS
gateway, the fake PSP and the locmem e-mail backend, so nothing leaves the machine. No beat:
nothing here waits for a sweep.

Phases:

1. baselines on the idle system: ``GET /healthz`` (sequential) and the broker round trip of an
   empty task on the dispatch queue (``send_task`` here -> a worker process starts it -> it
   POSTs to the receiver);
2. ``lag``: ``POST /api/v1/orders`` at a fixed 50 orders/s for 20 s (one line, card authorized,
   unique PSP reference and ``Idempotency-Key``), paced open-loop from 64 threads so a slow
   answer does not lower the offered rate (orders not started within 1.5 x the phase are
   dropped and counted). Lag per order = arrival of its dispatch at the WMS - ``created_at`` of
   its ``order.placed`` outbox row (set when the row is written, a few ms before the commit: an
   upper bound). Meanwhile the queues are sampled and a probe task is sent every 0.2 s,
   alternately on the dispatch and the default queue; afterwards the dispatches are awaited
   and the queues drained (bounded);
3. ``flow``: 300 orders placed as fast as 4 senders go while 4 WMS clients accept and ship
   (carrier dhl, a unique tracking number) each fulfilment as soon as its dispatch arrives.
   Orders/minute from the first order sent to the last ship answer; per order, ``order.placed``
   -> ship answer.

Nothing is asserted; figures go to the table and to ``bench/results/e2e.json``.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import math
import os
import queue
import random
import signal
import sys
import threading
import time
import warnings
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from bench.cpu import POSTGRES, CpuMonitor, gunicorn_pgid, ms_per_order
from bench.e2e_wms import DISPATCH_PATH, PROBE_PATH, PROBE_TASK, Arrival, WmsReceiver
from bench.harness import (
    REPO_ROOT,
    BenchConfig,
    Results,
    Server,
    bench_database,
    bootstrap_django,
    config_from,
    gunicorn_server,
    http_call,
    latency_summary,
    log_tail,
    percentile,
    print_table,
    raw_connection,
    scaled,
    step,
    verdict,
    warm_up_workers,
)
from bench.worker import (
    Queues,
    Worker,
    WorkerConfig,
    celery_queues,
    celery_worker,
    config_as,
    queue_depth,
    redis_client,
    redis_flush,
    wait_idle,
    worker_totals,
)

NAME = "e2e"
DEFAULT_REDIS_URL = "redis://127.0.0.1:6379/13"
RATE = 50.0  # orders/s offered in the lag phase (the target's rate; not scaled)
FULL_LAG_SECONDS = 20.0
FULL_FLOW_ORDERS = 300
FULL_PROBES = 200
FULL_HEALTHZ = 200
FULL_WARM_UP_ORDERS = 20
LAG_SENDERS = 64
FLOW_SENDERS = 4
WMS_CLIENTS = 4
PROBE_RATE = 20.0  # idle probes per second
LOAD_PROBE_INTERVAL = 0.2  # one probe every 0.2 s during the lag phase
STALL_SECONDS = 30.0  # give up waiting when nothing new arrived for this long
LAG_MAX_STRETCH = 1.5  # stop offering orders after 1.5 x the lag phase's planned duration
NOT_SENT = "not sent: the lag phase ran out of time"
TARGET_LAG_P95_S = 1.0
CHANNEL = "web"
LOCATION = "WH-E2E"
PLENTY = 1_000_000_000
SKUS = {f"E2E-{i:03d}": Decimal(f"{5 + i}.99") for i in range(1, 21)}
ADDRESS = {"name": "Kim Weber", "line1": "Unter den Linden 1", "postal_code": "10117",
           "city": "Berlin", "country": "DE"}
# What gunicorn and the worker get on top of the harness environment: tasks go through Redis to
# the worker, dispatches over HTTP to the receiver, and nothing leaves the machine.
SERVICE_ENV = {
    "CELERY_TASK_ALWAYS_EAGER": "false",
    "WMS_GATEWAY": "fulfillment.adapters.wms.HttpWarehouseGateway",
    "PSP_ADAPTER": "payments.adapters.psp.fake",
    "EMAIL_BACKEND": "django.core.mail.backends.locmem.EmailBackend",
    "NO_PROXY": "127.0.0.1,localhost",
    "no_proxy": "127.0.0.1,localhost",
}


class E2EConfig(WorkerConfig):
    extra_env = SERVICE_ENV


def e2e_config(base: BenchConfig) -> E2EConfig:
    return config_as(E2EConfig, base)


_CLOCK = [time.perf_counter()]


def say(message: str) -> None:
    step(f"[{time.perf_counter() - _CLOCK[0]:5.1f} s] {message}")


# --- the network and the requests -------------------------------------------------------------


@dataclass(frozen=True)
class Network:
    shop_token: str
    wms_token: str
    location_id: int
    wms_secret: str


def network_setup(config: BenchConfig, db: str, wms_url: str) -> Network:
    """Products and the warehouse through their services, both clients, stock by COPY."""
    from django.utils import timezone

    from inventory.services import LocationData, location_upsert
    from oms.catalog.services import ProductData, products_upsert
    from oms.core.clients import api_client_create

    products_upsert(products=[ProductData(sku=s, name=f"E2E product {s}") for s in SKUS])
    location, _created = location_upsert(data=LocationData(
        code=LOCATION, name="E2E warehouse Kassel", kind="warehouse",
        address={"city": "Kassel", "country": "DE"}, lat=51.31, lon=9.48,
        capabilities=["ships"], priority=10, wms_url=wms_url))
    location.refresh_from_db()
    _shop, shop_token = api_client_create(name="e2e-webshop", kind="webshop", channel=CHANNEL)
    _wms, wms_token = api_client_create(name="e2e-wms", kind="wms", location_code=LOCATION)
    stamp = timezone.now().isoformat()
    with raw_connection(config, db) as conn:
        with conn.cursor() as cursor, cursor.copy(
            "COPY inventory_stocklevel (sku, location_id, on_hand, reserved, safety_stock, "
            "updated_at) FROM STDIN"
        ) as copy:
            copy.write("".join(f"{sku}\t{location.pk}\t{PLENTY}\t0\t0\t{stamp}\n"
                               for sku in SKUS).encode())
        conn.commit()
    return Network(shop_token, wms_token, location.pk, location.wms_secret)


def order_body(rng: random.Random, tag: str, n: int) -> tuple[str, bytes]:
    """(Idempotency-Key, body) of a one-line card order with its own external id and PSP
    reference."""
    sku = rng.choice(list(SKUS))
    quantity = rng.randint(1, 2)
    total = SKUS[sku] * quantity
    customer = rng.randint(1, 1000)
    body = {
        "external_id": f"{tag}-{n}",
        "customer": {"email": f"customer{customer}@e2e.example", "name": f"Customer {customer}"},
        "currency": "EUR",
        "lines": [{"sku": sku, "quantity": quantity, "unit_price": str(SKUS[sku]),
                   "tax_rate": "19.00"}],
        "delivery": {"method": "ship", "address": ADDRESS},
        "payment": {"method": "card", "status": "authorized", "amount": str(total),
                    "psp_reference": f"{tag}-psp-{n}"},
    }
    return f"{tag}-{n}", json.dumps(body).encode()


@dataclass
class Placed:
    index: int
    due: float  # perf_counter when it was scheduled
    sent_perf: float = math.nan
    sent_wall: float = math.nan
    seconds: float = math.nan
    status: int = 0
    number: str = ""
    fulfillments: list[int] = field(default_factory=list)
    error: str = ""


def place_order(server: Server, token: str, key: str, body: bytes, placed: Placed) -> None:
    placed.sent_perf, placed.sent_wall = time.perf_counter(), time.time()
    try:
        reply = http_call(server, "POST", "/api/v1/orders", body=body, timeout=120, headers={
            "Authorization": f"Bearer {token}", "Content-Type": "application/json",
            "Idempotency-Key": key})
    except OSError as exc:
        placed.seconds, placed.error = time.perf_counter() - placed.sent_perf, str(exc)
        return
    placed.seconds, placed.status = reply.seconds, reply.status
    if reply.status != 201:
        placed.error = f"{reply.status} {reply.body[:300].decode(errors='replace')}"
        return
    data = json.loads(reply.body)
    placed.number = str(data["number"])
    placed.fulfillments = [int(f["id"]) for f in data.get("fulfillments", [])]


def run_threads(count: int, target: Callable[[], None], name: str) -> None:
    """Run `target` in `count` daemon threads and wait for them (Ctrl-C still interrupts)."""
    threads = [threading.Thread(target=target, name=f"{name}-{i}", daemon=True)
               for i in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()


def send_orders(server: Server, token: str, orders: Sequence[tuple[str, bytes]], *,
                senders: int, rate: float | None,
                max_seconds: float | None = None) -> list[Placed]:
    """Send `orders` from `senders` threads: order i at start + i/rate when `rate` is given (open
    loop: a slow answer delays only its own thread), else as fast as the senders go. Orders not
    started within `max_seconds` are not sent (``status`` stays 0, ``error`` says so)."""
    start = time.perf_counter() + 0.05
    placed = [Placed(i, start + (i / rate if rate else 0.0)) for i in range(len(orders))]
    lock = threading.Lock()
    cursor = iter(range(len(orders)))
    deadline = start + max_seconds if max_seconds else math.inf

    def sender() -> None:
        while True:
            with lock:
                i = next(cursor, None)
            if i is None:
                return
            if time.perf_counter() > deadline:
                placed[i].error = NOT_SENT
                continue
            delay = placed[i].due - time.perf_counter()
            if delay > 0:
                time.sleep(delay)
            place_order(server, token, *orders[i], placed[i])

    run_threads(senders, sender, "sender")
    return placed


# --- what every phase works with ---------------------------------------------------------------


@dataclass
class Rig:
    config: BenchConfig
    db: str
    server: Server
    worker: Worker
    network: Network
    receiver: WmsReceiver
    queues: Queues
    redis: Any
    cpu_groups: dict[str, int | None]

    def alive(self) -> None:
        if self.worker.proc.poll() is not None:
            raise RuntimeError(f"the celery worker exited with {self.worker.proc.returncode}:"
                               f"\n{log_tail(self.worker.log_path)}")

    def cap(self) -> float:
        """The longest wait for dispatches, shipments or a drained queue."""
        return max(60.0, 240.0 * self.config.scale)


# --- the broker baseline ----------------------------------------------------------------------


def send_probe(receiver: WmsReceiver, token: str, queue_name: str) -> None:
    from oms.celery import app

    app.send_task(PROBE_TASK, queue=queue_name,
                  kwargs={"url": receiver.url + PROBE_PATH, "token": token, "sent": time.time()})


def wait_for(predicate: Callable[[], bool], timeout: float, *, alive: Callable[[], None],
             interval: float = 0.05) -> bool:
    deadline = time.monotonic() + timeout
    while not predicate():
        alive()
        if time.monotonic() > deadline:
            return False
        time.sleep(interval)
    return True


def probe_latencies(receiver: WmsReceiver, tokens: Sequence[str]) -> dict[str, list[float]]:
    arrived = [receiver.probes[t] for t in tokens if t in receiver.probes]
    return {"send_to_start": [p.started - p.sent for p in arrived],
            "send_to_arrival": [p.at - p.sent for p in arrived]}


def probe_round(rig: Rig, tag: str, count: int, rate: float) -> dict[str, list[float]]:
    """`count` probes at `rate` on the dispatch queue, one at a time."""
    tokens = [f"{tag}-{i}" for i in range(count)]
    start = time.perf_counter()
    for i, token in enumerate(tokens):
        delay = start + i / rate - time.perf_counter()
        if delay > 0:
            time.sleep(delay)
        send_probe(rig.receiver, token, rig.queues.dispatch)
    wait_for(lambda: all(t in rig.receiver.probes for t in tokens), 60, alive=rig.alive)
    return probe_latencies(rig.receiver, tokens)


# --- lag phase --------------------------------------------------------------------------------


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
    """fulfilment id -> when a worker claimed its (last) dispatch, epoch seconds: the claim sets
    ``dispatch_due_at = now + WMS_DISPATCH_LEASE_SECONDS`` and a successful send keeps it."""
    from django.conf import settings

    lease = float(getattr(settings, "WMS_DISPATCH_LEASE_SECONDS", 0) or 0)
    if not lease:
        return {}
    with raw_connection(config, db) as conn:
        rows = conn.execute(
            "SELECT id, extract(epoch FROM dispatch_due_at)::float8 "
            "FROM fulfillment_fulfillmentorder WHERE id = ANY(%s) AND dispatch_status = 'sent'",
            [list(fulfillments)]).fetchall()
    return {fo: due - lease for fo, due in rows if due is not None}


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


def await_dispatches(receiver: WmsReceiver, expected: set[int], cap: float,
                     alive: Callable[[], None]) -> float:
    """Wait until every expected dispatch arrived, nothing new came for STALL_SECONDS, or `cap`
    passed; returns the seconds waited."""
    started = last_change = time.monotonic()
    seen = -1
    while True:
        alive()
        arrived = {int(m.removeprefix("fo_")) for m in list(receiver.arrivals)}
        missing = len(expected - arrived)
        now = time.monotonic()
        if missing == 0:
            return now - started
        if missing != seen:
            seen, last_change = missing, now
        if now - last_change > STALL_SECONDS or now - started > cap:
            return now - started
        time.sleep(0.05)


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
        await_dispatches(receiver, expected, cap, rig.alive)
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
    tasks = {k: v - tasks_before.get(k, 0) for k, v in tasks_after.items()
             if v - tasks_before.get(k, 0)}
    return LagRun(len(orders), placed, lags, expected, order_of, tail, to_claim,
                  claim_to_arrival, samples,
                  {q: probe_latencies(receiver, t) for q, t in probe_tokens.items()},
                  send_seconds, wait_seconds,
                  drain_seconds, left, tasks, cpu)


# --- flow phase: placed -> dispatched -> accepted -> shipped -----------------------------------


@dataclass
class Handled:
    arrival: Arrival
    accept_status: int = 0
    ship_status: int = 0
    accept_seconds: float = math.nan
    ship_seconds: float = math.nan
    shipped_wall: float = math.nan
    error: str = ""


@dataclass
class FlowRun:
    placed: list[Placed]
    handled: dict[int, Handled]  # fulfilment id ->
    placed_at: dict[str, float]  # order number -> order.placed created_at
    first_sent: float
    last_shipped: float
    statuses: dict[str, int]  # order status -> orders (of this phase)
    payments: dict[str, int]  # payment status -> payments (after the queue drained)
    tasks: dict[str, int]
    cpu: dict[str, float]
    drain_seconds: float
    left_in_queue: int


def wms_side(server: Server, token: str, feed: queue.Queue[Arrival], handled: dict[int, Handled],
             stop: threading.Event) -> None:
    """One WMS client: accept and ship every fulfilment whose dispatch arrives."""
    headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
    while not stop.is_set():
        try:
            arrival = feed.get(timeout=0.1)
        except queue.Empty:
            continue
        fo = int(arrival.message_id.removeprefix("fo_"))
        record = Handled(arrival)
        handled[fo] = record
        try:
            reply = http_call(server, "POST", f"/api/v1/fulfillments/{fo}/accept", body=b"",
                              headers=headers, timeout=120)
            record.accept_status, record.accept_seconds = reply.status, reply.seconds
            if reply.status != 200:
                record.error = f"accept {reply.status} {reply.body[:200]!r}"
                continue
            body = json.dumps({"carrier": "dhl", "tracking_number": f"E2E{fo:010d}"}).encode()
            reply = http_call(server, "POST", f"/api/v1/fulfillments/{fo}/ship", body=body,
                              headers=headers, timeout=120)
            record.ship_status, record.ship_seconds = reply.status, reply.seconds
            record.shipped_wall = time.time()
            if reply.status != 200:
                record.error = f"ship {reply.status} {reply.body[:200]!r}"
        except OSError as exc:
            record.error = str(exc)


def flow_phase(rig: Rig, rng: random.Random, count: int) -> FlowRun:
    receiver = rig.receiver
    orders = [order_body(rng, "flow", n) for n in range(count)]
    feed: queue.Queue[Arrival] = queue.Queue()
    handled: dict[int, Handled] = {}
    stop = threading.Event()
    tasks_before = worker_totals(rig.worker)
    monitor = CpuMonitor(rig.cpu_groups, rig.db).start()
    receiver.feed = feed
    clients = [threading.Thread(target=wms_side, daemon=True, name=f"wms-{i}",
                                args=(rig.server, rig.network.wms_token, feed, handled, stop))
               for i in range(WMS_CLIENTS)]
    for thread in clients:
        thread.start()
    try:
        placed = send_orders(rig.server, rig.network.shop_token, orders, senders=FLOW_SENDERS,
                             rate=None)
        expected = {fo for p in placed for fo in p.fulfillments}
        cap = rig.cap()
        say(f"flow: {len(placed)} orders sent; waiting for {len(expected)} fulfilments to "
            f"ship (at most {cap:.0f} s)")

        def finished() -> bool:
            return all(fo in handled and (handled[fo].ship_status or handled[fo].error)
                       for fo in expected)

        started = time.monotonic()
        last, progress = -1, time.monotonic()
        while not finished() and time.monotonic() - started < cap:
            rig.alive()
            n = sum(1 for h in list(handled.values()) if h.ship_status)
            if n != last:
                last, progress = n, time.monotonic()
            if time.monotonic() - progress > STALL_SECONDS:
                break
            time.sleep(0.05)
    finally:
        stop.set()
        receiver.feed = None
        for thread in clients:
            thread.join(timeout=130)
    drain_started = time.monotonic()
    _waited, left = wait_idle(rig.redis, rig.queues, rig.cap() / 2)
    drain_seconds = time.monotonic() - drain_started
    tasks_after, cpu = worker_totals(rig.worker), monitor.stop()
    numbers = [p.number for p in placed if p.number]
    times = placed_times(rig.config, rig.db, numbers)
    with raw_connection(rig.config, rig.db) as conn:
        statuses = dict(conn.execute(
            "SELECT status, count(*) FROM orders_order WHERE number = ANY(%s) GROUP BY 1",
            [numbers]).fetchall())
        payments = dict(conn.execute(
            "SELECT p.status, count(*) FROM payments_payment p JOIN orders_order o "
            "ON o.id = p.order_id WHERE o.number = ANY(%s) GROUP BY 1", [numbers]).fetchall())
    shipped = [h.shipped_wall for fo, h in handled.items() if fo in expected and h.ship_status]
    tasks = {k: v - tasks_before.get(k, 0) for k, v in tasks_after.items()
             if v - tasks_before.get(k, 0)}
    return FlowRun(placed, {fo: h for fo, h in handled.items() if fo in expected},
                   {n: t[0] for n, t in times.items()},
                   min(p.sent_wall for p in placed), max(shipped) if shipped else math.nan,
                   statuses, payments, tasks, cpu, drain_seconds,
                   left)


# --- the benchmark -----------------------------------------------------------------------------


def warm_up(rig: Rig, rng: random.Random, count: int) -> None:
    """Orders through every path (intake, dispatch, accept, ship, capture, notifications), so
    each gunicorn worker and each worker process has imported everything and opened its
    database connection before the clock starts."""
    server, network, receiver = rig.server, rig.network, rig.receiver
    warm_up_workers(server, "/healthz", {})
    placed = send_orders(server, network.shop_token,
                         [order_body(rng, "warm", n) for n in range(count)],
                         senders=4, rate=None)
    failed = [p.error for p in placed if p.status != 201]
    if failed:
        raise RuntimeError(f"warm-up orders failed, first: {failed[0]}")
    fos = [fo for p in placed for fo in p.fulfillments]
    if not wait_for(lambda: all(f"fo_{fo}" in receiver.arrivals for fo in fos), 120,
                    alive=rig.alive):
        raise RuntimeError("warm-up dispatches did not reach the fake WMS within 120 s")
    headers = {"Authorization": f"Bearer {network.wms_token}",
               "Content-Type": "application/json"}
    for fo in fos[: len(fos) // 2]:
        for path, body in ((f"/api/v1/fulfillments/{fo}/accept", b""),
                           (f"/api/v1/fulfillments/{fo}/ship",
                            json.dumps({"carrier": "dhl",
                                        "tracking_number": f"WARM{fo:010d}"}).encode())):
            reply = http_call(server, "POST", path, body=body, headers=headers)
            if reply.status != 200:
                raise RuntimeError(f"warm-up {path}: {reply.status} {reply.body[:300]!r}")


def run(config: BenchConfig, concurrency: int = 2) -> Results:
    from celery.exceptions import AlwaysEagerIgnored

    # This process keeps the harness's eager setting for its own setup; probes are sent with
    # send_task, which always goes to the broker (Celery warns about that).
    warnings.filterwarnings("ignore", category=AlwaysEagerIgnored)
    config = config if isinstance(config, E2EConfig) else e2e_config(config)
    _CLOCK[0] = time.perf_counter()
    rng = random.Random(config.seed)
    lag_seconds = max(2.0, FULL_LAG_SECONDS * config.scale)
    n_lag = round(RATE * lag_seconds)
    n_flow = scaled(FULL_FLOW_ORDERS, config.scale, 30)
    n_probes = scaled(FULL_PROBES, config.scale, 30)
    n_healthz = scaled(FULL_HEALTHZ, config.scale, 50)
    results = Results(NAME, config, parameters={
        "lag_rate_per_s": RATE, "lag_seconds": lag_seconds, "lag_orders": n_lag,
        "lag_senders": LAG_SENDERS, "flow_orders": n_flow, "flow_senders": FLOW_SENDERS,
        "wms_clients": WMS_CLIENTS, "probes_idle": n_probes, "probe_rate_idle_per_s": PROBE_RATE,
        "probe_interval_under_load_s": LOAD_PROBE_INTERVAL, "healthz_requests": n_healthz,
        "gunicorn_workers": config.gunicorn_workers, "celery_pool": "prefork",
        "celery_concurrency": concurrency, "celery_beat": False, "redis_url": config.redis_url,
        "lines_per_order": 1, "payment": "card, authorized", "skus": len(SKUS),
        "service_env": SERVICE_ENV,
        "lag_definition": "WMS arrival (receiver clock) - core_outboxevent.created_at of "
                          "order.placed (set when written, a few ms before the commit)",
    })
    print(f"\ne2e: {n_lag} orders at {RATE:.0f}/s for {lag_seconds:.0f} s, then {n_flow} placed "
          f"and shipped; gunicorn -w {config.gunicorn_workers}, celery prefork "
          f"--concurrency={concurrency}, Redis {config.redis_url}")
    flushed = redis_flush(config.redis_url)
    if flushed:
        say(f"flushed {flushed} keys from {config.redis_url}")
    say(f"creating and migrating database {config.db_name(NAME)}")
    try:
        with bench_database(config, NAME) as db, WmsReceiver().serving() as receiver:
            say(f"setup in database {db}: {len(SKUS)} products, {LOCATION} pushing to the fake "
                f"WMS at {receiver.url}{DISPATCH_PATH}, a webshop and a wms client")
            network = network_setup(config, db, receiver.url + DISPATCH_PATH)
            receiver.secret = network.wms_secret
            say(f"starting celery worker --concurrency={concurrency} and gunicorn "
                f"-w {config.gunicorn_workers}")
            with celery_worker(config, db, concurrency, name=NAME,
                               imports=["bench.e2e_wms"]) as worker, \
                    gunicorn_server(config, db) as server:
                measure(config, db, server, worker, network, receiver, rng, results,
                        lag_seconds, n_flow, n_probes, n_healthz)
    finally:
        redis_flush(config.redis_url)
    return results


def measure(config: BenchConfig, db: str, server: Server, worker: Worker, network: Network,
            receiver: WmsReceiver, rng: random.Random, results: Results, lag_seconds: float,
            n_flow: int, n_probes: int, n_healthz: int) -> None:
    rig = Rig(config, db, server, worker, network, receiver, celery_queues(),
              redis_client(config.redis_url),
              {"celery worker": worker.proc.pid, "gunicorn": gunicorn_pgid(server)})
    results.parameters["celery_queues"] = rig.queues.names
    results.parameters["dispatch_queue"] = rig.queues.dispatch
    say(f"waiting for the worker (probe tasks); queues {', '.join(rig.queues.names)}, "
        f"dispatches on {rig.queues.dispatch!r}")
    tokens: list[str] = []

    def ready() -> bool:
        token = f"ready-{len(tokens)}"
        tokens.append(token)
        send_probe(receiver, token, rig.queues.dispatch)
        time.sleep(0.3)
        return any(t in receiver.probes for t in tokens)

    if not wait_for(ready, 90, alive=rig.alive):
        raise RuntimeError(f"the worker did not run a probe task in 90 s:\n"
                           f"{log_tail(worker.log_path)}")
    n_warm = scaled(FULL_WARM_UP_ORDERS, config.scale, 8)
    say(f"warm-up: {n_warm} orders through dispatch, half of them accepted and shipped")
    warm_up(rig, rng, n_warm)
    wait_idle(rig.redis, rig.queues, 120)

    say(f"baselines: {n_healthz} x GET /healthz, {n_probes} probe tasks at {PROBE_RATE:.0f}/s")
    healthz = [http_call(server, "GET", "/healthz").seconds for _ in range(n_healthz)]
    idle = probe_round(rig, "idle", n_probes, PROBE_RATE)
    wait_idle(rig.redis, rig.queues, 30)

    say(f"lag: {round(RATE * lag_seconds)} orders at {RATE:.0f}/s from {LAG_SENDERS} threads")
    lag = lag_phase(rig, rng, lag_seconds)
    say(f"flow: {n_flow} orders from {FLOW_SENDERS} senders, {WMS_CLIENTS} WMS clients "
        "accepting and shipping")
    flow = flow_phase(rig, rng, n_flow)
    report(results, rig.queues, healthz, idle, lag, flow, receiver)


# --- output --------------------------------------------------------------------------------


def _ms(seconds: float) -> str:
    if math.isnan(seconds):
        return "-"
    return f"{seconds * 1000:,.0f} ms" if seconds < 10 else f"{seconds:,.1f} s"


def _summary(values: Sequence[float]) -> dict[str, float]:
    return {k: (round(v, 2) if isinstance(v, float) else v)
            for k, v in latency_summary(values).items()}


def _row(name: str, values: Sequence[float], *, ratio: float | None = None, rate: str = "",
         target: str = "", ok: str = "", n: int | None = None) -> list[str]:
    return [name, str(len(values) if n is None else n), _ms(percentile(values, 50)),
            _ms(percentile(values, 95)), _ms(percentile(values, 99)),
            _ms(max(values) if values else math.nan),
            "" if ratio is None or math.isnan(ratio) else f"{ratio:,.1f}", rate, target, ok]


def _fifths(lag: LagRun) -> list[float]:
    """Lag p95 per fifth of the lag phase (by placement order): growth means a queue that
    does not keep up."""
    n = max(1, len(lag.placed))
    buckets: list[list[float]] = [[] for _ in range(5)]
    for fo, seconds in lag.lags.items():
        buckets[min(4, lag.order_of[fo] * 5 // n)].append(seconds)
    return [percentile(b, 95) for b in buckets]


def report(results: Results, queues: Queues, healthz: list[float],
           idle: dict[str, list[float]], lag: LagRun,
           flow: FlowRun, receiver: WmsReceiver) -> None:
    lag_ok = [p for p in lag.placed if p.status == 201]
    intake = [p.seconds for p in lag_ok]
    sends = sorted(p.sent_perf for p in lag.placed)
    offered = (len(sends) - 1) / (sends[-1] - sends[0]) if len(sends) > 1 else math.nan
    late = [p.sent_perf - p.due for p in lag.placed]
    lags = list(lag.lags.values())
    lag_p95 = percentile(lags, 95)
    idle_p95 = percentile(idle["send_to_arrival"], 95)
    healthz_p95 = percentile(healthz, 95)
    arrived_all = len(lag.lags) == len(lag.expected) and len(lag_ok) == len(lag.placed)
    lag_met = lag_p95 < TARGET_LAG_P95_S
    rate_met = offered >= RATE * 0.95 and len(lag.placed) == lag.planned
    meets = arrived_all and lag_met and rate_met
    why = ", ".join(reason for reason, failed in (
        ("lag", not lag_met), (f"only {offered:.0f}/s taken", not rate_met),
        ("orders failed or dispatches missing", not arrived_all)) if failed)

    shipped = [h for h in flow.handled.values() if h.ship_status == 200]
    flow_ok = [p for p in flow.placed if p.status == 201]
    window = flow.last_shipped - flow.first_sent
    per_minute = len(shipped) / window * 60 if window > 0 else math.nan
    number_of = {fo: p.number for p in flow.placed for fo in p.fulfillments}
    placed_to_shipped, placed_to_dispatch, dispatch_to_shipped = [], [], []
    for fo, h in flow.handled.items():
        written = flow.placed_at.get(number_of.get(fo, ""))
        if written is None or h.ship_status != 200:
            continue
        placed_to_shipped.append(h.shipped_wall - written)
        placed_to_dispatch.append(h.arrival.at - written)
        dispatch_to_shipped.append(h.shipped_wall - h.arrival.at)

    table = [["metric", "n", "p50", "p95", "p99", "max", "x baseline p95", "rate", "target",
              ""]]
    table.append(_row("e2e.healthz (HTTP baseline)", healthz))
    table.append(_row("e2e.probe_task (broker baseline)", idle["send_to_arrival"]))
    table.append(_row("  send -> worker starts it", idle["send_to_start"]))
    table.append(_row("e2e.intake_http", intake, ratio=percentile(intake, 95) / healthz_p95,
                      rate=f"{offered:.1f}/s offered"))
    table.append(_row("e2e.dispatch_lag", lags, ratio=lag_p95 / idle_p95,
                      rate=f"{len(lag.lags)}/{len(lag.expected)} arrived",
                      target=f"p95 < {TARGET_LAG_P95_S:.0f} s at {RATE:.0f}/s",
                      ok=verdict(meets) + (f" ({why})" if why else "")))
    table.append(_row("  rest of the intake transaction", lag.tail))
    table.append(_row("  order.placed written -> claimed", lag.to_claim))
    table.append(_row("  claimed -> WMS arrival", lag.claim_to_arrival))
    for queue_name, latencies in lag.probes.items():
        table.append(_row(f"  probe_task under load, queue {queue_name}",
                          latencies["send_to_arrival"],
                          ratio=percentile(latencies["send_to_arrival"], 95) / idle_p95))
    table.append(_row("e2e.placed_to_shipped", placed_to_shipped,
                      rate=f"{per_minute:,.0f} orders/min"))
    table.append(_row("  placed -> dispatch arrives", placed_to_dispatch,
                      ratio=percentile(placed_to_dispatch, 95) / idle_p95))
    table.append(_row("  dispatch -> ship answered", dispatch_to_shipped))
    table.append(_row("  accept (HTTP)", [h.accept_seconds for h in shipped]))
    table.append(_row("  ship (HTTP)", [h.ship_seconds for h in shipped]))

    all_tasks = sum(lag.tasks.values())
    app_tasks = {k: v for k, v in lag.tasks.items() if k != PROBE_TASK}
    lag_tasks = sum(app_tasks.values())
    n_orders = max(1, len(lag_ok))
    per_order = {k: round(v / n_orders, 2) for k, v in
                 sorted(app_tasks.items(), key=lambda kv: -kv[1])}
    busy_seconds = lag.send_seconds + lag.drain_seconds
    worker_rate = all_tasks / busy_seconds if busy_seconds else math.nan
    needed = lag_tasks / n_orders * RATE
    worker_cpu = lag.cpu.get("celery worker", math.nan)
    cpu_per_task_ms = worker_cpu / all_tasks * 1000 if all_tasks else math.nan
    ours = ("celery worker", "gunicorn", POSTGRES)
    cpu_per_order_ms = {k: round(v, 1) for k, v in
                        ms_per_order(lag.cpu, {k: k for k in ours}, n_orders).items()}
    cpu_per_order_ms["total"] = round(sum(cpu_per_order_ms.values()), 1)
    other_share = lag.cpu.get("other processes", 0.0) / lag.cpu["machine capacity"] \
        if lag.cpu.get("machine capacity") else 0.0
    depth_max = max((s[1] for s in lag.samples), default=0)
    depth_end = lag.samples[-1][1] if lag.samples else 0
    dispatch_depth_max = max((s[2] for s in lag.samples), default=0)
    fifths = _fifths(lag)

    results.metrics["healthz"] = _summary(healthz)
    results.metrics["probe_task_idle"] = {k: _summary(v) for k, v in idle.items()}
    results.metrics["lag"] = {
        "orders_planned": lag.planned, "orders_not_sent": lag.planned - len(lag.placed),
        "orders": len(lag.placed), "orders_failed": len(lag.placed) - len(lag_ok),
        "first_failure": next((p.error for p in lag.placed if p.status != 201), None),
        "offered_rate_per_s": round(offered, 2),
        "send_lateness": _summary(late),
        "intake_http": _summary(intake),
        "dispatches_expected": len(lag.expected), "dispatches_arrived": len(lag.lags),
        "dispatch_lag": _summary(lags),
        "dispatch_lag_p95_ms_by_fifth": [round(v * 1000, 1) for v in fifths],
        "ratio_p95_to_probe_idle_p95": round(lag_p95 / idle_p95, 2),
        "ratio_intake_p95_to_healthz_p95": round(percentile(intake, 95) / healthz_p95, 2),
        "transaction_tail_after_order_placed": _summary(lag.tail),
        "order_placed_to_dispatch_claimed": _summary(lag.to_claim),
        "dispatch_claimed_to_wms_arrival": _summary(lag.claim_to_arrival),
        "probe_task_under_load": {q: {k: _summary(v) for k, v in latencies.items()}
                                  for q, latencies in lag.probes.items()},
        "queue_depth_max": depth_max, "queue_depth_when_sending_ended": depth_end,
        "dispatch_queue_depth_max": dispatch_depth_max,
        "queue_samples": {"columns": ["t_s", "waiting_all_queues",
                                      f"waiting_{queues.dispatch}", "unacked",
                                      "dispatches_arrived"],
                          "rows": [[round(t, 2), *rest] for t, *rest in lag.samples]},
        "send_seconds": round(lag.send_seconds, 2),
        "last_dispatch_after_sending_s": round(lag.wait_seconds, 2),
        "queue_drained_after_sending_s": round(lag.drain_seconds, 2),
        "left_in_queue": lag.left_in_queue,
        "worker_tasks": lag.tasks, "worker_tasks_per_order": per_order,
        "worker_tasks_per_s": round(worker_rate, 1),
        "worker_tasks_per_s_needed_at_rate": round(needed, 1),
        "worker_cpu_ms_per_task": round(cpu_per_task_ms, 2),
        "cpu_ms_per_order": cpu_per_order_ms,
        "cpu_seconds": lag.cpu,
        "target": {"lag_p95_s_below": TARGET_LAG_P95_S, "at_rate_per_s": RATE, "met": meets,
                   "lag_met": lag_met, "rate_met": rate_met, "all_arrived": arrived_all},
    }
    results.metrics["flow"] = {
        "orders": len(flow.placed), "orders_failed": len(flow.placed) - len(flow_ok),
        "first_failure": next((p.error for p in flow.placed if p.status != 201), None),
        "shipped": len(shipped),
        "wms_errors": [h.error for h in flow.handled.values() if h.error][:5],
        "window_s": round(window, 2), "orders_per_minute": round(per_minute, 1),
        "placed_to_shipped": _summary(placed_to_shipped),
        "placed_to_dispatch": _summary(placed_to_dispatch),
        "dispatch_to_shipped": _summary(dispatch_to_shipped),
        "intake_http": _summary([p.seconds for p in flow_ok]),
        "accept_http": _summary([h.accept_seconds for h in shipped]),
        "ship_http": _summary([h.ship_seconds for h in shipped]),
        "order_statuses": flow.statuses, "payment_statuses_after_drain": flow.payments,
        "queue_drained_after_last_ship_s": round(flow.drain_seconds, 2),
        "left_in_queue": flow.left_in_queue,
        "worker_tasks": flow.tasks,
        "worker_tasks_per_order": {k: round(v / max(1, len(flow_ok)), 2)
                                   for k, v in sorted(flow.tasks.items(), key=lambda kv: -kv[1])},
        "cpu_seconds": flow.cpu,
    }
    results.metrics["receiver"] = {"duplicates": receiver.duplicates,
                                   "bad_signatures": receiver.bad_signatures,
                                   "unsigned": receiver.unsigned}
    notes = results.notes
    notes.append("Lag is measured from core_outboxevent.created_at of order.placed, set by "
                 "timezone.now() when the row is written, before the rest of the intake "
                 "transaction; the commit is later by the transaction's tail (p50 "
                 f"{_ms(percentile(lag.tail, 50))}, order reservation written - order.placed "
                 "written), so the lag is slightly overstated.")
    if len(lag.lags) != len(lag.expected) or len(lag_ok) != len(lag.placed):
        notes.append(f"{len(lag.expected) - len(lag.lags)} dispatches did not arrive, "
                     f"{len(lag.placed) - len(lag_ok)} orders failed")
    if len(shipped) != len(flow_ok):
        notes.append(f"flow: {len(flow_ok) - len(shipped)} orders not shipped; first errors: "
                     f"{results.metrics['flow']['wms_errors']}")
    if receiver.bad_signatures or receiver.unsigned:
        notes.append(f"{receiver.bad_signatures} bad and {receiver.unsigned} missing "
                     "signatures on dispatches")
    if other_share > 0.1:
        busiest = ", ".join(lag.cpu.get("busiest other processes", {}))
        notes.append(f"other processes ({busiest}) used {other_share:.0%} of the machine's CPU "
                     "during the lag phase: figures are disturbed, rerun on a quieter machine")
    if offered < RATE * 0.95:
        notes.append(f"the offered rate {offered:.1f}/s fell short of {RATE:.0f}/s: the server "
                     f"did not take orders as fast as they were sent ({LAG_SENDERS} senders)")
    if lag.planned > len(lag.placed):
        notes.append(f"{lag.planned - len(lag.placed)} of {lag.planned} lag-phase orders were "
                     f"not sent: sending stops {LAG_MAX_STRETCH} x the phase's duration after "
                     "it started")

    print()
    print_table(table, right=(1, 2, 3, 4, 5, 6))
    print(f"  lag p95 by fifth of the run: "
          f"{', '.join(_ms(v) for v in fifths)}; queue depth max {depth_max} "
          f"({queues.dispatch!r} queue: {dispatch_depth_max}), "
          f"{depth_end} when sending ended; last dispatch {lag.wait_seconds:.1f} s and queue "
          f"empty {lag.drain_seconds:.1f} s after sending ended")
    print(f"  worker: {lag_tasks} tasks for {len(lag_ok)} orders "
          f"({lag_tasks / n_orders:.1f} per order: "
          + ", ".join(f"{k.rsplit('.', 1)[-1]} {v}" for k, v in per_order.items())
          + f"); {worker_rate:.0f} tasks/s done at {cpu_per_task_ms:.1f} ms CPU each, "
          f"{needed:.0f} tasks/s needed at {RATE:.0f} orders/s")
    shown = ("celery worker", "gunicorn", POSTGRES, "benchmark process", "other processes")
    print("  CPU seconds in the lag phase (until the queue drained; per process, from /proc): "
          + ", ".join(f"{k} {lag.cpu.get(k, 0.0):.1f}" for k in shown)
          + f" (busiest others: {lag.cpu.get('busiest other processes') or '-'}), "
          f"of {lag.cpu.get('machine capacity', 0.0):.0f} available")
    print("  CPU ms per order: " + ", ".join(f"{k} {v:.0f}" for k, v in
                                            cpu_per_order_ms.items()))
    print(f"  flow: {len(shipped)}/{len(flow.placed)} shipped in {window:.1f} s; orders "
          f"{flow.statuses}; payments after drain {flow.payments}")
    print(f"  baselines: /healthz sequential on a new connection each; probe = empty Celery "
          f"task sent from here at {PROBE_RATE:.0f}/s on queue {queues.dispatch!r} that POSTs "
          "to the fake WMS (same broker, queue, worker and receiver as the dispatch); queues "
          f"{', '.join(queues.names)}")
    for note in results.notes:
        print(f"  ! {note}")


# --- standalone entry point ----------------------------------------------------------------


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m bench.e2e",
        description="End to end with a real Celery worker and a fake WMS acknowledging at "
                    "once: dispatch lag at 50 orders/s, orders/minute placed -> shipped.")
    parser.add_argument("--scale", type=float, default=1.0,
                        help="fraction of the full run (default 1.0; 0.1 is a smoke run)")
    parser.add_argument("--keep", action="store_true",
                        help="keep the database oms_bench_e2e afterwards")
    parser.add_argument("--seed", type=int, default=20240601)
    parser.add_argument("--db-prefix", default="oms_bench")
    parser.add_argument("--workers", type=int, default=2, help="gunicorn workers (default 2)")
    parser.add_argument("--concurrency", type=int, default=2,
                        help="celery worker processes (default 2)")
    return parser


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    if not 0 < args.scale <= 10:
        _parser().error("--scale must be in (0, 10]")
    args.senders = None
    base = config_from(args)
    base = dataclasses.replace(base, redis_url=os.environ.get("REDIS_URL") or DEFAULT_REDIS_URL)

    def on_sigterm(signum: int, frame: Any) -> None:
        raise SystemExit(128 + signum)

    signal.signal(signal.SIGTERM, on_sigterm)
    # This process runs its own setup tasks in-process (eager, as the harness sets it up); the
    # servers it starts get E2EConfig's environment and send theirs to the worker.
    bootstrap_django(base, base.db_name(NAME))
    started = time.perf_counter()
    results = run(e2e_config(base), concurrency=args.concurrency)
    path = results.write()
    print(f"  e2e took {time.perf_counter() - started:.1f} s; results in "
          f"{path.relative_to(REPO_ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
