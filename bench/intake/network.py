"""The intake benchmark's network, its orders over HTTP and the probe order; the network and
the orders are shared with the growth benchmark."""

from __future__ import annotations

import math
import random
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from bench.harness.config import BenchConfig
from bench.harness.database import products_create, raw_connection, stock_copy
from bench.harness.orders import Order, failure, order, order_post
from bench.harness.processes import Server
from bench.harness.report import Stopwatch
from bench.harness.worker import Queues, wait_idle
from bench.intake.baseline import Probe, count_delta, new_row_marks, table_counts

CUSTOMER_POOL = 2_000
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


@dataclass(frozen=True)
class Network:
    token: str
    location_ids: list[int]  # the main warehouse first


def network_setup(config: BenchConfig, db: str, rng: random.Random,
                  catalogue: Sequence[str] = ()) -> Network:
    """Products via ``products_upsert``, locations via ``location_upsert``, a webshop client,
    stock by COPY: plenty of the hot SKUs at the main warehouse, a little everywhere else."""
    from django.utils import timezone

    from inventory.services import LocationData, location_upsert
    from oms.core.clients import api_client_create

    skus = list(HOT_SKUS) + [s for s in catalogue if s not in HOT_SKUS]
    products_create(skus)
    locations = [location_upsert(data=LocationData(
        code=code, name=f"Bench {city}", kind=kind, address={"city": city, "country": "DE"},
        lat=lat, lon=lon, capabilities=capabilities, priority=priority))[0]
        for code, kind, city, lat, lon, capabilities, priority in LOCATIONS]
    _client, token = api_client_create(name="bench-webshop", kind="webshop", channel=CHANNEL)
    stamp = timezone.now().isoformat()
    main = locations[0]

    def on_hand(location: Any, sku: str) -> int:
        if location.pk == main.pk and sku in HOT_SKUS:
            return PLENTY
        return 0 if rng.random() < 0.3 else rng.randint(1, 40)

    stock_copy(config, db, ("".join(
        f"{sku}\t{location.pk}\t{on_hand(location, sku)}\t0\t{rng.randint(0, 2)}\t{stamp}\n"
        for sku in skus) for location in locations))
    return Network(token=token, location_ids=[loc.pk for loc in locations])


def customer_email(n: int) -> str:
    return f"customer{n}@bench.example"


def make_order(rng: random.Random, tag: str, n: int, email: str, customer_name: str) -> Order:
    """A valid 3-line card order (1-3 units per line)."""
    return order(tag, n, [(sku, rng.randint(1, 3), price) for sku, price in HOT_SKUS.items()],
                 email=email, name=customer_name)


def pool_orders(rng: random.Random, tag: str, count: int) -> list[Order]:
    orders = []
    for n in range(count):
        c = rng.randint(1, CUSTOMER_POOL)
        orders.append(make_order(rng, tag, n, customer_email(c), f"Customer {c}"))
    return orders


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
        sent = list(pool.map(lambda o: order_post(server, token, o), orders))
    drained = relay.drain()
    return HttpRun(len(orders), senders, watch.seconds + drained,
                   [s.seconds for s in sent if s.status == 201],
                   [failure(s) for s in sent if s.status != 201])


def probe_order(config: BenchConfig, db: str, server: Server, network: Network,
                relay: Relay) -> Probe:
    """Place one order over HTTP, count what it wrote, and keep those rows as templates."""
    from django.utils import timezone

    order = make_order(random.Random(1), "probe", 1, "probe@bench.example", "Probe Customer")
    before = table_counts(config, db)
    with raw_connection(config, db) as conn:
        marks = new_row_marks(conn)
    started = timezone.now()
    sent = order_post(server, network.token, order)
    if sent.status != 201:
        raise RuntimeError(f"the probe order failed: {failure(sent)}")
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
