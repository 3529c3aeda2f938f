"""End to end with a real Celery worker: orders placed over HTTP, pushed to a fake WMS that
acknowledges instantly, accepted and shipped by it over HTTP.

``.venv/bin/python -m bench.e2e [--scale F] [--keep] [--concurrency N]`` (or ``python -m bench
e2e``) from the repository root, with ``DATABASE_URL`` (the PostgreSQL server to use; its
database is never opened) and ``REDIS_URL`` (a dedicated Redis database, default
``redis://127.0.0.1:6379/13``; it is flushed before and after the run, and database 0 is
refused).

Setup (not timed): a database of its own, migrated; 20 products; one warehouse ``WH-E2E`` with
plenty of each and ``wms_url`` pointing at :class:`bench.e2e.wms.WmsReceiver`, a
ThreadingHTTPServer in this process that answers every push ``200`` at once and records its
arrival time and ``webhook-id`` (``fo_<id>``); a ``webshop`` client on channel ``web`` and a
``wms`` client confined to ``WH-E2E``. Then ``gunicorn -w 2`` and ``celery -A oms worker
--pool=prefork --concurrency=2`` (plus ``-I bench.e2e.wms`` for the probe task; it consumes every
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

import json
import random
import time
import warnings

from bench.e2e.common import (
    _CLOCK,
    FLOW_SENDERS,
    FULL_FLOW_ORDERS,
    FULL_HEALTHZ,
    FULL_LAG_SECONDS,
    FULL_PROBES,
    FULL_WARM_UP_ORDERS,
    LAG_SENDERS,
    LOAD_PROBE_INTERVAL,
    LOCATION,
    PROBE_RATE,
    RATE,
    SERVICE_ENV,
    SKUS,
    WMS_CLIENTS,
    Network,
    Rig,
    network_setup,
    order_body,
    probe_round,
    say,
    send_orders,
    send_probe,
    wait_for,
)
from bench.e2e.flow import flow_phase
from bench.e2e.lag import lag_phase
from bench.e2e.report import report
from bench.e2e.wms import DISPATCH_PATH, WmsReceiver
from bench.harness.config import BenchConfig
from bench.harness.cpu import gunicorn_pgid
from bench.harness.database import bench_database
from bench.harness.processes import Server, gunicorn_server, http_call, log_tail, warm_up_workers
from bench.harness.report import Results, scaled
from bench.harness.worker import (
    Worker,
    celery_queues,
    celery_worker,
    redis_client,
    redis_flush,
    wait_idle,
)

NAME = "e2e"


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


def run(config: BenchConfig) -> Results:
    from celery.exceptions import AlwaysEagerIgnored

    # This process keeps the harness's eager setting for its own setup; probes are sent with
    # send_task, which always goes to the broker (Celery warns about that).
    warnings.filterwarnings("ignore", category=AlwaysEagerIgnored)
    config = config.with_env(SERVICE_ENV)
    concurrency = config.celery_concurrency
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
            with celery_worker(config, db, name=NAME, imports=["bench.e2e.wms"]) as worker, \
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
