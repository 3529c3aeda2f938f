"""The flow phase of the end-to-end benchmark: orders placed as fast as FLOW_SENDERS go while
WMS_CLIENTS accept and ship each fulfilment as soon as its dispatch arrives."""

from __future__ import annotations

import json
import math
import queue
import random
import threading
import time
from dataclasses import dataclass

from bench.e2e.common import (
    FLOW_SENDERS,
    WMS_CLIENTS,
    Placed,
    Rig,
    order_body,
    say,
    send_orders,
    tasks_since,
    wait_progress,
)
from bench.e2e.lag import placed_times
from bench.e2e.wms import Arrival
from bench.harness.cpu import CpuMonitor
from bench.harness.database import raw_connection
from bench.harness.processes import Server, http_call
from bench.harness.worker import wait_idle, worker_totals


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

        def finished() -> int:
            return sum(1 for fo, h in list(handled.items())
                       if fo in expected and (h.ship_status or h.error))

        wait_progress(finished, len(expected), cap, rig.alive)
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
    return FlowRun(placed, {fo: h for fo, h in handled.items() if fo in expected},
                   {n: t[0] for n, t in times.items()},
                   min(p.sent_wall for p in placed), max(shipped) if shipped else math.nan,
                   statuses, payments, tasks_since(tasks_before, tasks_after), cpu,
                   drain_seconds, left)
