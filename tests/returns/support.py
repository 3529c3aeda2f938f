"""Helpers of the returns tests: order bodies with prices, a discount and shipping, and the
steps of a visit at the till."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from payments.models import StoreCredit
from tests.returns.conftest import receive_body, return_body


def ok(response: Any, status: int = 200) -> dict[str, Any]:
    assert response.status_code == status, response.content
    return response.json()


def priced(lines: list[tuple[str, int, str]], *, discount: str = "0.00",
           shipping: str = "0.00", payment: dict[str, Any] | None = None) -> dict[str, Any]:
    """Order body overrides for lines (sku, quantity, unit price) with a discount and shipping;
    paid by card for the total unless `payment` says otherwise (its amount is filled in)."""
    total = sum((Decimal(p) * n for _s, n, p in lines), Decimal("0.00")) \
        - Decimal(discount) + Decimal(shipping)
    paid = payment or {"method": "card", "status": "authorized",
                       "psp_reference": f"psp_priced_{lines[0][0]}_{total}_{id(lines)}"}
    return {"lines": [{"sku": s, "quantity": n, "unit_price": p, "tax_rate": "19.00"}
                      for s, n, p in lines],
            "discount": discount, "shipping": shipping,
            "payment": {**paid, "amount": str(total)}}


def skus(lines: list[tuple[str, int, str]]) -> list[tuple[str, int]]:
    return [(s, n) for s, n, _p in lines]


def register(till: Any, order: dict[str, Any], lines: list[tuple[str, int]],
             status: int = 201, **extra: Any) -> dict[str, Any]:
    return ok(till.post("/api/v1/returns", return_body(order, lines, **extra)), status)


def receive(till: Any, after_commit: Any, ret: dict[str, Any], lines: list[tuple[str, int]],
            disposition: str = "restock", **extra: Any) -> dict[str, Any]:
    return ok(after_commit(till.post, f"/api/v1/returns/{ret['id']}/receive",
                           {**receive_body(lines, disposition), **extra}))


def take_back(till: Any, after_commit: Any, order: dict[str, Any], lines: list[tuple[str, int]],
              *, method: str = "original", condition: str = "resellable",
              disposition: str = "restock") -> dict[str, Any]:
    """One visit at the till: register the return and receive the goods; → the return."""
    ret = register(till, order, lines, method=method, condition=condition)
    return receive(till, after_commit, ret, lines, disposition)


def credit_of(ret: dict[str, Any]) -> StoreCredit:
    [part] = ret["refund"]["refunds"]
    return StoreCredit.objects.get(code=part["store_credit_code"])
