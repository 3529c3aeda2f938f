"""One store visit over HTTP (``POST /api/v1/store-visits``, a new connection each), bare
``GET /healthz`` beside it, and the closed-loop senders that send both."""

from __future__ import annotations

import json
import math
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any, TypeVar

from bench.harness.orders import failure
from bench.harness.processes import Server, http_call
from bench.harness.report import Stopwatch
from bench.visits.data import PlannedVisit

T = TypeVar("T")
R = TypeVar("R")


@dataclass(frozen=True)
class Visited:
    """What one visit's answer said, and how long it took the client (connect to last byte)."""

    kind: str
    seconds: float
    status: int
    offers: int = 0
    offer_lines: int = 0
    in_store: int = 0
    failure: str | None = None


def visit(server: Server, planned: PlannedVisit) -> Visited:
    reply = http_call(server, "POST", "/api/v1/store-visits",
                      body=json.dumps(planned.body()).encode(),
                      headers={"Authorization": f"Bearer {planned.token}",
                               "Content-Type": "application/json"})
    if reply.status != 201:
        # 200 would be a visit seen again: every planned visit is a customer of its own
        return Visited(planned.kind, reply.seconds, reply.status, failure=failure(reply))
    answer = json.loads(reply.body)
    offers = answer["offers"]
    return Visited(planned.kind, reply.seconds, reply.status, len(offers),
                   sum(len(o["lines"]) for o in offers), len(answer["in_store"]))


def healthz(server: Server) -> float | str:
    """Seconds, or the failure."""
    reply = http_call(server, "GET", "/healthz")
    return reply.seconds if reply.status == 200 else failure(reply)


def split(items: Sequence[T], senders: int) -> list[list[T]]:
    """`items` dealt round-robin to `senders` senders (none left empty)."""
    return [list(items[k::senders]) for k in range(min(senders, len(items)))]


def in_parallel(chunks: Sequence[Sequence[T]], call: Callable[[T], R]) -> tuple[list[R], float]:
    """One closed-loop sender per chunk, each calling `call` on its items one after the other;
    (results, wall seconds)."""
    with Stopwatch() as watch, ThreadPoolExecutor(max_workers=len(chunks)) as pool:
        done = [r for results in pool.map(lambda chunk: [call(x) for x in chunk], chunks)
                for r in results]
    return done, watch.seconds


@dataclass
class VisitRun:
    """A phase: visits and /healthz calls from the same senders."""

    senders: int
    visits: list[Visited] = field(default_factory=list)
    healthz: list[float] = field(default_factory=list)
    healthz_failures: list[str] = field(default_factory=list)
    visit_seconds: float = 0.0  # sending the visits, plus waiting for the worker to drain
    drained_seconds: float = 0.0

    @property
    def done(self) -> list[Visited]:
        return [v for v in self.visits if v.failure is None]

    @property
    def failures(self) -> list[str]:
        return [f"{v.kind}: {v.failure}" for v in self.visits if v.failure is not None]

    @property
    def rate(self) -> float:
        return len(self.done) / self.visit_seconds if self.visit_seconds else math.nan

    def add_healthz(self, results: Sequence[float | str]) -> None:
        for r in results:
            if isinstance(r, str):
                self.healthz_failures.append(r)
            else:
                self.healthz.append(r)


def cpu_add(total: dict[str, Any], part: dict[str, Any]) -> dict[str, Any]:
    """Two `CpuMonitor.stop()` results added up."""
    added: dict[str, Any] = {}
    for key in dict.fromkeys([*total, *part]):
        mine, theirs = total.get(key), part.get(key)
        if isinstance(mine, dict) or isinstance(theirs, dict):
            added[key] = cpu_add(mine or {}, theirs or {})
        else:
            added[key] = round((mine or 0.0) + (theirs or 0.0), 1)
    return added


def rounds_send(server: Server, rounds: Sequence[tuple[int, Sequence[PlannedVisit]]],
                senders: int, drain: Callable[[], float],
                cpu: Callable[[], Any] | None = None) -> tuple[VisitRun, dict[str, Any]]:
    """Per round (healthz calls, visits): the /healthz calls from `senders` senders, then the
    visits from the same senders, then wait until the worker has drained what they queued.
    Alternating in rounds spreads drift on the machine over both. `cpu()` gives a started
    :class:`bench.harness.cpu.CpuMonitor`; its figures cover the visits and the drain only.
    Returns the run and the CPU seconds."""
    run = VisitRun(senders)
    used: dict[str, Any] = {}
    for n_healthz, visits in rounds:
        results, _seconds = in_parallel(split(range(n_healthz), senders),
                                        lambda _i: healthz(server))
        run.add_healthz(results)
        monitor = cpu() if cpu else None
        done, seconds = in_parallel(split(visits, senders), lambda v: visit(server, v))
        drained = drain()
        if monitor is not None:
            used = cpu_add(used, monitor.stop())
        run.visits.extend(done)
        run.visit_seconds += seconds + drained
        run.drained_seconds += drained
    return run, used


def sequential_send(server: Server, visits: Sequence[PlannedVisit],
                    drain: Callable[[], float]) -> VisitRun:
    """One sender: a /healthz call, a visit, a /healthz call, ... (no queueing)."""
    run = VisitRun(1)
    for planned in visits:
        run.add_healthz([healthz(server)])
        run.visits.append(visit(server, planned))
    drained = drain()
    # the visits' own time: the /healthz calls between them are not part of the rate
    run.visit_seconds = sum(v.seconds for v in run.visits) + drained
    run.drained_seconds = drained
    return run
