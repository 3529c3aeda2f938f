"""The orders the HTTP benchmarks (intake, growth, e2e) send: card payments already authorized,
shipped to Berlin, each with its own ``Idempotency-Key``, ``external_id`` and PSP reference."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal

from bench.harness.processes import Reply, Server, http_call

ADDRESS = {"name": "Kim Weber", "line1": "Unter den Linden 1", "postal_code": "10117",
           "city": "Berlin", "country": "DE"}


@dataclass(frozen=True)
class Order:
    key: str
    body: bytes


def order(tag: str, n: int, lines: Sequence[tuple[str, int, Decimal]], *, email: str,
          name: str) -> Order:
    """Order `n` of phase `tag`: `lines` are (sku, quantity, unit price)."""
    total = sum((price * quantity for _sku, quantity, price in lines), Decimal("0.00"))
    body = {
        "external_id": f"{tag}-{n}",
        "customer": {"email": email, "name": name},
        "currency": "EUR",
        "lines": [{"sku": sku, "quantity": quantity, "unit_price": str(price),
                   "tax_rate": "19.00"} for sku, quantity, price in lines],
        "delivery": {"method": "ship", "address": ADDRESS},
        "payment": {"method": "card", "status": "authorized", "amount": str(total),
                    "psp_reference": f"{tag}-psp-{n}"},
    }
    return Order(key=f"{tag}-{n}", body=json.dumps(body).encode())


def order_post(server: Server, token: str, placed: Order, timeout: float = 300.0) -> Reply:
    return http_call(server, "POST", "/api/v1/orders", body=placed.body, timeout=timeout,
                     headers={"Authorization": f"Bearer {token}",
                              "Content-Type": "application/json",
                              "Idempotency-Key": placed.key})


def failure(reply: Reply) -> str:
    """A failed answer as a note: its status and the start of its body."""
    return f"{reply.status} {reply.body[:300].decode(errors='replace')}"
