"""One return over HTTP, as the till makes it in one visit: ``POST /api/v1/returns`` (register)
then ``POST /api/v1/returns/{id}/receive`` (goods in hand, refund issued), each on a new
connection; and several senders doing that for their own orders at once."""

from __future__ import annotations

import json
import math
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

from bench.harness.orders import failure
from bench.harness.processes import Server, http_call
from bench.harness.report import Stopwatch
from bench.returns.network import Delivered, returned_lines

REASONS = ["too_small", "too_large", "changed_mind"]


@dataclass(frozen=True)
class Visit:
    """One return: both calls' client-side latency, and what the receipt answered."""

    order: str
    started_at: float  # wall clock (time.time()) when the register call was sent
    register_s: float
    receive_s: float
    return_id: int | None
    number: str
    status: str  # the return's status in the receipt's answer
    refund_status: str
    refund_amount: str
    failure: str | None = None

    @property
    def total_s(self) -> float:
        return self.register_s + self.receive_s


@dataclass(frozen=True)
class ReturnRun:
    visits: list[Visit]
    senders: int
    seconds: float  # until the last answer, plus until the worker had drained its queues
    drained_s: float

    @property
    def done(self) -> list[Visit]:
        return [v for v in self.visits if v.failure is None]

    @property
    def failures(self) -> list[str]:
        return [f"{v.order}: {v.failure}" for v in self.visits if v.failure is not None]

    @property
    def rate(self) -> float:
        return len(self.done) / self.seconds if self.seconds else math.nan


def _headers(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}


def visit(server: Server, token: str, order: Delivered, method: str, n: int) -> Visit:
    """Register a return of `order` at the till's own store, then receive it (restock)."""
    lines = returned_lines(order)
    register = json.dumps({
        "order": order.number,
        "lines": [{"sku": sku, "quantity": units, "reason": REASONS[(n + k) % len(REASONS)],
                   "condition": "resellable"} for k, (sku, units, _p) in enumerate(lines)],
        "refund": {"method": method},
    }).encode()
    receive = json.dumps({"lines": [{"sku": sku, "quantity": units, "disposition": "restock"}
                                    for sku, units, _p in lines]}).encode()
    started_at = time.time()
    first = http_call(server, "POST", "/api/v1/returns", body=register,
                      headers=_headers(token))
    if first.status != 201:
        return Visit(order.number, started_at, first.seconds, 0.0, None, "", "", "", "",
                     f"register {failure(first)}")
    registered = json.loads(first.body)
    second = http_call(server, "POST", f"/api/v1/returns/{registered['id']}/receive",
                       body=receive, headers=_headers(token))
    if second.status != 200:
        return Visit(order.number, started_at, first.seconds, second.seconds, registered["id"],
                     registered["number"], "", "", "", f"receive {failure(second)}")
    received = json.loads(second.body)
    return Visit(order.number, started_at, first.seconds, second.seconds, received["id"],
                 received["number"], received["status"], received["refund"]["status"],
                 received["refund"]["amount"])


def visits_send(server: Server, token: str, chunks: Sequence[Sequence[Delivered]],
                method: str, drain: Callable[[], float]) -> ReturnRun:
    """One sender per chunk, each taking back its own orders one after the other; the run
    lasts until the worker has drained what the returns queued (`drain()`: seconds waited),
    so returns/s counts the relay's and, for card refunds, the PSP call's work too."""

    def sender(chunk: Sequence[Delivered]) -> list[Visit]:
        return [visit(server, token, order, method, n) for n, order in enumerate(chunk)]

    with Stopwatch() as watch, ThreadPoolExecutor(max_workers=len(chunks)) as pool:
        visits = [v for done in pool.map(sender, chunks) for v in done]
    drained = drain()
    return ReturnRun(visits, len(chunks), watch.seconds + drained, drained)
