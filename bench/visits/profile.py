"""Where a store visit's time goes, in process: ``python -m bench.visits.profile`` against the
database a ``python -m bench visits --keep`` run left behind.

It draws new visits from that database as the benchmark does (customers who have not visited
today, the same mix of kinds) and sends them through Django's test client, as the app or the
till would: ``POST /api/v1/store-visits``. Printed per kind of visit: the SQL statements and the
milliseconds per call in process; the statements that took longest over all visits with an
offer (grouped by their text without literals); with ``--sql`` every statement of the first
visit with an offer, with ``--explain`` ``EXPLAIN (ANALYZE, BUFFERS)`` of its reads (in a
transaction rolled back) and the plan of the candidate query (the customer's parcels), with
``--cprofile`` the functions that took longest. Tasks are not run (as with gunicorn and a
worker: the relay runs elsewhere; the kicks nobody consumes are dropped with the benchmark's
Redis database at the end); ``--eager`` runs the relay in the request too.

    .venv/bin/python -m bench visits --scale 0.1 --keep --db-prefix oms_bench_visits
    .venv/bin/python -m bench.visits.profile --db-prefix oms_bench_visits --sql --explain
"""

from __future__ import annotations

import argparse
import cProfile
import json
import pstats
import random
import re
import statistics
import sys
import time
from collections import defaultdict
from typing import Any

from bench.harness.config import add_arguments, config_from
from bench.harness.database import bootstrap_django, django_use_database, raw_connection
from bench.harness.worker import redis_flush
from bench.visits import NAME
from bench.visits.data import Network, PlannedVisit, visit_plan, visit_pools

SERVICE_CODE = r"/(visits|oms|inventory|fulfillment|notifications)/"
_LITERALS = re.compile(r"'(?:[^']|'')*'|\b\d+(?:\.\d+)?\b")

Call = tuple[float, list[dict[str, Any]]]  # seconds in process, the statements it sent


def _network(stamp: int) -> Network:
    """New clients (their tokens are shown once), the stores and warehouses of the database."""
    from inventory.models import Location
    from oms.core.clients import api_client_create

    stores = dict(Location.objects.filter(kind="store").values_list("pk", "code"))
    warehouses = list(Location.objects.filter(kind="warehouse").order_by("pk")
                      .values_list("pk", flat=True))
    _app, app_token = api_client_create(name=f"profile-app-{stamp}", kind="app", channel="app")
    pos = {code: api_client_create(name=f"profile-pos-{code}-{stamp}", kind="pos",
                                   channel="pos", location_code=code)[1]
           for code in stores.values()}
    return Network(app_token, pos, warehouses, stores)


def _recent_visitors(config: Any, db: str) -> list[int]:
    """Customers seen at a store within the last day: a visit of theirs would be seen again."""
    with raw_connection(config, db) as conn:
        return [r[0] for r in conn.execute(
            "SELECT DISTINCT customer_id FROM visits_storevisit WHERE customer_id IS NOT NULL "
            "AND last_seen_at > now() - interval '1 day'").fetchall()]


class _Timed:
    """Every statement a call sends, timed from send to result received (`execute_wrapper`:
    the round trip and the server's work, not the ORM building objects from the rows)."""

    def __init__(self) -> None:
        self.statements: list[dict[str, Any]] = []

    def __call__(self, execute: Any, sql: str, params: Any, many: bool, context: Any) -> Any:
        started = time.perf_counter()
        try:
            return execute(sql, params, many, context)
        finally:
            self.statements.append({"sql": sql, "params": params, "many": many,
                                    "ms": (time.perf_counter() - started) * 1000})


def _post(clients: dict[str, Any], planned: PlannedVisit,
          prof: cProfile.Profile | None) -> tuple[Call, dict[str, Any]]:
    from django.db import connection
    from django.test import Client

    client = clients.setdefault(planned.token, Client(
        HTTP_HOST="localhost", HTTP_AUTHORIZATION=f"Bearer {planned.token}"))
    timed = _Timed()
    with connection.execute_wrapper(timed):
        started = time.perf_counter()
        if prof:
            prof.enable()
        response = client.post("/api/v1/store-visits", json.dumps(planned.body()),
                               content_type="application/json")
        if prof:
            prof.disable()
        seconds = time.perf_counter() - started
    if response.status_code != 201:
        raise SystemExit(f"visit {planned}: {response.status_code} {response.content[:300]!r}")
    return (seconds, timed.statements), response.json()


def _shape(sql: str) -> str:
    return _LITERALS.sub("?", " ".join(sql.split()))


def _literal(statement: dict[str, Any]) -> str:
    from django.db import connection

    if not statement["params"]:
        return statement["sql"]
    return connection.ops.compose_sql(statement["sql"], statement["params"])


def _explain(config: Any, db: str, statements: list[dict[str, Any]]) -> None:
    """EXPLAIN (ANALYZE, BUFFERS) of each read of one visit, in a transaction rolled back;
    the whole plan of the candidate query."""
    print("\nEXPLAIN ANALYZE of the reads of the first visit with an offer (execution ms):")
    with raw_connection(config, db) as conn:
        for query in statements:
            if query["many"] or not query["sql"].lstrip().upper().startswith("SELECT"):
                continue
            sql = _literal(query)
            plan = [r[0] for r in conn.execute(f"EXPLAIN (ANALYZE, BUFFERS) {sql}").fetchall()]
            execution = next((ln for ln in plan if ln.startswith("Execution Time")), "")
            planning = next((ln for ln in plan if ln.startswith("Planning Time")), "")
            print(f"  {execution.split(':')[-1].strip():>10}  (planning "
                  f"{planning.split(':')[-1].strip()})  {_shape(sql)[:150]}")
            if "fulfillment_fulfillmentorder" in sql and '"orders_order"."customer_id"' in sql:
                print("    the candidate query's plan:")
                for line in plan:
                    print(f"      {line}")
        conn.rollback()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.visits.profile",
                                     description=__doc__.split("\n\n")[0])
    add_arguments(parser)
    parser.add_argument("--visits", type=int, default=100,
                        help="visits measured, mixed as in the benchmark (default 100)")
    parser.add_argument("--eager", action="store_true", help="run the relay in the request")
    parser.add_argument("--sql", action="store_true",
                        help="print the statements of the first visit with an offer")
    parser.add_argument("--explain", action="store_true",
                        help="EXPLAIN ANALYZE the reads of the first visit with an offer")
    parser.add_argument("--cprofile", action="store_true", help="profile the service code")
    args = parser.parse_args(argv)
    config = config_from(args, [NAME]).with_env({"CELERY_TASK_ALWAYS_EAGER": "true"})
    db = config.db_name(NAME)
    bootstrap_django(config, db)
    django_use_database(db)
    from oms.celery import app

    stamp = time.time_ns()
    rng = random.Random(stamp)
    network = _network(stamp)
    pools = visit_pools(config, db, network, rng, exclude=_recent_visitors(config, db))
    plan = visit_plan(network, pools, rng, {"warm": 10, "measured": args.visits},
                      first_offer=["measured"])
    app.conf.task_always_eager = args.eager
    clients: dict[str, Any] = {}
    prof = cProfile.Profile() if args.cprofile else None
    measured: dict[str, list[Call]] = defaultdict(list)
    try:
        for planned in plan["warm"]:
            _post(clients, planned, None)
        for planned in plan["measured"]:
            call, _answer = _post(clients, planned, prof)
            measured[planned.kind].append(call)
    finally:
        if not args.eager:
            redis_flush(config.redis_url)  # the relay kicks nobody consumed
    print(f"in process, relay {'in' if args.eager else 'not in'} the request"
          f"{', under cProfile' if prof else ''}:")
    for kind, calls in sorted(measured.items()):
        ms = [c[0] * 1000 for c in calls]
        counts = [len(c[1]) for c in calls]
        sql_ms = [sum(q["ms"] for q in c[1]) for c in calls]
        print(f"  {kind}: {len(calls)} visits, {statistics.median(counts):.0f} statements "
              f"(min {min(counts)}, max {max(counts)}), {statistics.mean(ms):.1f} ms per call "
              f"(median {statistics.median(ms):.1f}), of which {statistics.mean(sql_ms):.1f} ms "
              "waiting for the statements")
    offers = measured.get("offer", [])
    if offers:
        total: dict[str, list[float]] = defaultdict(list)
        for _seconds, queries in offers:
            for query in queries:
                total[_shape(query["sql"])].append(query["ms"])
        print(f"\nslowest statements over the {len(offers)} visits with an offer (ms in all, "
              "per visit, mean per run):")
        for shape, times in sorted(total.items(), key=lambda kv: -sum(kv[1]))[:12]:
            print(f"  {sum(times):8.1f} {len(times) / len(offers):5.2f}x "
                  f"{statistics.mean(times):6.2f}  {shape[:160]}")
        first = offers[0][1]
        if args.sql:
            print(f"\nthe first visit with an offer: {len(first)} statements")
            for query in first:
                print(f"  {query['ms']:6.2f} ms  {_shape(query['sql'])[:220]}")
        if args.explain:
            _explain(config, db, first)
    if prof is not None:
        pstats.Stats(prof, stream=sys.stdout).sort_stats("cumulative").print_stats(
            SERVICE_CODE, 40)
    return 0


if __name__ == "__main__":
    sys.exit(main())
