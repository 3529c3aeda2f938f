"""Where a return's time goes, in process: ``python -m bench.returns.profile`` against the
database a ``python -m bench returns --keep`` run left behind.

It delivers a few more orders through the services (relay and captures in process), then
takes them back through Django's test client, as the till does: ``POST /api/v1/returns`` and
``POST /api/v1/returns/{id}/receive``. Printed: the SQL statements of each call (all of them for
the first return, with ``--sql``), the milliseconds per call in process, and with
``--cprofile`` the functions of the service that took longest. By default tasks are not run
(as with gunicorn and a worker: the relay runs elsewhere, and the kicks it gets are dropped with
the benchmark's Redis database at the end); ``--eager`` runs the relay in the request too, so
the difference is the worker's share.

    .venv/bin/python -m bench returns --scale 0.02 --keep --db-prefix oms_bench_returns
    .venv/bin/python -m bench.returns.profile --db-prefix oms_bench_returns --sql
"""

from __future__ import annotations

import argparse
import cProfile
import json
import pstats
import random
import sys
import time
from typing import Any

from bench.harness.config import add_arguments, config_from
from bench.harness.database import bootstrap_django, django_use_database
from bench.harness.worker import redis_flush
from bench.returns import FAKES, NAME
from bench.returns.network import STORE, Delivered, orders_deliver, returned_lines

SERVICE_CODE = r"/(returns|payments|oms|inventory|fulfillment|notifications)/"


Call = tuple[float, list[dict[str, str]]]  # seconds in process, the statements it sent


def _post(client: Any, path: str, body: dict[str, Any], expected: int,
          prof: cProfile.Profile | None) -> tuple[Call, dict[str, Any]]:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as queries:
        started = time.perf_counter()
        if prof:
            prof.enable()
        response = client.post(path, json.dumps(body), content_type="application/json")
        if prof:
            prof.disable()
        seconds = time.perf_counter() - started
    if response.status_code != expected:
        raise SystemExit(f"POST {path}: {response.status_code} {response.content[:300]!r}")
    return (seconds, list(queries.captured_queries)), response.json()


def _timed_return(client: Any, order: Delivered, method: str,
                  prof: cProfile.Profile | None) -> dict[str, Call]:
    lines = returned_lines(order)
    register, registered = _post(client, "/api/v1/returns", {
        "order": order.number, "refund": {"method": method},
        "lines": [{"sku": sku, "quantity": n, "reason": "too_small", "condition": "resellable"}
                  for sku, n, _p in lines]}, 201, prof)
    receive, _received = _post(client, f"/api/v1/returns/{registered['id']}/receive", {
        "lines": [{"sku": sku, "quantity": n, "disposition": "restock"}
                  for sku, n, _p in lines]}, 200, prof)
    return {"register": register, "receive": receive}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.returns.profile",
                                     description=__doc__.split("\n\n")[0])
    add_arguments(parser)
    parser.add_argument("--method", default="store_credit",
                        choices=["store_credit", "cash", "original"])
    parser.add_argument("--returns", type=int, default=20, help="returns measured (default 20)")
    parser.add_argument("--eager", action="store_true", help="run the relay in the request")
    parser.add_argument("--sql", action="store_true", help="print the first return's SQL")
    parser.add_argument("--cprofile", action="store_true", help="profile the service code")
    args = parser.parse_args(argv)
    config = config_from(args, [NAME]).with_env(
        {**FAKES, "CELERY_TASK_ALWAYS_EAGER": "true"})
    db = config.db_name(NAME)
    bootstrap_django(config, db)
    django_use_database(db)
    from django.test import Client

    from oms.celery import app
    from oms.core.clients import api_client_create

    warm = 3
    orders = orders_deliver(random.Random(time.time_ns()), f"prof{time.time_ns()}",
                            warm + args.returns)
    app.conf.task_always_eager = args.eager
    _pos, token = api_client_create(name=f"profile-pos-{time.time_ns()}", kind="pos",
                                    channel="pos", location_code=STORE)
    client = Client(HTTP_HOST="localhost", HTTP_AUTHORIZATION=f"Bearer {token}")
    prof = cProfile.Profile() if args.cprofile else None
    try:
        for order in orders[:warm]:
            _timed_return(client, order, args.method, None)
        measured = [_timed_return(client, order, args.method, prof)
                    for order in orders[warm:]]
    finally:
        if not args.eager:
            redis_flush(config.redis_url)  # the relay kicks nobody consumed
    first = measured[0]
    for name in ("register", "receive"):
        ms = [m[name][0] * 1000 for m in measured]
        print(f"{name}: {len(first[name][1])} statements, {sum(ms) / len(ms):.1f} ms per call "
              f"in process (mean of {len(ms)}; relay {'in' if args.eager else 'not in'} it"
              f"{', under cProfile' if prof else ''})")
        if args.sql:
            for query in first[name][1]:
                print(f"    {query['sql'][:200]}")
    if prof is not None:
        pstats.Stats(prof, stream=sys.stdout).sort_stats("cumulative").print_stats(
            SERVICE_CODE, 40)
    return 0


if __name__ == "__main__":
    sys.exit(main())
