"""What the phases of the end-to-end benchmark share: its constants, the network, orders sent
open or closed loop, the rig of servers it runs on, and the broker probes."""

from __future__ import annotations

import json
import math
import random
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from bench.e2e.wms import PROBE_PATH, PROBE_TASK, WmsReceiver
from bench.harness.config import BenchConfig
from bench.harness.database import products_create, stock_copy
from bench.harness.orders import Order, failure, order, order_post
from bench.harness.processes import Server, log_tail
from bench.harness.report import step
from bench.harness.worker import Queues, Worker

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


_CLOCK = [time.perf_counter()]


def say(message: str) -> None:
    step(f"[{time.perf_counter() - _CLOCK[0]:5.1f} s] {message}")


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
    from oms.core.clients import api_client_create

    products_create(list(SKUS), "E2E product")
    location, _created = location_upsert(data=LocationData(
        code=LOCATION, name="E2E warehouse Kassel", kind="warehouse",
        address={"city": "Kassel", "country": "DE"}, lat=51.31, lon=9.48,
        capabilities=["ships"], priority=10, wms_url=wms_url))
    location.refresh_from_db()
    _shop, shop_token = api_client_create(name="e2e-webshop", kind="webshop", channel=CHANNEL)
    _wms, wms_token = api_client_create(name="e2e-wms", kind="wms", location_code=LOCATION)
    stamp = timezone.now().isoformat()
    stock_copy(config, db, [f"{sku}\t{location.pk}\t{PLENTY}\t0\t0\t{stamp}\n" for sku in SKUS])
    return Network(shop_token, wms_token, location.pk, location.wms_secret)


def order_body(rng: random.Random, tag: str, n: int) -> Order:
    """A one-line card order (1-2 units) with its own external id and PSP reference."""
    sku = rng.choice(list(SKUS))
    quantity = rng.randint(1, 2)
    customer = rng.randint(1, 1000)
    return order(tag, n, [(sku, quantity, SKUS[sku])], email=f"customer{customer}@e2e.example",
                 name=f"Customer {customer}")


def tasks_since(before: dict[str, int], after: dict[str, int]) -> dict[str, int]:
    """Tasks the worker accepted between two :func:`worker_totals`, per task name."""
    return {k: v - before.get(k, 0) for k, v in after.items() if v - before.get(k, 0)}


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


def place_order(server: Server, token: str, order: Order, placed: Placed) -> None:
    placed.sent_perf, placed.sent_wall = time.perf_counter(), time.time()
    try:
        reply = order_post(server, token, order, timeout=120)
    except OSError as exc:
        placed.seconds, placed.error = time.perf_counter() - placed.sent_perf, str(exc)
        return
    placed.seconds, placed.status = reply.seconds, reply.status
    if reply.status != 201:
        placed.error = failure(reply)
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


def send_orders(server: Server, token: str, orders: Sequence[Order], *,
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
            place_order(server, token, orders[i], placed[i])

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


def wait_progress(done: Callable[[], int], total: int, cap: float,
                  alive: Callable[[], None]) -> float:
    """Wait until `done()` reaches `total`, it has not moved for STALL_SECONDS, or `cap` seconds
    passed; returns the seconds waited."""
    started = last_change = time.monotonic()
    seen = -1
    while True:
        alive()
        count, now = done(), time.monotonic()
        if count >= total:
            return now - started
        if count != seen:
            seen, last_change = count, now
        if now - last_change > STALL_SECONDS or now - started > cap:
            return now - started
        time.sleep(0.05)
