"""The store-visit benchmark's network, its customers and open orders, and the visits it sends.

Network (through the services): 2,000 products, three warehouses that ship and 20
click-and-collect stores (``location_upsert``), an ``app`` client and a ``pos`` client confined
to each store, a channel discount for the web shop and a store's own discount; stock by COPY:
plenty of everything at the warehouses, a store holds a SKU 65 % of the time (1-12 units, a
few reserved, a safety stock of 0-1).

Customers and open orders are written by SQL (:mod:`bench.visits.data_sql`), one ``INSERT ...
SELECT`` per table on one connection with foreign-key triggers skipped for the session (the rows
are consistent by construction); then the sequences move past the rows, everything is
vacuumed and a ``CHECKPOINT`` taken, so neither autovacuum nor the checkpointer works through
the load while the benchmark measures.

Who visits where (:func:`visit_plan`): every visit a different customer, so each is a new visit
and computes its offers. The kinds and their shares are :data:`MIX`."""

from __future__ import annotations

import random
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from bench.growth.history import RANDOM_FUNCTION

# The growth loader's way with columns the schema gains before a loader writes them (a neutral
# value for the load, listed in the output): shared rather than copied, so both keep up alike.
from bench.growth.history import _neutral_defaults as neutral_defaults
from bench.harness.config import BenchConfig
from bench.harness.database import products_create, raw_connection, stock_copy
from bench.visits.data_sql import (
    CUSTOMERS_SQL,
    NOT_STARTED,
    PLAN_TABLES,
    SERVABLE_SQL,
    UNSHIPPED,
    load_sql,
    plan_sql,
    sequences_sql,
    sku,
)

N_SKUS = 2_000
WAREHOUSES = [("WH-KS", "Kassel", 51.31, 9.48, 10), ("WH-HH", "Hamburg", 53.55, 9.99, 20),
              ("WH-MUC", "München", 48.14, 11.57, 30)]
CITIES = [("Berlin", 52.52, 13.40), ("Hamburg", 53.55, 10.00), ("München", 48.14, 11.58),
          ("Köln", 50.94, 6.96), ("Frankfurt", 50.11, 8.68), ("Stuttgart", 48.78, 9.18),
          ("Düsseldorf", 51.23, 6.77), ("Leipzig", 51.34, 12.37), ("Dortmund", 51.51, 7.47),
          ("Essen", 51.46, 7.01), ("Bremen", 53.08, 8.80), ("Dresden", 51.05, 13.74),
          ("Hannover", 52.38, 9.73), ("Nürnberg", 49.45, 11.08), ("Bonn", 50.74, 7.10),
          ("Münster", 51.96, 7.63), ("Mannheim", 49.49, 8.47), ("Karlsruhe", 49.01, 8.40),
          ("Augsburg", 48.37, 10.90), ("Kiel", 54.32, 10.12)]
STORE_HOLDS_SKU = 0.65
WAREHOUSE_ON_HAND = 100_000
SESSION = ("session_replication_role = replica", "synchronous_commit = off",
           "work_mem = '256MB'", "maintenance_work_mem = '512MB'")

# Who walks in, as shares of the visits of a phase:
MIX = {
    "offer": 0.50,  # consent granted, a parcel not started, the store has some of its lines
    "no_consent": 0.15,  # such a parcel too, but never asked or withdrawn: no offer
    "not_in_stock": 0.10,  # consent and a parcel not started, the store has none of its lines
    "nothing_open": 0.15,  # consent, no parcel to offer (none open, on hold or being picked)
    "unknown": 0.10,  # nobody we know: a visit without a customer
}
BY_EXTERNAL_ID = 0.3  # of known customers with an external id: named by it, not by e-mail
AT_THE_TILL = 0.25  # reported by the store's till (source pos), the rest by the app
APP_SOURCES = ["geofence", "geofence", "wallet", "nfc"]


@dataclass(frozen=True)
class Network:
    app_token: str
    pos_tokens: dict[str, str]  # store code -> its till's token
    warehouse_ids: list[int]
    store_ids: dict[int, str]  # id -> code


@dataclass(frozen=True)
class Loaded:
    customers: int
    orders: int
    rows: dict[str, int]
    seconds: dict[str, float]
    neutral: list[str]  # "table.column" filled with a neutral value: not modelled yet
    wall_seconds: float


@dataclass(frozen=True)
class PlannedVisit:
    n: int
    kind: str  # a key of MIX
    store: str
    customer: dict[str, str]  # {"email": ...} or {"external_id": ...}
    source: str
    token: str

    @property
    def expects_offer(self) -> bool:
        return self.kind == "offer"

    def body(self) -> dict[str, Any]:
        return {"location": self.store, "customer": self.customer, "source": self.source}


def network_setup(config: BenchConfig, db: str, rng: random.Random) -> Network:
    from django.utils import timezone

    from inventory.models import Capability
    from inventory.services import LocationData, location_upsert
    from oms.core.clients import api_client_create
    from visits.models import InStoreDiscount

    products_create([sku(n) for n in range(1, N_SKUS + 1)], name="Bench visit product")
    warehouses = [location_upsert(data=LocationData(
        code=code, name=f"Bench warehouse {city}", kind="warehouse",
        address={"city": city, "country": "DE"}, lat=lat, lon=lon,
        capabilities=[Capability.SHIPS], priority=priority))[0]
        for code, city, lat, lon, priority in WAREHOUSES]
    stores = [location_upsert(data=LocationData(
        code=f"ST-{n:03d}", name=f"Bench store {city}", kind="store",
        address={"city": city, "country": "DE"}, lat=lat, lon=lon,
        capabilities=[Capability.CLICK_AND_COLLECT, Capability.ACCEPTS_RETURNS],
        priority=50))[0] for n, (city, lat, lon) in enumerate(CITIES, start=1)]
    _app, app_token = api_client_create(name="bench-app", kind="app", channel="app")
    pos_tokens = {store.code: api_client_create(
        name=f"bench-pos-{store.code}", kind="pos", channel="pos",
        location_code=store.code)[1] for store in stores}
    InStoreDiscount.objects.create(channel="web", percent=Decimal("10.00"))
    InStoreDiscount.objects.create(location=stores[0], percent=Decimal("15.00"))

    stamp = timezone.now().isoformat()

    def rows(location: Any) -> str:
        lines = []
        for n in range(1, N_SKUS + 1):
            if location.kind == "warehouse":
                on_hand, reserved, safety = WAREHOUSE_ON_HAND, 0, 5
            else:
                on_hand = rng.randint(1, 12) if rng.random() < STORE_HOLDS_SKU else 0
                reserved = rng.randint(0, min(on_hand, 2)) if rng.random() < 0.1 else 0
                safety = 1 if rng.random() < 0.3 else 0
            lines.append(f"{sku(n)}\t{location.pk}\t{on_hand}\t{reserved}\t{safety}\t{stamp}\n")
        return "".join(lines)

    stock_copy(config, db, (rows(location) for location in [*warehouses, *stores]))
    return Network(app_token, pos_tokens, [w.pk for w in warehouses],
                   {s.pk: s.code for s in stores})


def data_load(config: BenchConfig, db: str, network: Network, *, customers: int, orders: int,
              progress: Callable[[str], None] = lambda _m: None) -> Loaded:
    """Write `customers` customers and `orders` open orders (with everything around them)."""
    seconds: dict[str, float] = {}
    started = time.perf_counter()
    with raw_connection(config, db) as conn:
        conn.autocommit = True
        for setting in SESSION:
            conn.execute(f"SET {setting}")
        conn.execute(RANDOM_FUNCTION)

        def timed(label: str, statements: Sequence[str]) -> None:
            begun = time.perf_counter()
            for statement in statements:
                conn.execute(statement)
            seconds[label] = seconds.get(label, 0.0) + time.perf_counter() - begun

        timed("plan", plan_sql(customers, orders, N_SKUS, network.warehouse_ids))
        statements = dict(load_sql(list(network.store_ids)))
        set_defaults, drop_defaults, neutral = neutral_defaults(conn, statements)
        timed("neutral defaults", set_defaults)
        for table, statement in statements.items():
            progress(f"{table}")
            timed(table, [statement])
        timed("neutral defaults", drop_defaults)
        timed("sequences", sequences_sql(orders))
        conn.execute(f"DROP TABLE {PLAN_TABLES}")
        rows = {t: conn.execute(f'SELECT count(*) FROM "{t}"').fetchone()[0]
                for t in statements}
        progress("VACUUM (ANALYZE), CHECKPOINT")
        timed("vacuum analyze, checkpoint", ["VACUUM (ANALYZE)", "CHECKPOINT"])
    return Loaded(customers, orders, rows, seconds, neutral, time.perf_counter() - started)


@dataclass(frozen=True)
class Pools:
    """Customers by the kind of visit they can make, each with the stores that make it so."""

    by_kind: dict[str, list[tuple[dict[str, str], list[str]]]]

    def sizes(self) -> dict[str, int]:
        """Customers per kind (unknown customers are made up, as many as needed)."""
        return {kind: len(pool) for kind, pool in self.by_kind.items() if kind != "unknown"}


def visit_pools(config: BenchConfig, db: str, network: Network, rng: random.Random,
                exclude: Sequence[int] = ()) -> Pools:
    """Sort every customer (but those in `exclude`) into the kinds of :data:`MIX` by what the
    database holds: their consent now and the stores that could serve their open parcels."""
    codes = network.store_ids
    every_store = sorted(codes.values())
    skipped = set(exclude)
    with raw_connection(config, db) as conn:
        servable = {cust: ([codes[s] for s in yes or []], [codes[s] for s in no or []])
                    for cust, yes, no in conn.execute(SERVABLE_SQL, {
                        "not_started": list(NOT_STARTED), "unshipped": list(UNSHIPPED),
                        "stores": list(codes)}).fetchall()}
        customers = conn.execute(CUSTOMERS_SQL).fetchall()
    pools: dict[str, list[tuple[dict[str, str], list[str]]]] = {kind: [] for kind in MIX}
    for cust, email, external_id, consent in customers:
        if cust in skipped:
            continue
        name = ({"external_id": external_id} if external_id and rng.random() < BY_EXTERNAL_ID
                else {"email": email})
        yes, no = servable.get(cust, ([], []))
        if cust not in servable:
            if consent:
                pools["nothing_open"].append((name, every_store))
        elif not consent:
            pools["no_consent"].append((name, yes or no))
        elif yes and (not no or rng.random() < 0.7):
            pools["offer"].append((name, yes))
        elif no:
            pools["not_in_stock"].append((name, no))
    for pool in pools.values():
        rng.shuffle(pool)
    return Pools(pools)


def visit_plan(network: Network, pools: Pools, rng: random.Random,
               counts: dict[str, int], first_offer: Sequence[str] = ()) -> dict[str, list[
                   PlannedVisit]]:
    """Visits per phase (`counts`: phase -> how many), each a customer of its own, the kinds
    mixed by :data:`MIX` in random order; the phases in `first_offer` start with an offer."""
    every_store = sorted(network.store_ids.values())
    taken = dict.fromkeys(MIX, 0)
    unknown = 0
    plan: dict[str, list[PlannedVisit]] = {}
    for phase, count in counts.items():
        kinds = [kind for kind, share in MIX.items() for _ in range(round(count * share))]
        kinds = (kinds + ["offer"] * count)[:count]
        rng.shuffle(kinds)
        if phase in first_offer and "offer" in kinds:
            kinds.remove("offer")
            kinds.insert(0, "offer")
        visits = []
        for n, kind in enumerate(kinds):
            if kind == "unknown":
                unknown += 1
                customer = ({"external_id": f"UNKNOWN-{unknown:07d}"}
                            if rng.random() < BY_EXTERNAL_ID
                            else {"email": f"walkin{unknown}@bench.example"})
                store = rng.choice(every_store)
            else:
                pool = pools.by_kind[kind]
                if taken[kind] >= len(pool):
                    raise RuntimeError(f"only {len(pool)} customers for visits of kind {kind}; "
                                       "use a larger --scale")
                customer, stores = pool[taken[kind]]
                taken[kind] += 1
                store = rng.choice(stores)
            if rng.random() < AT_THE_TILL:
                source, token = "pos", network.pos_tokens[store]
            else:
                source, token = rng.choice(APP_SOURCES), network.app_token
            visits.append(PlannedVisit(n, kind, store, customer, source, token))
        plan[phase] = visits
    return plan
