"""The end-to-end benchmark's table, printed figures and results file."""

from __future__ import annotations

import math
from collections.abc import Sequence

from bench.e2e.common import LAG_MAX_STRETCH, LAG_SENDERS, PROBE_RATE, RATE, TARGET_LAG_P95_S
from bench.e2e.flow import FlowRun
from bench.e2e.lag import LagRun
from bench.e2e.wms import PROBE_TASK, WmsReceiver
from bench.harness.cpu import POSTGRES, ms_per_order
from bench.harness.report import Results, latency_summary, percentile, print_table, verdict
from bench.harness.worker import Queues


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
    results.print_notes()
