"""Availability latency: ``GET /api/v1/availability`` against 10,000 SKUs x 200 locations
(2,000,000 stock rows at full scale) on a real gunicorn server, next to bare ``GET /healthz``
measured in the same run, so the ratio strips out what every request pays (TCP connect, WSGI,
middleware, the client itself).

Setup (not timed): products via ``products_upsert``, 200 locations via ``location_upsert``
(20 warehouses that ship, spread over Germany; 180 click-and-collect stores clustered around
German cities, Berlin the largest cluster), a ``webshop`` client, then every stock row by
``COPY``, location after location as snapshot feeds create them (so one SKU's rows are spread
over the table, not adjacent), then ``VACUUM (ANALYZE)``.

Measured: one client sending sequential requests (a new connection each: gunicorn's sync
workers do not keep connections alive), the three kinds interleaved so drift hits them equally:
``healthz``; ``skus20``, 20 random SKUs; ``skus20_near``, the same with
``&near=52.52,13.40&radius_km=50`` (Berlin).
"""

from __future__ import annotations

import json
import random
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from bench.harness.config import BenchConfig
from bench.harness.database import (
    bench_database,
    products_create,
    stock_copy,
    vacuum_analyze,
)
from bench.harness.processes import Server, gunicorn_server, http_call, warm_up_workers
from bench.harness.report import (
    Results,
    Stopwatch,
    latency_summary,
    print_table,
    scaled,
    step,
    thousands,
    verdict,
)

NAME = "availability"
FULL_SKUS = 10_000
WAREHOUSES = 20
STORES = 180
SKUS_PER_REQUEST = 20
FULL_REQUESTS = 500
FULL_WARM_UP = 50
NEAR = "&near=52.52,13.40&radius_km=50"
TARGET_P95_MS = 25.0

# Germany, roughly: warehouses anywhere in this box, stores around cities (weight ~ size).
GERMANY = ((47.6, 54.6), (6.3, 14.6))
CITIES = [
    ("Berlin", 52.520, 13.405, 12), ("Hamburg", 53.551, 9.994, 8),
    ("München", 48.137, 11.575, 8), ("Köln", 50.938, 6.960, 6),
    ("Frankfurt", 50.110, 8.682, 5), ("Stuttgart", 48.776, 9.183, 4),
    ("Düsseldorf", 51.228, 6.773, 4), ("Leipzig", 51.340, 12.375, 3),
    ("Dortmund", 51.514, 7.468, 3), ("Essen", 51.455, 7.011, 3), ("Bremen", 53.079, 8.801, 3),
    ("Dresden", 51.050, 13.738, 3), ("Hannover", 52.376, 9.732, 3),
    ("Nürnberg", 49.452, 11.077, 3), ("Duisburg", 51.434, 6.762, 2),
    ("Bochum", 51.482, 7.216, 2), ("Wuppertal", 51.256, 7.150, 2),
    ("Bielefeld", 52.030, 8.532, 2), ("Bonn", 50.737, 7.098, 2), ("Münster", 51.960, 7.626, 2),
    ("Mannheim", 49.487, 8.466, 2), ("Karlsruhe", 49.006, 8.403, 2),
    ("Augsburg", 48.370, 10.897, 2), ("Kiel", 54.323, 10.122, 1), ("Rostock", 54.092, 12.099, 1),
    ("Freiburg", 47.999, 7.842, 1), ("Erfurt", 50.978, 11.029, 1),
    ("Magdeburg", 52.120, 11.627, 1), ("Kassel", 51.312, 9.479, 1),
    ("Regensburg", 49.013, 12.101, 1), ("Potsdam", 52.391, 13.065, 1),
]


@dataclass(frozen=True)
class Site:
    code: str
    name: str
    kind: str
    city: str
    lat: float
    lon: float


def _sites(rng: random.Random) -> list[Site]:
    (lat_lo, lat_hi), (lon_lo, lon_hi) = GERMANY
    sites = [
        Site(f"WH-{n:02d}", f"Bench warehouse {n}", "warehouse", "",
             round(rng.uniform(lat_lo, lat_hi), 5), round(rng.uniform(lon_lo, lon_hi), 5))
        for n in range(1, WAREHOUSES + 1)
    ]
    weights = [c[3] for c in CITIES]
    for n in range(1, STORES + 1):
        city, lat, lon, _w = rng.choices(CITIES, weights)[0]
        sites.append(Site(f"ST-{n:03d}", f"Bench store {n} {city}", "store", city,
                          round(lat + rng.gauss(0, 0.08), 5), round(lon + rng.gauss(0, 0.12), 5)))
    return sites


def _setup(config: BenchConfig, db: str, rng: random.Random, skus: Sequence[str]) -> str:
    from django.utils import timezone

    from inventory.models import Capability
    from inventory.services import LocationData, location_upsert
    from oms.core.clients import api_client_create

    products_create(list(skus))
    locations = []
    for site in _sites(rng):
        warehouse = site.kind == "warehouse"
        location, _created = location_upsert(data=LocationData(
            code=site.code, name=site.name, kind=site.kind,
            address={"city": site.city, "country": "DE"}, lat=site.lat, lon=site.lon,
            capabilities=([Capability.SHIPS] if warehouse
                          else [Capability.CLICK_AND_COLLECT, Capability.ACCEPTS_RETURNS]),
            priority=10 if warehouse else 50,
        ))
        locations.append(location)
    _client, token = api_client_create(name="bench-webshop", kind="webshop", channel="web")

    stamp = timezone.now().isoformat()
    step(f"COPY {thousands(len(skus) * len(locations))} stock rows "
         f"({len(skus)} SKUs x {len(locations)} locations), then VACUUM (ANALYZE)")
    def rows(location: Any) -> str:
        safety_max = 5 if location.kind == "warehouse" else 1
        lines = []
        for sku in skus:
            on_hand = 0 if rng.random() < 0.35 else rng.randint(1, 60)
            reserved = rng.randint(0, min(on_hand, 3)) if rng.random() < 0.2 else 0
            lines.append(f"{sku}\t{location.pk}\t{on_hand}\t{reserved}\t"
                         f"{rng.randint(0, safety_max)}\t{stamp}\n")
        return "".join(lines)

    with Stopwatch() as watch:
        stock_copy(config, db, (rows(location) for location in locations))
        vacuum_analyze(config, db)
    step(f"loaded in {watch.seconds:.1f} s")
    return token


def _measure(server: Server, token: str, skus: Sequence[str], rng: random.Random,
             warm_up: int, requests: int) -> dict[str, dict[str, Any]]:
    auth = {"Authorization": f"Bearer {token}"}

    def availability_path() -> str:
        return "/api/v1/availability?skus=" + ",".join(rng.sample(skus, SKUS_PER_REQUEST))

    kinds = {
        "healthz": lambda: ("/healthz", {}),
        "skus20": lambda: (availability_path(), auth),
        "skus20_near": lambda: (availability_path() + NEAR, auth),
    }
    samples: dict[str, list[float]] = {k: [] for k in kinds}
    sizes: dict[str, list[int]] = {k: [] for k in kinds}
    failures: dict[str, list[str]] = {k: [] for k in kinds}
    listed: dict[str, list[int]] = {k: [] for k in kinds}
    for n in range(warm_up + requests):
        for kind, make in kinds.items():
            path, headers = make()
            reply = http_call(server, "GET", path, headers=headers)
            if reply.status != 200:
                failures[kind].append(f"{reply.status} {reply.body[:200]!r}")
                continue
            if n < warm_up:
                continue
            samples[kind].append(reply.seconds)
            sizes[kind].append(len(reply.body))
            if kind != "healthz" and len(listed[kind]) < 20:
                body = json.loads(reply.body)
                listed[kind].append(sum(len(s["locations"]) for s in body["skus"]))
    return {
        kind: {
            "latency": latency_summary(samples[kind]),
            "mean_response_bytes": sum(sizes[kind]) / len(sizes[kind]) if sizes[kind] else 0,
            "location_entries_per_response": (sum(listed[kind]) / len(listed[kind])
                                              if listed[kind] else None),
            "failures": len(failures[kind]),
            "first_failure": failures[kind][0] if failures[kind] else None,
        }
        for kind in kinds
    }


def run(config: BenchConfig) -> Results:
    rng = random.Random(config.seed)
    n_skus = scaled(FULL_SKUS, config.scale, SKUS_PER_REQUEST * 5)
    requests = scaled(FULL_REQUESTS, config.scale, 40)
    warm_up = scaled(FULL_WARM_UP, config.scale, 10)
    skus = [f"BENCH-{n:06d}" for n in range(1, n_skus + 1)]
    locations = WAREHOUSES + STORES
    results = Results(NAME, config, parameters={
        "skus": n_skus, "locations": locations, "warehouses": WAREHOUSES, "stores": STORES,
        "stock_rows": n_skus * locations, "skus_per_request": SKUS_PER_REQUEST,
        "requests_per_kind": requests, "warm_up_per_kind": warm_up,
        "near": NEAR.lstrip("&"), "gunicorn_workers": config.gunicorn_workers,
    })
    print(f"\navailability: {thousands(n_skus)} SKUs x {locations} locations = "
          f"{thousands(n_skus * locations)} stock rows; {requests} sequential requests per kind "
          f"after {warm_up} warm-up, interleaved")
    with bench_database(config, NAME) as db:
        step(f"setup in database {db}: products_upsert, location_upsert, a webshop client")
        token = _setup(config, db, rng, skus)
        step(f"starting gunicorn -w {config.gunicorn_workers}")
        with gunicorn_server(config, db) as server:
            warm_up_workers(server, f"/api/v1/availability?skus={skus[0]}",
                            {"Authorization": f"Bearer {token}"})
            step("measuring healthz, skus20 and skus20_near")
            measured = _measure(server, token, skus, rng, warm_up, requests)
    _report(results, measured)
    return results


def _report(results: Results, measured: dict[str, dict[str, Any]]) -> None:
    base = measured["healthz"]["latency"]
    table = [["metric", "p50", "p95", "p99", "mean", "p50/healthz", "p95/healthz",
              "response", "entries", "target", ""]]
    for kind, m in measured.items():
        lat = m["latency"]
        target, ok = "", ""
        if kind != "healthz":
            target = f"p95 < {TARGET_P95_MS:.0f} ms"
            ok = verdict(lat["p95_ms"] < TARGET_P95_MS)
        entries = m["location_entries_per_response"]
        table.append([
            f"availability.{kind}", f"{lat['p50_ms']:.1f} ms", f"{lat['p95_ms']:.1f} ms",
            f"{lat['p99_ms']:.1f} ms", f"{lat['mean_ms']:.1f} ms",
            f"{lat['p50_ms'] / base['p50_ms']:.1f}", f"{lat['p95_ms'] / base['p95_ms']:.1f}",
            f"{m['mean_response_bytes'] / 1024:.1f} KB",
            "" if entries is None else f"{entries:.0f}", target, ok,
        ])
        results.metrics[kind] = {
            **{k: round(v, 3) for k, v in lat.items()},
            "p50_ratio_to_healthz": round(lat["p50_ms"] / base["p50_ms"], 2),
            "p95_ratio_to_healthz": round(lat["p95_ms"] / base["p95_ms"], 2),
            "mean_response_bytes": round(m["mean_response_bytes"]),
            "location_entries_per_response": entries,
            "failures": m["failures"],
        }
        if kind != "healthz":
            results.metrics[kind]["target"] = {"p95_ms_below": TARGET_P95_MS,
                                               "met": ok == "meets"}
        if m["failures"]:
            results.notes.append(f"{kind}: {m['failures']} failed requests, first: "
                                 f"{m['first_failure']}")
    print()
    print_table(table, right=(1, 2, 3, 4, 5, 6, 7, 8))
    print("  latency measured by the client: connect, request, last byte read; one request at a "
          "time; entries = location entries per response (20 SKUs)")
    results.print_notes()
