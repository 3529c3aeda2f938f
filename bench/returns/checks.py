"""What a run of returns must have left behind, read from the database afterwards: every return
closed and refunded in full, the money where the method says, the units back on the store's
shelf with a movement row each and counted back on the order. Each finding is a note in the
results; an empty list means the run is correct."""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from decimal import Decimal
from typing import Any

from bench.harness.config import BenchConfig
from bench.harness.database import raw_connection
from bench.returns.network import Delivered, expected_refund, returned_lines


def store_stock(config: BenchConfig, db: str, store_id: int) -> dict[str, int]:
    """On hand per SKU at the store."""
    with raw_connection(config, db) as conn:
        return dict(conn.execute("SELECT sku, on_hand FROM inventory_stocklevel "
                                 "WHERE location_id = %s", [store_id]).fetchall())


def payments_captured(config: BenchConfig, db: str, numbers: Sequence[str]) -> tuple[int, int]:
    """(card payments of these orders, of which captured in full)."""
    with raw_connection(config, db) as conn:
        return conn.execute(
            "SELECT count(*), count(*) FILTER (WHERE p.captured_amount = p.amount) "
            "FROM payments_payment p JOIN orders_order o ON o.id = p.order_id "
            "WHERE o.number = ANY(%s) AND p.method = 'card'", [list(numbers)]).fetchone()


def returns_check(config: BenchConfig, db: str, *, orders: Sequence[Delivered], method: str,
                  store_id: int, stock_before: dict[str, int]) -> tuple[list[str], dict[str, Any]]:
    """Findings (empty: all correct) and the figures they were drawn from."""
    numbers = [o.number for o in orders]
    with raw_connection(config, db) as conn:
        returns = {row[0]: row[1:] for row in conn.execute(
            "SELECT o.number, r.number, r.status, r.refund_method, r.refund_amount, "
            "r.refunded_at IS NOT NULL, r.closed_at IS NOT NULL "
            "FROM returns_return r JOIN orders_order o ON o.id = r.order_id "
            "WHERE o.number = ANY(%s)", [numbers]).fetchall()}
        refunds = {row[0]: row[1:] for row in conn.execute(
            "SELECT reference, coalesce(sum(amount) FILTER (WHERE status = 'issued'), 0), "
            "count(*) FILTER (WHERE status <> 'issued'), array_agg(DISTINCT route), "
            "coalesce(sum(c.balance), 0) "
            "FROM payments_refund f LEFT JOIN payments_storecredit c ON c.id = f.store_credit_id "
            "WHERE f.reference = ANY(%s) GROUP BY reference",
            [[r[0] for r in returns.values()]]).fetchall()}
        returned = {(row[0], row[1]): row[2] for row in conn.execute(
            "SELECT o.number, l.sku, l.returned FROM orders_orderline l "
            "JOIN orders_order o ON o.id = l.order_id WHERE o.number = ANY(%s)",
            [numbers]).fetchall()}
        movements = dict(conn.execute(
            "SELECT m.sku, sum(m.quantity) FROM inventory_stockmovement m "
            "WHERE m.location_id = %s AND m.kind = 'return' AND m.reference = ANY(%s) "
            "GROUP BY m.sku", [store_id, [r[0] for r in returns.values()]]).fetchall())
        card_refunded = conn.execute(
            "SELECT coalesce(sum(p.refunded_amount), 0) FROM payments_payment p "
            "JOIN orders_order o ON o.id = p.order_id WHERE o.number = ANY(%s)",
            [numbers]).fetchone()[0]
    stock_after = store_stock(config, db, store_id)

    findings: list[str] = []
    units: Counter[str] = Counter()
    expected_total = Decimal("0.00")
    route = {"cash": "till", "store_credit": "store_credit", "original": "psp"}[method]
    for order in orders:
        expected = expected_refund(order)
        expected_total += expected
        for sku, n, _price in returned_lines(order):
            units[sku] += n
            if returned.get((order.number, sku)) != n:
                findings.append(f"{order.number} {sku}: returned "
                                f"{returned.get((order.number, sku))}, expected {n}")
        if order.number not in returns:
            findings.append(f"{order.number}: no return")
            continue
        number, status, refund_method, amount, refunded, closed = returns[order.number]
        if status != "closed" or not refunded or not closed:
            findings.append(f"{number}: {status} (refunded {refunded}, closed {closed})")
        if refund_method != method or amount != expected:
            findings.append(f"{number}: refund {refund_method} {amount}, expected {method} "
                            f"{expected}")
        issued, open_, routes, credit = refunds.get(number, (Decimal(0), 0, [], Decimal(0)))
        if issued != expected or open_ or routes != [route]:
            findings.append(f"{number}: refunds issued {issued} via {routes} ({open_} not "
                            f"issued), expected {expected} via {route}")
        if method == "store_credit" and credit != expected:
            findings.append(f"{number}: store credit balance {credit}, expected {expected}")
    grown = {sku: stock_after.get(sku, 0) - stock_before.get(sku, 0) for sku in stock_after}
    for sku in sorted(set(units) | {s for s, g in grown.items() if g}):
        if grown.get(sku, 0) != units[sku] or movements.get(sku, 0) != units[sku]:
            findings.append(f"store stock of {sku}: +{grown.get(sku, 0)} on hand, "
                            f"{movements.get(sku, 0)} in return movements, "
                            f"{units[sku]} returned")
    if method == "original" and card_refunded != expected_total:
        findings.append(f"card payments refunded {card_refunded}, expected {expected_total}")
    figures = {
        "returns": len(orders), "closed": sum(1 for r in returns.values() if r[1] == "closed"),
        "refunded_total": str(sum((r[0] for r in refunds.values()), Decimal("0.00"))),
        "expected_total": str(expected_total), "units_returned": sum(units.values()),
        "store_on_hand_increase": sum(grown.values()),
        "return_movement_units": sum(movements.values()),
    }
    if method == "original":
        figures["card_refunded_total"] = str(card_refunded)
    return findings[:20] + ([f"... {len(findings) - 20} more"] if len(findings) > 20 else []), \
        figures


def issued_at(config: BenchConfig, db: str, numbers: Sequence[str]) -> dict[str, float]:
    """When each return's last refund was issued (epoch seconds)."""
    with raw_connection(config, db) as conn:
        return dict(conn.execute(
            "SELECT reference, extract(epoch FROM max(issued_at))::float FROM payments_refund "
            "WHERE reference = ANY(%s) AND issued_at IS NOT NULL GROUP BY reference",
            [list(numbers)]).fetchall())
